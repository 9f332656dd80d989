"""The Keras callbacks of a live run: `LiveProgress` (curves, Stop, Pause and Step, divergence) and
`WaitForPredictions`.

It turns each execution of batches and each epoch into a plain dict and hands it to `emit` (a
queue's `put`), so the training thread never touches the UI; an execution lasts about 50 ms, so a
small-batch run does not fill a session's memory with hundreds of events a second that no one sees.
Stopping is `model.stop_training = True` after the current execution; pausing and stepping wait
between two batches (`control.RunControl`); a NaN or infinite loss stops the run and puts back the
last weights that gave a finite loss.
"""

from __future__ import annotations

import math
import time

import keras

from digitlab import events
from digitlab.control import RunControl
from digitlab.learn.classifier import PREDICTIONS, PredictionsFirst

# Keep a copy of the weights this often, so a diverging run can fall back to them.
SNAPSHOT_EVERY_BATCHES = 100
# Cross-entropy clips its log, so a blown-up run often shows a huge loss rather than NaN. Keras logs
# the epoch's mean loss so far, once per execution, and a learning rate far too high has blown up
# within the first one: a mean loss this many times that of an untrained network (guessing among ten
# digits, ln 10, plus the weight-decay penalty of its first weights) counts as divergence.
DIVERGED_FACTOR = 3.0
GUESSING_LOSS = math.log(10)
# Batches per execution while a run goes straight on: as many as take about this long (at most
# MAX_STEPS_PER_EXECUTION), first as forecast (`estimate.seconds_per_batch`), then as measured on the
# first TIMED_EXECUTIONS executions. Stop, Pause and a waiting drawing answer within one execution, and
# one batch event per execution gives the curves about 20 points a second.
TARGET_EXECUTION_S = 0.05
MAX_STEPS_PER_EXECUTION = 32
MIN_EVENTS_PER_EPOCH = 20  # and never so many batches that an epoch draws fewer points: its shape stays
TIMED_EXECUTIONS = 5


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


