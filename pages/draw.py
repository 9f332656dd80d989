"""Draw: write a digit and see what the network reads, after every stroke, and how it got there.

The canvas and everything that answers it sit in one fragment, so a stroke reruns only that part. The
same reading (prediction, probabilities, the preprocessing steps) serves uploaded photos. Below a drawing,
"It's actually a …" keeps it, labelled, in the session's own handwriting set (see the Teach page), and
"Look inside" shows the network's first-layer weights, its hidden layers' answers and a saliency map.
"""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from digitlab import charts, handwriting, inside, inside_charts, preprocess, reading, session, ui
from digitlab.data import ASSETS_DIR

CANVAS = "canvas"  # the canvas's key; its drawing lives in st.session_state[CANVAS]
THRESHOLD = "draw_threshold"
CORRECTION = "draw_correction"  # the "It's actually a …" pills
SAVED = "draw_saved"  # the label of the drawing just saved, for the line that confirms it
INSIDE = "draw_inside"  # which "Look inside" view is open, if any
# Erase and Clear, done in the browser by the canvas itself; and touch strokes under its hidden toolbar
# reach the canvas (see the script).
canvas_controls = st.components.v2.component(
    "digitlab.canvas_controls", js=(ASSETS_DIR / "canvas_controls.js").read_text()
)
VIEWS = {
    "weights": ":material/grid_view: First layer's weights",
    "layers": ":material/layers: Hidden layers",
    "saliency": ":material/highlight: Saliency",
}
STEPS = (
    ("raw", "Your drawing", "The ink, found whatever the colours."),
    ("cropped", "Cropped", "Cropped to the ink: where you drew doesn't matter."),
    ("fitted", "20×20", "Fitted into 20×20, strokes as thin as MNIST's: size doesn't matter."),
    ("centred", "Centred 28×28", "Centred by its weight in 28×28, exactly like the training digits."),
)


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


def show_answer(steps: preprocess.PreprocessSteps, source: str) -> int:
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
    return digit


def own_handwriting() -> handwriting.HandwritingSet:
    return st.session_state.setdefault(handwriting.SESSION_KEY, handwriting.HandwritingSet())


def save_correction(image: np.ndarray, canvas: np.ndarray) -> None:
    """Keep the drawing with the digit just picked, then clear the pills for the next drawing."""
    label = st.session_state[CORRECTION]
    if label is not None:
        own_handwriting().add(image, label, canvas)
        st.session_state[SAVED] = label
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
        count = len(own_handwriting())
        st.caption(f"Saved as a {saved}: {count} drawing{'s' * (count != 1)} in your handwriting set.")


def show_weights(classifier) -> None:
    try:
        kind, weights = inside.first_layer_weights(classifier)
    except ValueError as error:
        st.info(str(error))
        return
    if kind == "dense":
        st.caption(
            "Each tile is one unit of the first hidden layer: its 784 weights, one per pixel, laid out as "
            "the 28×28 image. Blue pixels excite the unit, red ones inhibit it."
        )
        st.plotly_chart(charts.weights_grid(weights), theme=None, key="inside_weights")
    else:
        st.caption(
            f"This network is a CNN: its first layer is {weights.shape[-1]} filters of "
            f"{weights.shape[0]}×{weights.shape[1]} pixels, each slid over the whole image, so a filter is "
            "shown at its own size, not 28×28. Blue pixels excite it, red ones inhibit it: most find edges "
            "and strokes of one direction."
        )
        st.plotly_chart(inside_charts.filters_grid(weights), theme=None, key="inside_weights")


def show_layers(view: inside.InsideView) -> None:
    for layer in view.layers:
        if layer.kind == "conv":
            height, width, channels = layer.values.shape
            shown = min(channels, 32)
            st.markdown(f"**{layer.name}**: {channels} feature maps of {height}×{width} (first {shown})")
            figure = inside_charts.feature_maps(layer.values, max_maps=shown)
        else:
            active = int((layer.values > 0).sum())
            st.markdown(f"**{layer.name}**: {layer.values.size} units, {active} active")
            figure = inside_charts.units_grid(layer.values)
        st.plotly_chart(figure, theme=None, key=f"inside_{layer.name}")


def show_saliency(view: inside.InsideView, image: np.ndarray) -> None:
    times_input = st.toggle(
        "Gradient × input",
        key="draw_saliency_times_input",
        help="Only the ink you drew, weighted by its pull.",
    )
    overlay = inside.saliency_overlay(image, inside.saliency(view, image, times_input), side=224)
    with st.container(horizontal=True, wrap=True):
        show_pixels(image, 224, "What the network sees")
        st.image(overlay, width=224, caption=f"Which pixels pushed it towards a {view.target}")
    if times_input:
        meaning = f"red-orange ink pushed it towards {view.target}, blue ink away from it"
    else:
        meaning = f"more ink on red-orange pixels would make it surer of {view.target}, on blue ones less"
    st.caption(f"Brighter is stronger: {meaning} (the gradient of the digit's score for each pixel).")


def look_inside(image: np.ndarray, digit: int) -> None:
    choice = st.segmented_control("Look inside the network", list(VIEWS), format_func=VIEWS.get, key=INSIDE)
    if choice is None:
        return
    classifier = ui.active_classifier()
    if classifier.config.members > 1:
        st.caption(
            f"This model is {classifier.config.members} networks that each read the drawing and average "
            "their answers (an ensemble): here is the inside of the first."
        )
    if choice == "weights":
        show_weights(classifier)
        return
    view = inside.look_inside(classifier, image, target=digit)
    if choice == "layers":
        show_layers(view)
    else:
        show_saliency(view, image)


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
        return_image_data=True,
        key=CANVAS,
    )
    canvas_controls(key="canvas_controls", width="content")
    return result.image_data


@st.fragment
def drawing_panel() -> None:
    st.caption(f"Reading with {ui.describe_active_model()}.")  # here: a run may end while you draw
    steps = digit = None
    with st.container(horizontal=True, wrap=True, gap="medium"):
        with st.container(width=290):
            image = drawing_pad()
        with st.container(width="stretch"):
            if image is None:
                st.info("Draw a digit in the black square: the network reads it after every stroke.")
            elif steps := read(
                image, "Nothing to read yet: draw a digit in the black square, as large as you like."
            ):
                digit = show_answer(steps, "canvas")
                ask_for_correction(steps.centred, image)
    if steps:
        show_steps(steps)
        look_inside(steps.centred, digit)
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
        if photo_steps := read(photo, "No digit found in this picture: try a darker pen or a closer photo."):
            show_answer(photo_steps, "upload")
            show_steps(photo_steps)
