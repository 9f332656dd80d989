"""Training a finished run on ("Train on"), and a copy of a paused run's network to try meanwhile.

`continue_training` goes on from the very batch a run ended at, with its weights, optimizer state and
schedule, through the same `training.fit_member` as a new run, so its events and history go on.
"""

from __future__ import annotations

import threading
import time

from digitlab.config import ConfigError, TrainConfig
from digitlab.control import RunControl
from digitlab.data import Dataset
from digitlab.learn.classifier import Classifier
from digitlab.learn.fit import Start
from digitlab.learn.training import TrainResult, fit_member, member_metadata, result_of, run_control


def snapshot(model, config: TrainConfig, step: int) -> Classifier:
    """A copy of the network `model` as it is now (a paused run's), to try while the run waits."""
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    single = config.replace(members=1)
    name = f"{single.label}, paused after batch {step:,}"
    return Classifier(model=copy, config=single, metadata={"config": single.to_dict(), "name": name})


def can_continue(classifier) -> str | None:
    """Why `classifier` cannot train on, or None: it must be one network trained in this process."""
    if classifier.config.members > 1:
        return "An ensemble cannot train on: continue one network at a time."
    if getattr(classifier.model, "optimizer", None) is None or not classifier.model.optimizer.built:
        return "Only a network trained here, in this session, can train on."
    return None


def continue_training(
    previous,
    more_epochs: int,
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
    """`previous` (a finished run's Classifier) trained `more_epochs` more, with the same settings.

    Its weights and its optimizer's state go on; it goes on from the very batch it ended at (a run
    stopped mid-epoch finishes that epoch first), the counts go on, and the history grows. A run
    stopped before its planned epochs keeps its schedule; one that trains past them lays the schedule
    over the longer run, so a cosine schedule climbs back part of the way and decays again (a warm
    restart). `previous` itself is left as it was
    only in its metadata: the network is the same object, trained on.
    """
    if (reason := can_continue(previous)) is not None:
        raise ConfigError(reason)
    started = time.perf_counter()
    control = run_control(control, stop_event)
    old = previous.metadata
    done = len(old.get("history", {}).get("loss", []))  # whole epochs; a stopped run may be inside the next
    config = previous.config.replace(epochs=min(done + more_epochs, 200))
    seconds_before = float(old.get("training", {}).get("seconds", 0.0))
    where = old.get("training", {}).get("position", {})
    start = Start(
        epoch=done,
        batch=int(where.get("batch", 0)) if where.get("epoch") == done else 0,
        step=int(previous.model.optimizer.iterations.numpy()),
        elapsed=seconds_before,
    )
    model, history, _, counts, progress = fit_member(
        config,
        dataset,
        emit,
        control,
        extra_callbacks,
        predictions_first,
        model=previous.model,
        start=start,
        # A run stopped early keeps the schedule it was planned with; one that went further lays it
        # over its new length.
        schedule_epochs=max(previous.config.epochs, config.epochs),
    )
    merged = {key: [*old.get("history", {}).get(key, []), *history.get(key, [])] for key in history}
    seconds = seconds_before + time.perf_counter() - started - progress.paused_for
    metadata = member_metadata(
        config, old["normalization"], dataset, counts, merged, seconds, control, progress
    )
    classifier = Classifier(model=model, config=config, metadata=metadata)
    return result_of(classifier, dataset, started, evaluate_test, evaluate_pen)
