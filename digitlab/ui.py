"""The one module in digitlab that imports streamlit: session-state keys and cached getters.

Shared and read-only (`st.cache_resource`, one copy per server): the MNIST arrays, the shipped default
model, its evaluation on the test set, the training slots and the watcher that frees the slot of a
closed tab. Per browser session (`st.session_state`,
users never see each other's models): the training run and the model that Draw and Confusion use.
TensorFlow is imported only when a model is loaded, so the home page starts fast.
"""

from __future__ import annotations

import gc
import threading

import pandas  # noqa: F401  (see below)
import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from digitlab import data, session, storage, training

# pandas is imported here, before any page builds a chart. Imported later by TensorFlow in one thread,
# it would sit half-initialised in sys.modules while plotly, in another session's thread, checks
# `isinstance(value, pandas.Series)`: AttributeError, seen on the Train page during a first run.

# Session-state keys.
RUN = "train_run"  # the browser session's TrainingRun (one at a time)
ACTIVE = "active_model"  # {"classifier", "evaluation"} of the session's own model; absent: the default
ADOPTED_RUN = "adopted_run"  # the run whose model was last made active, so it is adopted only once

# How st.dataframe shows session.report_in_percent(evaluation.report) (Train and Confusion pages).
REPORT_COLUMNS = {
    "digit": st.column_config.TextColumn("Digit"),
    "precision": st.column_config.NumberColumn(
        "Precision", format="%.1f%%", help="Of the images it called this digit, the share that were."
    ),
    "recall": st.column_config.NumberColumn(
        "Recall", format="%.1f%%", help="Of the images of this digit, the share it found."
    ),
    "f1": st.column_config.NumberColumn("F1", format="%.1f%%", help="Precision and recall in one number."),
    "support": st.column_config.NumberColumn("Test images", format="localized"),
}


def through_router() -> None:
    """Make sure this page runs inside app.py's router. Call it first on every page.

    Streamlit takes a folder named pages/ beside app.py as the sign of an old-style multipage app, and
    keeps that guess until app.py has called `st.navigation` once in the process. So on a freshly
    started server, a link straight to /draw would run pages/draw.py alone: no page config, no top
    navigation, and a sidebar listing every file. The guess lives in `PagesManager`, which
    `st.navigation` itself resets; this resets it the same way and reruns through the router, which
    opens the page that was asked for.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


@st.cache_resource(show_spinner="Loading the MNIST images…")
def get_dataset() -> data.Dataset:
    # cache_resource, not cache_data: cache_data would hand every session its own copy of 55 MB.
    # load_mnist makes the arrays read-only, so one shared copy is safe.
    return data.load_mnist()


@st.cache_resource(show_spinner=False)
def get_default_metadata() -> dict:
    """The default model's JSON description: name and test accuracy without importing TensorFlow."""
    return storage.read_metadata(storage.DEFAULT_MODEL_PATH)


_TENSORFLOW_LOCK = threading.Lock()
_TENSORFLOW_READY = threading.Event()


def import_tensorflow() -> None:
    """Import TensorFlow and the training code once per process, from any thread, then freeze the heap.

    Streamlit calls `keras.backend.clear_session()` after every script run once keras is imported. That
    ran a full `gc.collect()` (about 0.3 s over TensorFlow's objects, after every 0.5 s poll of the live
    view: the first batch of a run came after two minutes instead of two seconds) and cleared
    TensorFlow's kernel cache for the whole process, so every prediction rebuilt its kernels (43 ms of
    CPU instead of 2 ms; a Draw rerun cost 75 ms instead of 30) and every training thread lost its
    own at each rerun of any session. digitlab keeps its models in session state and cache_resource,
    never in a script's globals, so there is nothing for it to clear: it is replaced by a no-op.
    `gc.freeze()` also takes the objects alive now (the libraries) out of Python's own collections.
    """
    with _TENSORFLOW_LOCK:
        if _TENSORFLOW_READY.is_set():
            return
        import keras

        from digitlab import augment, callbacks, evaluation, model  # noqa: F401  (keras, tensorflow)

        keras.backend.clear_session = keep_keras_state
        gc.freeze()
        _TENSORFLOW_READY.set()


