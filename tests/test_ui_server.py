"""What digitlab.ui changes in the server process once TensorFlow is loaded."""

import keras
import pytest
from streamlit.testing.v1 import AppTest

from digitlab import ui
from tests.apptest import APP, TIMEOUT

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("through_the_router")]


def test_script_runs_no_longer_clear_tensorflows_caches():
    # Streamlit calls keras.backend.clear_session() after each script run; it emptied TensorFlow's
    # kernel cache, and every prediction then rebuilt its kernels (bench/load.py, ui.import_tensorflow).
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/draw.py").run()
    assert not at.exception
    assert keras.backend.clear_session is ui.keep_keras_state
