"""Teach: the drawings you corrected on Draw, how well the network reads them, and fine-tuning on them.

The set lives in the browser session and survives a reload (at most handwriting.MAX_DRAWINGS
drawings); it can be downloaded as a zip and imported back. Fine-tuning runs in the script, with a
progress bar: a few hundred steps, in one training slot of the server (app.state.fine_tune_in_a_slot),
so it stays bounded.
The fine-tuned copy becomes the session's model.
"""

import numpy as np
import streamlit as st

from digitlab import events, image_charts
from digitlab.app import state, widgets, workarounds
from digitlab.classroom import handwriting

IMPORT = "teach_import"
PICKED = "teach_picked"  # the drawing chosen to fix, by its place in the set (0 = the oldest)
NOTICE = "teach_notice"  # what the last import or fine-tuning did, shown once
MIN_DRAWINGS = 3  # fewer is not worth a fine-tuning
SHOWN = 40  # the newest drawings drawn in the grid


def import_zip() -> None:
    upload = st.session_state.get(IMPORT)
    if upload is None:
        return
    try:
        imported = handwriting.from_zip(upload.getvalue())
    except handwriting.HandwritingFileError as error:
        st.session_state[NOTICE] = ("error", f"That zip cannot be imported: {error}")
        return
    state.own_handwriting().drawings.extend(imported.drawings)
    st.session_state[NOTICE] = ("success", f"Imported {len(imported)} drawings.")


def show_scores(classifier, drawings: handwriting.HandwritingSet):
    """The active model on your drawings beside MNIST's test set; returns the evaluation on yours."""
    own = handwriting.evaluate_on(classifier, drawings)
    mnist = state.active_evaluation().accuracy
    with st.container(horizontal=True):
        st.metric(
            "On your handwriting",
            f"{own.accuracy:.1%}",
            f"{(own.accuracy - mnist) * 100:+.1f} points vs MNIST",
            help=f"{len(drawings)} drawings, each read alone (Draw also averages two tilted copies).",
        )
        st.metric("On the MNIST test set", f"{mnist:.1%}", help="The 10,000 MNIST test images.")
    return own


def show_drawings(drawings: handwriting.HandwritingSet, predictions: np.ndarray) -> None:
    images, labels = drawings.images[-SHOWN:], drawings.labels[-SHOWN:]
    predicted = predictions[-SHOWN:]
    titles = [
        f"{label}→{guess}" if label != guess else str(label)
        for label, guess in zip(labels, predicted, strict=True)
    ]
    st.caption(
        f"The newest {len(images)}: the digit you meant above each. One the network misreads is framed in "
        f"{image_charts.MISTAKE_COLOUR_NAME}, its label too: what you meant → what it reads."
    )
    figure = image_charts.image_grid(images, titles, columns=10, wrong=list(labels != predicted))
    st.plotly_chart(figure, theme=None, key="teach_grid")


def drawing_name(index: int, labels: np.ndarray, predictions: np.ndarray) -> str:
    read = "" if labels[index] == predictions[index] else f", read as {predictions[index]}"
    return f"No. {index + 1}: a {labels[index]}{read}"


def relabel(drawings: handwriting.HandwritingSet, index: int, key: str) -> None:
    if (label := st.session_state.get(key)) is not None:
        drawings.relabel(index, label)
        st.session_state[NOTICE] = ("success", f"No. {index + 1} is a {label} now.")


def remove(drawings: handwriting.HandwritingSet, index: int) -> None:
    drawings.remove(index)
    st.session_state.pop(PICKED, None)
    st.session_state[NOTICE] = ("success", f"No. {index + 1} is out of the set.")


