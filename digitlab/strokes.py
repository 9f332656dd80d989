"""Pen-drawn digits (UNIPEN) replayed the way the Draw page's canvas would show them.

This module owns the bundled stroke files (the training labs and the benchmark labs, kept apart in
`assets/unipen/`), placing a digit's strokes on the 280x280 canvas as a person would draw it, and
rendering strokes like the canvas's fabric.js pencil (white, round caps and joins, anti-aliased, on
opaque black). `place_on_canvas` is pure numbers in, numbers out, so the browser test can replay the
same points as real mouse moves.

    python -m digitlab.strokes ../shared/data/unipen/unipen_1a_digits.json.gz   # rebuilds the bundle
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from digitlab.data import DataError, assets_dir

# The original file, beside the repository; only needed to rebuild the bundle.
UNIPEN_PATH = Path(__file__).resolve().parents[2] / "shared/data/unipen/unipen_1a_digits.json.gz"
UNIPEN_ENV = "DIGITLAB_UNIPEN"  # set to another path to read the original file from elsewhere
BUNDLE_DIR = assets_dir() / "unipen"
# The split is by lab (UNIPEN's `source`), so no writer, tablet or collection is in both parts, and
# it is fixed by the data's README. The benchmark labs are a test set: nothing ever trains on them.
BENCHMARK_LABS = ("ibm", "ced", "tos", "uqb", "imp")
PARTS = {"training": "training_labs.npz", "benchmark": "benchmark_labs.npz"}

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


def part_of(source: str) -> str:
    """ "benchmark" for the five labs kept for measuring, "training" for every other lab."""
    return "benchmark" if source in BENCHMARK_LABS else "training"


def load_pen_digits(part: str, directory: str | Path = BUNDLE_DIR) -> list[Sample]:
    """The bundled digits of one part, "training" (11,615) or "benchmark" (4,338); DataError if absent."""
    path = Path(directory) / PARTS[part]
    try:
        with np.load(path) as bundle:
            arrays = {key: bundle[key] for key in bundle.files}
    except (OSError, ValueError, KeyError) as error:
        raise DataError(f"{path}: the pen-drawn digits could not be read ({error})") from None
    # Points are stored as steps from the previous point of the stroke: they pack four times smaller.
    points = arrays["steps"].astype(np.int64)
    stroke_ends = np.cumsum(arrays["stroke_points"])
    starts = np.concatenate([[0], stroke_ends[:-1]])
    strokes = [np.cumsum(points[a:b], axis=0).tolist() for a, b in zip(starts, stroke_ends, strict=True)]
    sample_ends = np.cumsum(arrays["sample_strokes"])
    first = np.concatenate([[0], sample_ends[:-1]])
    return [
        Sample(label=int(label), source=str(source), writer=str(writer), strokes=strokes[a:b])
        for label, source, writer, a, b in zip(
            arrays["labels"], arrays["sources"], arrays["writers"], first, sample_ends, strict=True
        )
    ]


def write_bundle(samples: list[Sample], directory: str | Path = BUNDLE_DIR) -> list[Path]:
    """Write the two parts of the bundle from the original samples, split by lab."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for part, name in PARTS.items():
        chosen = [s for s in samples if part_of(s.source) == part]
        strokes = [np.asarray(stroke, np.int64).reshape(-1, 2) for s in chosen for stroke in s.strokes]
        steps = np.concatenate([np.diff(a, axis=0, prepend=np.zeros((1, 2), np.int64)) for a in strokes])
        paths.append(directory / name)
        np.savez_compressed(
            paths[-1],
            labels=np.array([s.label for s in chosen], np.uint8),
            sources=np.array([s.source for s in chosen]),
            writers=np.array([s.writer for s in chosen]),
            sample_strokes=np.array([len(s.strokes) for s in chosen], np.int32),
            stroke_points=np.array([len(a) for a in strokes], np.int32),
            steps=steps.astype(np.int32),
        )
    return paths


def load_unipen(path: str | Path | None = None) -> list[Sample]:
    """All digits of the original UNIPEN file (15,953); FileNotFoundError names the path tried."""
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


def resample(stroke, spacing: float) -> list[tuple[float, float]]:
    """The stroke as a slower pointer would report it: points at least `spacing` apart along it.

    A browser reports a pointer 60-120 times a second, so a quick stroke arrives as a few long straight
    segments; tablets differ as much. The first and the last point are always kept.
    """
    points = np.asarray(stroke, np.float64).reshape(-1, 2)
    if len(points) < 3 or spacing <= 0:
        return [tuple(p) for p in points]
    kept, last = [points[0]], points[0]
    for point in points[1:-1]:
        if np.hypot(*(point - last)) >= spacing:
            kept.append(point)
            last = point
    kept.append(points[-1])
    return [tuple(p) for p in kept]


def vary_sampling(strokes, rng: np.random.Generator, spacing_range=(0.04, 0.2)) -> list[list[tuple]]:
    """The strokes resampled at a random spacing, a fraction of the digit's size (see `resample`)."""
    every = np.concatenate([np.asarray(s, np.float64).reshape(-1, 2) for s in strokes])
    size = float(np.ptp(every, axis=0).max())
    spacing = rng.uniform(*spacing_range) * size
    return [resample(stroke, spacing) for stroke in strokes]


def place_on_canvas(
    strokes, rng: np.random.Generator, canvas: int = CANVAS, height_range=HEIGHT_RANGE, max_offset=MAX_OFFSET
) -> list[Stroke]:
    """Strokes in canvas pixels (y down): the digit 50-80 % of the canvas tall, roughly centred.

    `strokes` are lists of (x, y) with y pointing up, in any units; `rng` draws the height and the
    offset, so a seeded generator gives the same placement every time.
    """
    points = [np.asarray(stroke, np.float64).reshape(-1, 2) * (1, -1) for stroke in strokes]
    every = np.concatenate(points)
    low, high = every.min(0), every.max(0)
    width, height = high - low
    size = rng.uniform(*height_range) * canvas
    # A digit with no height (a dash) is scaled by its width instead; a dot stays a dot.
    scale = size / height if height > 0 else size / max(width, 1e-9)
    if width * scale > MAX_WIDTH * canvas:
        scale = MAX_WIDTH * canvas / width
    extent = np.array([width, height]) * scale
    slack = np.maximum((canvas - extent) / 2 - BRUSH, 0)
    offset = rng.uniform(-1, 1, size=2) * np.minimum(max_offset * canvas, slack)
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


if __name__ == "__main__":
    for written in write_bundle(load_unipen(sys.argv[1] if len(sys.argv) > 1 else None)):
        print(f"wrote {written} ({written.stat().st_size:,} bytes)")
