"""Two students on one server: one's runs and models never reach the other, and a finished run is light.

Two AppTests are two browser sessions of the same process, as on the classroom server: they share
the cached dataset, the default model and the training slots, and nothing else.
"""

import pytest

from digitlab.app import state
from tests.apptest import open_page, small_run, texts, train_until_done

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("through_the_router")]


def test_one_students_training_stays_in_their_session():
    alice = small_run(open_page("train"))
    bob = open_page("train")
    train_until_done(alice)
    assert not alice.error, texts(alice.error)

    run = alice.session_state[state.RUN]
    assert run.state == "finished"
    assert state.RUN not in bob.session_state and state.ACTIVE not in bob.session_state
    bob.switch_page("pages/draw.py").run()
    assert "the default model" in texts(bob.caption)
    alice.switch_page("pages/draw.py").run()
    assert "your trained model" in texts(alice.caption)

    # What stays in Alice's session: the model, its curves and its evaluation, not the images.
    assert run.dataset is None
    assert run.result.classifier is alice.session_state[state.ACTIVE]["classifier"]
    assert run.result.history["loss"] and run.result.evaluation is not None