# The live view's pictures. A component, not st.html, whose sanitiser removes SVG, nor st.image, which the
# browser must decode anew. Its style stops progress bars gliding to each new value while it is on the
# page: polled two or three times a second, that animation alone kept a watching browser drawing
# continuously, twice the CPU of the rest of the live view (measured while building bench/live_curves.py).
_live_pictures = st.components.v2.component(
    "digitlab.live_pictures",
    js=(data.ASSETS_DIR / "live_pictures.js").read_text(),
    # The newline makes Streamlit read it as CSS: on one line, "[" and "*" would make it a file glob.
    css="[data-testid='stProgress'] * {\n  transition: none !important;\n}\n",
    isolate_styles=False,
)


def show_live_pictures(pictures: list[str], key: str) -> None:
    """SVG pictures we drew (never user text) side by side, wrapping on a narrow screen; cheap to redraw."""
    _live_pictures(key=key, data=pictures, width="stretch")


def keep_keras_state(free_memory: bool = True) -> None:
    """Stands in for `keras.backend.clear_session` in the server (see `import_tensorflow`)."""


@st.cache_resource(show_spinner="Loading the network (the first time takes about 20 seconds)…")
def get_default_classifier() -> storage.Classifier:
    # Shared by every session and only ever read: predictions do not change the model.
    import_tensorflow()
    return storage.load_classifier()


@st.cache_resource(show_spinner="Checking the network on the 10,000 test images (only the first time)…")
def get_default_evaluation():
    """The default model's evaluation on the MNIST test set; read-only, shared."""
    from digitlab.evaluation import evaluate

    dataset = get_dataset()
    return evaluate(get_default_classifier(), dataset.x_test, dataset.y_test)


@st.cache_resource
def training_slots() -> training.TrainingSlots:
    """How many runs may train at once on this server (env DIGITLAB_TRAINING_SLOTS); later ones queue."""
    return training.TrainingSlots(training.slot_count())


def session_is_connected(session_id: str | None) -> bool:
    """Whether the browser session still has its tab open (always true outside a server, e.g. AppTest)."""
    return session_id is None or not runtime.exists() or runtime.get_instance().is_active_session(session_id)


@st.cache_resource
def run_watcher() -> training.RunWatcher:
    """The server's one watcher that stops the runs of closed tabs, so their slots free up."""
    return training.RunWatcher(session_is_connected)


def current_run():
    """The session's TrainingRun, or None."""
    return st.session_state.get(RUN)


def start_training(config, dataset: data.Dataset):
    """Start the session's TrainingRun now; the first one after server start imports TensorFlow first.

    The import (up to 20 s) runs in the background too, so the page answers at once and a user who
    goes to another page meanwhile does not cancel the start.
    """
    context = get_script_run_ctx()
    owner = context.session_id if context else None
    run = training.TrainingRun(config, dataset, slots=training_slots(), owner=owner)
    st.session_state[RUN] = run
    run_watcher().watch(run)
    if _TENSORFLOW_READY.is_set():
        run.start()
    else:
        threading.Thread(
            target=_import_then_start, args=(run,), name="import-tensorflow", daemon=True
        ).start()
    return run


def _import_then_start(run) -> None:
    try:
        import_tensorflow()
    finally:  # should the import fail, the run fails again and shows the error
        run.start()


def set_active(classifier, evaluation=None) -> None:
    """Make `classifier` the session's model for Draw and Confusion."""
    st.session_state[ACTIVE] = {"classifier": classifier, "evaluation": evaluation}


def use_default_model() -> None:
    st.session_state.pop(ACTIVE, None)


def adopt_finished_run() -> None:
    """A run that ended well (finished or stopped) becomes the active model, once.

    Called by every getter below, so the new model is used even if the run ends while the user draws.
    A diverged run is not adopted: its last good weights may be no better than chance.
    """
    run = current_run()
    if run is None or st.session_state.get(ADOPTED_RUN) is run:
        return
    if run.state in ("finished", "stopped") and run.result is not None:
        st.session_state[ADOPTED_RUN] = run
        set_active(run.result.classifier, run.result.evaluation)


def using_trained_model() -> bool:
    adopt_finished_run()
    return ACTIVE in st.session_state


