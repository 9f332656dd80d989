"""What digitlab.ui changes in the server process once TensorFlow is loaded."""

import keras
import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
from test_app_pages import APP, TIMEOUT

from digitlab import ui

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def through_the_router(monkeypatch):
    """Run every script run through app.py, as the server does (see test_app_pages.py)."""
    original = PagesManager.__init__

    def settled(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", settled)


def test_script_runs_no_longer_clear_tensorflows_caches():
    # Streamlit calls keras.backend.clear_session() after each script run; it emptied TensorFlow's
    # kernel cache, and every prediction then rebuilt its kernels (bench/load.py, ui.import_tensorflow).
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/draw.py").run()
    assert not at.exception
    assert keras.backend.clear_session is ui.keep_keras_state
