"""Pen-drawn digits as 28×28 images: renders of the training labs to learn from, and the benchmark set.

Both go through the canvas path a drawing on the Draw page takes: strokes placed on the 280×280 canvas
as a person would draw them (`strokes.place_on_canvas`), rendered like the canvas's brush
(`strokes.render_strokes`) and preprocessed by the one `preprocess` function. The training renders vary
the brush, the size and the position, so the network learns drawings rather than one way of rendering
them. The benchmark set (the five benchmark labs, 4,338 digits by writers nothing trains on) is drawn
once with the default brush and cached, in the process and on disk, so every run can report it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitlab import ink, preprocess, strokes, thickness
from digitlab.data import var_dir
from digitlab.preprocess import NothingToRead, canvas_to_input

TRAINING_VARIANTS = 3  # renders of each training-lab digit, each with its own brush, size and place
BRUSH_RANGE = (8.0, 36.0)  # the Draw page's slider goes from 8 to 40 px
HEIGHT_RANGE = (0.3, 0.9)  # fraction of the canvas: from a small digit in a corner to one filling it
MAX_OFFSET = 0.15
BENCHMARK_SEED = 0  # placements of the benchmark digits: fixed, so every run is measured on one set
CACHE_ENV = "DIGITLAB_DATA_DIR"


@dataclass(frozen=True)
class PenImages:
    images: np.ndarray  # (N, 28, 28) uint8, ink 255 on 0, as MNIST
    labels: np.ndarray  # (N,) uint8
    sources: np.ndarray  # (N,) the lab of each image


def render_sample(sample: strokes.Sample, rng: np.random.Generator, brush: float, **placement) -> np.ndarray:
    """One digit drawn on the canvas and preprocessed; all zeros if nothing readable came out."""
    placed = strokes.place_on_canvas(sample.strokes, rng, **placement)
    canvas = strokes.render_strokes(placed, brush=brush)
    try:
        return canvas_to_input(canvas)
    except NothingToRead:  # a dot-sized sample: it stays blank and counts against the model
        return np.zeros((28, 28), np.uint8)


def render_training(
    samples: list[strokes.Sample], variants: int, seed: int, resampled: float = 0.0
) -> PenImages:
    """`variants` renders of each sample, each with a random brush, size and position.

    A share `resampled` of them is drawn from points further apart (`strokes.vary_sampling`), as a
    slower pointer reports them; bench/leave_labs_out.py measures what that changes (nothing, so far).
    """
    rng = np.random.default_rng(seed)
    images = np.zeros((len(samples) * variants, 28, 28), np.uint8)
    for i, sample in enumerate(samples * variants):
        brush = float(rng.uniform(*BRUSH_RANGE))
        if resampled and rng.random() < resampled:
            points = strokes.vary_sampling(sample.strokes, rng)
            sample = strokes.Sample(sample.label, sample.source, sample.writer, points)
        images[i] = render_sample(sample, rng, brush, height_range=HEIGHT_RANGE, max_offset=MAX_OFFSET)
    labels = np.array([s.label for s in samples] * variants, np.uint8)
    return PenImages(images, labels, np.array([s.source for s in samples] * variants))


def render_benchmark(samples: list[strokes.Sample], seed: int = BENCHMARK_SEED) -> PenImages:
    """Each sample once, as a person draws on the canvas with the default brush."""
    rng = np.random.default_rng(seed)
    images = np.stack([render_sample(s, rng, brush=strokes.BRUSH) for s in samples])
    return PenImages(
        images, np.array([s.label for s in samples], np.uint8), np.array([s.source for s in samples])
    )


def _cache_key(part: str, *numbers) -> str:
    """Changes whenever the data, the renderer or the preprocessing does: a stale cache is never read."""
    digest = hashlib.sha256(repr((part, numbers)).encode())
    code = (strokes.__file__, preprocess.__file__, ink.__file__, thickness.__file__)
    for path in (strokes.BUNDLE_DIR / strokes.PARTS[part], *map(Path, code)):
        digest.update(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


_RENDERING = threading.Lock()  # two runs that start together render once: the second reads the file


def _cached(part: str, render, *numbers) -> PenImages:
    with _RENDERING:
        return _cached_unlocked(part, render, *numbers)


def _cached_unlocked(part: str, render, *numbers) -> PenImages:
    folder = Path(os.environ.get(CACHE_ENV) or var_dir()) / "cache"
    path = folder / f"pen_{part}_{_cache_key(part, *numbers)}.npz"
    try:
        with np.load(path) as saved:
            return PenImages(saved["images"], saved["labels"], saved["sources"])
    except (OSError, ValueError, KeyError):
        pass
    result = render(strokes.load_pen_digits(part), *numbers)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, images=result.images, labels=result.labels, sources=result.sources)
        partial.replace(path)
    except OSError:  # a read-only install still works, only slower the next time
        pass
    return result


@functools.cache
def training_images(variants: int = TRAINING_VARIANTS, seed: int = 0) -> PenImages:
    """Renders of the 11,615 training-lab digits (about 1.5 ms each the first time, then cached)."""
    return _cached("training", render_training, variants, seed)


@functools.cache
def benchmark_images() -> PenImages:
    """The 4,338 benchmark-lab digits through the canvas path (about 7 s the first time, then cached)."""
    return _cached("benchmark", render_benchmark, BENCHMARK_SEED)
