"""The class wall page's parts: the live grid, the class's confusion matrix, re-reading, the teacher's round.

`live_wall` is a fragment that reruns every POLL_S: it asks the database for the wall's version (one
small query) and reads the drawings again only when it changed. The grid is a component
(assets/wall_grid.js) that adds the new tiles and leaves the others alone, so nothing that did not
change is drawn again. Re-reading with another model reads each drawing once per model and session,
through the same path as Draw (`reading.predict_many`).
"""

from __future__ import annotations

import base64

import numpy as np
import streamlit as st

from digitlab import charts, glossary, reading
from digitlab.app import resources, shelf_picker, widgets
from digitlab.classroom import board, wall
from digitlab.data import assets_dir
from digitlab.evaluation import pair_label, selected_cell

POLL_S = 1.0  # the issue asks for a new drawing on the wall within 2 s
GRID_TILES = 60  # the newest shown in the grid: a projector shows no more at a readable size
TILE_PX = 120
CELL_TILES = 40
CACHE = "wall_cache"  # (version, drawings) last read from the database
REREAD = "wall_reread"  # {model: {drawing id: probabilities}}
READ_WITH = "wall_read_with"
FILTER = "wall_filter"
CELL = "wall_cell"  # (meant, read) of the square last clicked
MIX_UPS = "wall_mix_ups"
MATRIX = "wall_matrix"
CELL_PANEL = "wall_cell_panel"  # the mix-ups and a square's drawings, beside the matrix
FIGURE = "wall_figure"  # (what it shows, the Plotly figure of the class's matrix)
TEACHER = "wall_teacher"  # this session gave the teacher code
AS_SENT = "sent"  # the "Read with" option of each drawing's own reading

wall_grid = st.components.v2.component(
    "digitlab.wall_grid",
    js=(assets_dir() / "wall_grid.js").read_text(),
    css=(assets_dir() / "wall_grid.css").read_text(),
)


def current() -> tuple[tuple, list[wall.WallDrawing]]:
    """The wall's version and drawings, newest first; read from the database only when it changed."""
    version = wall.version()
    cached = st.session_state.get(CACHE)
    if cached is None or cached[0] != version:
        cached = (version, wall.drawings())
        st.session_state[CACHE] = cached
    return cached


def tile(drawing: wall.WallDrawing, read: int) -> dict:
    src = "data:image/png;base64," + base64.b64encode(drawing.thumbnail).decode()
    right = read == drawing.meant
    return {
        "id": drawing.id,
        "src": src,
        "meant": drawing.meant,
        "read": read,
        "right": right,
        "nickname": drawing.nickname,
    }


def show_grid(shown: list[wall.WallDrawing], reads: dict[int, int], key: str, empty: str) -> None:
    tiles = [tile(d, reads[d.id]) for d in shown]
    wall_grid(key=key, data={"tiles": tiles, "side": TILE_PX, "empty": empty}, width="stretch")


def reader_options() -> dict[str, str]:
    """ "Read with" choices: each drawing's own reading, the shelf's models and the session's own network."""
    options = {AS_SENT: "As read when sent (each student's model)"}
    options |= shelf_picker.shelf_labels()
    if (own := shelf_picker.own_model()) is not None:
        options[shelf_picker.OWN] = shelf_picker.own_label(own)
    return options


def name_of(classifier) -> str:
    """A model's name in words (its technical name is the hover text of where it is shown)."""
    return glossary.friendly_name(classifier.name)


def reader(choice: str):
    if choice == shelf_picker.OWN:
        return shelf_picker.own_model()["classifier"]
    return resources.get_shelf_classifier(choice)


def reread(classifier, shown: list[wall.WallDrawing]) -> np.ndarray:
    """(N, 10): `classifier`'s probabilities for `shown`, each drawing read once per model and session."""
    known = st.session_state.setdefault(REREAD, {}).setdefault(id(classifier), {})
    if missing := [d for d in shown if d.id not in known]:
        with st.spinner(
            f"Reading {len(missing)} drawing{'s' * (len(missing) != 1)} with {name_of(classifier)}…"
        ):
            probabilities = reading.predict_many(classifier, wall.images(missing))
        known.update(zip([d.id for d in missing], probabilities, strict=True))
    return np.array([known[d.id] for d in shown])


def show_scores(drawings: list[wall.WallDrawing], as_sent: wall.ClassReading, reread_by, again) -> None:
    """The class's accuracy beside MNIST's, as sent and, when re-read, by the chosen model."""
    mnist = {d.mnist for d in drawings if d.mnist is not None}
    with st.container(horizontal=True, wrap=True):
        st.metric(f"Read right when sent, of {len(drawings)}", f"{as_sent.accuracy:.1%}")
        if len(mnist) == 1:
            st.metric("That model on MNIST's test digits", f"{mnist.pop():.1%}")
        elif mnist:
            models = len({d.model for d in drawings})
            st.metric(
                f"The {models} models used, on MNIST's test digits", f"{min(mnist):.1%}–{max(mnist):.1%}"
            )
        if reread_by is not None:
            st.metric(
                f"Read right by {name_of(reread_by)}",
                f"{again.accuracy:.1%}",
                delta=f"{100 * (again.accuracy - as_sent.accuracy):+.1f} points",
                help=glossary.technical_help(reread_by.name, widgets.technical_label(reread_by)),
            )
            if reread_by.test_accuracy is not None:
                st.metric("It on MNIST's test digits", f"{reread_by.test_accuracy:.1%}")


