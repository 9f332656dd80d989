"""digitlab: learn how a neural network reads handwriting (MNIST), live in class.

This file is only the router, like Streamlit's own "hello" app: it names the pages and runs the
one the browser asked for. Each page lives in pages/, the logic in digitlab/. Nothing here imports
TensorFlow, so the home page is ready in a moment; the model pages load it when first opened.

Run it with `streamlit run app.py`.
"""

import streamlit as st

from digitlab.app import state, workarounds
from digitlab.data import assets_dir

st.set_page_config(
    page_title="digitlab: how a network reads handwriting",
    page_icon=str(assets_dir() / "favicon.png"),  # a file, not ":material/…": that one is fetched online
    layout="wide",
    menu_items={"About": "digitlab trains and explores neural networks on MNIST handwritten digits."},
)

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:", url_path="train"),
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:", url_path="draw"),
    st.Page("pages/teach.py", title="Teach", icon=":material/school:", url_path="teach"),
    st.Page("pages/confusion.py", title="Confusion", icon=":material/grid_on:", url_path="confusion"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/wall.py", title="Wall", icon=":material/dashboard:", url_path="wall"),
]
state.take_up_kept_work()  # after a reload: this browser's run, model and handwriting, from the server
workarounds.touch_friendly()  # 44 px touch targets and one-tap chart selection, on every page
try:
    st.navigation(pages, position="top").run()
finally:  # also when the page reruns or stops early
    state.keep_work()
