"""A reload keeps a browser's work: its run (still training, or finished), its model, its handwriting.

A reload is a new AppTest session that sends the first one's cookie (AppTest cannot send cookies, so
`browser_work.token_sent` is replaced by what the browser would send); tests/e2e/test_reload_e2e.py does
the same with a real reload in Chromium.
"""

import time

import numpy as np
import pytest
from apptest import draw, open_page, png_of_a_one, small_run, texts, train_until_done
from test_app_teach import mirrored_mnist, teach_with

from digitlab.app import browser_work, state
from digitlab.classroom import handwriting, history, kept

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("through_the_router")]


@pytest.fixture
def cookie(monkeypatch):
    """What the next page opened sends as its cookie: `cookie.send(token)`."""

    class Cookie:
        sent = None

        def send(self, token):
            self.sent = token

    jar = Cookie()
    monkeypatch.setattr(browser_work, "token_sent", lambda: jar.sent)
    return jar


def reload(at, cookie, page):
    cookie.send(at.session_state[browser_work.TOKEN])
    return open_page(page)


def test_a_reload_mid_run_finds_the_run_still_training_and_its_owner_can_stop_it(cookie):
    at = small_run(open_page("train"))
    at.slider(key="train_epochs").set_value(40)
    at.run()
    at.button(key="train_start").click().run()
    run = at.session_state[state.RUN]
    deadline = time.monotonic() + 120
    while not run.batch_events:
        assert time.monotonic() < deadline and not run.done
        time.sleep(0.2)
        run.drain_events()

    again = reload(at, cookie, "train")
    assert again.session_state[state.RUN] is run
    assert not run.done and not run.stop_event.is_set()
    assert run.owner is not None
    assert again.button(key="train_stop").disabled is False  # its own run: not "waiting for a slot"
    again.button(key="train_stop").click().run()
    run.join(60)
    assert run.state == "stopped"
    again.run()
    assert any(m.label == "MNIST test accuracy" for m in again.metric)


def test_a_reload_after_training_keeps_the_model_and_the_history(cookie):
    at = train_until_done(small_run(open_page("train")))
    model = at.session_state[state.ACTIVE]["classifier"]
    again = reload(at, cookie, "draw")
    assert again.session_state[state.ACTIVE]["classifier"] is model
    assert "your trained model" in texts(again.caption)
    compare = reload(again, cookie, "compare")
    assert [record.number for record in compare.session_state[history.HISTORY]] == [1]


def test_a_reload_after_a_correction_keeps_the_handwriting(cookie):
    at = draw(open_page("draw"), png_of_a_one())
    at.button_group(key="draw_correction").set_value(7).run()
    drawings = at.session_state[handwriting.SESSION_KEY]
    again = reload(at, cookie, "teach")
    assert again.session_state[handwriting.SESSION_KEY] is drawings
    assert again.session_state[handwriting.SESSION_KEY].labels.tolist() == [7]


def test_a_reload_after_fine_tuning_keeps_the_fine_tuned_model(cookie):
    at = teach_with(mirrored_mnist(20))
    at.button(key="teach_fine_tune").click().run(timeout=300)
    assert not at.exception, at.exception
    tuned = at.session_state[state.ACTIVE]["classifier"]
    assert tuned.name.endswith("+ your handwriting")
    again = reload(at, cookie, "draw")
    assert again.session_state[state.ACTIVE]["classifier"] is tuned
    assert len(again.session_state[handwriting.SESSION_KEY]) == 20


@pytest.mark.parametrize("sent", ["forged", "malformed", "none"])
def test_a_forged_or_foreign_token_gets_a_fresh_session_and_a_new_token(cookie, sent):
    at = open_page("teach")
    at.session_state[handwriting.SESSION_KEY] = handwriting.HandwritingSet()
    at.session_state[handwriting.SESSION_KEY].add(np.zeros((28, 28), "uint8"), 3)
    at.run()
    mine = at.session_state[browser_work.TOKEN]
    token = {"forged": kept.new_token(), "malformed": mine + "x", "none": None}[sent]
    cookie.send(token)
    stranger = open_page("teach", token=mine, browser_token=mine)  # a token in the URL counts for nothing
    assert handwriting.SESSION_KEY not in stranger.session_state or not len(
        stranger.session_state[handwriting.SESSION_KEY]
    )
    assert state.RUN not in stranger.session_state and state.ACTIVE not in stranger.session_state
    new = stranger.session_state[browser_work.TOKEN]
    assert kept.well_formed(new) and new not in (mine, token)
