"""Use a model file: a `.keras` upload becomes the session's model for Draw, Confusion and Teach.

Widgets only: `learn.uploaded.load_uploaded` checks and loads the file, and `state.set_active` makes it
the active model, as a finished run or a fine-tuning does. A file is loaded once, when it arrives;
what came of it (the notes, or why it was refused) stays shown on later reruns of the page.
"""

from __future__ import annotations

import streamlit as st

from digitlab import modelfile
from digitlab.app import resources, state

ORIGIN = "the model file you uploaded"  # how the pages name where the active model came from


def model_upload(key: str = "model_file") -> None:
    """An expander with a .keras uploader: a good file becomes the active model, a bad one changes nothing."""
    outcome_key = f"{key}_outcome"  # (file id, "success" or "error", the lines to show, the classifier)
    with st.expander("Use a model file", icon=":material/upload_file:"):
        upload = st.file_uploader(
            "A .keras model: one downloaded from the Train page, or any Keras model that reads a 28×28 "
            f"image into 10 digits (at most {modelfile.MAX_UPLOAD_MB} MB)",
            type=["keras"],
            key=key,
            max_upload_size=modelfile.MAX_UPLOAD_MB,
        )
        if upload is None:
            st.session_state.pop(outcome_key, None)
            return
        outcome = st.session_state.get(outcome_key)
        if outcome is None or outcome[0] != upload.file_id:
            outcome = (upload.file_id, *load(upload.getvalue(), upload.name))
            st.session_state[outcome_key] = outcome
        _, kind, lines, classifier = outcome
        active = st.session_state.get(state.ACTIVE)
        if classifier is not None and (not active or active["classifier"] is not classifier):
            # Another model took its place since (a run finished, a fine-tuning, the default again).
            st.button(
                f"Use {classifier.name} again",
                on_click=state.set_active,
                args=(classifier,),
                kwargs={"origin": ORIGIN},
                key=f"{key}_again",
            )
            return
        getattr(st, kind)(lines[0])
        for note in lines[1:]:
            st.info(note, icon=":material/info:")


def load(data: bytes, name: str) -> tuple[str, list[str], object]:
    """Load the file and make it the active model: ("success" or "error", lines to show, the classifier)."""
    previous, _ = state.active_model_label()
    with st.spinner("Loading the model…"):
        resources.import_tensorflow()
        # Here, not at the top: like resources, this module is imported before TensorFlow is.
        from digitlab.learn.uploaded import load_uploaded

        try:
            classifier, notes = load_uploaded(data, name)
        except modelfile.ModelFileError as error:
            reason = str(error).rstrip(".")
            return "error", [f"{reason}. The model in use is still {previous}."], None
    state.set_active(classifier, origin=ORIGIN)
    return "success", [f"Draw and Confusion now use {classifier.name}.", *notes], classifier
