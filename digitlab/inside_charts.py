"""The figures of the "Look inside" views, as pure functions from arrays to plotly figures.

A companion to charts.py (whose `weights_grid` draws an MLP's first layer): convolution filters, feature
maps and a dense layer's units, each as small multiples in one heatmap trace, light enough to redraw after
every stroke. Weights use a diverging scale centred on 0; activations a sequential one, unless they can be
negative (tanh), then diverging too.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import diverging

from digitlab.charts import FONT, HIDDEN_AXIS

SEQUENTIAL = "Blues"
UNITS_PER_ROW = 16
MIN_FILTERS_HEIGHT = 200
# An activation in plain words (`glossary.TERMS["activation"]`), on the colour bar and on hover.
STRENGTH = "How strongly it answers:"
STRENGTH_TITLE = "How strongly<br>it answers"


def montage(tiles: np.ndarray, columns: int, gap: int = 1) -> np.ndarray:
    """(N, h, w) tiles in rows of `columns` on one float canvas, NaN in the gutters (drawn empty)."""
    count, h, w = tiles.shape
    rows = max(1, math.ceil(count / columns))
    canvas = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, dtype=np.float32)
    for i, tile in enumerate(tiles):
        top, left = (i // columns) * (h + gap), (i % columns) * (w + gap)
        canvas[top : top + h, left : left + w] = tile
    return canvas


def _tiles_figure(canvas: np.ndarray, hover: str, title: str, height: int, signed: bool) -> go.Figure:
    finite = canvas[np.isfinite(canvas)]
    limit = float(np.abs(finite).max(initial=0)) or 1.0
    scale = {"zmin": -limit, "zmax": limit, "colorscale": diverging.RdBu} if signed else {}
    heatmap = go.Heatmap(
        z=canvas,
        **(scale or {"zmin": 0, "zmax": limit, "colorscale": SEQUENTIAL}),
        hoverongaps=False,
        colorbar={"title": {"text": title}, "thickness": 14},
        hovertemplate=hover + "<extra></extra>",
    )
    layout = {
        "height": height,
        "margin": {"l": 5, "r": 5, "t": 5, "b": 5},
        "font": FONT,
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "xaxis": HIDDEN_AXIS | {"scaleanchor": "y"},
        "yaxis": HIDDEN_AXIS | {"autorange": "reversed"},
    }
    return go.Figure(heatmap, layout)


def filters_grid(kernel: np.ndarray, columns: int = 8) -> go.Figure:
    """A convolution's first-layer filters (height, width, 1, filters), each at its own size, enlarged."""
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 4 or kernel.shape[2] != 1:
        raise ValueError(f"expected a first convolution's kernel (h, w, 1, filters), got {kernel.shape}")
    tiles = np.moveaxis(kernel[:, :, 0, :], -1, 0)
    canvas = montage(tiles, columns)
    # At least 200 px tall: a CNN with 4 filters is one short row, and its colour bar needs the room.
    height = max(MIN_FILTERS_HEIGHT, 90 * canvas.shape[0] // kernel.shape[0])
    return _tiles_figure(canvas, "Weight %{z:+.3f}", "Weight", height, True)


def feature_maps(values: np.ndarray, max_maps: int = 32, columns: int = 8) -> go.Figure:
    """A convolution layer's answer (height, width, channels): one small image per filter."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 3:
        raise ValueError(f"expected feature maps (height, width, channels), got {values.shape}")
    tiles = np.moveaxis(values[:, :, :max_maps], -1, 0)
    canvas = montage(tiles, columns)
    height = int(60 * canvas.shape[0] / values.shape[0]) + 10
    return _tiles_figure(canvas, f"{STRENGTH} %{{z:.2f}}", STRENGTH_TITLE, height, bool((values < 0).any()))


def units_grid(values: np.ndarray) -> go.Figure:
    """A dense layer's answer (units,): one square per unit, UNITS_PER_ROW to a row."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 1:
        raise ValueError(f"expected one activation per unit, got shape {values.shape}")
    rows = math.ceil(len(values) / UNITS_PER_ROW)
    canvas = np.full(rows * UNITS_PER_ROW, np.nan, dtype=np.float32)
    canvas[: len(values)] = values
    canvas = canvas.reshape(rows, UNITS_PER_ROW)
    units = np.arange(rows * UNITS_PER_ROW).reshape(rows, UNITS_PER_ROW)
    figure = _tiles_figure(
        canvas,
        f"Unit %{{customdata}}, {STRENGTH.lower()} %{{z:.2f}}",
        STRENGTH_TITLE,
        40 * rows + 20,
        bool((values < 0).any()),
    )
    figure.update_traces(customdata=units, xgap=2, ygap=2)
    return figure
