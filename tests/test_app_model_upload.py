"""'Use a model file' through Streamlit's AppTest: a good .keras file becomes the model, a bad one doesn't.

The uploaded models are tiny and untrained (tests/tiny_models.py), so the file stays fast; most of its
time is importing TensorFlow and loading the default model once.
"""

import pytest

from digitlab.app import state
from digitlab.app.model_upload import ORIGIN
from digitlab.learn.classifier import keras_bytes
from tests.apptest import open_page, texts
from tests.tiny_models import digitlab_classifier

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("through_the_router")]
KERAS = "application/octet-stream"


def active_name(at) -> str | None:
    active = at.session_state.get(state.ACTIVE)
    return active["classifier"].name if active else None


def test_a_model_file_on_draw_becomes_the_model_and_a_bad_one_changes_nothing(mnist):
    at = open_page("draw")

    def upload(name: str, data: bytes):  # the element of the latest run: each upload replaces the last
        return at.file_uploader(key="draw_model_file").set_value((name, data, KERAS)).run()

    upload("broken.keras", b"PK\x03\x04 cut off")
    assert not at.exception, at.exception
    assert "broken.keras is incomplete" in texts(at.error) and "still" in texts(at.error)
    assert active_name(at) is None  # the default model is still the one in use

    upload("mine.keras", keras_bytes(digitlab_classifier(mnist, name="my reader")))
    assert not at.exception, at.exception
    assert active_name(at) == "my reader"
    assert "Draw and Confusion now use my reader" in texts(at.success)
    assert f"**my reader** ({ORIGIN}: 81.2% of MNIST's test digits read right)" in texts(at.caption)

    upload("notes.keras", b"just some text")
    assert "not a Keras model" in texts(at.error) and "still my reader" in texts(at.error)
    assert active_name(at) == "my reader"


def test_a_model_file_replaced_since_can_be_used_again(mnist):
    at = open_page("draw")
    data = keras_bytes(digitlab_classifier(mnist, name="my reader"))
    at.file_uploader(key="draw_model_file").set_value(("mine.keras", data, KERAS)).run()
    assert active_name(at) == "my reader"
    del at.session_state[state.ACTIVE]  # as "Switch back to the default model" on Train does
    at.run()
    assert "now use my reader" not in texts(at.success)  # no longer true: not shown
    at.button(key="draw_model_file_again").click().run()
    assert active_name(at) == "my reader" and "now use my reader" in texts(at.success)


def test_the_train_page_offers_it_too():
    at = open_page("train")
    assert at.file_uploader(key="train_model_file")
