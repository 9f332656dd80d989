"""Draw: write a digit and see what the network reads, after every stroke, and how it got there.

The canvas and everything that answers it sit in one fragment, so a stroke reruns only that part. The
same reading (prediction, probabilities, the preprocessing steps) serves uploaded photos.
"""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from digitlab import charts, preprocess, reading, session, ui

CANVAS = "canvas"  # the canvas's key; its drawing lives in st.session_state[CANVAS]
RESTART = "draw_restart"  # the drawing the canvas restarts from after Erase or Clear
STROKES = "draw_strokes"  # the strokes of the last drawing received, for Erase
THRESHOLD = "draw_threshold"
STEPS = (
    ("raw", "Your drawing", "The ink, found whatever the colours."),
    ("cropped", "Cropped", "Cropped to the ink: where you drew doesn't matter."),
    ("fitted", "20×20", "Fitted into 20×20, strokes as thin as MNIST's: size doesn't matter."),
    ("centred", "Centred 28×28", "Centred by its weight in 28×28, exactly like the training digits."),
)


def restart_canvas(strokes: list) -> None:
    """Reload the canvas with `strokes`; the counter makes each restart a new drawing to the canvas."""
    count = st.session_state.get(RESTART, {}).get("restart", 0) + 1
    st.session_state[RESTART] = {"objects": strokes, "restart": count}


def show_pixels(pixels: np.ndarray, side: int, caption: str) -> None:
    """A grey image `side` px on its longer side, each pixel a sharp square."""
    shown = session.enlarge(pixels, side)
    st.image(shown, width=shown.shape[1], caption=caption)  # at its own size: the browser adds no blur


def read(image, empty_message: str) -> preprocess.PreprocessSteps | None:
    """The preprocessing of a drawing or photo, or None (and `empty_message`) when it holds no digit."""
    try:
        return preprocess.preprocess_steps(image)
    except preprocess.NothingToRead:
        st.info(empty_message)
        return None


def show_answer(steps: preprocess.PreprocessSteps, source: str) -> None:
    """The prediction, how sure it is, the 28×28 image the network saw and all ten probabilities."""
    probs = reading.predict_views(ui.active_classifier(), steps.centred)  # as the CLI reads it
    digit = int(np.argmax(probs))
    with st.container(horizontal=True, wrap=True):
        with st.container(width=190):
            st.metric("Prediction", digit)
            unsure = session.unsure_message(probs, st.session_state.get(THRESHOLD, 0.6))
            if unsure:
                st.warning(unsure, icon=":material/help:")
            else:
                st.caption(f"Confidence: {session.format_probability(probs[digit])}")
        show_pixels(steps.centred, 168, "What the network sees: 28×28 pixels")
    st.plotly_chart(charts.probability_bars(probs, highlight=digit), theme=None, key=f"{source}_bars")


def show_steps(steps: preprocess.PreprocessSteps) -> None:
    expander = st.expander("How your drawing becomes 28×28 pixels", expanded=True)
    with expander.container(horizontal=True, wrap=True):
        for field, title, why in STEPS:
            pixels = getattr(steps, field)
            with st.container(width=150):
                show_pixels(pixels, 112, f"**{title}**  \n{pixels.shape[1]}×{pixels.shape[0]} pixels")
                st.caption(why)


def drawing_pad() -> np.ndarray | None:
    """Brush size, the canvas, Erase and Clear; the drawing as RGBA pixels, None before the first stroke."""
    brush = st.slider("Brush size", 8, 40, 18, key="draw_brush", help="Thicker strokes, same reading.")
    result = st_canvas(
        stroke_width=brush,
        stroke_color="#FFFFFF",
        background_color="#000000",
        width=280,
        height=280,
        drawing_mode="freedraw",
        initial_drawing=st.session_state.get(RESTART),
        return_image_data=True,
        key=CANVAS,
    )
    strokes = st.session_state[STROKES] = (result.json_data or {}).get("objects", [])
    with st.container(horizontal=True):
        st.button(
            "Erase",
            icon=":material/backspace:",
            help="Take back the last stroke.",
            disabled=not strokes,
            on_click=lambda: restart_canvas(st.session_state[STROKES][:-1]),
        )
        st.button(
            "Clear",
            icon=":material/restart_alt:",
            help="Start again on an empty canvas.",
            disabled=not strokes,
            on_click=restart_canvas,
            args=([],),
        )
    return result.image_data


@st.fragment
def drawing_panel() -> None:
    st.caption(f"Reading with {ui.describe_active_model()}.")  # here: a run may end while you draw
    steps = None
    with st.container(horizontal=True, wrap=True, gap="medium"):
        with st.container(width=290):
            image = drawing_pad()
        with st.container(width="stretch"):
            if image is None:
                st.info("Draw a digit in the black square: the network reads it after every stroke.")
            elif steps := read(
                image, "Nothing to read yet: draw a digit in the black square, as large as you like."
            ):
                show_answer(steps, "canvas")
    if steps:
        show_steps(steps)
    with st.expander("When is it “not sure”?"):
        st.slider(
            "Say “not sure” when the likeliest digit gets less than",
            0.3,
            0.95,
            0.6,
            0.05,
            key=THRESHOLD,
            help="Below this probability, the two best guesses are shown instead.",
        )


ui.through_router()
st.title("Draw a digit")
ui.require_active_classifier()
if CANVAS not in st.session_state:
    st.session_state.pop(RESTART, None)  # a fresh canvas (first visit or back from another page)
drawing_panel()

st.subheader("…or upload a photo of one")
upload = st.file_uploader(
    "A picture of a single digit, PNG or JPEG", type=["png", "jpg", "jpeg"], key="draw_upload"
)
if upload is not None:
    try:
        photo = preprocess.open_image(upload.getvalue())
    except preprocess.ImageError as error:
        st.error(f"That file cannot be read: {error}")
    else:
        if photo_steps := read(photo, "No digit found in this picture: try a darker pen or a closer photo."):
            show_answer(photo_steps, "upload")
            show_steps(photo_steps)