def remember_click() -> None:
    """A click on a square shows its drawings. An empty selection leaves them shown: right after a click
    the chart, drawn again with the square selected while the wall redraws every second, can report
    an empty one, and the drawings vanished about one click in two (tests/e2e/test_wall_e2e.py). The
    "Back to the whole matrix" button puts them away instead."""
    if (cell := selected_cell(st.session_state[MATRIX])) is not None:
        st.session_state[CELL] = cell
        st.session_state[MIX_UPS] = None


def forget_cell() -> None:
    st.session_state[CELL] = st.session_state[MIX_UPS] = None


def remember_pair(cells: dict) -> None:
    st.session_state[CELL] = cells.get(st.session_state[MIX_UPS])


def matrix_figure(confusion: np.ndarray, cell) -> object:
    """The class's matrix with `cell` selected, built again only when it changed: building a Plotly
    figure is most of what the wall's once-a-second rerun costs (12 of about 25 ms)."""
    key = (confusion.tobytes(), cell)
    cached = st.session_state.get(FIGURE)
    if cached is None or cached[0] != key:
        figure = charts.confusion_matrix_figure(confusion, rows="Digit meant", columns="Read as")
        figure.update_traces(
            selectedpoints=[10 * cell[0] + cell[1]] if cell else None,
            unselected={"marker": {"opacity": 0.45}, "textfont": {"color": "#3d3d3d"}},
        )
        cached = st.session_state[FIGURE] = (key, figure)
    return cached[1]


def class_matrix(read: wall.ClassReading, drawings: list[wall.WallDrawing], reads: dict[int, int]) -> None:
    """Meant digit against what the network read; a click on a square shows the drawings behind it."""
    cell = st.session_state.get(CELL)
    figure = matrix_figure(read.evaluation.confusion, cell)
    with st.container(horizontal=True, wrap=True):
        st.plotly_chart(
            figure,
            theme=None,
            key=MATRIX,
            on_select=remember_click,
            selection_mode="points",
            width=560,
            config={"displayModeBar": False},
        )
        with st.container(width="stretch", key=CELL_PANEL):  # below the matrix when narrow: layout.css
            pairs = {
                pair_label(*p).replace("images", "drawings").replace("image", "drawing"): p[:2]
                for p in read.mix_ups
            }
            if pairs:
                st.pills(
                    "The commonest mix-ups",
                    list(pairs),
                    key=MIX_UPS,
                    on_change=remember_pair,
                    args=(pairs,),
                    help="Click one to see its drawings.",
                )
            else:
                st.success("No mix-ups: the network read every drawing as meant.")
            if cell is None:
                st.info("Click a square to see the drawings behind it.", icon=":material/touch_app:")
                return
            behind = [d for d in drawings if (d.meant, reads[d.id]) == tuple(cell)]
            verdict = "read right" if cell[0] == cell[1] else f"read as {cell[1]}"
            st.subheader(f"{cell[0]}s {verdict}: {len(behind)} drawing{'s' * (len(behind) != 1)}")
            show_grid(behind[:CELL_TILES], reads, "wall_cell_grid", "No drawing in this square.")
            st.button(
                "Back to the whole matrix",
                key="wall_cell_close",
                icon=":material/close:",
                on_click=forget_cell,
            )


def teacher_unlocked(code: str | None) -> bool:
    """Whether this session may run rounds; asks for the teacher code once."""
    if code is None:
        st.caption(
            "No teacher code is set on this server (env DIGITLAB_TEACHER_CODE), so nobody can start rounds "
            "or clear the wall from the page. Start the server with one (README: Run a round with the class "
            "wall), or clear it from the command line: `python -m digitlab wall clear`."
        )
        return False
    if st.session_state.get(TEACHER):
        return True
    with st.form("wall_code", border=False):
        entered = st.text_input("Teacher code", type="password", key="wall_code_entered")
        if not st.form_submit_button("Unlock the round controls", icon=":material/lock_open:"):
            st.caption("Only the teacher can start rounds, clear the wall or download it.")
            return False
    if not board.is_teacher(entered, code):
        st.error("That is not the teacher code.")
        return False
    st.session_state[TEACHER] = True
    return True


def round_controls(drawings: list[wall.WallDrawing]) -> None:
    """Start or end a round, clear the wall, download it for the Teach page."""
    with st.form("wall_round", border=False):
        prompt = st.text_input(
            "Prompt", max_chars=wall.MAX_PROMPT, placeholder="Everyone draw a 4", key="wall_prompt"
        )
        digit = st.pills("The digit it asks for (optional)", range(10), key="wall_round_digit", wrap=True)
        started = st.form_submit_button("Start the round", icon=":material/campaign:", type="primary")
    if started:
        try:
            opened = wall.start_round(prompt, digit)
        except wall.WallError as error:
            st.error(str(error))
        else:
            st.success(f"Round started: “{opened.prompt}”, on every Draw page within a few seconds.")
    with st.container(horizontal=True, wrap=True):
        if st.button("End the round", icon=":material/stop_circle:", key="wall_end"):
            st.toast("Round ended." if wall.end_round() else "No round was open.")
        with st.popover("Clear the wall…", icon=":material/delete:"):
            st.write(f"Take all {len(drawings)} drawings off the wall, for everyone? This cannot be undone.")
            if st.button("Yes, clear the wall", type="primary", key="wall_clear"):
                st.toast(f"Cleared: {wall.clear()} drawings removed.")
        st.download_button(
            "Download for Teach (.zip)",
            data=lambda: wall.to_zip(wall.drawings()),
            file_name="class-wall.zip",
            mime="application/zip",
            icon=":material/download:",
            key="wall_download",
            disabled=not drawings,
            help="The drawings as PNGs with labels.csv (the digit meant): the Teach page imports it, so the "
            "class's handwriting can become a fine-tuning set.",
        )
