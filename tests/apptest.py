"""What the AppTest files share: opening a page through app.py, drawing on the canvas, a short run.

AppTest makes Streamlit guess afresh on every script run whether pages/ is an old-style multipage
folder, and then runs the page alone (the server guesses once, and `workarounds.through_router`
corrects it; its browser test is in tests/e2e/test_app_e2e.py). `workarounds.settle_pages_guess_in_apptest`
settles the guess as `st.navigation` does, so every AppTest run really goes through the router; the
`through_the_router` fixture in tests/conftest.py applies it.
"""

import base64
import io
import time
from pathlib import Path

from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120  # seconds per script run: the first run of a model page imports TensorFlow


def open_page(name: str | None = None, **query) -> AppTest:
    """The app at `name` (a file in pages/), with `query` in the URL; fails on an exception."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if name:
        at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    return " ".join(str(element.value) for element in elements)


def png_of_a_one() -> bytes:
    """A vertical stroke, white on black, like a finger-drawn 1 on the 280×280 canvas."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(image).line([(140, 40), (140, 240)], fill=(255, 255, 255, 255), width=18)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def draw(at: AppTest, png: bytes) -> AppTest:
    """Hand the Draw page's canvas a drawing, as the canvas component sends one, and rerun."""
    data = "data:image/png;base64," + base64.b64encode(png).decode()
    at.session_state["canvas"] = {"drawing": {"raw": {"objects": [{"type": "Path"}]}, "data": data}}
    return at.run()


def train_until_done(at: AppTest, seconds: float = 150) -> AppTest:
    """Press Start and rerun until the results (or an error) show."""
    at.button(key="train_start").click().run()
    deadline = time.monotonic() + seconds
    while not any(m.label == "MNIST test accuracy" for m in at.metric):
        assert not at.exception, at.exception
        if at.error:
            return at
        assert time.monotonic() < deadline, f"training did not finish in {seconds} s"
        time.sleep(0.5)
        at.run()
    return at


def small_run(at: AppTest, **changes) -> AppTest:
    """Train-page settings for a run of seconds: 500 images, one epoch, plus `changes`."""
    at.select_slider(key="train_train_size").set_value(500)
    at.slider(key="train_epochs").set_value(1)
    for name, value in changes.items():
        at.select_slider(key=f"train_{name}").set_value(value)
    return at.run()
