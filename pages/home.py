"""Home: what digitlab is, where each page leads, which network is in use, and what MNIST looks like.

Kept light on purpose: no TensorFlow here, so the page is ready within moments of opening the app.
"""

import streamlit as st

from digitlab import data, joining, modelfile
from digitlab.app import resources, widgets, workarounds

workarounds.through_router()
st.title("How does a neural network read handwriting?")
st.markdown(
    "A network learns to read digits from **60,000 handwritten examples** (the MNIST data set) and is "
    "then tested on **10,000 it has never seen**. Train one yourself, write to it, and find out where "
    "it goes wrong."
)

steps = (
    (
        "pages/train.py",
        "Train",
        ":material/model_training:",
        "Build a network, press Start and watch the "
        "loss fall and the accuracy climb, live. Too high a learning rate? Watch it blow up.",
    ),
    (
        "pages/draw.py",
        "Draw",
        ":material/draw:",
        "Write a digit with your finger or mouse and see, after "
        "every stroke, what the network thinks, how sure it is, and the 28×28 image it actually reads.",
    ),
    (
        "pages/teach.py",
        "Teach",
        ":material/school:",
        "The drawings it got wrong, kept with the digit you meant: see how it reads your handwriting, "
        "and fine-tune it on them.",
    ),
    (
        "pages/confusion.py",
        "Confusion",
        ":material/grid_on:",
        "Which digits does it mix up? Click any "
        "square of the confusion matrix to see the test images behind the number.",
    ),
    (
        "pages/compare.py",
        "Compare",
        ":material/compare_arrows:",
        "Your runs side by side, and beside pretrained ones: which network learns best? Publish yours "
        "on the class board.",
    ),
    (
        "pages/wall.py",
        "Wall",
        ":material/dashboard:",
        "The whole class sends drawings to the projector: whose digits does the network read, and which "
        "does it get wrong? The class's own confusion matrix, live.",
    ),
)
with st.container(horizontal=True, wrap=True, gap="medium"):  # three a row at a projector, one on a phone
    for page, label, icon, text in steps:
        with st.container(border=True, width=380, height="stretch"):
            st.page_link(page, label=label, icon=icon)
            st.write(text)

with st.expander("Join this class: the address for students, and its QR code", icon=":material/qr_code_2:"):
    address = joining.join_url(st.context.url or "http://localhost:8501", joining.lan_address())
    with st.container(horizontal=True, wrap=True, gap="large"):
        st.image(joining.qr_png(address), width=240, caption="Point a tablet's camera here")
        with st.container(width=420):
            st.markdown("On a phone, tablet or laptop on the same network, open:")
            st.code(address, language=None)
            if not joining.reachable(address):
                st.warning("This computer has no network address: students' devices cannot reach it.")

try:
    st.info(f"Network in use: {widgets.describe_active_model()}", icon=":material/neurology:")
except modelfile.ModelFileError as error:
    st.warning(f"No network yet: the default model is missing ({error}). Train one on the Train page.")

st.subheader("What the network learns from")
st.caption("Two random examples of each digit from the training images (28×28 pixels), its label under it.")
try:
    dataset = resources.get_dataset()
except data.DataError as error:
    st.error(f"The MNIST images could not be loaded: {error}")
else:
    picks = data.sample_grid_indices(dataset.y_train, per_class=2, seed=7)
    widgets.show_digit_tiles(dataset.x_train[picks], [str(label) for label in dataset.y_train[picks]])
