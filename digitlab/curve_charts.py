"""The training curves: the Train page's interactive loss and accuracy figures, and Compare's runs.

Pure functions from a run's events to `plotly.graph_objects.Figure`, in `charts`' style (palette, type,
layout); `live_charts` draws the same curves as SVG while a run trains.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from digitlab.charts import BLUE, MUTED, RUN_COLOURS, SKY, VERMILLION, base_layout

METRICS = ("loss", "accuracy")
MAX_EPOCH_TICKS = 20  # Compare: one x tick per epoch up to this many epochs
# Accuracy ticks get more decimals as the tick step shrinks (a narrow range, or a zoom), so neighbouring
# ticks never both read "98%". Plotly picks the format by the step it chose: (lowest, highest step), format.
ACCURACY_TICK_FORMATS = (
    ((None, 0.000099), ".3%"),
    ((0.000099, 0.00099), ".2%"),
    ((0.00099, 0.0099), ".1%"),
    ((0.0099, None), ".0%"),
)
LEGEND_ON_TOP = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}
RUN_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")


def thin_points(xs, ys, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` evenly strided points, first and last always kept; deterministic."""
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    xs, ys = np.asarray(xs), np.asarray(ys)
    if len(xs) <= max_points:
        return xs, ys
    # Integer arithmetic: strictly increasing indices ending exactly at the last point.
    keep = np.arange(max_points) * (len(xs) - 1) // (max_points - 1)
    return xs[keep], ys[keep]


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")


def _curves_layout(metric: str, xaxis: dict, **extra) -> dict:
    stops = [{"dtickrange": list(steps), "value": form} for steps, form in ACCURACY_TICK_FORMATS]
    # Accuracy lies in 0-100 %: Plotly pads a lone point's axis to about -50 % otherwise (the tour found
    # Compare's axis at -50 % to 100 % with only a diverged run on it).
    bounds = {"minallowed": 0, "maxallowed": 1}
    accuracy = {
        "title": "Accuracy",
        "tickformat": ".0%",
        "tickformatstops": stops,
        "autorangeoptions": bounds,
    }
    yaxis = accuracy if metric == "accuracy" else {"title": "Loss", "rangemode": "tozero"}
    margin = {"l": 70, "r": 20, "t": 60, "b": 60}  # room on top for the legend
    # showlegend: Plotly hides the legend of a one-trace figure, such as a run that diverged in its
    # first epoch (only its per-batch curve), and then nobody can tell what the line is.
    return base_layout(
        380, xaxis=xaxis, yaxis=yaxis, legend=LEGEND_ON_TOP, showlegend=True, margin=margin, **extra
    )


def _hover(metric: str, what: str, x_format: str = ":.2f") -> str:
    value = "%{y:.1%}" if metric == "accuracy" else "%{y:.3f}"
    return f"Epoch %{{x{x_format}}}: {what} {metric} {value}"


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


def _series(events: list[dict], x_of, key: str) -> tuple[list, list]:
    """(x, y) of the events whose `key` is a number: a diverged batch's NaN or infinity is left out."""
    points = [(x_of(event), event[key]) for event in events if _finite(event.get(key))]
    return [x for x, _ in points], [y for _, y in points]


def epoch_x(event: dict) -> float:
    """Where an epoch event sits on the x axis, in epochs."""
    # "epoch" counts epochs completed (1 after the first), matching the batches' fractional "progress".
    return event["progress"] if event.get("progress") is not None else event["epoch"]


