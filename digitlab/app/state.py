"""One browser session's state: its training run, the model Draw and Confusion use, and what a run ends.

Users never see each other's runs or models: all of it lives in `st.session_state`. A run that ends is
handled in one place, `settle_finished_run`, which every getter calls, so the new model is used and the
run joins the session's history (Compare page) wherever the user happens to be when it ends.

A reload starts a new session; the work under `KEPT_KEYS` survives it (`browser_work`): app.py calls
`take_up_kept_work` before a page draws and `keep_work` after, and the setters here keep it at once.
"""

from __future__ import annotations

import threading

import streamlit as st

from digitlab.app import browser_work, resources, workarounds
from digitlab.classroom import handwriting, history
from digitlab.classroom.runs import TrainingRun
from digitlab.evaluation import evaluate

# Session-state keys.
RUN = "train_run"  # the browser session's TrainingRun (one at a time)
# {"classifier", "evaluation", "origin", "shelf"} of the session's model ("shelf": the key of a model from
# the shelf, shared by every session, else None); absent: the default.
ACTIVE = "active_model"
ADOPTED_RUN = "adopted_run"  # the run whose model was last made active, so it is adopted only once
TRIED_PAUSED = "tried_paused"  # (run, batch) of the paused network copied for Draw
FINE_TUNE_WAIT_S = 5.0  # how long Fine-tune waits for a training slot before it says the server is busy

# The session's work that a reload must not lose; other modules add theirs (`keep_across_reloads`).
KEPT_KEYS = [RUN, ACTIVE, ADOPTED_RUN, TRIED_PAUSED, handwriting.SESSION_KEY]
KEPT_KEYS += [history.HISTORY, history.RECORDED]
_SHARED_BYTES = 0  # a shelf model or the default: every session shares it, so keeping it costs nothing


def keep_across_reloads(*keys: str) -> None:
    """Add session keys to the work that survives a reload."""
    KEPT_KEYS.extend(key for key in keys if key not in KEPT_KEYS)


def take_up_kept_work() -> None:
    """Once per session: this browser's work from before a reload, with its run handed to this session."""
    browser_work.restore(claim=lambda work: _claim(work.get(RUN)))
    browser_work.store_token()


def keep_work() -> None:
    """Keep the session's work for its browser as it is now."""
    browser_work.remember(KEPT_KEYS, _kept_bytes)


def _claim(run: TrainingRun | None) -> None:
    """Make this session the owner of `run`, so that the watcher does not stop it for the closed tab."""
    if run is not None and not run.done:
        run.owner = workarounds.session_id()


def _kept_bytes(value) -> int:
    """About how many bytes `value` holds that no other session shares."""
    if isinstance(value, handwriting.HandwritingSet):
        return sum(784 + len(drawing.canvas_png or b"") for drawing in value.drawings)
    if isinstance(value, list):  # the history: curves and a confusion matrix per run
        return 64 * 1024 * len(value)
    if isinstance(value, dict):  # the active model
        return _SHARED_BYTES if value.get("shelf") else _model_bytes(value.get("classifier"))
    if isinstance(value, TrainingRun):
        return _model_bytes(value.result.classifier if value.result else None)
    return 0


def _model_bytes(classifier) -> int:
    """A network's float32 weights, twice over (its optimizer keeps as much again)."""
    model = getattr(classifier, "model", None)
    return 2 * 4 * int(model.count_params()) if model is not None else 0


def current_run() -> TrainingRun | None:
    """The session's TrainingRun, or None; this session takes it over from a tab that has gone."""
    run = st.session_state.get(RUN)
    mine = run is None or run.owner == workarounds.session_id()
    if not mine and not workarounds.session_is_connected(run.owner):
        _claim(run)
    return run


def start_training(
    config, dataset, train=resources.train, continues: TrainingRun | None = None
) -> TrainingRun:
    """Start the session's TrainingRun now; the first one after server start imports TensorFlow first.

    The import (up to 20 s) runs in the background too, so the page answers at once and a user who
    goes to another page meanwhile does not cancel the start.
    """
    run = TrainingRun(
        config,
        dataset,
        train=train,
        slots=resources.training_slots(),
        owner=workarounds.session_id(),
        continues=continues,
    )
    st.session_state[RUN] = run
    keep_work()
    resources.run_watcher().watch(run)
    if resources.tensorflow_ready():
        run.start()
    else:
        threading.Thread(
            target=_import_then_start, args=(run,), name="import-tensorflow", daemon=True
        ).start()
    return run


def continue_training(run: TrainingRun, more_epochs: int, dataset) -> TrainingRun:
    """Train the finished `run`'s network `more_epochs` more, as the session's new run."""
    classifier = run.result.classifier
    done = run.result.epochs_done
    config = run.config.replace(epochs=done + more_epochs)
    return start_training(config, dataset, train=resources.train_on(classifier, more_epochs), continues=run)


