"""Pause, resume and step between batches: `control.RunControl`, driven by a fake training loop."""

import threading
import time

from digitlab.control import RunControl


class Loop:
    """A training loop in a thread: `batches` batches, `control.after_batch` after each."""

    def __init__(self, control: RunControl, batches: int = 1000, per_epoch: int = 10):
        self.control, self.done = control, 0
        self.thread = threading.Thread(target=self._run, args=(batches, per_epoch), daemon=True)
        self.thread.start()

    def _run(self, batches, per_epoch):
        for _ in range(batches):
            if self.control.stop_event.is_set():
                return
            time.sleep(0.001)
            self.done += 1
            self.control.after_batch()
            if self.done % per_epoch == 0:
                self.control.after_epoch()


def settle(control: RunControl, timeout: float = 5.0) -> None:
    """Until the loop waits (paused) again."""
    deadline = time.monotonic() + timeout
    while not control.waiting and time.monotonic() < deadline:
        time.sleep(0.002)
    assert control.waiting


def test_pause_waits_after_the_current_batch_and_resume_goes_on():
    control = RunControl()
    control.pause()
    loop = Loop(control)
    settle(control)
    assert loop.done == 1  # paused after the batch that was running
    time.sleep(0.05)
    assert loop.done == 1
    control.resume()
    time.sleep(0.05)
    assert loop.done > 5
    control.stop()
    loop.thread.join(2)


def test_step_runs_exactly_one_batch_then_pauses_again():
    control = RunControl()
    control.pause()
    loop = Loop(control)
    settle(control)
    for expected in (2, 3, 4):
        control.step_batch()
        time.sleep(0.02)
        settle(control)
        assert loop.done == expected
    control.step_batch(5)
    time.sleep(0.05)
    settle(control)
    assert loop.done == 9
    control.stop()
    loop.thread.join(2)
    assert not loop.thread.is_alive()


def test_step_epoch_runs_to_the_end_of_the_epoch():
    control = RunControl()
    control.pause()
    loop = Loop(control, per_epoch=10)
    settle(control)
    assert loop.done == 1
    control.step_epoch()
    time.sleep(0.05)
    settle(control)
    assert loop.done == 10
    control.step_epoch()
    time.sleep(0.05)
    settle(control)
    assert loop.done == 20
    control.stop()


def test_stop_ends_a_paused_run_at_once():
    control = RunControl()
    control.pause()
    loop = Loop(control)
    settle(control)
    control.stop()
    loop.thread.join(2)
    assert not loop.thread.is_alive() and loop.done == 1
    assert not control.timed_out


def test_a_run_paused_too_long_stops_by_itself():
    control = RunControl(pause_limit=0.1)
    control.pause()
    loop = Loop(control)
    loop.thread.join(3)
    assert not loop.thread.is_alive()
    assert control.timed_out and control.stop_event.is_set()
    assert loop.done == 1


def test_seconds_left_counts_down_while_paused():
    control = RunControl(pause_limit=100)
    assert control.seconds_left() is None
    control.pause()
    loop = Loop(control)
    settle(control)
    assert 99 < control.seconds_left() <= 100
    assert control.seconds_left(now=control.paused_since + 40) == 60
    control.stop()
    loop.thread.join(2)


def test_the_pause_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DIGITLAB_PAUSE_LIMIT_S", "42")
    assert RunControl().pause_limit == 42
    monkeypatch.setenv("DIGITLAB_PAUSE_LIMIT_S", "soon")
    assert RunControl().pause_limit == 600
