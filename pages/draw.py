"""Draw: write a digit and see what the network reads, after every stroke, and how it got there.

The canvas and everything that answers it sit in one fragment, so a stroke reruns only that part. The
same reading (`reading.read_image`: preprocessing, probabilities, answer) serves uploaded photos. Below a
drawing, "It's actually a …" keeps it, labelled, in the session's own handwriting set (see the Teach
page), "Look inside" shows the network's first-layer weights, its hidden layers' answers and a
saliency map, and "Why did it read mine wrong?" the training images most alike to the drawing.
"Use a model file" reads with a .keras file instead (`app.model_upload`). "Send to the class wall" puts
the drawing on the teacher's Wall page (`app.wall_send`), under the round's prompt when one is open.
"""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from digitlab import charts, preprocess, reading, strokes
from digitlab.app import state, widgets, workarounds
from digitlab.app.look_inside import look_inside, why_it_read
from digitlab.app.model_upload import model_upload
from digitlab.app.not_a_digit import explain_not_a_digit, judge_for, show_not_a_digit
from digitlab.app.shelf_picker import model_picker
from digitlab.app.wall_send import choose_meant, round_banner, send_panel
from digitlab.app.widgets import show_pixels

CANVAS_PX = strokes.CANVAS  # its size: the pen-drawn digits are rendered at the same size
CANVAS = "canvas"  # the canvas's key; its drawing lives in st.session_state[CANVAS]
THRESHOLD = "draw_threshold"
CORRECTION = "draw_correction"  # the "It's actually a …" pills
SAVED = "draw_saved"  # the label of the drawing just saved, for the line that confirms it
STEPS = (
    ("raw", "Your drawing", "The ink, found whatever the colours."),
    ("cropped", "Cropped", "Cropped to the ink: where you drew doesn't matter."),
    ("fitted", "20×20", "Fitted into 20×20, strokes as thin as MNIST's: size doesn't matter."),
    ("centred", "Centred 28×28", "Centred by its weight in 28×28, exactly like the training digits."),
)


def read(image, empty_message: str) -> reading.Reading | None:
    """What the network reads in a drawing or photo, or None (and `empty_message`) when it holds no digit."""
    try:
        classifier = state.active_classifier()
        return reading.read_image(classifier, image, judge=judge_for(classifier))
    except preprocess.NothingToRead:
        st.info(empty_message)
        return None


def show_answer(answer: reading.Reading, source: str) -> None:
    """The prediction, how sure it is, the 28×28 image the network saw and all ten probabilities."""
    with st.container(horizontal=True, wrap=True):
        with st.container(width=190):
            st.metric("Prediction", answer.digit)
            threshold = st.session_state.get(THRESHOLD, reading.DEFAULT_NOT_SURE_BELOW)
            if answer.not_a_digit_message:
                show_not_a_digit(answer)
            elif unsure := answer.unsure_message(threshold):
                st.warning(unsure, icon=":material/help:")
            else:
                st.caption(answer.confidence_text)
        show_pixels(answer.steps.centred, 168, "What the network sees: 28×28 pixels")
    if answer.not_a_digit_message:
        explain_not_a_digit()
    bars = charts.probability_bars(answer.probabilities, highlight=answer.digit)
    st.plotly_chart(bars, theme=None, key=f"{source}_bars")


def save_correction(image: np.ndarray, canvas: np.ndarray) -> None:
    """Keep the drawing with the digit just picked, then clear the pills for the next drawing."""
    label = st.session_state[CORRECTION]
    if label is not None:
        state.own_handwriting().add(image, label, canvas)
        st.session_state[SAVED] = label
        choose_meant(label)  # the digit meant too, should it go to the class wall
        st.session_state[CORRECTION] = None


def ask_for_correction(image: np.ndarray, canvas: np.ndarray) -> None:
    st.pills(
        "It's actually a …",
        range(10),
        key=CORRECTION,
        on_change=save_correction,
        args=(image, canvas),
        help="Saves this drawing, with the digit you meant, to your own handwriting set (Teach page). "
        "Pick the predicted digit to save a right answer too: the set's accuracy is fair only with both.",
    )
    if (saved := st.session_state.pop(SAVED, None)) is not None:
        count = len(state.own_handwriting())
        st.caption(f"Saved as a {saved}: {count} drawing{'s' * (count != 1)} in your handwriting set.")


