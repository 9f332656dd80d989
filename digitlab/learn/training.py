"""Training a new network from a `TrainConfig`: the data it sees, the members it fits, what it reports.

`train` is what a classroom run, the CLI and the benchmarks call. It emits `events` through `emit`
and stops after the current batch once `stop_event` is set; the run itself (thread, slot, queue)
belongs to `classroom.runs`, which is handed this function by the app.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from digitlab.config import MAX_TRAIN_SIZE, ConfigError, TrainConfig
from digitlab.data import Dataset
from digitlab.learn.classifier import Classifier, build_metadata
from digitlab.learn.fit import batches, fit, score
from digitlab.learn.model import average_members, build_model, compile_model, normalization_params
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
    config: TrainConfig, dataset: Dataset, emit, stop_event, extra_callbacks, predictions_first: bool
):
    """One network built from `config` and fitted; returns the model, its history and what it saw."""
    x_train, y_train, x_val, y_val = split_data(config, dataset)
    norm = normalization_params(x_train, config.normalization)
    model = build_model(config, norm)
    compile_model(model, config, total_steps=config.epochs * -(-len(x_train) // config.batch_size))
    train_batches = batches(
        x_train, y_train, config, config.batch_size, config.seed, train=True, augment=config.augment
    )
    validation = None
    if len(x_val):
        validation = batches(x_val, y_val, config, 1024, config.seed, train=False, augment=False)
    history, progress = fit(
        model,
        train_batches,
        epochs=config.epochs,
        batch_size=config.batch_size,
        emit=emit,
        stop_event=stop_event,
        validation=validation,
        predictions_first=predictions_first,
        extra_callbacks=extra_callbacks,
    )
    return model, history, norm, (len(x_train), len(x_val)), progress


def train(
    config: TrainConfig,
    dataset: Dataset,
    *,
    emit=lambda event: None,
    stop_event: threading.Event | None = None,
    extra_callbacks=(),
    evaluate_test: bool = True,
    evaluate_pen: bool = True,
    predictions_first: bool = True,
) -> TrainResult:
    """Train a model from `config` on `dataset`, reporting progress through `emit`.

    With `config.members` > 1 the networks train one after another, from seeds `seed`, `seed + 1`, …,
    and the model averages their probabilities. With `predictions_first`, each batch waits while a
    prediction runs elsewhere in the process.
    """
    started = time.perf_counter()
    stop_event = stop_event or threading.Event()
    members, diverged = [], False
    for member in range(config.members):
        if member and (stop_event.is_set() or diverged):
            break
        member_started = time.perf_counter()
        member_config = config.replace(members=1, seed=config.seed + member)
        model, history, norm, (n_train, n_val), progress = fit_member(
            member_config, dataset, emit, stop_event, extra_callbacks, predictions_first
        )
        diverged = progress.diverged
        metadata = build_metadata(
            member_config,
            norm,
            name=member_config.label,
            history=history,
            dataset={
                "name": dataset.name,
                "train_images": int(n_train),
                "validation_images": int(n_val),
                "training_data": config.data,
            },
            training={
                "seconds": round(time.perf_counter() - member_started, 2),
                "stopped": bool(stop_event.is_set()),
                "diverged": diverged,
            },
        )
        members.append(Classifier(model=model, config=member_config, metadata=metadata))
    classifier = members[0] if len(members) == 1 else _average(members)
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
        seconds=time.perf_counter() - started,
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
