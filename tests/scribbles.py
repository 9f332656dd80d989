"""Drawings that are not digits, made the way a pen on the Draw page's canvas makes them.

Each kind is a few strokes in unit coordinates (y up, as UNIPEN's), wobbled like a hand, placed on the
280×280 canvas at a random size and position and rendered by `strokes.render_strokes`, the canvas's brush,
with a random brush width: what comes out is exactly what a drawing on the page gives `read_image`. The
kinds are generic (lines, letters, spirals, hatching), never fitted to any detector: the tests and
bench/not_a_digit.py measure on them, and nothing learns from them. Circles are here as the control: a
circle is a 0.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from digitlab.strokes import CANVAS, render_strokes

BRUSH_RANGE = (10.0, 30.0)  # px; the page's slider runs 8-40, its default is 18
SIZE_RANGE = (0.35, 0.85)  # the scribble's longer side, as a fraction of the canvas
STEP = 0.02  # a pen reports a point about every 2 % of the drawing's size


def _line(*corners) -> np.ndarray:
    """A polyline through `corners`, with a point every STEP."""
    corners = np.asarray(corners, np.float64)
    pieces = [corners[:1]]
    for a, b in zip(corners[:-1], corners[1:], strict=True):
        n = max(2, int(np.ceil(np.hypot(*(b - a)) / STEP)))
        pieces.append(a + (b - a) * np.linspace(0, 1, n)[1:, None])
    return np.concatenate(pieces)


def _arc(turns: float, radius_from: float, radius_to: float, aspect: float = 1.0) -> np.ndarray:
    theta = np.linspace(0, 2 * np.pi * turns, max(24, int(80 * turns)))
    radius = np.linspace(radius_from, radius_to, len(theta))
    return np.stack([0.5 + aspect * radius * np.sin(theta), 0.5 + radius * np.cos(theta)], axis=1)


def dash(rng):
    tilt = rng.uniform(-0.06, 0.06)
    return [_line((0, 0.5 - tilt), (1, 0.5 + tilt))]


def plus(rng):
    return [_line((0, 0.5), (1, 0.5)), _line((0.5, 1), (0.5, 0))]


def cross(rng):
    return [_line((0, 1), (1, 0)), _line((1, 1), (0, 0))]


def letter_a(rng):
    bar = rng.uniform(0.3, 0.45)
    return [_line((0, 0), (0.5, 1), (1, 0)), _line((bar / 2, bar), (1 - bar / 2, bar))]


def letter_h(rng):
    bar = rng.uniform(0.4, 0.6)
    return [_line((0, 1), (0, 0)), _line((1, 1), (1, 0)), _line((0, bar), (1, bar))]


def letter_w(rng):
    middle = rng.uniform(0.5, 1.0)
    return [_line((0, 1), (0.25, 0), (0.5, middle), (0.75, 0), (1, 1))]


def spiral(rng):
    return [_arc(rng.uniform(2.2, 3.2), 0.03, 0.5)]


def hatching(rng):
    """Parallel diagonal strokes across a square, and on half of them a second set across those."""
    offsets = np.linspace(-0.7, 0.7, int(rng.integers(4, 7)))
    strokes = [_line((max(0, -c), max(0, c)), (min(1, 1 - c), min(1, 1 + c))) for c in offsets]
    if rng.random() < 0.5:
        strokes += [np.array((1, 0)) + np.array((-1, 1)) * s for s in strokes]
    return strokes


def circle(rng):
    """The control: a closed round loop, a little taller than wide, as people write a 0."""
    return [_arc(rng.uniform(1.0, 1.1), 0.5, 0.5, aspect=rng.uniform(0.65, 1.0))]


KINDS = {
    "dash": dash,
    "plus": plus,
    "cross": cross,
    "letter A": letter_a,
    "letter H": letter_h,
    "letter W": letter_w,
    "spiral": spiral,
    "hatching": hatching,
}
NOT_DIGITS = tuple(KINDS)
KINDS["circle"] = circle


def _wobble(points: np.ndarray, rng) -> np.ndarray:
    """A hand's tremor: a smooth random drift of about 1 % of the size."""
    noise = rng.normal(0, 0.012, points.shape)
    kernel = np.ones(5) / 5
    smooth = np.stack([np.convolve(noise[:, k], kernel, mode="same") for k in range(2)], axis=1)
    return points + smooth * 2


def place(strokes, rng) -> list[list[tuple[float, float]]]:
    """Unit-square strokes (y up) in canvas pixels (y down): a random size, anywhere that fits."""
    points = [np.asarray(s, np.float64) * (1, -1) for s in strokes]
    every = np.concatenate(points)
    low, extent = every.min(0), np.ptp(every, axis=0)
    scale = rng.uniform(*SIZE_RANGE) * CANVAS / max(extent.max(), 1e-9)
    size = extent * scale
    margin = BRUSH_RANGE[1]
    origin = [rng.uniform(margin, max(margin, CANVAS - margin - side)) for side in size]
    return [[(float(x), float(y)) for x, y in (p - low) * scale + origin] for p in points]


def scribble(kind: str, rng: np.random.Generator) -> Image.Image:
    """One drawing of `kind` as the canvas gives it to the page: RGBA, white ink on opaque black."""
    strokes = [_wobble(s, rng) for s in KINDS[kind](rng)]
    return render_strokes(place(strokes, rng), brush=float(rng.uniform(*BRUSH_RANGE)))


def scribbles(kind: str, count: int, seed: int = 0) -> list[Image.Image]:
    """`count` drawings of one kind, each its own size, place, tremor and brush; the same for a seed."""
    rng = np.random.default_rng([seed, sorted(KINDS).index(kind)])
    return [scribble(kind, rng) for _ in range(count)]
