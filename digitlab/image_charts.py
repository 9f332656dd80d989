"""Pictures of digits: a grid of small images with titles, a drawing's nearest training images, an MLP's
first-layer weights, enlarged pixels.

Pure functions from arrays to a Plotly figure (one PNG image trace, light on a tablet) or to pixels;
the colours and layout come from `charts`.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.colors import diverging

from digitlab.charts import HIDDEN_AXIS, INK, MISTAKE_COLOUR, TILE, TILE_SCALE, base_layout, colour_name

# What the captions call the colour a wrong reading is drawn in: "orange" (Okabe-Ito vermillion).
MISTAKE_COLOUR_NAME = colour_name(MISTAKE_COLOUR)


def _png_data_uri(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _montage(tiles: np.ndarray, columns: int, gap_x: int, gap_y: int, fill) -> tuple[np.ndarray, list]:
    """28×28 tiles in rows of `columns` on one canvas, `gap_y` free rows above each; and their corners."""
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    block_h, block_w = TILE + gap_y, TILE + gap_x
    canvas = np.full(
        (max(1, math.ceil(len(tiles) / columns)) * block_h, columns * block_w), fill, tiles.dtype
    )
    corners = [((i // columns) * block_h + gap_y, (i % columns) * block_w) for i in range(len(tiles))]
    for tile, (top, left) in zip(tiles, corners, strict=True):
        canvas[top : top + TILE, left : left + TILE] = tile
    return canvas, corners


def image_grid(
    images: np.ndarray, titles: list[str], columns: int = 10, wrong: list[bool] | None = None
) -> go.Figure:
    """Small multiples of (N, 28, 28) uint8 images with a title above each; `wrong` ones framed in orange.

    A title may take two lines ("7\\nis 1"); the gap above every tile then grows to fit. One PNG image
    trace rather than N subplots keeps 50 digits light for a tablet.
    """
    images = np.asarray(images, dtype=np.uint8)
    wrong = [False] * len(images) if wrong is None else list(wrong)
    if images.shape[1:] != (TILE, TILE) or not len(titles) == len(wrong) == len(images):
        raise ValueError(f"need (N, 28, 28) images, N titles and N flags; got {images.shape}, {len(titles)}")
    # White gutters above each tile for its title: 9 image pixels a line.
    lines = max((title.count("\n") + 1 for title in titles), default=1)
    canvas, corners = _montage(images, columns, gap_x=4, gap_y=9 * lines, fill=255)
    return _titled_tiles(canvas, corners, titles, wrong)


def _titled_tiles(
    canvas: np.ndarray, corners: list, titles: list[str], wrong: list[bool], notes: tuple = ()
) -> go.Figure:
    """The montage as one image trace, each tile's title just above it, `wrong` ones framed in orange.

    Titles, frames and any further `notes` go into the layout at once: a figure validates each
    `add_annotation` on its own: 16 tiles took about 60 ms that way (50 tiles 350 ms), now 7.
    """
    annotations, frames = [], []
    for (top, left), title, is_wrong in zip(corners, titles, wrong, strict=True):
        title = title.replace("\n", "<br>")
        annotations.append(
            {
                "x": left + TILE / 2 - 0.5,
                "y": top - 0.5,
                "yanchor": "bottom",
                "text": f"<b>{title}</b>" if is_wrong else title,
                "font": {"size": 15, "color": MISTAKE_COLOUR if is_wrong else INK},
                "showarrow": False,
            }
        )
        if is_wrong:  # a frame as well as the colour, for readers who cannot tell the colour apart
            box = {"x0": left - 1, "x1": left + TILE, "y0": top - 1, "y1": top + TILE}
            frames.append({"type": "rect", "line": {"color": MISTAKE_COLOUR, "width": 3}} | box)
    height, width = (int(side * TILE_SCALE) + 10 for side in canvas.shape)
    layout = base_layout(height, width=width, margin={"l": 5, "r": 5, "t": 5, "b": 5}) | {
        "annotations": annotations + list(notes),
        "shapes": frames,
        "xaxis": HIDDEN_AXIS | {"scaleanchor": "y"},
        "yaxis": HIDDEN_AXIS,
    }
    return go.Figure(go.Image(source=_png_data_uri(canvas), hoverinfo="skip"), layout)


NEIGHBOUR_COLUMNS = 4


def neighbours_grid(
    alike: np.ndarray, alike_labels: np.ndarray, meant: np.ndarray, meant_digit: int, read_as: int
) -> go.Figure:
    """Two rows of (k, 28, 28) training images under a heading each: "Most alike to the network", with
    their labels, those labelled `read_as` (a wrong reading) framed in orange; then the nearest of
    `meant_digit`. Rows of four, so each heading starts a new row.
    """
    alike, meant = np.asarray(alike, np.uint8), np.asarray(meant, np.uint8)
    if alike.shape != meant.shape or alike.shape[1:] != (TILE, TILE) or len(alike_labels) != len(alike):
        raise ValueError(f"need two rows of k 28×28 images and k labels; got {alike.shape}, {meant.shape}")
    # Above each row: its heading (15 image pixels, with air between the rows) and the tiles' titles (9).
    gap = 15 + 9
    # Four a row: the figure stays narrow enough for a phone, whose screen would shrink it under its text.
    columns = min(len(alike), NEIGHBOUR_COLUMNS)
    canvas, corners = _montage(np.concatenate([alike, meant]), columns, gap_x=4, gap_y=gap, fill=255)
    labels = [int(label) for label in alike_labels]
    titles = [str(label) for label in labels] + [str(meant_digit)] * len(meant)
    wrong = [read_as != meant_digit and label == read_as for label in labels] + [False] * len(meant)
    headings = ("Most alike to the network", f"Nearest {meant_digit}s it learnt from")
    notes = [
        {
            "x": -0.5,
            "y": corners[row * len(alike)][0] - gap + 2.5,
            "xanchor": "left",
            "yanchor": "top",
            "text": f"<b>{heading}</b>",
            "font": {"size": 16, "color": INK},
            "showarrow": False,
        }
        for row, heading in enumerate(headings)
    ]
    return _titled_tiles(canvas, corners, titles, wrong, tuple(notes))


def weights_grid(weights: np.ndarray, max_units: int = 64) -> go.Figure:
    """Each first-layer unit's 784 input weights as a 28×28 tile; blue positive, red negative, 0 white."""
    weights = np.asarray(weights, dtype=np.float32)
    if weights.ndim != 2 or weights.shape[0] != TILE * TILE:
        raise ValueError(f"expected weights of shape (784, units), got {weights.shape}")
    tiles = weights[:, :max_units].T.reshape(-1, TILE, TILE)
    canvas, _ = _montage(tiles, max(1, math.ceil(math.sqrt(len(tiles)))), gap_x=2, gap_y=2, fill=np.nan)
    limit = float(np.abs(tiles).max(initial=0)) or 1.0  # symmetric, so white always means 0
    heatmap = go.Heatmap(
        z=canvas,
        zmin=-limit,
        zmax=limit,
        colorscale=diverging.RdBu,
        hoverongaps=False,  # NaN gutters draw nothing and say nothing
        colorbar={"title": {"text": "Weight"}, "thickness": 16},
        hovertemplate="Weight %{z:+.3f} on this pixel<extra></extra>",
    )
    layout = base_layout(560, margin={"l": 5, "r": 5, "t": 5, "b": 5})
    layout |= {"xaxis": HIDDEN_AXIS | {"scaleanchor": "y"}, "yaxis": HIDDEN_AXIS | {"autorange": "reversed"}}
    return go.Figure(heatmap, layout)


