"""Two app processes behind HAProxy (`digitlab serve --workers 2`), driven by two browsers in Chromium.

What a class on several processes relies on: a browser stays with its process for every rerun (one
websocket, every answer from the same worker), the training-slot limit is the server's and not each
process's, and the class board is one board whichever process a student reached.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from playwright.sync_api import Page, expect

from digitlab.hosting import HAPROXY_PLACES, WORKER_COOKIE, WORKER_HEADER
from tests.e2e.conftest import (
    ARTIFACTS_DIR,
    REPO_ROOT,
    VIEWPORT,
    _free_port,
    _server_is_healthy,
    _stop_server,
)
from tests.e2e.helpers import assert_no_exception, goto, save_screenshot, wait_for_app_idle
from tests.e2e.test_train_e2e import PROGRESS, RUN_MS, START, STOP, wait_for_epochs

LOG = ARTIFACTS_DIR / "serve-workers.log"
START_TIMEOUT_S = 180  # two processes start on two cores beside the suite's own server
RERUNS = 20


def _haproxy_missing() -> bool:
    return not any(shutil.which(place) for place in HAPROXY_PLACES)


@pytest.fixture(scope="module")
def workers_url(e2e_requirements, tmp_path_factory):
    """`digitlab serve --workers 2` on a free port, its own data folder, one training slot in all."""
    if _haproxy_missing():
        if os.environ.get("DIGITLAB_REQUIRE_E2E") == "1":
            pytest.fail("HAProxy is not installed (apt-get install haproxy): the two-process test cannot run")
        pytest.skip("HAProxy is not installed (apt-get install haproxy)")
    port = _free_port()
    env = os.environ | {
        "DIGITLAB_DATA_DIR": str(tmp_path_factory.mktemp("workers-data")),
        "DIGITLAB_TRAINING_SLOTS": "1",
        "PYTHONUNBUFFERED": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    command = [sys.executable, "-m", "digitlab", "serve", "--workers", "2", "--port", str(port)]
    command += ["--host", "127.0.0.1"]
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("w") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _server_is_healthy(url):
            assert process.poll() is None, f"digitlab serve exited: {LOG.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"not up in {START_TIMEOUT_S} s: {LOG.read_text()[-2000:]}"
            time.sleep(0.3)
        yield url
    finally:
        _stop_server(process)


class Student:
    """One browser (its own context, so its own cookies and session) that notes every worker that
    answered it and every websocket it opened."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.url, self.workers, self.sockets = url, [], []
        self.page.on("response", self._answered)
        self.page.on("websocket", lambda socket: self.sockets.append(socket.url))

    def _answered(self, response) -> None:
        worker = response.headers.get(WORKER_HEADER.lower())
        if worker:
            self.workers.append(worker)

    def worker(self) -> str:
        cookies = {c["name"]: c["value"] for c in self.context.cookies()}
        return cookies[WORKER_COOKIE]

    def open(self, path: str) -> Page:
        return goto(self.page, self.url, path)

    def go_to(self, href: str) -> None:
        self.page.locator(f'a[data-testid="stTopNavLink"][href$="/{href}"]').click()
        wait_for_app_idle(self.page)


def test_two_processes_one_class(browser, workers_url):
    first, second = Student(browser, workers_url), Student(browser, workers_url)
    try:
        first.open(f"/train?train_epochs={50 - RERUNS}")
        second.open("/train?train_epochs=2&train_batch_size=64")
        assert first.worker() != second.worker(), "HAProxy sent both browsers to one process"

        # 20 reruns of one session, each a press of the keyboard on the Epochs slider.
        epochs = first.page.get_by_test_id("stSidebar").get_by_test_id("stSlider").filter(has_text="Epochs")
        for _ in range(RERUNS):
            epochs.get_by_role("slider").focus()
            epochs.get_by_role("slider").press("ArrowRight")
            wait_for_app_idle(first.page)
        expect(epochs.get_by_test_id("stSliderThumbValue")).to_have_text("50")

        # One slot for the whole server: the second process's run waits for the first's.
        first.page.locator(START).click()
        wait_for_epochs(first.page, 0.05)
        second.page.locator(START).click()
        expect(second.page.get_by_text("Waiting for a free training slot").first).to_be_visible(
            timeout=30_000
        )
        second.page.wait_for_timeout(2000)
        expect(second.page.get_by_text("Waiting for a free training slot").first).to_be_visible()
        first.page.locator(STOP).click()
        expect(first.page.get_by_text("Stopped early")).to_be_visible(timeout=60_000)
        expect(second.page.locator(PROGRESS)).to_contain_text("Done: 2 epochs", timeout=RUN_MS)

        # One board: published from the second process, read on the first.
        second.go_to("compare")
        nickname = f"w2 {int(time.time()) % 100000}"
        second.page.get_by_label("Nickname").fill(nickname)
        second.page.get_by_role("button", name="Publish to the class board").click()
        expect(second.page.get_by_text("Published to the class board.")).to_be_visible()
        first.go_to("compare")
        expect(first.page.get_by_test_id("stTable").locator("tbody tr")).to_have_count(1)  # its own run
        expect(first.page.get_by_text("Nobody has published a run yet.")).to_have_count(0)
        expect(first.page.get_by_test_id("stDataFrame")).to_be_visible()
        save_screenshot(first.page, "workers-board-from-the-other-process")

        for student in (first, second):
            assert len(set(student.workers)) == 1 and student.workers[0] == student.worker(), student.workers
            streams = [url for url in student.sockets if url.endswith("/_stcore/stream")]
            assert len(streams) == 1, f"the session reconnected: {streams}"
            assert_no_exception(student.page)
    finally:
        for student in (first, second):
            stop = student.page.locator(STOP)
            if stop.count() and stop.is_enabled():
                stop.click()
            student.context.close()
