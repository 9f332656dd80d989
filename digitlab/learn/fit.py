"""The one fit path: batches through `model.fit` with the live callbacks, then the scores of the result.

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
from digitlab.evaluation import drawings_summary, evaluate, evaluate_drawings
from digitlab.learn.augment import make_dataset
from digitlab.learn.callbacks import LiveProgress, WaitForPredictions
from digitlab.learn.model import targets_are_onehot


def encode_targets(labels: np.ndarray, config: TrainConfig) -> np.ndarray:
    """The labels as the config's loss wants them: one-hot rows, or the digits as int32."""
    if targets_are_onehot(config):
        return np.eye(10, dtype=np.float32)[labels]
    return labels.astype(np.int32)


def batches(images, labels, config: TrainConfig, batch_size: int, seed: int, *, train: bool, augment: bool):
    """A tf.data pipeline of `images` with their labels encoded for `config`."""
    return make_dataset(
        images, encode_targets(labels, config), batch_size, seed, train=train, augment=augment
    )


@dataclass(frozen=True)
class Start:
    """Where a fit begins: a new run at zero, a continued one where it ended."""

    epoch: int = 0  # epochs already done
    step: int = 0  # batches already done
    elapsed: float = 0.0  # seconds of training already done


FROM_ZERO = Start()


def fit(
    model,
    train_batches,
    *,
    epochs: int,
    batch_size: int,
    emit,
    stop_event: threading.Event | None = None,
    control: RunControl | None = None,
    validation=None,
    predictions_first: bool = False,
    extra_callbacks=(),
    start: Start = FROM_ZERO,
) -> tuple[dict, LiveProgress]:
    """Fit a compiled `model` up to epoch `epochs`, from `start`; returns its new epochs' history as
    plain floats and the progress callback. `control` (pause, step, stop) overrides `stop_event`."""
    progress = LiveProgress(
        emit,
        stop_event,
        batch_size=batch_size,
        control=control,
        first_step=start.step,
        elapsed_before=start.elapsed,
    )
    waits = [WaitForPredictions()] if predictions_first else []
    history = model.fit(
        train_batches,
        validation_data=validation,
        epochs=epochs,
        initial_epoch=start.epoch,
        shuffle=False,  # the tf.data pipeline already shuffles, by the seed
        verbose=0,
        callbacks=[*waits, *extra_callbacks, progress],
    ).history
    return {key: [float(v) for v in values] for key, values in history.items()}, progress


def score(classifier, dataset, evaluate_test: bool = True, evaluate_pen: bool = True):
    """The classifier's evaluation on MNIST's test set (or None) and its metrics, pen-drawn digits too."""
    evaluation = evaluate(classifier, dataset.x_test, dataset.y_test) if evaluate_test else None
    metrics = evaluation.summary() if evaluation is not None else {}
    if evaluate_test and evaluate_pen:
        metrics.update(drawings_summary(evaluate_drawings(classifier)))
    return evaluation, metrics