# The learning rate's axis, on the loss chart's right; ticks like 1e-3 and 5e-4 fit a phone.
RATE_AXIS = {"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False}
RATE_AXIS |= {"title": "Learning rate", "tickformat": ".1~e"}


def rate_series(batch_events: list[dict]) -> tuple[list, list]:
    """(progress, learning rate) of the batch events that carry the rate."""
    points = [(e["progress"], e["learning_rate"]) for e in batch_events if e.get("learning_rate") is not None]
    return ([p for p, _ in points], [r for _, r in points]) if points else ([], [])


def training_curves(
    batch_events: list[dict],
    epoch_events: list[dict],
    metric: str,
    max_points: int = 300,
    show_rate: bool = False,
) -> go.Figure:
    """The live training chart: a thin per-batch curve, then training and validation values per epoch.

    Redrawn twice a second for every watching browser, so it stays small however long the run: at
    most `max_points` per-batch points (300 is two screen pixels each), as 4-byte floats. With
    `show_rate` (a run with a learning-rate schedule) the loss chart draws the rate on a right-hand axis.
    """
    _check_metric(metric)
    # uirevision: a live redraw keeps the reader's zoom and legend choices.
    fig = go.Figure(
        layout=_curves_layout(metric, {"title": "Epochs", "rangemode": "tozero"}, uirevision=metric)
    )
    # Thin the events before reading them: a 50-epoch run has tens of thousands.
    keep, _ = thin_points(np.arange(len(batch_events)), np.arange(len(batch_events)), max_points)
    xs, ys = map(np.asarray, _series([batch_events[i] for i in keep], lambda e: e["progress"], metric))
    if len(xs):
        fig.add_scatter(
            x=xs.astype(np.float32),
            y=ys.astype(np.float32),
            mode="lines",
            name="Training, each batch",
            line={"color": SKY, "width": 1.5},
            hovertemplate=_hover(metric, "training") + "<extra></extra>",
        )
    for key, name, colour, symbol, dash in (
        (metric, "Training, end of epoch", BLUE, "circle", "solid"),
        (f"val_{metric}", "Validation", VERMILLION, "diamond", "dash"),
    ):
        ex, ey = _series(epoch_events, epoch_x, key)
        if ex:
            fig.add_scatter(
                x=ex,
                y=ey,
                mode="markers+lines",
                name=name,
                hovertemplate=_hover(metric, name.split(",")[0].lower()) + "<extra></extra>",
                line={"color": colour, "width": 3, "dash": dash},
                marker={"size": 11, "symbol": symbol},
            )
    rate_x, rate_y = rate_series([batch_events[i] for i in keep])
    if show_rate and metric == "loss" and rate_x:
        fig.add_scatter(
            x=rate_x,
            y=rate_y,
            yaxis="y2",
            mode="lines",
            name="Learning rate (right axis)",
            line={"color": MUTED, "width": 2, "dash": "dot"},
            hovertemplate="epoch %{x:.2f}<br>learning rate %{y:.3g}<extra></extra>",
        )
        fig.update_layout(yaxis2=RATE_AXIS)
    if not fig.data:
        fig.add_annotation(text="Waiting for the first batch…", showarrow=False, xref="paper", yref="paper")
    return fig


class CompareRun(NamedTuple):
    """One run on Compare's charts: its name, its epoch events and, for a run that diverged, the thinned
    per-batch curve to fall back on (a run that blew up in its first epoch has no epoch point)."""

    name: str
    epochs: list[dict]
    batches: list[dict] | tuple = ()
    diverged: bool = False


DIVERGED_DASH = "dash"
# The loss axis of Compare stops at this many times the highest loss of the runs that did not diverge
# (or of guessing, ln 10): a diverged run's last loss, thousands, would flatten every other line.
LOSS_HEADROOM = 1.2
GUESSING_LOSS = math.log(10)


def _compare_series(run: CompareRun, metric: str) -> tuple[str, list, list]:
    """What Compare draws of a run: (validation or training, x, y); a diverged run without an epoch point
    gives its per-batch training curve, up to the batch where its loss blew up."""
    has_val = any(_finite(event.get(f"val_{metric}")) for event in run.epochs)
    what = "validation" if has_val else "training"
    xs, ys = _series(run.epochs, epoch_x, f"val_{metric}" if has_val else metric)
    if run.diverged and not xs:
        xs, ys = _series(run.batches, lambda event: event["progress"], metric)
    return what, xs, ys


def compare_curves(runs: list[CompareRun | tuple], metric: str) -> go.Figure:
    """One line per run: its validation `metric` per epoch, or its training values if it has no validation.

    Each run is a `CompareRun` (or a plain (name, epochs) pair). A diverged run is drawn too, dashed and
    named "(diverged)", from its per-batch curve when it never finished an epoch.
    """
    _check_metric(metric)
    runs = [CompareRun(*run) for run in runs]
    # One tick per epoch while they fit; a 60-epoch model from the shelf gets Plotly's own spacing.
    longest = max((len(run.epochs) for run in runs), default=0)
    xaxis = {"title": "Epoch", "dtick": 1 if longest <= MAX_EPOCH_TICKS else None}
    fig = go.Figure(layout=_curves_layout(metric, xaxis))
    calm = []  # the loss values of the runs that did not diverge, for the loss axis's top
    for i, run in enumerate(runs):
        what, xs, ys = _compare_series(run, metric)
        if not run.diverged:
            calm.extend(ys)
        fig.add_scatter(
            x=xs,
            y=ys,
            mode="markers+lines",
            name=f"{run.name} ({what}{', diverged' if run.diverged else ''})",
            line={
                "color": RUN_COLOURS[i % len(RUN_COLOURS)],
                "width": 3,
                "dash": DIVERGED_DASH if run.diverged else "solid",
            },
            marker={"size": 10, "symbol": RUN_SYMBOLS[i % len(RUN_SYMBOLS)]},
            hovertemplate=_hover(metric, what, x_format=""),  # the run's name shows beside it
        )
    if metric == "loss" and any(run.diverged for run in runs):
        fig.update_yaxes(range=[0, LOSS_HEADROOM * max([GUESSING_LOSS, *calm])])
    return fig
