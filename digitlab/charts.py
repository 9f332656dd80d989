"""Every chart digitlab draws, as pure functions from numbers to `plotly.graph_objects.Figure`.

Like TensorFlow Playground's `linechart.ts`, this module knows only numbers: no streamlit, no model. The
figures are made for a classroom projector and a tablet: large type, the Okabe-Ito colour-blind-safe palette,
fixed heights, tight margins and hover texts that read as sentences.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from digitlab.reading import format_probability

# Okabe-Ito palette: distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, VERMILLION = "#0072B2", "#E69F00", "#D55E00"
SKY, GREEN, PURPLE = "#56B4E9", "#009E73", "#CC79A7"
MUTED, INK, EMPTY = "#AAB4BE", "#1F2933", "#F2F4F7"
RUN_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, VERMILLION, SKY)
RUN_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")
FONT = {"size": 18, "color": INK}
# Hue bands (degrees) and the everyday name a caption uses for a colour in them: a caption's colour word
# comes from the colour drawn (`colour_name`), so the two cannot drift apart again (issue 13: a caption
# said red where the chart drew orange).
HUE_NAMES = ((15, "red"), (45, "orange"), (70, "yellow"), (170, "green"), (260, "blue"), (320, "purple"))
HUE_NAMES += ((345, "pink"), (360, "red"))
METRICS = ("loss", "accuracy")
MAX_EPOCH_TICKS = 20  # Compare: one x tick per epoch up to this many epochs
CELL_MARKER_PX = 46  # confusion cells: 10 per 520 px side is 52 px, minus a 6 px gutter
TILE, TILE_SCALE = 28, 2.4  # image grid: MNIST side in pixels, screen pixels per image pixel
# Accuracy ticks get more decimals as the tick step shrinks (a narrow range, or a zoom), so neighbouring
# ticks never both read "98%". Plotly picks the format by the step it chose: (lowest, highest step), format.
ACCURACY_TICK_FORMATS = (
    ((None, 0.000099), ".3%"),
    ((0.000099, 0.00099), ".2%"),
    ((0.00099, 0.0099), ".1%"),
    ((0.0099, None), ".0%"),
)
LEGEND_ON_TOP = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}
# Our own few template settings instead of Plotly's default template, which would add 7 kB to every
# figure: the live charts go to each browser twice a second.
PLAIN_AXIS = {"gridcolor": "#E6E9ED", "zerolinecolor": MUTED, "automargin": True}
TEMPLATE = {"layout": {"xaxis": PLAIN_AXIS, "yaxis": PLAIN_AXIS}}
HIDDEN_AXIS = {"visible": False, "fixedrange": True, "constrain": "domain"}


def colour_name(colour: str) -> str:
    """The everyday name of a '#RRGGBB' colour, by its hue: '#D55E00' (Okabe-Ito vermillion) -> 'orange'."""
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    high, low = max(red, green, blue), min(red, green, blue)
    if high - low < 0.15:  # hardly any colour in it
        return "grey"
    if high == red:
        hue = 60 * ((green - blue) / (high - low)) % 360
    elif high == green:
        hue = 60 * (2 + (blue - red) / (high - low))
    else:
        hue = 60 * (4 + (red - green) / (high - low))
    return next(name for limit, name in HUE_NAMES if hue < limit)


RIGHT_COLOUR, MISTAKE_COLOUR = BLUE, VERMILLION  # the confusion matrix's cells; mistakes in the image grids


def base_layout(height: int, **extra) -> dict:
    base = {
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 40, "b": 60},
        "font": FONT,
        "hoverlabel": {"font": {"size": 16}},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "template": TEMPLATE,
    }
    return base | extra


def _digit_axis(title: str) -> dict:
    fixed = {"fixedrange": True, "showgrid": False, "zeroline": False}
    return {"title": title, "tickvals": list(range(10)), "range": [-0.5, 9.5]} | fixed


def probability_bars(probs: np.ndarray, highlight: int | None = None) -> go.Figure:
    """Bars of the ten digit probabilities; `highlight` (default: the likeliest) in the accent colour.

    Drawn after every stroke, so Plotly validates the figure's fixed parts once (`_bars_template`) and
    only the three lists that change are checked here: validating the whole figure again cost a stroke
    5.5 ms, against 0.8 ms. tests/test_charts.py checks that Plotly's full validation changes nothing.
    """
    probs = np.asarray(probs, dtype=float)
    if probs.shape != (10,):
        raise ValueError(f"expected 10 probabilities, got shape {probs.shape}")
    top = int(np.argmax(probs)) if highlight is None else int(highlight)
    bar, layout = _bars_template()
    changing = {
        "y": probs.copy(),
        "marker": {"color": [BLUE if digit == top else MUTED for digit in range(10)]},
        "text": [format_probability(p) for p in probs],
    }
    # Plotly 7.1's `_validate=False` keeps these dicts as they are; the figure is Plotly's own, so
    # `st.plotly_chart` and every test read it as usual.
    return go.Figure({"data": [bar | changing], "layout": layout}, _validate=False)


@functools.cache
def _bars_template() -> tuple[dict, dict]:
    """`probability_bars`'s fixed parts, validated by Plotly, as the plain dicts of one trace and a layout."""
    bars = go.Bar(
        x=list(range(10)),
        y=[0.0] * 10,
        marker_color=[MUTED] * 10,
        text=[""] * 10,
        textposition="outside",
        cliponaxis=False,  # a ">99%" label may stand above the axis
        hovertemplate="Digit %{x}: probability %{y:.1%}<extra></extra>",
    )
    percent = {"range": [0, 1], "tickformat": ".0%", "dtick": 0.25, "fixedrange": True}
    layout = base_layout(
        340, xaxis=_digit_axis("Digit"), yaxis={"title": "Probability"} | percent, showlegend=False
    )
    figure = go.Figure(bars, layout).to_dict()
    return figure["data"][0], figure["layout"]


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
    accuracy = {"title": "Accuracy", "tickformat": ".0%", "tickformatstops": stops}
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


