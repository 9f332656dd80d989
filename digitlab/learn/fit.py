"""The one fit path: `EpochBatches` through `model.fit` with the live callbacks, then the result's scores.

Training a new network (`learn.training`) and fine-tuning one on a pupil's drawings
(`learn.fine_tuning`) both go through `fit` and `score`, so they report the same progress events,
stop the same way and are scored on the same two test sets.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from digitlab.config import TrainConfig
from digitlab.control import RunControl
from digitlab.estimate import seconds_per_batch
from digitlab.evaluation import drawings_summary, evaluate, evaluate_drawings
from digitlab.learn.augment import EpochBatches, make_dataset
from digitlab.learn.callbacks import LiveProgress, WaitForPredictions, pace
from digitlab.learn.model import targets_are_onehot


def encode_targets(labels: np.ndarray, config: TrainConfig) -> np.ndarray:
    """The labels as the config's loss wants them: one-hot rows, or the digits as int32."""
    if targets_are_onehot(config):
        return np.eye(10, dtype=np.float32)[labels]
    return labels.astype(np.int32)


def batches(images, labels, config: TrainConfig, batch_size: int):
    """A tf.data pipeline of `images` in order, with their labels encoded for `config` (validation)."""
    return make_dataset(images, encode_targets(labels, config), batch_size)


def training_batches(images, labels, config: TrainConfig, batch_size: int, seed: int, augment: bool):
    """The training images, their labels encoded for `config`, as restartable epochs of batches."""
    return EpochBatches(images, encode_targets(labels, config), batch_size, seed, augment)


@dataclass(frozen=True)
class Start:
    """Where a fit begins: a new run at zero, a continued one where it ended."""

    epoch: int = 0  # the epoch it is in, 0-based: epochs already done
    batch: int = 0  # batches of that epoch already done
    step: int = 0  # batches already done in all
    elapsed: float = 0.0  # seconds of training already done


FROM_ZERO = Start()


def steps_per_execution_for(config: TrainConfig, steps_per_epoch: int) -> int:
    """Batches per execution going straight on, as forecast (`callbacks.pace`)."""
    return pace(seconds_per_batch(config), steps_per_epoch)


def _use_steps_per_execution(model, steps: int, functions: dict) -> None:
    """Run `steps` batches per execution, keeping each count's traced train function for the next switch."""
    current = model.steps_per_execution
    if current == steps:
        return
    functions[current] = model.train_function
    model.steps_per_execution = steps
    model.train_function = functions.get(steps)  # None: model.fit traces it, once


def fit(
    model,
    data: EpochBatches,
    *,
    epochs: int,
    emit,
    stop_event: threading.Event | None = None,
    control: RunControl | None = None,
    validation=None,
    predictions_first: bool = False,
    extra_callbacks=(),
    start: Start = FROM_ZERO,
    steps_per_execution: int = 1,
) -> tuple[dict, LiveProgress]:
    """Fit a compiled `model` on `data` up to epoch `epochs`, from `start`.

    It runs as segments, one `model.fit` call each: all the epochs left while it goes straight on at
    `steps_per_execution` batches per execution (the forecast; `LiveProgress` re-sizes it once
    measured), the rest of an epoch after a pause or a change of pace, one batch per execution while
    paused or stepping. Returns the whole epochs' history as plain floats and the progress callback.
    `control` (pause, step, stop) overrides `stop_event`.
    """
    if control is None:
        control = RunControl()
        if stop_event is not None:
            control.stop_event = stop_event
    progress = LiveProgress(
        emit,
        control,
        data,
        epochs=epochs,
        validation=validation,
        first_step=start.step,
        elapsed_before=start.elapsed,
        steps_per_execution=steps_per_execution,
    )
    callbacks = [*([WaitForPredictions()] if predictions_first else []), progress, *extra_callbacks]
    functions = {}
    epoch, batch = start.epoch, start.batch
    try:
        while epoch < epochs and not progress.diverged:
            progress.wait_at_boundary()
            if control.stop_event.is_set():
                break
            steps = 1 if control.paused else progress.fast
            _use_steps_per_execution(model, steps, functions)
            progress.begin_segment(epoch, batch, steps)
            if batch or steps == 1:  # the rest of one epoch
                pipeline, last = data.epoch(epoch, batch), epoch + 1
            else:  # every epoch left, in one call
                pipeline, last = data.epochs(epoch), epochs
            model.fit(
                pipeline,
                epochs=last,
                initial_epoch=epoch,
                shuffle=False,  # EpochBatches orders each epoch itself, by the seed
                verbose=0,
                callbacks=callbacks,
            )
            epoch, batch = progress.epoch, progress.batch
            if batch >= data.steps_per_epoch:
                epoch, batch = epoch + 1, 0
            if control.stop_event.is_set():
                break
    finally:
        _use_steps_per_execution(model, 1, functions)  # as compiled: one batch per call elsewhere
    return progress.history, progress


def score(classifier, dataset, evaluate_test: bool = True, evaluate_pen: bool = True):
    """The classifier's evaluation on MNIST's test set (or None) and its metrics, pen-drawn digits too."""
    evaluation = evaluate(classifier, dataset.x_test, dataset.y_test) if evaluate_test else None
    metrics = evaluation.summary() if evaluation is not None else {}
    if evaluate_test and evaluate_pen:
        metrics.update(drawings_summary(evaluate_drawings(classifier)))
    return evaluation, metrics
