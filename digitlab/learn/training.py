"""Training a new network from a `TrainConfig`: the data it sees, the members it fits, what it reports.

`train` is what a classroom run, the CLI and the benchmarks call (`learn.continuing` trains a finished
run on). It emits `events` through `emit`, and pauses, steps and stops between batches through a
`control.RunControl` (or stops once `stop_event` is set); the run itself (thread, slot, queue) belongs
to `classroom.runs`, which is handed this function.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from digitlab.config import MAX_TRAIN_SIZE, ConfigError, TrainConfig
from digitlab.control import RunControl
from digitlab.data import Dataset
from digitlab.learn.classifier import Classifier, build_metadata
from digitlab.learn.fit import (
    FROM_ZERO,
    Start,
    batches,
    fit,
    score,
    steps_per_execution_for,
    training_batches,
)
from digitlab.learn.model import (
    average_members,
    build_model,
    compile_model,
    lay_schedule_over,
    normalization_params,
)
from digitlab.pen import training_images


@dataclass
class TrainResult:
    classifier: object  # learn.classifier.Classifier
    history: dict  # per-epoch lists: loss, accuracy, val_loss, val_accuracy
    evaluation: object | None  # evaluation.Evaluation on the test set
    stopped: bool = False
    diverged: bool = False
    seconds: float = 0.0
    epochs_done: int = 0
    notes: list[str] = field(default_factory=list)


def split_data(config: TrainConfig, dataset: Dataset):
    """The config's subset of training images, split into train and validation by the seed.

    With `data="mnist+pen"` the renders of the pen-drawn training-lab digits join the training part,
    in the share of MNIST's 60,000 images the config uses (validation stays MNIST, as the test set is).
    """
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(dataset.x_train))[: config.train_size]
    n_val = int(round(len(order) * config.validation_split))
    val, train = order[:n_val], order[n_val:]
    x_train, y_train = dataset.x_train[train], dataset.y_train[train]
    if config.data == "mnist+pen":
        pen = training_images()
        share = len(order) / MAX_TRAIN_SIZE  # as many pen digits per MNIST image as with all of MNIST
        keep = rng.permutation(len(pen.images))[: round(len(pen.images) * min(share, 1.0))]
        x_train = np.concatenate([x_train, pen.images[keep]])
        y_train = np.concatenate([y_train, pen.labels[keep]])
    return x_train, y_train, dataset.x_train[val], dataset.y_train[val]


def fit_member(
    config: TrainConfig,
    dataset: Dataset,
    emit,
    control: RunControl,
    extra_callbacks,
    predictions_first: bool,
    model=None,
    start: Start = FROM_ZERO,
    schedule_epochs: int | None = None,
):
    """One network built from `config` (or `model`, trained on from `start`) and fitted up to epoch
    `config.epochs`, its learning-rate schedule laid over `schedule_epochs` (default: those);
    returns the model, its new epochs' history, its normalisation and what it saw."""
    x_train, y_train, x_val, y_val = split_data(config, dataset)
    # Each epoch's order and warps follow from the seed and the epoch: a continued run goes on from them.
    data = training_batches(x_train, y_train, config, config.batch_size, config.seed, config.augment)
    total_steps = (schedule_epochs or config.epochs) * data.steps_per_epoch
    if model is None:
        norm = normalization_params(x_train, config.normalization)
        model = build_model(config, norm)
        compile_model(model, config, total_steps)
    else:
        norm = None
        lay_schedule_over(model, config, total_steps)
    validation = None
    if len(x_val):
        validation = batches(x_val, y_val, config, 1024)
    history, progress = fit(
        model,
        data,
        epochs=config.epochs,
        emit=emit,
        control=control,
        validation=validation,
        predictions_first=predictions_first,
        extra_callbacks=extra_callbacks,
        start=start,
        steps_per_execution=steps_per_execution_for(config, data.steps_per_epoch),
    )
    return model, history, norm, (len(x_train), len(x_val)), progress


