"""digitlab's charts, as pure functions from numbers to `plotly.graph_objects.Figure`, and the style all
share: the probability bars and the confusion matrix here, the training curves in `curve_charts`, the
images in `image_charts`, the network's insides in `inside_charts`.

Like TensorFlow Playground's `linechart.ts`, this module knows only numbers: no streamlit, no model. The
figures are made for a classroom projector and a tablet: large type, the Okabe-Ito colour-blind-safe palette,
fixed heights, tight margins and hover texts that read as sentences.
"""

from __future__ import annotations

import functools

import numpy as np
import plotly.graph_objects as go

from digitlab.reading import format_probability

# Okabe-Ito palette: distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, VERMILLION = "#0072B2", "#E69F00", "#D55E00"
SKY, GREEN, PURPLE = "#56B4E9", "#009E73", "#CC79A7"
MUTED, INK, EMPTY = "#AAB4BE", "#1F2933", "#F2F4F7"
RUN_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, VERMILLION, SKY)
FONT = {"size": 18, "color": INK}
# Hue bands (degrees) and the everyday name a caption uses for a colour in them: a caption's colour word
# comes from the colour drawn (`colour_name`), so the two cannot drift apart again (issue 13: a caption
# said red where the chart drew orange).
HUE_NAMES = ((15, "red"), (45, "orange"), (70, "yellow"), (170, "green"), (260, "blue"), (320, "purple"))
HUE_NAMES += ((345, "pink"), (360, "red"))
CELL_MARKER_PX = 46  # confusion cells: 10 per 520 px side is 52 px, minus a 6 px gutter
TILE, TILE_SCALE = 28, 2.4  # image grid: MNIST side in pixels, screen pixels per image pixel
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