def show_steps(steps, file_size: tuple[int, int] | None = None) -> None:
    """The four steps; `file_size` is an upload's own size, when it was read at a smaller one."""
    expander = st.expander("How your drawing becomes 28×28 pixels", expanded=True)
    with expander.container(horizontal=True, wrap=True):
        for field, title, why in STEPS:
            pixels = getattr(steps, field)
            size = f"{pixels.shape[1]}×{pixels.shape[0]} pixels"
            if field == "raw" and file_size and tuple(file_size) != pixels.shape[1::-1]:
                size = f"{file_size[0]}×{file_size[1]} pixels, read at {pixels.shape[1]}×{pixels.shape[0]}"
            with st.container(width=150):
                show_pixels(pixels, 112, f"**{title}**  \n{size}")
                st.caption(why)


def drawing_pad() -> np.ndarray | None:
    """Brush size, the canvas, Erase and Clear; the drawing as RGBA pixels, None before the first stroke."""
    brush = st.slider("Brush size", 8, 40, 18, key="draw_brush", help="Thicker strokes, same reading.")
    result = st_canvas(
        stroke_width=brush,
        stroke_color="#FFFFFF",
        background_color="#000000",
        width=CANVAS_PX,
        height=CANVAS_PX,
        drawing_mode="freedraw",
        return_image_data=True,
        key=CANVAS,
    )
    workarounds.canvas_controls(key="canvas_controls", width="content")
    if result.image_bytes is None:
        return None
    try:  # the canvas's own picture only: a crafted message could send the server any picture as it
        size = (CANVAS_PX, CANVAS_PX)
        picture = preprocess.open_png_of_size(result.image_bytes, size, "The canvas's picture")
    except preprocess.ImageError as error:
        st.error(f"{error} Press Clear and draw again.", icon=":material/block:")
        return None
    return np.asarray(picture.convert("RGBA"))


@st.fragment
def drawing_panel() -> None:
    round_banner()  # the teacher's prompt, read again at every stroke, when a round of the wall is open
    # here: a run may end while you draw
    st.caption(f"Reading with {widgets.describe_active_model()}.", help=widgets.active_model_help())
    answer = None
    with st.container(horizontal=True, wrap=True, gap="medium"):
        with st.container(width=290):
            image = drawing_pad()
        with st.container(width="stretch"):
            if image is None:
                st.info("Draw a digit in the black square: the network reads it after every stroke.")
            elif answer := read(
                image, "Nothing to read yet: draw a digit in the black square, as large as you like."
            ):
                show_answer(answer, "canvas")
                ask_for_correction(answer.steps.centred, image)
                send_panel(answer, image)
    if answer:
        show_steps(answer.steps)
        look_inside(answer.steps.centred, answer.digit)
        why_it_read(answer)
    with st.expander("When is it “not sure”?"):
        st.slider(
            "Say “not sure” when the likeliest digit gets less than",
            0.3,
            0.95,
            reading.DEFAULT_NOT_SURE_BELOW,
            0.05,
            key=THRESHOLD,
            help="Below this probability, the two best guesses are shown instead.",
        )


workarounds.through_router()
st.title("Draw a digit")
widgets.require_active_classifier()
model_upload("draw_model_file")  # before the panel, whose first line names the model in use
model_picker("draw_model")  # after the upload: it shows the model an upload has just made active
drawing_panel()

st.subheader("…or upload a photo of one")
upload = st.file_uploader(
    "A picture of a single digit: PNG, JPEG, GIF, BMP or WebP",
    type=["png", "jpg", "jpeg", "gif", "bmp", "webp"],
    key="draw_upload",
)
if upload is not None:
    try:
        photo = preprocess.open_image(upload.getvalue())
    except preprocess.ImageError as error:
        st.error(f"That file cannot be read: {error}")
    else:
        if photo_answer := read(photo, "No digit found in this picture: try a darker pen or a closer photo."):
            show_answer(photo_answer, "upload")
            show_steps(photo_answer.steps, photo.info.get(preprocess.FILE_SIZE))