def member_metadata(config, norm, dataset, counts, history, seconds, control, progress) -> dict:
    n_train, n_val = counts
    return build_metadata(
        config,
        norm,
        name=config.label,
        history=history,
        dataset={
            "name": dataset.name,
            "train_images": int(n_train),
            "validation_images": int(n_val),
            "training_data": config.data,
        },
        training={
            "seconds": round(seconds, 2),
            "stopped": bool(control.stop_event.is_set()),
            "paused_too_long": control.timed_out,
            "diverged": progress.diverged,
            # where it ended: epoch (0-based) and batches of it done, so Train on goes on from there
            "position": {"epoch": progress.epoch, "batch": progress.batch, "step": progress.step},
        },
    )


def run_control(control: RunControl | None, stop_event: threading.Event | None) -> RunControl:
    control = control or RunControl()
    if stop_event is not None:
        control.stop_event = stop_event
    return control


def train(
    config: TrainConfig,
    dataset: Dataset,
    *,
    emit=lambda event: None,
    stop_event: threading.Event | None = None,
    control: RunControl | None = None,
    extra_callbacks=(),
    evaluate_test: bool = True,
    evaluate_pen: bool = True,
    predictions_first: bool = True,
) -> TrainResult:
    """Train a model from `config` on `dataset`, reporting progress through `emit`.

    With `config.members` > 1 the networks train one after another, from seeds `seed`, `seed + 1`, …,
    and the model averages their probabilities. With `predictions_first`, each batch waits while a
    prediction runs elsewhere in the process. `control` pauses, steps and stops it; `stop_event` alone
    stops it.
    """
    started = time.perf_counter()
    control = run_control(control, stop_event)
    members, diverged = [], False
    for member in range(config.members):
        if member and (control.stop_event.is_set() or diverged):
            break
        member_started = time.perf_counter()
        member_config = config.replace(members=1, seed=config.seed + member)
        model, history, norm, counts, progress = fit_member(
            member_config, dataset, emit, control, extra_callbacks, predictions_first
        )
        diverged = progress.diverged
        seconds = time.perf_counter() - member_started - progress.paused_for
        metadata = member_metadata(member_config, norm, dataset, counts, history, seconds, control, progress)
        members.append(Classifier(model=model, config=member_config, metadata=metadata))
    classifier = members[0] if len(members) == 1 else _average(members)
    return result_of(classifier, dataset, started, evaluate_test, evaluate_pen)


def result_of(classifier, dataset, started, evaluate_test, evaluate_pen) -> TrainResult:
    evaluation, metrics = score(classifier, dataset, evaluate_test, evaluate_pen)
    classifier.metadata["metrics"] = metrics
    history = classifier.metadata["history"]
    training = classifier.metadata["training"]
    return TrainResult(
        classifier=classifier,
        history=history,
        evaluation=evaluation,
        stopped=training["stopped"],
        diverged=training["diverged"],
        seconds=training["seconds"],
        epochs_done=len(history.get("loss", [])),
    )


def _average(members: list) -> Classifier:
    """One classifier averaging `members` (runs of one config, seeds seed, seed + 1, …), with the
    metadata of the first and every member's history."""
    first = members[0]
    config = first.config.replace(members=len(members))
    metadata = [m.metadata for m in members]
    training = {
        "seconds": round(sum(m.get("training", {}).get("seconds", 0.0) for m in metadata), 2),
        "stopped": any(m.get("training", {}).get("stopped", False) for m in metadata),
        "diverged": any(m.get("training", {}).get("diverged", False) for m in metadata),
        "member_histories": [m.get("history", {}) for m in metadata],
    }
    combined = first.metadata | {"config": config.to_dict(), "name": config.label, "training": training}
    return Classifier(model=average_members([m.model for m in members]), config=config, metadata=combined)


def ensemble_of(classifiers: list, dataset: Dataset) -> Classifier:
    """The ensemble `train` would make of these networks, from runs of one config with seeds
    seed, seed + 1, …: the same model, metadata and both accuracies, without training again."""
    first = classifiers[0].config
    for i, classifier in enumerate(classifiers):
        if classifier.config.members != 1 or classifier.config != first.replace(seed=first.seed + i):
            raise ConfigError(
                f"network {i + 1} is not a run of the first one's settings with seed {first.seed + i}"
            )
    classifier = _average(classifiers)
    classifier.metadata["metrics"] = score(classifier, dataset)[1]
    return classifier