def try_paused_model(run: TrainingRun) -> None:
    """Make a copy of the paused run's network the session's model, to try on Draw meanwhile."""
    classifier = resources.snapshot_of(run)
    if classifier is not None:
        set_active(classifier)
        st.session_state[ADOPTED_RUN] = None  # the run's final model still takes over when it ends
        st.session_state[TRIED_PAUSED] = (run, run.batch_events[-1]["step"])


def tried_paused_step(run: TrainingRun) -> int | None:
    """The batch after which this run's network was copied for Draw, while it is still the active one."""
    tried = st.session_state.get(TRIED_PAUSED)
    if tried is None or tried[0] is not run or ACTIVE not in st.session_state:
        return None
    return tried[1]


def _import_then_start(run: TrainingRun) -> None:
    try:
        resources.import_tensorflow()
    finally:  # should the import fail, the run fails again and shows the error
        run.start()


def fine_tune_in_a_slot(classifier, drawings, progress):
    """Fine-tune in one of the server's training slots; None when every slot stays busy.

    A slot within FINE_TUNE_WAIT_S or none: the page must not hang behind another class's training,
    but the server's own timing of its pace (`resources.calibrate_in_the_background`) gives way to
    anyone waiting. Once the slot is held, `progress()` draws the progress and returns the function
    that receives the events.
    """
    slots, ticket, give_up = resources.training_slots(), object(), threading.Event()
    timer = threading.Timer(FINE_TUNE_WAIT_S, give_up.set)
    timer.start()
    try:
        if not slots.acquire(ticket, give_up):
            return None
    finally:
        timer.cancel()
    try:
        resources.import_tensorflow()
        emit = progress()
        from digitlab.learn.fine_tuning import fine_tune

        return fine_tune(classifier, drawings, resources.get_dataset(), emit=emit)
    finally:
        slots.release()


def own_handwriting() -> handwriting.HandwritingSet:
    """The drawings this session corrected on Draw (Teach page)."""
    if handwriting.SESSION_KEY not in st.session_state:
        st.session_state[handwriting.SESSION_KEY] = handwriting.HandwritingSet()
        keep_work()
    return st.session_state[handwriting.SESSION_KEY]


def set_active(
    classifier, evaluation=None, origin: str = "your trained model", shelf: str | None = None
) -> None:
    """Make `classifier` the session's model for Draw and Confusion; `origin` says where it came from.

    `shelf` is the key of a model from the shelf (`resources.get_shelf_classifier`): its evaluation is
    then the one every session shares.
    """
    st.session_state[ACTIVE] = {
        "classifier": classifier,
        "evaluation": evaluation,
        "origin": origin,
        "shelf": shelf,
    }
    keep_work()


def use_default_model() -> None:
    st.session_state.pop(ACTIVE, None)
    keep_work()


def settle_finished_run() -> None:
    """The one handler of a run that has ended: keep it in the history, and adopt a good one's model.

    Both happen once per run. A run that ended well (finished or stopped) becomes the active model; a
    diverged one does not: its last good weights may be no better than chance.
    """
    run = current_run()
    if history.record_finished(st.session_state, run) is not None:
        keep_work()
    if run is None or st.session_state.get(ADOPTED_RUN) is run:
        return
    if run.state in ("finished", "stopped") and run.result is not None:
        workarounds.release_traced_functions(run.result.classifier.model)  # only reads drawings now
        st.session_state[ADOPTED_RUN] = run
        set_active(run.result.classifier, run.result.evaluation)
        if run.state == "finished" and run.continues is None and not run.result.diverged:
            resources.forecasts().record(run.config, run.result.seconds)  # the next forecasts learn from it


def using_trained_model() -> bool:
    settle_finished_run()
    return ACTIVE in st.session_state


def active_classifier():
    """The session's trained model, or the shared default one."""
    settle_finished_run()
    active = st.session_state.get(ACTIVE)
    return active["classifier"] if active else resources.get_default_classifier()


def active_evaluation():
    """The active model's evaluation on the test set, computed at most once per model and session."""
    settle_finished_run()
    active = st.session_state.get(ACTIVE)
    if not active:
        return resources.get_default_evaluation()
    if active["evaluation"] is None and active.get("shelf"):
        active["evaluation"] = resources.get_shelf_evaluation(active["shelf"])
    if active["evaluation"] is None:
        dataset = resources.get_dataset()
        with st.spinner("Checking your network on the 10,000 test images…"):
            active["evaluation"] = evaluate(active["classifier"], dataset.x_test, dataset.y_test)
    return active["evaluation"]


def active_model_label() -> tuple[str, dict]:
    """Name and metrics of the active model, read from metadata (no TensorFlow needed)."""
    settle_finished_run()
    active = st.session_state.get(ACTIVE)
    if active:
        return active["classifier"].name, active["classifier"].metadata.get("metrics", {})
    metadata = resources.get_default_metadata()
    return metadata.get("name", "default model"), metadata.get("metrics", {})
