"""The Keras callbacks of a live run: `LiveProgress` (curves, Stop, Pause, divergence), `FollowSchedule`
(the learning rate) and `WaitForPredictions`.

It turns each batch and epoch into a plain dict and hands it to `emit` (a queue's
`put`), so the training thread never touches the UI. With `min_interval`, batch events come
at most that often (plus each epoch's last batch and the batch a run stops on): the page
redraws twice a second, and a small-batch run would otherwise fill a session's memory with
hundreds of events a second that no one sees. Stopping is
`model.stop_training = True` after the current batch; pausing and stepping wait between two batches
(`control.RunControl`); a NaN or infinite loss stops the run and puts back the last weights that gave
a finite loss.
"""

from __future__ import annotations

import math
import threading
import time

import keras

from digitlab import events
from digitlab.config import TrainConfig, rate_at
from digitlab.control import RunControl
from digitlab.learn.classifier import PREDICTIONS, PredictionsFirst

# Keep a copy of the weights this often, so a diverging run can fall back to them.
SNAPSHOT_EVERY_BATCHES = 100
# Cross-entropy clips its log, so a blown-up run often shows a huge loss rather than NaN:
# a batch loss this many times the first one (and at least DIVERGED_MIN_LOSS) counts as divergence.
DIVERGED_FACTOR = 10.0
DIVERGED_MIN_LOSS = 20.0
# A live page needs no more batch events a second than this (it redraws twice a second):
# LiveProgress(..., min_interval=1 / BATCH_EVENTS_PER_SECOND).
BATCH_EVENTS_PER_SECOND = 20


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


class LiveProgress(keras.callbacks.Callback):
    """Emits `events.BatchEvent` and `events.EpochEvent`; stops on request or on a NaN/inf loss."""

    def __init__(
        self,
        emit,
        stop_event: threading.Event | None = None,
        batch_size: int = 1,
        min_interval: float = 0.0,
        control: RunControl | None = None,
        first_step: int = 0,
        elapsed_before: float = 0.0,
    ):
        super().__init__()
        self.emit = emit
        self.min_interval = min_interval
        self.last_emit = -math.inf
        self.control = control
        self.stop_event = control.stop_event if control else (stop_event or threading.Event())
        self.batch_size = batch_size
        self.step = first_step  # a continued run counts on from where it ended
        self.first_step = first_step
        self.elapsed_before = elapsed_before
        self.diverged = False
        self.good_weights = None
        self.first_loss = None

    def set_params(self, params):
        super().set_params(params)
        self.epochs = params.get("epochs") or 1
        self.steps = params.get("steps") or 1

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.paused_for = 0.0  # seconds spent paused: not training time
        self.epoch = 0
        self.good_weights = self.model.get_weights()
        if self.control is not None:
            self.control.model = self.model

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def _timing(self) -> dict:
        elapsed = time.perf_counter() - self.started - self.paused_for
        return {
            "elapsed": self.elapsed_before + elapsed,
            "images_per_sec": (self.step - self.first_step) * self.batch_size / max(elapsed, 1e-9),
        }

    def _batch_event_due(self, batch: int, ending: bool) -> bool:
        now = time.perf_counter()
        if ending or batch + 1 == self.steps or now - self.last_emit >= self.min_interval:
            self.last_emit = now
            return True
        return False

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        self.step += 1
        loss = logs.get("loss")
        if self.first_loss is None and _finite(loss):
            self.first_loss = loss
        diverging, stopping = self._diverging(loss), self.stop_event.is_set()
        pausing = self.control is not None and self.control.will_wait()
        if self._batch_event_due(batch, ending=diverging or stopping or pausing):
            self.emit(self._batch_event(batch, logs))
        if diverging:
            self._diverge()
        elif self.step % SNAPSHOT_EVERY_BATCHES == 0:
            self.good_weights = self.model.get_weights()
        if not diverging and self.control is not None:
            self._wait_while_paused(self.control.after_batch)
        if stopping or self.stop_event.is_set():
            self.model.stop_training = True

    def _wait_while_paused(self, wait) -> None:
        began = time.perf_counter()
        wait()
        self.paused_for += time.perf_counter() - began

    def _batch_event(self, batch: int, logs: dict) -> events.BatchEvent:
        event = events.batch_event(
            self.step, self.epoch + 1, batch + 1, self.steps, self.epochs, logs, self._timing()
        )
        event["learning_rate"] = float(self.model.optimizer.learning_rate)
        return event

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.diverged:
            return
        self.emit(events.epoch_event(self.step, epoch + 1, self.epochs, logs, self._timing()))
        if _finite(logs.get("loss")):
            self.good_weights = self.model.get_weights()
        if self.control is not None:
            self._wait_while_paused(self.control.after_epoch)
            if self.stop_event.is_set():
                self.model.stop_training = True

    def _diverging(self, loss) -> bool:
        if not _finite(loss):
            return True
        return loss > max(DIVERGED_FACTOR * (self.first_loss or 0.0), DIVERGED_MIN_LOSS)

    def _diverge(self) -> None:
        # Put back the last weights that gave a finite loss, and stop.
        self.diverged = True
        self.model.stop_training = True
        if self.good_weights is not None:
            self.model.set_weights(self.good_weights)


class FollowSchedule(keras.callbacks.Callback):
    """Sets the optimizer's learning rate before each batch to `config.rate_at`, the schedule's formula.

    `total_steps` is the run's length in batches and `first_step` the batch it starts from (a continued
    run goes on from the end of the first). The rate is written only when it changes.
    """

    def __init__(self, config: TrainConfig, total_steps: int, first_step: int = 0):
        super().__init__()
        self.config, self.total_steps, self.step = config, total_steps, first_step
        self.rate = None

    def on_train_batch_begin(self, batch, logs=None):
        rate = rate_at(self.config, self.step, self.total_steps)
        if rate != self.rate:
            self.model.optimizer.learning_rate = rate
            self.rate = rate
        self.step += 1


class WaitForPredictions(keras.callbacks.Callback):
    """Before each batch, waits while a prediction runs elsewhere in the process: drawings come first."""

    def __init__(self, predictions: PredictionsFirst = PREDICTIONS):
        super().__init__()
        self.predictions = predictions

    def on_train_batch_begin(self, batch, logs=None):
        self.predictions.wait()
