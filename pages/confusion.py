"""Confusion: which digits the network mixes up, and the test images behind every number.

Rows are the true digit, columns the network's answer. Clicking a square, or one of the most confused
pairs below it, shows that square's test images with the network's two best guesses for each.
"""

import numpy as np
import streamlit as st

from digitlab import charts, image_charts, reading
from digitlab.app import state, widgets, workarounds
from digitlab.app.shelf_picker import model_picker
from digitlab.evaluation import pair_label, selected_cell

CELL = "confusion_cell"  # (true, predicted) last chosen by a click on the matrix or on a pair
PAIRS = "confusion_pairs"
PER_PAGE = 24  # images of a square shown at once; Previous and Next page through the rest
PAGE = "confusion_page"  # {(true, predicted): the page of that square's images shown}
IMAGES_PX = 500  # the images' column: beside the matrix at a projector, below it on a tablet or phone
TILE_PX = 84  # 28×28 images drawn 3× larger, each pixel a sharp square


def remember_click() -> None:
    st.session_state[CELL] = selected_cell(st.session_state["cm"])
    st.session_state[PAIRS] = None  # the pair chips no longer say what is shown


def remember_pair(cells: dict) -> None:
    st.session_state[CELL] = cells.get(st.session_state[PAIRS])


def show_cell(evaluation, test_images, true: int, predicted: int) -> None:
    """The test images of one square, each captioned with the network's two best guesses, PER_PAGE at a
    time, with Previous and Next past that."""
    indices = evaluation.cell_indices(true, predicted)
    verdict = "read right" if true == predicted else f"read as {predicted}"
    st.subheader(f"{true}s {verdict}: {len(indices):,} image{'s' * (len(indices) != 1)}")
    if not len(indices):
        st.caption("No test image landed in this square.")
        return
    pages = -(-len(indices) // PER_PAGE)
    page = st.session_state.get(PAGE, {}).get((true, predicted), 0) if pages > 1 else 0
    shown = indices[page * PER_PAGE : (page + 1) * PER_PAGE]
    where = f" Images {page * PER_PAGE + 1}–{page * PER_PAGE + len(shown)} of {len(indices):,}." * (pages > 1)
    st.caption(f"Under each image: the network's two best guesses.{where}")
    if pages > 1:
        with st.container(horizontal=True):
            for label, icon, step, key in (
                ("Previous", ":material/chevron_left:", -1, "confusion_previous"),
                ("Next", ":material/chevron_right:", 1, "confusion_next"),
            ):
                st.button(
                    label,
                    icon=icon,
                    key=key,
                    disabled=not 0 <= page + step < pages,
                    on_click=turn_page,
                    args=((true, predicted), page + step),
                )
    tiles = [np.pad(image_charts.enlarge(test_images[i], TILE_PX), 3, constant_values=255) for i in shown]
    guesses = [reading.guesses_title(evaluation.probabilities[i], "  \n") for i in shown]
    st.image(tiles, caption=guesses, width=TILE_PX + 6)


def turn_page(cell: tuple[int, int], page: int) -> None:
    st.session_state.setdefault(PAGE, {})[cell] = page


workarounds.through_router()
st.title("Where does the network get confused?")
dataset = widgets.require_dataset()
widgets.require_active_classifier()
model_picker("confusion_model")
evaluation = state.active_evaluation()
st.caption(
    f"{widgets.describe_active_model()}. Each square counts the test images of one true digit (row) that the "
    f"network read as a digit (column). The {charts.colour_name(charts.RIGHT_COLOUR)} diagonal is what it "
    f"got right; {charts.colour_name(charts.MISTAKE_COLOUR)} squares are its mistakes.",
    help=widgets.active_model_help(),
)
pairs = evaluation.most_confused(10)
pair_cells = {pair_label(*pair): pair[:2] for pair in pairs}

normalize = st.toggle("Show each row as shares instead of counts", key="confusion_normalize")
cell = st.session_state.get(CELL) or selected_cell(st.session_state.get("cm"))
figure = charts.confusion_matrix_figure(evaluation.confusion, normalize=normalize)
figure.update_traces(
    selectedpoints=[10 * cell[0] + cell[1]] if cell else None,  # also for a chosen pair
    # Plotly fades the other squares to 0.2 and their white counts vanish: fade less, count in dark grey.
    unselected={"marker": {"opacity": 0.45}, "textfont": {"color": "#3d3d3d"}},
)
with st.container(horizontal=True, wrap=True):
    st.plotly_chart(
        figure,
        theme=None,
        key="cm",
        on_select=remember_click,
        selection_mode="points",
        width=620,
        config={"displayModeBar": False},
    )
    with st.container(width=IMAGES_PX):
        if cell is None:
            st.info("Click a square to see its images.", icon=":material/touch_app:")
        else:
            show_cell(evaluation, dataset.x_test, *cell)

st.pills(
    "Most confused",
    list(pair_cells),
    key=PAIRS,
    on_change=remember_pair,
    args=(pair_cells,),
    help="The ten squares off the diagonal with the most images. Click one to see them.",
)
widgets.show_report(evaluation)