def pace(seconds_per_batch: float, steps_per_epoch: int) -> int:
    """Batches per execution: about TARGET_EXECUTION_S of them, at least MIN_EVENTS_PER_EPOCH an epoch."""
    wanted = round(TARGET_EXECUTION_S / max(seconds_per_batch, 1e-6))
    return max(1, min(MAX_STEPS_PER_EXECUTION, steps_per_epoch // MIN_EVENTS_PER_EPOCH, wanted))


class LiveProgress(keras.callbacks.Callback):
    """Emits `events.BatchEvent`s (with the optimizer's learning rate) and the epochs' validation,
    history and events; Stop, Pause and Step; divergence.

    `learn.fit.fit` runs a training as segments of `model.fit` calls over `augment.EpochBatches`, and this
    one callback follows it across them (`begin_segment`). Keras calls it once per execution of
    `steps_per_execution` batches: the batch counter advances by the batches that ran. While a run goes
    straight on, executions are sized to take about `TARGET_EXECUTION_S`, so Python's cost per batch is
    shared by many; while it is paused or steps, an execution is one batch, so Step 1 batch trains
    exactly one. Only whole epochs are validated and drawn as end-of-epoch points.
    """

    def __init__(
        self,
        emit,
        control: RunControl,
        data,
        *,
        epochs: int,
        validation=None,
        first_step: int = 0,
        elapsed_before: float = 0.0,
        steps_per_execution: int = 1,
    ):
        super().__init__()
        self.emit, self.control, self.data, self.validation = emit, control, data, validation
        self.stop_event = control.stop_event
        self.batch_size, self.steps, self.epochs = data.batch_size, data.steps_per_epoch, epochs
        self.step = first_step  # batches done in the whole run; a continued run counts on
        self.first_step, self.elapsed_before = first_step, elapsed_before
        self.started = None
        self.paused_for = 0.0  # seconds spent paused: not training time
        self.diverged, self.good_weights, self.untrained_loss = False, None, GUESSING_LOSS
        self.epoch, self.batch, self.segment_first, self.spe = 0, 0, 0, 1
        self.fast = steps_per_execution  # batches per execution going straight on
        self.timed: list[float] = []  # seconds of this pace's executions, to size them
        self.resized = False
        self.history: dict[str, list[float]] = {}

    # Driven by learn.fit.fit, between segments.
    def begin_segment(self, epoch: int, batch: int, steps_per_execution: int) -> None:
        self.epoch, self.batch, self.segment_first, self.spe = epoch, batch, batch, steps_per_execution
        self.timed = []

    def wait_at_boundary(self) -> None:
        """Between two segments: wait here while paused (a pause that ended a fast execution)."""
        self._wait_while_paused(self.control.wait_if_paused)

    # Keras' side.
    def on_train_begin(self, logs=None):
        if self.started is None:  # the first segment of the run
            self.started = time.perf_counter()
            self.good_weights = self.model.get_weights()
            penalty = sum(float(loss) for loss in self.model.losses)  # weight decay, before any step
            self.untrained_loss = GUESSING_LOSS + penalty
        self.control.model = self.model

    def on_epoch_begin(self, epoch, logs=None):
        if epoch != self.epoch:  # the next epoch of a segment of many: it starts at its first batch
            self.epoch, self.batch, self.segment_first = epoch, 0, 0
        if getattr(self.data, "current", None) is not None:
            self.data.current.assign(epoch)  # which epoch the pipeline gives Keras now

    def on_epoch_end(self, epoch, logs=None):
        if self.batch < self.steps or self.diverged:
            return  # stopped, paused or re-paced inside it: no end-of-epoch point it did not reach
        logs = {key: float(value) for key, value in (logs or {}).items() if not key.startswith("val_")}
        if self.validation is not None:
            scores = self.model.evaluate(self.validation, verbose=0, return_dict=True)
            logs |= {f"val_{key}": float(value) for key, value in scores.items()}
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        self.emit(events.epoch_event(self.step, epoch + 1, self.epochs, logs, self._timing()))
        if _finite(logs.get("loss")):
            self.good_weights = self.model.get_weights()
        self._wait_while_paused(self.control.after_epoch)
        if self.stop_event.is_set():
            self.model.stop_training = True

    def on_train_batch_begin(self, batch, logs=None):
        self.execution_began = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        done = min(self.segment_first + batch + 1, self.steps)  # Keras names the execution's last batch
        ran = done - self.batch
        self.step += ran
        self.batch = done
        if self.spe == self.fast and ran == self.spe:
            self._time_execution()
        loss = logs.get("loss")
        diverging, pausing = self._diverging(loss), self.control.paused
        self.emit(self._batch_event(logs))  # an execution takes about TARGET_EXECUTION_S: ~20 a second
        if diverging:
            self._diverge()
            return
        if self.step // SNAPSHOT_EVERY_BATCHES > (self.step - ran) // SNAPSHOT_EVERY_BATCHES:
            self.good_weights = self.model.get_weights()
        if self.spe == 1:
            self._wait_while_paused(self.control.after_batch)  # exact: one batch at a time
            if not self.control.paused and self.fast > 1:
                self.model.stop_training = True  # going straight on again: faster executions
        elif pausing:
            self.model.stop_training = True  # pause between two one-batch executions from here
        if self.stop_event.is_set():
            self.model.stop_training = True

    def _time_execution(self) -> None:
        """Size the executions once, from the first few at this pace (the very first traced the graph)."""
        self.timed.append(time.perf_counter() - self.execution_began)
        if self.resized or len(self.timed) < TIMED_EXECUTIONS + 1:
            return
        self.resized = True
        typical = sorted(self.timed[1:])[TIMED_EXECUTIONS // 2] / self.spe
        wanted = pace(typical, self.steps)
        if not self.spe / 2 <= wanted <= self.spe * 2:  # far off the forecast: another pace, traced once
            self.fast = wanted
            self.model.stop_training = True

    def _wait_while_paused(self, wait) -> None:
        began = time.perf_counter()
        wait()
        self.paused_for += time.perf_counter() - began

    def _timing(self) -> dict:
        elapsed = time.perf_counter() - (self.started or time.perf_counter()) - self.paused_for
        return {
            "elapsed": self.elapsed_before + elapsed,
            "images_per_sec": (self.step - self.first_step) * self.batch_size / max(elapsed, 1e-9),
        }

    def _batch_event(self, logs: dict) -> events.BatchEvent:
        event = events.batch_event(
            self.step, self.epoch + 1, self.batch, self.steps, self.epochs, logs, self._timing()
        )
        event["learning_rate"] = float(self.model.optimizer.learning_rate)
        return event

    def _diverging(self, loss) -> bool:
        if not _finite(loss):
            return True
        return loss > DIVERGED_FACTOR * self.untrained_loss

    def _diverge(self) -> None:
        # Put back the last weights that gave a finite loss, and stop.
        self.diverged = True
        self.model.stop_training = True
        if self.good_weights is not None:
            self.model.set_weights(self.good_weights)


class WaitForPredictions(keras.callbacks.Callback):
    """Before each batch, waits while a prediction runs elsewhere in the process: drawings come first."""

    def __init__(self, predictions: PredictionsFirst = PREDICTIONS):
        super().__init__()
        self.predictions = predictions

    def on_train_batch_begin(self, batch, logs=None):
        self.predictions.wait()
