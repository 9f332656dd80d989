"""A student who closes the tab mid-run frees the training slot for the next one (issue 5).

Streamlit has no on-close hook: digitlab.app.resources.run_watcher notices the session has gone and stops its
run after `RunWatcher.grace` seconds. Every slot of the server is taken by a long run in tabs that
then close; a new student's run must then start within the grace period plus a margin.
"""

import re

from playwright.sync_api import Page, expect

from digitlab.classroom.runs import RunWatcher
from digitlab.classroom.slots import slot_count
from tests.e2e.helpers import assert_no_exception, goto

START = ".st-key-train_start button"
PROGRESS = '[data-testid="stProgress"]'
# A run far longer than the test: 50 epochs of 60,000 images.
LONG_RUN = "/train?train_epochs=50&train_train_size=60%2C000"
GRACE_S = RunWatcher(None).grace + RunWatcher(None).period


def start_long_run(page: Page, base_url: str) -> None:
    goto(page, base_url, LONG_RUN)
    page.locator(START).click()
    expect(page.locator(PROGRESS)).to_contain_text("Epoch 1/50", timeout=120_000)


def test_closing_the_tab_frees_the_slot(browser, page, base_url, console_errors):
    for _ in range(slot_count()):  # the server and the test see the same machine and environment
        context = browser.new_context()
        start_long_run(context.new_page(), base_url)
        context.close()  # the student closes the tab: nobody presses Stop

    goto(page, base_url, "/train?train_epochs=2&train_batch_size=64")  # a Quick demo of 2 epochs
    page.locator(START).click()
    expect(page.locator(PROGRESS)).to_contain_text("Waiting for a free training slot")
    # Out of the line: training (2 epochs are over in seconds, so it may already be done).
    started = re.compile(r"Epoch \d/2|Done: 2 epochs")
    expect(page.locator(PROGRESS)).to_contain_text(started, timeout=(GRACE_S + 60) * 1000)
    expect(page.get_by_test_id("stMetric").filter(has_text="Test accuracy")).to_be_visible(timeout=120_000)
    assert_no_exception(page)
    assert console_errors == []
