"""The model shelf on the pages: pick the model in use, or pretrained models to compare with your runs.

`model_picker` (Draw, Confusion) is a "Model" selectbox of every model on the shelf (`digitlab.shelf`),
each shown with its MNIST and pen-drawn accuracy, and of "your trained network" when the session has
one: the model of a run, a fine-tuning or an uploaded file. Picking one makes it the session's active
model (`state`); a shelf model is loaded once per server and shared (`resources.get_shelf_classifier`).
Your own network is kept aside while a shelf model is in use, so it can be picked back. `shelf_runs`
(Compare) turns the chosen shelf models' stored curves and scores into run records.
"""

from __future__ import annotations

import streamlit as st

from digitlab import glossary, modelfile, shelf
from digitlab.app import resources, state
from digitlab.classroom import history

OWN = "own"  # the option of the session's own network
OWN_KEY = "shelf_own_model"  # session key: the session's own active-model entry, kept while another is used
state.keep_across_reloads(OWN_KEY)
ORIGIN = "a pretrained model from the shelf"  # how the pages name where a shelf model came from


def own_model() -> dict | None:
    """The active-model entry of the session's own network: the active one, else the one kept aside."""
    active = st.session_state.get(state.ACTIVE)
    if active and not active.get("shelf"):
        st.session_state[OWN_KEY] = active
    return st.session_state.get(OWN_KEY)


def current_choice() -> str:
    active = st.session_state.get(state.ACTIVE)
    if active is None:
        return shelf.DEFAULT.key
    return active.get("shelf") or OWN


def shelf_labels() -> dict[str, str]:
    """Option labels of the shelf models this install has: 'Best MLP · MNIST 99.2% · pen 90.1%'."""
    labels = {}
    for entry in shelf.SHELF:
        try:
            labels[entry.key] = shelf.option_label(entry.name, resources.get_shelf_description(entry.key))
        except modelfile.ModelFileError:
            continue  # a file this install lacks is not offered
    return labels


def own_label(own: dict) -> str:
    """'Your trained network (Simple network, 1 hidden layer: 64 units)': its name in words."""
    return f"Your trained network ({glossary.friendly_name(own['classifier'].name)})"


def technical_name(choice: str) -> str | None:
    """The technical name of the network behind an option, from its file's description (no TensorFlow)."""
    if choice == OWN:
        classifier = st.session_state[OWN_KEY]["classifier"]
        return None if "foreign" in classifier.metadata else classifier.config.label
    try:
        return resources.get_shelf_description(choice).get("name")
    except modelfile.ModelFileError:
        return None


def pick(key: str) -> None:
    """Make the model chosen in the widget `key` the session's active model."""
    choice = st.session_state[key]
    if choice == shelf.DEFAULT.key:
        state.use_default_model()
    elif choice == OWN:
        own = st.session_state[OWN_KEY]
        state.set_active(own["classifier"], own["evaluation"], own.get("origin", "your trained model"))
    else:
        state.set_active(resources.get_shelf_classifier(choice), origin=ORIGIN, shelf=choice)


def model_picker(key: str) -> None:
    """The "Model" selectbox; it always shows the active model, whatever made it active."""
    state.settle_finished_run()  # a run that has just ended is "your trained network" now
    labels = shelf_labels()
    if (own := own_model()) is not None:
        labels[OWN] = shelf.option_label(own_label(own), own["classifier"].metadata)
    current = current_choice()
    if current not in labels:  # the default's file is missing: the page says so already
        return
    st.session_state[key] = current
    st.selectbox(
        "Model",
        list(labels),
        format_func=labels.__getitem__,
        key=key,
        on_change=pick,
        args=(key,),
        help="Pretrained models, ready at once, beside the network you trained (once you have one). "
        "MNIST: the share of its 10,000 test digits read right; pen: of 4,338 digits drawn with a pen by "
        "writers no network here learnt from. Your choice is used on Draw, Confusion and Teach.\n\n"
        + glossary.technical_help(labels[current].split(" · ")[0], technical_name(current)),
    )
    if current != OWN:
        st.caption(shelf.find(current).description)


def shelf_runs(key: str) -> list[history.RunRecord]:
    """A multiselect of shelf models; the chosen ones as records to rank and draw beside the runs."""
    labels = shelf_labels()
    chosen = st.multiselect(
        "Pretrained models from the shelf",
        list(labels),
        format_func=labels.__getitem__,
        key=key,
        placeholder="Add a pretrained model to compare",
        help="Their curves, test accuracy and confusion matrix, as stored in the model file when it was "
        "trained, beside your runs'.",
    )
    records = [
        history.record_of_description(resources.get_shelf_description(k), shelf.find(k).name) for k in chosen
    ]
    return [record for record in records if record is not None]
