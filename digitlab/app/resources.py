"""What every session shares and only reads, cached once per server (`st.cache_resource`).

The MNIST arrays, the shipped default model, its description and evaluation, the models on the shelf
(`digitlab.shelf`) likewise, the training slots and the watcher that frees the slot of a closed tab.
TensorFlow is imported only when a model is first needed (`import_tensorflow`), so the home page
starts fast: that is why the imports of `digitlab.learn` here sit inside functions, the one place in
the app that defers them.
"""

from __future__ import annotations

import threading

import streamlit as st

from digitlab import data, estimate, modelfile, shelf
from digitlab.app import workarounds
from digitlab.classroom import database
from digitlab.classroom.runs import RunWatcher
from digitlab.classroom.slots import SharedTrainingSlots, TrainingSlots, server_slots
from digitlab.evaluation import evaluate

_TENSORFLOW_LOCK = threading.Lock()
_TENSORFLOW_READY = threading.Event()


@st.cache_resource(show_spinner="Loading the MNIST images…")
def get_dataset() -> data.Dataset:
    # cache_resource, not cache_data: cache_data would hand every session its own copy of 55 MB.
    # load_mnist makes the arrays read-only, so one shared copy is safe.
    return data.load_mnist()


@st.cache_resource(show_spinner=False)
def get_default_metadata() -> dict:
    """The default model's JSON description: name and test accuracy without importing TensorFlow."""
    return modelfile.read_metadata(modelfile.DEFAULT_MODEL_PATH)


def tensorflow_ready() -> bool:
    return _TENSORFLOW_READY.is_set()


def import_tensorflow() -> None:
    """Import digitlab.learn (Keras, TensorFlow) once per process, from any thread, then settle it."""
    with _TENSORFLOW_LOCK:
        if _TENSORFLOW_READY.is_set():
            return
        from digitlab.learn import classifier, fine_tuning, inside, training  # noqa: F401

        workarounds.keep_keras_state_between_runs()
        _TENSORFLOW_READY.set()


@st.cache_resource(show_spinner="Loading the network (the first time takes about 20 seconds)…")
def get_default_classifier():
    # Shared by every session and only ever read: predictions do not change the model.
    import_tensorflow()
    from digitlab.learn.classifier import load_classifier

    return load_classifier()


@st.cache_resource(show_spinner="Checking the network on the 10,000 test images (only the first time)…")
def get_default_evaluation():
    """The default model's evaluation on the MNIST test set; read-only, shared."""
    dataset = get_dataset()
    return evaluate(get_default_classifier(), dataset.x_test, dataset.y_test)


@st.cache_resource(show_spinner=False)
def get_shelf_description(key: str) -> dict:
    """The description inside a shelf model's file: its name's scores without importing TensorFlow."""
    return shelf.read_description(shelf.find(key))


@st.cache_resource(show_spinner="Loading the model from the shelf…")
def get_shelf_classifier(key: str):
    """A model from the shelf, loaded once per server and shared by every session, read-only, like the
    default (which it is, for the shelf's default entry), and named as the shelf names it."""
    if key == shelf.DEFAULT.key:
        return get_default_classifier()
    import_tensorflow()
    from digitlab.learn.classifier import load_classifier

    entry = shelf.find(key)
    classifier = load_classifier(entry.path)
    classifier.metadata["name"] = entry.name  # before anyone shares it; the file says config.label
    return classifier


@st.cache_resource(show_spinner="Checking the model on the 10,000 test images (only the first time)…")
def get_shelf_evaluation(key: str):
    """A shelf model's evaluation on the MNIST test set; read-only, shared."""
    if key == shelf.DEFAULT.key:
        return get_default_evaluation()
    dataset = get_dataset()
    return evaluate(get_shelf_classifier(key), dataset.x_test, dataset.y_test)


def teacher_code() -> str | None:
    """The teacher code: `teacher_code` in .streamlit/secrets.toml (as compose.yaml mounts it), else env
    DIGITLAB_TEACHER_CODE; None when neither is set."""
    try:
        return database.teacher_code({"teacher_code": st.secrets.get("teacher_code")})
    except FileNotFoundError:  # no secrets file: Streamlit says so by raising
        return database.teacher_code()


@st.cache_resource
def training_slots() -> TrainingSlots | SharedTrainingSlots:
    """How many runs may train at once on this server (env DIGITLAB_TRAINING_SLOTS); later ones queue.
    Shared by all the server's processes when it runs several (`digitlab serve --workers N`)."""
    return server_slots()


@st.cache_resource
def forecasts() -> estimate.Calibration:
    """This server's forecast of a run's time: built in, measured by `calibrate_in_the_background`,
    then corrected by every run that finishes here (`state.settle_finished_run`)."""
    return estimate.Calibration()


_calibration_started = threading.Event()


def calibrate_in_the_background() -> None:
    """Once TensorFlow is loaded, time a few seconds of tiny runs (`learn.calibration`) in a free
    training slot, so that the forecasts are this server's; skipped while every slot is busy, and cut
    short when a student's run comes to wait for the slot."""
    if _calibration_started.is_set() or not tensorflow_ready():
        return
    _calibration_started.set()

    def measure() -> None:
        slots, ticket, no_wait = training_slots(), object(), threading.Event()
        no_wait.set()
        if not slots.acquire(ticket, no_wait):
            _calibration_started.clear()  # every slot is training: another page visit tries again
            return
        try:
            from digitlab.learn.calibration import calibrate

            calibrate(forecasts(), get_dataset(), go_on=lambda: not slots.anyone_waiting())
        except Exception as error:  # noqa: BLE001 - a forecast is a nicety: the built-in one stays
            print(f"digitlab: timing this server's training failed, forecasts stay built in: {error!r}")
        finally:
            slots.release()

    threading.Thread(target=measure, name="digitlab-calibration", daemon=True).start()


@st.cache_resource
def run_watcher() -> RunWatcher:
    """The server's one watcher that stops the runs of closed tabs, so their slots free up."""
    return RunWatcher(workarounds.session_is_connected)


def train(config, dataset, **kwargs):
    """`learn.training.train`, handed to a `classroom.runs.TrainingRun` (which never imports learn)."""
    import_tensorflow()
    from digitlab.learn.training import train as train_network

    return train_network(config, dataset, **kwargs)


def train_on(classifier, more_epochs: int):
    """The training function of a run that trains `classifier` `more_epochs` more (`continue_training`)."""

    def train_more(config, dataset, **kwargs):
        from digitlab.learn.continuing import continue_training

        return continue_training(classifier, more_epochs, dataset, **kwargs)

    return train_more


def snapshot_of(run):
    """A copy of a paused run's network as a classifier to try on Draw, or None if it has none yet."""
    from digitlab.learn.continuing import snapshot

    return (
        snapshot(run.control.model, run.config, run.batch_events[-1]["step"]) if run.control.model else None
    )