def _blend(colour: str, strength: np.ndarray) -> list[str]:
    """Mix from the empty-cell grey (strength 0) to `colour` (strength 1)."""
    start = np.array([int(EMPTY[i : i + 2], 16) for i in (1, 3, 5)])
    end = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    mixed = np.rint(start + np.outer(strength, end - start)).astype(int)
    return [f"rgb({r},{g},{b})" for r, g, b in mixed]


def _cell_strength(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    # Errors get their own scale: next to 99% correct, a 1% confusion would otherwise be invisible.
    peak = values[group].max(initial=0)
    strength = np.where(values > 0, 0.15 + 0.85 * values / max(peak, 1e-12), 0.0)
    return np.where(group, strength, 0.0)


def _cell_sentence(true: int, pred: int, count: int, fraction: float) -> str:
    images = "image" if count == 1 else "images"
    verdict = ", correct" if true == pred else ""
    return f"True {true}, predicted {pred}: {count} {images}{verdict} ({fraction:.1%} of the {true}s)"


def _percent(value: float) -> str:
    return f"{value:.0%}" if value >= 0.1 else f"{value:.1%}"


def confusion_matrix_figure(
    cm: np.ndarray, normalize: bool = False, rows: str = "True digit", columns: str = "Predicted digit"
) -> go.Figure:
    """The 10×10 confusion matrix (rows true, columns predicted; `rows` and `columns` title the axes) as
    clickable squares.

    A scatter, not a heatmap, because Streamlit's `on_select` reports no selection for heatmaps. Each point's
    customdata is [true, predicted, count, fraction of its row]; correct cells are blue, errors vermillion.
    """
    cm = np.asarray(cm)
    if cm.shape != (10, 10) or cm.min(initial=0) < 0:
        raise ValueError(f"expected a 10x10 matrix of counts, got shape {cm.shape}")
    true, pred = np.divmod(np.arange(100), 10)  # point k is the cell (k // 10, k % 10)
    counts = cm.ravel().astype(int)
    fractions = (cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)).ravel()
    values = fractions if normalize else counts.astype(float)
    correct = true == pred
    strength = _cell_strength(values, correct) + _cell_strength(values, ~correct)
    colours = np.where(correct, _blend(RIGHT_COLOUR, strength), _blend(MISTAKE_COLOUR, strength))
    shown = (counts > 0) | correct  # empty error cells stay blank: less to read
    labels = [
        (_percent(v) if normalize else str(c)) if show else ""
        for v, c, show in zip(values, counts, shown, strict=True)
    ]
    # Plain ints, so a page reads the clicked cell's digits straight from Streamlit's selection.
    cells_data = [
        [int(t), int(p), int(c), float(f)] for t, p, c, f in zip(true, pred, counts, fractions, strict=True)
    ]
    cells = go.Scatter(
        x=pred,
        y=true,
        mode="markers+text",
        text=labels,
        textfont={"size": 14, "color": np.where(strength > 0.55, "white", INK)},
        marker={
            "symbol": "square",
            "size": CELL_MARKER_PX,
            "color": colours,
            "line": {"width": np.where(correct, 3, 0), "color": INK},
        },
        customdata=cells_data,
        hovertext=[_cell_sentence(*cell) for cell in cells_data],
        hovertemplate="%{hovertext}<extra></extra>",
        selected={"marker": {"opacity": 1}},
        unselected={"marker": {"opacity": 0.35}},
    )
    layout = base_layout(
        640,  # 520 px square plot plus margins; scaleanchor keeps the cells square at any width
        margin={"l": 90, "r": 20, "t": 30, "b": 90},
        xaxis=_digit_axis(columns) | {"scaleanchor": "y", "constrain": "domain"},
        yaxis=_digit_axis(rows) | {"range": [9.5, -0.5], "constrain": "domain"},
        clickmode="event+select",  # one click selects one cell; Streamlit reports it through on_select
        dragmode=False,  # no box or lasso: a drag never selects several cells
        hovermode="closest",
        showlegend=False,
    )
    return go.Figure(cells, layout)
