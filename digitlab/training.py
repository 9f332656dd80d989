"""Training built for live display: plain progress events, a stop button, a background thread.

`LiveProgress` is a Keras callback that turns each batch and epoch into a plain dict
and hands it to `emit` (a queue's `put`). It never touches the UI. `train` runs one
whole training from a config; `TrainingRun` runs `train` in a background thread that
another thread can stop after the current batch, weights kept. `TrainingSlots` caps how
many runs train at once on a shared server and queues the rest first come, first served.
"""

from __future__ import annotations

import collections
import os
import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from digitlab.config import MAX_TRAIN_SIZE, ConfigError, TrainConfig
from digitlab.data import Dataset


@dataclass
class TrainResult:
    classifier: object  # storage.Classifier
    history: dict  # per-epoch lists: loss, accuracy, val_loss, val_accuracy
    evaluation: object | None  # evaluation.Evaluation on the test set
    stopped: bool = False
    diverged: bool = False
    seconds: float = 0.0
    epochs_done: int = 0
    notes: list[str] = field(default_factory=list)


def slot_count(environ=os.environ, cores: int | None = None) -> int:
    """Runs allowed to train at once: env DIGITLAB_TRAINING_SLOTS, else half the cores (at least 1).

    Each run keeps about one core busy; the other half stays free for drawing and predictions.
    """
    default = max(1, (cores or os.cpu_count() or 2) // 2)
    try:
        return max(1, int(environ.get("DIGITLAB_TRAINING_SLOTS", default)))
    except ValueError:  # a typo in the server's environment must not stop every training
        return default


class TrainingSlots:
    """A fixed number of training slots, handed out in the order runs asked for them (FIFO)."""

    def __init__(self, size: int):
        self.size = size
        self._changed = threading.Condition()
        self._waiting: collections.deque = collections.deque()  # tickets, first in line first
        self._busy = 0

    def acquire(self, ticket, stop_event: threading.Event, poll: float = 0.2) -> bool:
        """Wait in line for a slot; False if `stop_event` is set first (the ticket leaves the line)."""
        with self._changed:
            self._waiting.append(ticket)
            try:
                while self._waiting[0] is not ticket or self._busy >= self.size:
                    if stop_event.is_set():
                        return False
                    self._changed.wait(poll)
                self._busy += 1
                return True
            finally:
                self._waiting.remove(ticket)
                self._changed.notify_all()

    def release(self) -> None:
        with self._changed:
            self._busy -= 1
            self._changed.notify_all()

    def position(self, ticket) -> int | None:
        """1 for the next in line, 2 behind it, ...; None when `ticket` is not waiting."""
        with self._changed:
            return self._waiting.index(ticket) + 1 if ticket in self._waiting else None

    @property
    def busy(self) -> int:
        return self._busy


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
        from digitlab.pen import training_images

        pen = training_images()
        share = len(order) / MAX_TRAIN_SIZE  # as many pen digits per MNIST image as with all of MNIST
        keep = rng.permutation(len(pen.images))[: round(len(pen.images) * min(share, 1.0))]
        x_train = np.concatenate([x_train, pen.images[keep]])
        y_train = np.concatenate([y_train, pen.labels[keep]])
    return x_train, y_train, dataset.x_train[val], dataset.y_train[val]


def encode_targets(labels: np.ndarray, config: TrainConfig) -> np.ndarray:
    from digitlab.model import targets_are_onehot

    if targets_are_onehot(config):
        return np.eye(10, dtype=np.float32)[labels]
    return labels.astype(np.int32)


def _fit(config: TrainConfig, dataset: Dataset, emit, stop_event, extra_callbacks, predictions_first: bool):
    """One network built from `config` and fitted; returns the model, its history and what it saw."""
    import keras

    from digitlab.augment import make_dataset
    from digitlab.callbacks import LiveProgress
    from digitlab.model import build_model, compile_model, normalization_params
    from digitlab.storage import PREDICTIONS

    x_train, y_train, x_val, y_val = split_data(config, dataset)
    norm = normalization_params(x_train, config.normalization)
    model = build_model(config, norm)
    compile_model(model, config, total_steps=config.epochs * -(-len(x_train) // config.batch_size))
    train_ds = make_dataset(
        x_train,
        encode_targets(y_train, config),
        config.batch_size,
        config.seed,
        train=True,
        augment=config.augment,
    )
    val_ds = None
    if len(x_val):
        val_ds = make_dataset(
            x_val,
            encode_targets(y_val, config),
            1024,
            config.seed,
            train=False,
            augment=False,
        )
    progress = LiveProgress(emit, stop_event, batch_size=config.batch_size)
    waits = [keras.callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: PREDICTIONS.wait())]
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        shuffle=False,  # the tf.data pipeline already shuffles, by the seed
        verbose=0,
        callbacks=[*(waits if predictions_first else ()), progress, *extra_callbacks],
    ).history
    history = {key: [float(v) for v in values] for key, values in history.items()}
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
    from digitlab.storage import Classifier, build_metadata

    started = time.perf_counter()
    stop_event = stop_event or threading.Event()
    members, diverged = [], False
    for member in range(config.members):
        if member and (stop_event.is_set() or diverged):
            break
        member_started = time.perf_counter()
        member_config = config.replace(members=1, seed=config.seed + member)
        model, history, norm, (n_train, n_val), progress = _fit(
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
    evaluation, metrics = _measure(classifier, dataset, evaluate_test, evaluate_pen)
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


def _average(members: list):
    """One classifier averaging `members` (runs of one config, seeds seed, seed + 1, …), with the
    metadata of the first and every member's history."""
    from digitlab.model import average_members
    from digitlab.storage import Classifier

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


def _measure(classifier, dataset: Dataset, evaluate_test: bool = True, evaluate_pen: bool = True):
    """The evaluation on MNIST's test set and the metrics a run keeps: both accuracies, side by side."""
    from digitlab.evaluation import drawings_summary, evaluate, evaluate_drawings

    evaluation = evaluate(classifier, dataset.x_test, dataset.y_test) if evaluate_test else None
    metrics = evaluation.summary() if evaluation is not None else {}
    if evaluate_test and evaluate_pen:
        metrics.update(drawings_summary(evaluate_drawings(classifier)))
    return evaluation, metrics


def ensemble_of(classifiers: list, dataset: Dataset):
    """The ensemble `train` would make of these networks, from runs of one config with seeds
    seed, seed + 1, …: the same model, metadata and both accuracies, without training again."""
    first = classifiers[0].config
    for i, classifier in enumerate(classifiers):
        if classifier.config.members != 1 or classifier.config != first.replace(seed=first.seed + i):
            raise ConfigError(
                f"network {i + 1} is not a run of the first one's settings with seed {first.seed + i}"
            )
    classifier = _average(classifiers)
    classifier.metadata["metrics"] = _measure(classifier, dataset)[1]
    return classifier


class RunWatcher:
    """Stops the runs whose browser session has gone, releasing their slots.

    Streamlit tells a page nothing when its tab closes, so a thread asks `is_connected(run.owner)`
    every `period` seconds while runs are watched. A run whose owner stays away `grace` seconds is
    stopped; a tablet that only reloads or loses Wi-Fi for a moment keeps its run.
    """

    def __init__(self, is_connected, grace: float = 30.0, period: float = 5.0):
        self.is_connected = is_connected
        self.grace = grace
        self.period = period
        self._lock = threading.Lock()
        self._away_since: dict[TrainingRun, float | None] = {}  # watched run -> when its owner left
        self._thread: threading.Thread | None = None

    def watch(self, run: TrainingRun) -> None:
        with self._lock:
            self._away_since[run] = None
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="run-watcher", daemon=True)
                self._thread.start()

    def watched(self) -> int:
        with self._lock:
            return len(self._away_since)

    def check(self, now: float | None = None) -> list[TrainingRun]:
        """Stop the runs abandoned for `grace` seconds, forget the finished ones; return those stopped."""
        now = time.monotonic() if now is None else now
        stopped = []
        with self._lock:
            for run, since in list(self._away_since.items()):
                if run.done:
                    del self._away_since[run]
                elif self.is_connected(run.owner):
                    self._away_since[run] = None
                elif since is None:
                    self._away_since[run] = now
                elif now - since >= self.grace and not run.stop_event.is_set():
                    run.stop()
                    stopped.append(run)
        return stopped

    def _loop(self) -> None:
        """Runs while something is watched; the next `watch` starts a new one."""
        while True:
            time.sleep(self.period)
            self.check()
            with self._lock:
                if not self._away_since:
                    self._thread = None
                    return


class TrainingRun:
    """One training in a background thread; the page polls `drain_events` and may call `stop`."""

    def __init__(
        self,
        config: TrainConfig,
        dataset: Dataset,
        *,
        slots: TrainingSlots | None = None,
        owner: str | None = None,
    ):
        self.config = config
        self.dataset = dataset
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.stop_event = threading.Event()
        self.slots = slots
        self.owner = owner  # the browser session that started it, so a closed tab can stop it
        self.state = "pending"  # pending → waiting → running → finished | stopped | diverged | failed
        self.result: TrainResult | None = None
        self.error: str | None = None
        self.batch_events: list[dict] = []
        self.epoch_events: list[dict] = []
        self._thread = threading.Thread(target=self._run, name=f"train-{config.label}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def queue_position(self) -> int | None:
        """Place in the line for a training slot (1 = next), or None when not waiting."""
        return self.slots.position(self) if self.slots is not None else None

    @property
    def done(self) -> bool:
        return self.state in ("finished", "stopped", "diverged", "failed")

    def drain_events(self) -> list[dict]:
        """Move new events from the queue into the run's history; return the new ones."""
        new = []
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            new.append(event)
            (self.batch_events if event["kind"] == "batch" else self.epoch_events).append(event)
        return new

    def _run(self) -> None:
        try:
            if self.slots is not None:
                self.state = "waiting"
                if not self.slots.acquire(self, self.stop_event):
                    self.state = "stopped"
                    return
            try:
                self.state = "running"
                self.result = train(
                    self.config,
                    self.dataset,
                    emit=self.events.put,
                    stop_event=self.stop_event,
                )
            finally:
                if self.slots is not None:
                    self.slots.release()
            if self.result.diverged:
                self.state = "diverged"
            elif self.result.stopped:
                self.state = "stopped"
            else:
                self.state = "finished"
        except Exception as exc:  # the page shows the message; the server must not lose the thread silently
            self.error = f"{type(exc).__name__}: {exc}"
            self.state = "failed"
        finally:
            self.dataset = None  # shared, but a finished run need not pin it: pages keep only the result
