"""Stop, pause, resume and step: how a page steers a run that trains in another thread.

The page calls `pause`, `resume`, `step_batch`, `step_epoch` and `stop`; the training loop calls
`after_batch` at the end of every batch (`learn.callbacks.LiveProgress` does) and waits there while
the run is paused. Everything takes effect between two batches, so the weights are never half-updated
when a paused network is tried on the Draw page. A run paused longer than `pause_limit` seconds stops
and keeps its weights, so a forgotten tab cannot hold a training slot for the rest of the lesson.
"""

from __future__ import annotations

import os
import threading
import time

PAUSE_LIMIT_ENV = "DIGITLAB_PAUSE_LIMIT_S"
PAUSE_LIMIT_S = 600.0  # ten minutes: a class discussion, not the rest of the lesson


def pause_limit_from_env() -> float:
    """Seconds a run may stay paused, from `DIGITLAB_PAUSE_LIMIT_S` (default ten minutes)."""
    try:
        return max(1.0, float(os.environ.get(PAUSE_LIMIT_ENV, PAUSE_LIMIT_S)))
    except ValueError:
        return PAUSE_LIMIT_S


class RunControl:
    """The commands a page gives one run; `stop_event` is what `learn.fit` and the slots wait on."""

    def __init__(self, pause_limit: float | None = None):
        self.pause_limit = pause_limit_from_env() if pause_limit is None else pause_limit
        self.stop_event = threading.Event()
        self._changed = threading.Condition()
        self._pause_requested = False
        self._batches_left: int | None = None  # a step: batches to run before pausing again
        self._to_epoch_end = False  # a step of one epoch: pause at the end of this epoch
        self.waiting = False  # the training loop is waiting, between two batches
        self.paused_since: float | None = None
        self.timed_out = False  # stopped because it stayed paused longer than pause_limit
        self.model = None  # the network training now, set by the training loop: a paused one can be tried

    # The page's side.
    def pause(self) -> None:
        with self._changed:
            self._pause_requested = True
            self._batches_left, self._to_epoch_end = None, False
            self._changed.notify_all()

    def resume(self) -> None:
        with self._changed:
            self._pause_requested = False
            self._batches_left, self._to_epoch_end = None, False
            self._changed.notify_all()

    def step_batch(self, batches: int = 1) -> None:
        """Run exactly `batches` more batches, then pause again."""
        with self._changed:
            self._pause_requested = True
            self._batches_left, self._to_epoch_end = batches, False
            self._changed.notify_all()

    def step_epoch(self) -> None:
        """Run to the end of the current epoch and its validation, then pause again."""
        with self._changed:
            self._pause_requested = True
            self._batches_left, self._to_epoch_end = None, True
            self._changed.notify_all()

    def stop(self) -> None:
        with self._changed:
            self.stop_event.set()
            self._changed.notify_all()

    @property
    def paused(self) -> bool:
        """Paused, or pausing after the current batch (a step counts as paused: it pauses again)."""
        return self._pause_requested and not self.stop_event.is_set()

    def seconds_left(self, now: float | None = None) -> float | None:
        """Seconds before a paused run stops by itself; None while it is not waiting."""
        if self.paused_since is None:
            return None
        now = time.monotonic() if now is None else now
        return max(0.0, self.pause_limit - (now - self.paused_since))

    # The training loop's side.
    def will_wait(self) -> bool:
        """Whether the next `after_batch` will wait: the batch's event must go out first."""
        with self._changed:
            return self._will_wait()

    def _will_wait(self) -> bool:
        if not self._pause_requested or self.stop_event.is_set() or self._to_epoch_end:
            return False
        return self._batches_left is None or self._batches_left <= 1

    def after_batch(self, clock=time.monotonic) -> None:
        """Called after every batch: waits while paused, and counts a step of batches down."""
        with self._changed:
            if self._will_wait():
                self._wait(clock)
            elif self._batches_left is not None:
                self._batches_left -= 1

    def wait_if_paused(self, clock=time.monotonic) -> None:
        """Between two batches at any time: waits while paused, unless a step is under way."""
        with self._changed:
            stepping = self._batches_left is not None or self._to_epoch_end
            if self._pause_requested and not self.stop_event.is_set() and not stepping:
                self._wait(clock)

    def after_epoch(self, clock=time.monotonic) -> None:
        """Called after every epoch, its validation done: a step of one epoch pauses here."""
        with self._changed:
            if self._to_epoch_end and self._pause_requested and not self.stop_event.is_set():
                self._wait(clock)

    def _wait(self, clock) -> None:
        self._batches_left, self._to_epoch_end = None, False  # the step is done: paused again
        self.waiting, self.paused_since = True, clock()
        try:
            while self._pause_requested and self._batches_left is None and not self._to_epoch_end:
                if self.stop_event.is_set():
                    return
                left = self.pause_limit - (clock() - self.paused_since)
                if left <= 0:
                    self.timed_out = True
                    self.stop_event.set()
                    return
                self._changed.wait(timeout=min(left, 1.0))
        finally:
            self.waiting, self.paused_since = False, None