def active_classifier() -> storage.Classifier:
    """The session's trained model, or the shared default one."""
    adopt_finished_run()
    active = st.session_state.get(ACTIVE)
    return active["classifier"] if active else get_default_classifier()


def active_evaluation():
    """The active model's evaluation on the test set, computed at most once per model and session."""
    adopt_finished_run()
    active = st.session_state.get(ACTIVE)
    if not active:
        return get_default_evaluation()
    if active["evaluation"] is None:
        from digitlab.evaluation import evaluate

        dataset = get_dataset()
        with st.spinner("Checking your network on the 10,000 test images…"):
            active["evaluation"] = evaluate(active["classifier"], dataset.x_test, dataset.y_test)
    return active["evaluation"]


def active_model_label() -> tuple[str, dict]:
    """Name and metrics of the active model, read from metadata (no TensorFlow needed)."""
    adopt_finished_run()
    active = st.session_state.get(ACTIVE)
    if active:
        return active["classifier"].name, active["classifier"].metadata.get("metrics", {})
    metadata = get_default_metadata()
    return metadata.get("name", "default model"), metadata.get("metrics", {})


def describe_active_model() -> str:
    """'**CNN … ×3** (the default model: 99.4% of MNIST's test digits, 97.0% of pen-drawn ones)'."""
    name, metrics = active_model_label()
    origin = "your trained model" if ACTIVE in st.session_state else "the default model"
    scores = []
    if metrics.get("test_accuracy") is not None:
        scores.append(f"{metrics['test_accuracy']:.1%} of MNIST's test digits")
    if metrics.get("pen_accuracy") is not None:
        scores.append(f"{metrics['pen_accuracy']:.1%} of pen-drawn digits by unseen writers")
    return f"**{name}** ({origin}{': ' + ' and '.join(scores) + ' read right' if scores else ''})"


def show_two_accuracies(classifier, evaluation=None) -> None:
    """MNIST test accuracy beside pen-drawn digits by unseen writers, each against the default model."""
    metrics = getattr(classifier, "metadata", {}).get("metrics", {})
    mnist = evaluation.accuracy if evaluation is not None else metrics.get("test_accuracy")
    pen = metrics.get("pen_accuracy")
    try:
        default = get_default_metadata().get("metrics", {})
    except storage.ModelFileError:
        default = {}
    scores = st.columns(2)
    for column, value, name, key, help_text in (
        (
            scores[0],
            mnist,
            "MNIST test accuracy",
            "test_accuracy",
            "Share of MNIST's 10,000 test digits, scanned from paper and never seen in training, read right.",
        ),
        (
            scores[1],
            pen,
            "Pen-drawn digits, unseen writers",
            "pen_accuracy",
            "Share of 4,338 digits drawn "
            "with a pen by 159 people whose writing no network here learnt from, drawn on the canvas as on "
            "the Draw page and read the same way.",
        ),
    ):
        versus = None
        if value is not None and default.get(key) is not None and classifier is not get_default_classifier():
            versus = f"{(value - default[key]) * 100:+.1f} points vs the default model"
        shown = f"{value:.1%}" if value is not None else "not measured"
        column.metric(name, shown, versus, help=help_text, border=True)


def require_dataset() -> data.Dataset:
    """The dataset, or a clear error and the end of this page run."""
    try:
        return get_dataset()
    except data.DataError as error:
        st.error(f"The MNIST images could not be loaded: {error}")
        st.stop()


def require_active_classifier() -> storage.Classifier:
    """The active model, or a clear error and the end of this page run."""
    try:
        return active_classifier()
    except storage.ModelFileError as error:
        st.error(
            f"The default model could not be loaded: {error}. Train one on the Train page, or restore "
            "assets/models/default.keras with `python -m digitlab train --preset default "
            "--out assets/models/default`."
        )
        st.stop()


def show_report(evaluation) -> None:
    """The classification report, one row per digit, as the Train and Confusion pages show it."""
    st.subheader("Per digit")
    st.dataframe(
        session.report_in_percent(evaluation.report),
        hide_index=True,
        height="content",
        column_config=REPORT_COLUMNS,
    )