def pixels_svg(pixels: np.ndarray, side: int, min_width: int, margin: int = 128) -> tuple[str, int]:
    """`pixels` scaled so its longer side is `side`, as SVG markup, and the markup's width in px.

    A narrow image sits on a mid-grey band `min_width` wide, apart from both the white ink and the black
    background: a caption is as wide as its image, and a cropped "1" is a strip.

    The PNG inside stays at the image's own size (a 28×28 drawing is a few hundred bytes) and the
    browser enlarges it, each pixel a sharp square (`image-rendering: pixelated`). A page can show it
    inline, with no image file for the server to store and the browser to fetch: a stroke on Draw
    shows five of these.
    """
    pixels = np.asarray(pixels, dtype=np.uint8)
    h, w = pixels.shape
    scale = side / max(h, w)
    shown_w, shown_h = max(1, round(w * scale)), max(1, round(h * scale))
    if scale < 1:  # shrinking: average here, as `enlarge` does, rather than let the browser drop pixels
        pixels = enlarge(pixels, side)
    width = max(shown_w, min_width)
    left = (width - shown_w) // 2
    band = f'<rect width="{width}" height="{shown_h}" fill="rgb({margin},{margin},{margin})"/>'
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{shown_h}" '
        f'viewBox="0 0 {width} {shown_h}">{band if width > shown_w else ""}'
        f'<image x="{left}" width="{shown_w}" height="{shown_h}" preserveAspectRatio="none" '
        f'image-rendering="optimizeSpeed" style="image-rendering:pixelated" href="{_png_data_uri(pixels)}"/>'
        "</svg>"
    )
    return svg, width


def enlarge(pixels: np.ndarray, side: int) -> np.ndarray:
    """Scale a grey image so its longer side is `side`: blocky (nearest) when growing, so pixels show."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    h, w = pixels.shape
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    method = Image.NEAREST if scale >= 1 else Image.BOX
    return np.asarray(Image.fromarray(pixels).resize(size, method))
