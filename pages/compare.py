"""Compare: this session's runs side by side, and the class board where students publish theirs.

Every run trained in the session is kept (digitlab.classroom.history, the last ten, without their
models): the table ranks them by test accuracy, the charts overlay their curves, and two confusion
matrices sit side by side, so an MLP and a CNN can be told apart at a glance. Pretrained models from
the shelf (app.shelf_picker) can join them, from what their files store. The class board
(digitlab.classroom.board) is shared by everyone on the server; a nickname is shown only as plain text.
"""

import sqlite3

import numpy as np
import streamlit as st

from digitlab import charts, curve_charts, glossary
from digitlab.app import resources, state, workarounds
from digitlab.app.shelf_picker import shelf_runs
from digitlab.classroom import board
from digitlab.classroom import history as runs

BOARD_COLUMNS = {
    "rank": st.column_config.NumberColumn("#", width="small"),
    "nickname": st.column_config.TextColumn("Nickname"),
    "accuracy": st.column_config.NumberColumn("Test accuracy", format="%.2f%%"),
    "summary": st.column_config.TextColumn("Settings"),
    "created": st.column_config.TextColumn("Published (UTC)"),
}


def compare_runs(records: list[runs.RunRecord]) -> None:
    """The ranking table, the overlaid curves and two confusion matrices."""
    st.table(runs.table_rows(records), hide_index=True)  # ten rows at most: a plain table reads best
    ranked = runs.by_accuracy(records)
    names = [record.name for record in ranked]
    chosen_names = st.multiselect(
        "Runs on the charts",
        names,
        default=names,
        format_func=glossary.friendly_name,
        key="compare_runs",
        help="Their technical names:\n\n"
        + "\n".join(f"- {glossary.friendly_name(r.name)}: {r.config.label}" for r in ranked),
    )
    chosen = [record for record in ranked if record.name in chosen_names]
    if not chosen:
        st.info("Choose at least one run to draw its curves.")
        return
    st.caption(
        "Each line is one run: its validation curve per epoch, or its training curve if it had none. "
        "A dashed line is a run whose loss blew up (diverged)."
    )
    curves = [
        curve_charts.CompareRun(glossary.friendly_name(r.name), r.epochs, r.batches, r.state == "diverged")
        for r in chosen
    ]
    for column, metric in zip(st.columns(2), curve_charts.METRICS, strict=True):
        figure = curve_charts.compare_curves(curves, metric)
        column.plotly_chart(
            figure, theme=None, key=f"compare_{metric}", config=runs.png_config(f"digitlab-compare-{metric}")
        )
    st.subheader("Confusion matrices")
    st.caption("The first two runs chosen above. Rows: the true digit; columns: what the network read.")
    for column, record in zip(st.columns(2), chosen[:2], strict=False):
        shown = glossary.friendly_name(record.name)
        column.markdown(
            f"**{shown}** · {record.accuracy:.2%} right", help=glossary.technical_help(record.config.label)
        )
        column.plotly_chart(
            charts.confusion_matrix_figure(np.array(record.confusion)),
            theme=None,
            key=f"compare_confusion_{record.key}",
            config=runs.png_config(f"{record.stem}-confusion"),
        )


def publish_form(records: list[runs.RunRecord]) -> None:
    """Put one of the session's runs on the class board under a nickname."""
    by_name = {record.name: record for record in runs.by_accuracy(records)}
    with st.form("board_publish", border=True):
        st.markdown("**Publish a run**: only the nickname, the settings and the test accuracy are shared.")
        name = st.selectbox("Run", list(by_name), key="board_run")
        nickname = st.text_input(
            "Nickname", max_chars=board.MAX_NICKNAME, placeholder="e.g. Ada", key="board_nickname"
        )
        if not st.form_submit_button("Publish to the class board", icon=":material/publish:"):
            return
    record = by_name[name]
    try:
        board.publish(nickname, runs.summary(record.config), record.accuracy, record.config.to_json())
    except board.BoardError as error:
        st.error(str(error))
    else:
        st.success("Published to the class board.", icon=":material/check_circle:")


def teacher_clear() -> None:
    """Clearing the board needs the teacher code set on the server, or the command line."""
    code = resources.teacher_code()
    with st.expander("Teacher: clear the board"):
        if code is None:
            st.caption(
                "No teacher code is set on this server (env DIGITLAB_TEACHER_CODE), so the board is "
                "cleared from the command line: `python -m digitlab board clear`."
            )
            return
        with st.form("board_clear", border=False):
            entered = st.text_input("Teacher code", type="password", key="board_code")
            if not st.form_submit_button("Clear the board", icon=":material/delete:"):
                return
        if board.is_teacher(entered, code):
            st.success(f"Cleared: {board.clear()} entries removed.")
        else:
            st.error("That is not the teacher code.")


def class_board(records: list[runs.RunRecord]) -> None:
    st.header("Class board")
    if records:
        publish_form(records)
    entries = board.entries()
    if not entries:
        st.info("Nobody has published a run yet.", icon=":material/leaderboard:")
    else:
        rows = [
            {
                "rank": rank,
                "nickname": entry.nickname,
                "accuracy": 100 * entry.accuracy,
                "summary": entry.summary,
                "created": entry.created,
            }
            for rank, entry in enumerate(entries, 1)
        ]
        st.dataframe(
            rows,
            hide_index=True,
            column_config=BOARD_COLUMNS,
        )
    teacher_clear()


workarounds.through_router()
st.title("Compare runs")
state.settle_finished_run()  # a run that ended on another page joins the list
records = st.session_state.get(runs.HISTORY, [])
shelf_records = shelf_runs("compare_shelf")
if records or shelf_records:
    st.caption(f"The last {runs.MAX_RUNS} runs of this session and the shelf models added, best first.")
    compare_runs([*records, *shelf_records])
else:
    st.info("No run trained in this session yet: train one or two, then come back.", icon=":material/info:")
    st.page_link("pages/train.py", label="Train a network", icon=":material/model_training:")
try:
    class_board(records)
except sqlite3.Error as error:
    st.error(f"The class board is not available right now ({error}). Try again in a moment.")
