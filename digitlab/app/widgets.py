"""Widgets more than one page shows: the active model's name and scores, the report table, pixels, errors.

Also the live view's SVG pictures (`show_live_pictures`), drawn by a component that
`workarounds` registers.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from digitlab import data, evaluation, glossary, image_charts, modelfile
from digitlab.app import resources, state, workarounds

# How st.dataframe shows evaluation.report_in_percent(evaluation.report) (Train and Confusion pages).
REPORT_COLUMNS = {
    "digit": st.column_config.TextColumn("Digit"),
    "precision": st.column_config.NumberColumn(
        "Precision", format="%.1f%%", help=glossary.explain("precision")
    ),
    "recall": st.column_config.NumberColumn("Recall", format="%.1f%%", help=glossary.explain("recall")),
    "f1": st.column_config.NumberColumn("F1", format="%.1f%%", help=glossary.explain("F1")),
    "support": st.column_config.NumberColumn(
        "Test images", format="localized", help=glossary.explain("support")
    ),
}


def show_live_pictures(pictures: list[str], key: str) -> None:
    """SVG pictures we drew (never user text) side by side, wrapping on a narrow screen; cheap to redraw."""
    workarounds.live_pictures(key=key, data=pictures, width="stretch")


MIN_CAPTION_PX = 100  # a caption is as wide as its image: a cropped "1" put one letter on each line


def show_pixels(pixels: np.ndarray, side: int, caption: str) -> None:
    """A grey image `side` px on its longer side, each pixel a sharp square; a narrow one on a grey
    band wide enough for its caption."""
    svg, width = image_charts.pixels_svg(pixels, side, MIN_CAPTION_PX)
    st.image(svg, width=width, caption=caption)  # inline, at its own size: no image file to serve


DIGIT_TILE_PX = 56  # an MNIST image drawn 2× its size
TILE_GAP_PX = 3  # white around each tile, so neighbours' black squares do not merge into a band


def show_digit_tiles(images: np.ndarray, captions: list[str], side: int = DIGIT_TILE_PX) -> None:
    """Small digit images, each with its caption under it, in rows the browser wraps to the screen.

    A Plotly image grid shrinks its pictures on a phone but not their text, so a row's labels ran into
    the row above; here each caption stays under its own image at any width.
    """
    pad = TILE_GAP_PX
    tiles = [np.pad(image_charts.enlarge(image, side), pad, constant_values=255) for image in images]
    st.image(tiles, caption=captions, width=side + 2 * pad)


def describe_active_model() -> str:
    """'**Shape-spotting network (CNN), 2 averaged** (the default model: 99.4% of MNIST's test digits…)'."""
    name, metrics = state.active_model_label()
    active = st.session_state.get(state.ACTIVE)
    origin = active.get("origin", "your trained model") if active else "the default model"
    scores = []
    if metrics.get("test_accuracy") is not None:
        scores.append(f"{metrics['test_accuracy']:.1%} of MNIST's test digits")
    if metrics.get("pen_accuracy") is not None:
        scores.append(f"{metrics['pen_accuracy']:.1%} of pen-drawn digits by unseen writers")
    shown = glossary.friendly_name(name)  # the technical name is in `active_model_help`, on hover
    return f"**{shown}** ({origin}{': ' + ' and '.join(scores) + ' read right' if scores else ''})"


def technical_label(classifier) -> str | None:
    """The network's technical name, when digitlab built it (a foreign file's config is only a guess)."""
    return None if "foreign" in classifier.metadata else classifier.config.label


def active_model_help() -> str:
    """The hover text beside the active model's name: its technical name, decoded."""
    name, _ = state.active_model_label()
    active = st.session_state.get(state.ACTIVE)
    return glossary.technical_help(name, technical_label(active["classifier"]) if active else None)


def show_two_accuracies(classifier, evaluation=None) -> None:
    """MNIST test accuracy beside pen-drawn digits by unseen writers, each against the default model."""
    metrics = getattr(classifier, "metadata", {}).get("metrics", {})
    mnist = evaluation.accuracy if evaluation is not None else metrics.get("test_accuracy")
    pen = metrics.get("pen_accuracy")
    try:
        default = resources.get_default_metadata().get("metrics", {})
    except modelfile.ModelFileError:
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
        if (
            value is not None
            and default.get(key) is not None
            and classifier is not resources.get_default_classifier()
        ):
            versus = f"{(value - default[key]) * 100:+.1f} points vs the default model"
        shown = f"{value:.1%}" if value is not None else "not measured"
        column.metric(name, shown, versus, help=help_text, border=True)


def require_dataset() -> data.Dataset:
    """The dataset, or a clear error and the end of this page run."""
    try:
        return resources.get_dataset()
    except data.DataError as error:
        st.error(f"The MNIST images could not be loaded: {error}")
        st.stop()


def require_active_classifier():
    """The active model, or a clear error and the end of this page run."""
    try:
        return state.active_classifier()
    except modelfile.ModelFileError as error:
        st.error(
            f"The default model could not be loaded: {error}. Train one on the Train page, or restore "
            "assets/models/default.keras with `python -m digitlab train --preset default "
            "--out assets/models/default`."
        )
        st.stop()


def show_report(report) -> None:
    """The classification report, one row per digit, as the Train and Confusion pages show it."""
    st.subheader("Per digit")
    st.caption(
        "How well it reads each digit; hover over a column's name for what it means. The last two rows "
        "sum up the ten digits: " + glossary.explain("macro avg", "weighted avg").replace("\n\n", " "),
        help=glossary.explain("precision", "recall", "F1", "support"),
    )
    st.dataframe(
        evaluation.report_in_percent(report.report),
        hide_index=True,
        height="content",
        column_config=REPORT_COLUMNS,
    )
