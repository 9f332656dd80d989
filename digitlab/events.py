"""Progress events: the one schema a training run sends, and the one place that words them.

`learn.callbacks.LiveProgress` writes these (through `batch_event` and `epoch_event`), a run keeps
them, and the live charts, the progress bar, the history and the benchmarks read them. They stay plain
dicts (`TypedDict`), so a queue carries them and a test writes one by hand.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from digitlab.estimate import format_duration


class BatchEvent(TypedDict):
    """After an execution of batches (about 50 ms of training: some 20 a second), and each epoch's last."""

    kind: Literal["batch"]
    step: int  # batches done in the whole run
    epoch: int  # 1-based
    batch: int  # 1-based, within the epoch
    steps_per_epoch: int
    epochs: int
    progress: float  # epochs done, fractional: epoch - 1 + batch / steps_per_epoch
    loss: float | None
    accuracy: float | None
    elapsed: float  # seconds of training since the run began, pauses left out
    images_per_sec: float
    learning_rate: NotRequired[float]  # the optimizer's rate for this batch, read back from it


class EpochEvent(TypedDict):
    """After an epoch, with the validation scores when the run holds images out."""

    kind: Literal["epoch"]
    step: int
    epoch: int
    epochs: int
    progress: float
    loss: float | None
    accuracy: float | None
    val_loss: NotRequired[float | None]
    val_accuracy: NotRequired[float | None]
    elapsed: float
    images_per_sec: float


ProgressEvent = BatchEvent | EpochEvent


def batch_event(step, epoch, batch, steps_per_epoch, epochs, logs: dict, timing: dict) -> BatchEvent:
    """The event after batch `batch` (1-based) of epoch `epoch` (1-based)."""
    return BatchEvent(
        kind="batch",
        step=step,
        epoch=epoch,
        batch=batch,
        steps_per_epoch=steps_per_epoch,
        epochs=epochs,
        progress=epoch - 1 + batch / steps_per_epoch,
        loss=logs.get("loss"),
        accuracy=logs.get("accuracy"),
        **timing,
    )


def epoch_event(step, epoch, epochs, logs: dict, timing: dict) -> EpochEvent:
    """The event after epoch `epoch` (1-based)."""
    return EpochEvent(
        kind="epoch",
        step=step,
        epoch=epoch,
        epochs=epochs,
        progress=float(epoch),
        loss=logs.get("loss"),
        accuracy=logs.get("accuracy"),
        val_loss=logs.get("val_loss"),
        val_accuracy=logs.get("val_accuracy"),
        **timing,
    )


def progress_summary(event: ProgressEvent | None, state: str = "running") -> tuple[float, str]:
    """Fraction done and 'Epoch 2/5 · step 120/352 · ETA 35 s' from the run's state and latest batch event."""
    if state == "waiting":
        return 0.0, "Waiting for a free training slot…"
    if not event:
        if state in ("pending", "running"):
            return 0.0, "Getting ready: loading TensorFlow and building the network…"
        return 0.0, f"{state.capitalize()} before the first batch"
    fraction = min(1.0, event["progress"] / event["epochs"])
    where = f"epoch {event['epoch']}/{event['epochs']} · step {event['batch']}/{event['steps_per_epoch']}"
    if state == "finished":
        return 1.0, f"Done: {event['epochs']} epochs, {event['step']:,} steps"
    if state in ("stopped", "diverged", "failed", "paused"):
        return fraction, f"{state.capitalize()} at {where}"
    text = where[0].upper() + where[1:]
    if fraction >= 0.02 and event.get("elapsed"):  # earlier, the first batches' set-up skews the rate
        eta = event["elapsed"] * (1 - fraction) / fraction
        text += f" · ETA {format_duration(eta)}"
    return fraction, text


def paused_message(event: BatchEvent | None, seconds_left: float | None) -> str:
    """What the page says while a run waits for Resume or Step."""
    after = f"after batch {event['step']:,} (epoch {event['epoch']})" if event else "before its first batch"
    text = f"Paused {after}. Step through it one batch or one epoch at a time, or try it on Draw."
    if seconds_left is not None:
        text += (
            f" It keeps its training slot for {format_duration(seconds_left)} more; after that it stops "
            "by itself and keeps its weights, so the slot frees up for others."
        )
    return text


def waiting_message(position: int | None) -> str:
    """What a student whose run waits for a training slot reads, with their place in the line."""
    place = {None: "in line", 1: "next in line"}.get(position, f"number {position} in line")
    return (
        f"Waiting for a free training slot: other networks are training on this server. You are {place}; "
        "your run starts by itself as soon as a slot frees up."
    )