def fix_a_drawing(drawings: handwriting.HandwritingSet, predictions: np.ndarray) -> None:
    """Change a drawing's digit, or take it out: a slip of the finger on "It's actually a …" is undone."""
    labels = drawings.labels
    newest_first = list(range(len(drawings) - 1, -1, -1))
    misread_first = sorted(newest_first, key=lambda i: labels[i] == predictions[i])  # likeliest slips
    with st.expander("Fix a drawing: change its digit, or take it out", icon=":material/edit:"):
        index = st.selectbox(
            "Drawing",
            misread_first,
            format_func=lambda i: drawing_name(i, labels, predictions),
            key=PICKED,
            help="The ones the network reads differently come first: a wrong label is often among them.",
        )
        with st.container(horizontal=True, wrap=True, vertical_alignment="center"):
            widgets.show_pixels(drawings.drawings[index].image, 112, f"No. {index + 1}")
            with st.container(width="stretch"):
                key = f"teach_label_{index}_{labels[index]}"
                st.pills(
                    "It is a …",
                    range(10),
                    default=int(labels[index]),
                    key=key,
                    required=True,
                    wrap=True,
                    on_change=relabel,
                    args=(drawings, index, key),
                )
                st.button(
                    "Take it out of the set",
                    icon=":material/delete:",
                    key="teach_remove",
                    on_click=remove,
                    args=(drawings, index),
                )


def progress_bar():
    """A bar for the fine-tuning, once it has a slot; the function that moves it after each batch."""
    bar = st.progress(0.0, text="Fine-tuning…")

    def show_progress(event: events.ProgressEvent) -> None:
        if event["kind"] == "batch":
            bar.progress(*events.progress_summary(event))

    return show_progress


def fine_tune(classifier, drawings: handwriting.HandwritingSet, before: float) -> None:
    result = state.fine_tune_in_a_slot(classifier, drawings, progress_bar)
    if result is None:
        st.warning("The server is busy training other networks: try again in a minute.")
        return
    after = handwriting.evaluate_on(result.classifier, drawings).accuracy
    state.set_active(result.classifier, result.evaluation)
    st.session_state[NOTICE] = (
        "success",
        f"Fine-tuned in {result.seconds:.0f} s: your handwriting {before:.0%} → {after:.0%}, MNIST test "
        f"{result.evaluation.accuracy:.1%}. Draw and Confusion now use this network.",
    )
    st.rerun()


workarounds.through_router()
st.title("Teach it your handwriting")
classifier = widgets.require_active_classifier()
st.caption(f"Using {widgets.describe_active_model()}.", help=widgets.active_model_help())
drawings = state.own_handwriting()
if notice := st.session_state.pop(NOTICE, None):
    getattr(st, notice[0])(notice[1])

if not len(drawings):
    st.info(
        "Your handwriting set is empty. On the Draw page, after each digit, tell the network which digit "
        "you meant (“It's actually a …”): the drawing is kept here."
    )
    st.page_link("pages/draw.py", label="Draw a digit", icon=":material/draw:")
else:
    evaluation = show_scores(classifier, drawings)
    show_drawings(drawings, evaluation.predictions)
    fix_a_drawing(drawings, evaluation.predictions)
    st.subheader("Fine-tune on your drawings")
    st.caption(
        "A copy of the network trains for a few passes on your drawings, augmented, each batch mixed with "
        "three times as many MNIST images so that it does not forget MNIST."
    )
    if st.button(
        "Fine-tune",
        icon=":material/model_training:",
        key="teach_fine_tune",
        disabled=len(drawings) < MIN_DRAWINGS,
        help=f"Needs at least {MIN_DRAWINGS} drawings." if len(drawings) < MIN_DRAWINGS else None,
    ):
        fine_tune(classifier, drawings, evaluation.accuracy)

st.subheader("Keep your drawings")
with st.container(horizontal=True, wrap=True):
    st.download_button(
        "Download as zip",
        data=lambda: handwriting.to_zip(drawings),
        file_name="my-handwriting.zip",
        mime="application/zip",
        icon=":material/download:",
        disabled=not len(drawings),
        help="28×28 PNGs, the canvas as drawn, and labels.csv (file,label).",
    )
    with st.popover("Forget them…", icon=":material/delete:", disabled=not len(drawings)):
        st.write(f"Forget all {len(drawings)} drawings? Download them first to keep them.")
        if st.button("Yes, forget them", type="primary", key="teach_clear"):
            drawings.drawings.clear()
            st.rerun()
st.file_uploader("Import drawings from a zip downloaded here", type=["zip"], key=IMPORT, on_change=import_zip)
