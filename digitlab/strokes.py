"""Pen-drawn digits (UNIPEN) replayed the way the Draw page's canvas would show them.

This module owns reading the UNIPEN stroke file, placing a digit's strokes on the 280x280 canvas as
a person would draw it, and rendering strokes like the canvas's fabric.js pencil (white, round caps
and joins, anti-aliased, on opaque black). `place_on_canvas` is pure numbers in, numbers out, so
the browser test can replay the same points as real mouse moves.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# The data sits beside the repository (../shared), not inside it: it is a test set, not shipped.
UNIPEN_PATH = Path(__file__).resolve().parents[2] / "shared/data/unipen/unipen_1a_digits.json.gz"
UNIPEN_ENV = "DIGITLAB_UNIPEN"  # set to another path to read the file from elsewhere

CANVAS = 280  # px, the Draw page's canvas
BRUSH = 18  # px, the canvas's default brush width
HEIGHT_RANGE = (0.5, 0.8)  # a digit's height as a fraction of the canvas, as people draw
MAX_WIDTH = 0.8  # wide digits are shrunk to this fraction of the canvas width
MAX_OFFSET = 0.08  # off-centre by up to this fraction of the canvas
SUPERSAMPLE = 3  # draw at 3x and box-reduce: anti-aliased edges like the browser's

Stroke = list[tuple[float, float]]


@dataclass(frozen=True)
class Sample:
    label: int
    source: str  # the lab that collected it (UNIPEN's three-letter code)
    writer: str
    strokes: list[list[list[int]]]  # pen-down trajectories of [x, y] in tablet units, y pointing up


def unipen_path() -> Path:
    return Path(os.environ.get(UNIPEN_ENV) or UNIPEN_PATH)


def load_unipen(path: str | Path | None = None) -> list[Sample]:
    """All digits of the UNIPEN file (15,953 by default); FileNotFoundError names the path tried."""
    path = Path(path) if path is not None else unipen_path()
    if not path.exists():
        raise FileNotFoundError(f"UNIPEN digits not found at {path} (set {UNIPEN_ENV} to its path)")
    with gzip.open(path, "rt", encoding="utf-8") as file:
        items = json.load(file)
    return [
        Sample(
            label=int(item["label"]),
            source=str(item["source"]),
            writer=str(item["writer"]),
            strokes=[stroke for stroke in item["strokes"] if stroke],  # as parsed: converting costs 1 s
        )
        for item in items
    ]


def place_on_canvas(strokes, rng: np.random.Generator, canvas: int = CANVAS) -> list[Stroke]:
    """Strokes in canvas pixels (y down): the digit 50-80 % of the canvas tall, roughly centred.

    `strokes` are lists of (x, y) with y pointing up, in any units; `rng` draws the height and the
    offset, so a seeded generator gives the same placement every time.
    """
    points = [np.asarray(stroke, np.float64).reshape(-1, 2) * (1, -1) for stroke in strokes]
    every = np.concatenate(points)
    low, high = every.min(0), every.max(0)
    width, height = high - low
    size = rng.uniform(*HEIGHT_RANGE) * canvas
    # A digit with no height (a dash) is scaled by its width instead; a dot stays a dot.
    scale = size / height if height > 0 else size / max(width, 1e-9)
    if width * scale > MAX_WIDTH * canvas:
        scale = MAX_WIDTH * canvas / width
    extent = np.array([width, height]) * scale
    slack = np.maximum((canvas - extent) / 2 - BRUSH, 0)
    offset = rng.uniform(-1, 1, size=2) * np.minimum(MAX_OFFSET * canvas, slack)
    origin = (canvas - extent) / 2 + offset
    return [[(float(x), float(y)) for x, y in (p - low) * scale + origin] for p in points]


def render_strokes(strokes, canvas: int = CANVAS, brush: float = BRUSH) -> Image.Image:
    """RGBA image of the strokes as the canvas draws them: white, round caps and joins, on black."""
    ss = SUPERSAMPLE
    image = Image.new("L", (canvas * ss, canvas * ss), 0)
    draw = ImageDraw.Draw(image)
    radius = brush * ss / 2
    for stroke in strokes:
        # Pillow puts pixel centres at whole coordinates; the browser at half-pixels.
        xy = [(x * ss - 0.5, y * ss - 0.5) for x, y in stroke]
        if len(xy) > 1:
            draw.line(xy, fill=255, width=round(brush * ss))
        for x, y in xy:  # round caps and joins
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    grey = image.reduce(ss)
    return Image.merge("RGBA", (grey, grey, grey, Image.new("L", grey.size, 255)))
