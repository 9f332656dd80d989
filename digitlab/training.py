"""Training built for live display: plain progress events, a stop button, a background thread.

`LiveProgress` is a Keras callback that turns each batch and epoch into a plain dict
and hands it to `emit` (a queue's `put`). It never touches the UI. `train` runs one
whole training from a config; `TrainingRun` runs `train` in a background thread that
another thread can stop after the current batch, weights kept.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from digitlab.config import TrainConfig
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


def split_data(config: TrainConfig, dataset: Dataset):
    """The config's subset of training images, split into train and validation by the seed."""
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(dataset.x_train))[: config.train_size]
    n_val = int(round(len(order) * config.validation_split))
    val, train = order[:n_val], order[n_val:]
    return (
        dataset.x_train[train],
        dataset.y_train[train],
        dataset.x_train[val],
        dataset.y_train[val],
    )


def encode_targets(labels: np.ndarray, config: TrainConfig) -> np.ndarray:
    from digitlab.model import targets_are_onehot

    if targets_are_onehot(config):
        return np.eye(10, dtype=np.float32)[labels]
    return labels.astype(np.int32)


def train(
    config: TrainConfig,
    dataset: Dataset,
    *,
    emit=lambda event: None,
    stop_event: threading.Event | None = None,
    extra_callbacks=(),
    evaluate_test: bool = True,
) -> TrainResult:
    """Train a model from `config` on `dataset`, reporting progress through `emit`."""
    from digitlab.augment import make_dataset
    from digitlab.callbacks import LiveProgress
    from digitlab.evaluation import evaluate
    from digitlab.model import build_model, compile_model, normalization_params
    from digitlab.storage import Classifier, build_metadata

    started = time.perf_counter()
    x_train, y_train, x_val, y_val = split_data(config, dataset)
    norm = normalization_params(x_train, config.normalization)
    model = build_model(config, norm)
    compile_model(model, config)
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
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        shuffle=False,  # the tf.data pipeline already shuffles, by the seed
        verbose=0,
        callbacks=[progress, *extra_callbacks],
    ).history
    history = {key: [float(v) for v in values] for key, values in history.items()}
    seconds = time.perf_counter() - started

    classifier = Classifier(model=model, config=config)
    evaluation = evaluate(classifier, dataset.x_test, dataset.y_test) if evaluate_test else None
    stopped = bool(progress.stop_event.is_set())
    classifier.metadata = build_metadata(
        config,
        norm,
        name=config.label,
        history=history,
        dataset={
            "name": dataset.name,
            "train_images": int(len(x_train)),
            "validation_images": int(len(x_val)),
        },
        metrics=evaluation.summary() if evaluation is not None else {},
        training={
            "seconds": round(seconds, 2),
            "stopped": stopped,
            "diverged": progress.diverged,
        },
    )
    return TrainResult(
        classifier=classifier,
        history=history,
        evaluation=evaluation,
        stopped=stopped,
        diverged=progress.diverged,
        seconds=seconds,
        epochs_done=len(history.get("loss", [])),
    )


class TrainingRun:
    """One training in a background thread; the page polls `drain_events` and may call `stop`."""

    def __init__(
        self,
        config: TrainConfig,
        dataset: Dataset,
        *,
        slots: threading.Semaphore | None = None,
    ):
        self.config = config
        self.dataset = dataset
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.stop_event = threading.Event()
        self.slots = slots
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
                while not self.slots.acquire(timeout=0.2):
                    if self.stop_event.is_set():
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
