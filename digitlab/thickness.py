"""Stroke thickness: a digit's ink mask made as thick as MNIST's strokes, whatever the pen.

The middle stage of `preprocess`: the mask is worked on at WORK_PX, grown or shrunk until its
`preprocess.stroke_width` matches MNIST's, before the MNIST recipe fits it into 20×20.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from digitlab.ink import MASK_LEVEL

SIZE, BOX, CENTRE = 28, 20, 14.0  # MNIST: 20x20 box in 28x28, centre of mass at pixel (14, 14)
# Median of `stroke_width` over the 60,000 MNIST training images (raw uint8: 2.360; the middle
# half lies in 2.01-2.78 px). Measured with:
#   x = np.frombuffer(gzip.open("assets/mnist/train-images-idx3-ubyte.gz").read(), np.uint8,
#                     offset=16).reshape(-1, 28, 28)
#   np.median([stroke_width(i) for i in x])
# `python bench/drawn_digits.py --widths` prints it again beside the widths we produce.
MNIST_STROKE_WIDTH = 2.36
# Width to draw strokes at, in output pixels, so that `stroke_width` of the 28x28 result comes out
# at MNIST_STROKE_WIDTH: anti-aliasing a sharp stroke down to 28 px widens the estimate by about
# a tenth of a pixel (calibrated on UNIPEN renders, see bench/drawn_digits.py --widths).
DRAW_WIDTH = 2.24
WORK_PX = 64  # thickness is normalised with the digit 64-127 px tall (3-6x the 20 px box)


def stroke_width(image: np.ndarray) -> float:
    """Mean stroke width in pixels: 2 x ink area / perimeter (total variation of the ink)."""
    a = pad(np.asarray(image, np.float32), 1, 1)
    dy, dx = a[1:, :-1] - a[:-1, :-1], a[:-1, 1:] - a[:-1, :-1]
    perimeter = float(np.sqrt(dx * dx + dy * dy).sum())
    return 2 * float(a.sum()) / perimeter if perimeter else 0.0


def _pool_any(mask: np.ndarray, k: int) -> np.ndarray:
    """Max-pool a mask by k x k blocks (strided slices: far faster than reshape().any())."""
    if k == 1:
        return mask
    h, w = -(-mask.shape[0] // k) * k, -(-mask.shape[1] // k) * k
    padded = np.zeros((h, w), bool)
    padded[: mask.shape[0], : mask.shape[1]] = mask
    rows = np.logical_or.reduce([padded[i::k] for i in range(k)])
    return np.logical_or.reduce([rows[:, j::k] for j in range(k)])


def work_mask(ink: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The ink as a sharp mask with its long side at WORK_PX..2*WORK_PX pixels."""
    long_side = max(mask.shape)
    if long_side >= WORK_PX:
        return _pool_any(mask, long_side // WORK_PX)  # max-pooling keeps 1-px lines whole
    # Small inputs (an uploaded MNIST digit): upscale the anti-aliased ink, then threshold.
    scale = WORK_PX / long_side
    near = pad(ink * _grow(mask, 1) / np.float32(255), 1, 1)
    size = (round(near.shape[1] * scale), round(near.shape[0] * scale))
    return np.asarray(Image.fromarray(near).resize(size, Image.BICUBIC)) >= MASK_LEVEL


def normalise_thickness(mask: np.ndarray) -> np.ndarray:
    """Dilate or erode so the stroke will be DRAW_WIDTH px wide once the box is fitted to 20 px."""
    width = stroke_width(mask)
    long_side = max(mask.shape)
    # After the change the bounding box grows by (target - width); solve for the target so that
    # target * BOX / (long_side - width + target) == DRAW_WIDTH.
    skeleton = max(long_side - width, long_side / 2)
    target = DRAW_WIDTH * skeleton / (BOX - DRAW_WIDTH)
    radius = (target - width) / 2
    margin = int(max(radius, target / 2)) + 2
    mask = pad(mask, margin, margin)
    thick = _morph(mask, radius)
    if radius < 0:  # parts thinner than the erosion would vanish: draw them back at the target width
        lost = mask & ~_grow(thick > 0, int(-radius) + 2)
        thick = np.maximum(thick, _grow(lost, int(target / 2)))
    return thick


def _morph(mask: np.ndarray, radius: float) -> np.ndarray:
    """Dilate (radius > 0) or erode by a near-disc of fractional radius, as float32 in [0, 1]."""
    op = _grow if radius > 0 else _shrink
    steps = int(abs(radius))
    inner = op(mask, steps)
    outer = op(inner, 1, steps)
    frac = abs(radius) - steps
    return (inner * (1 - frac) + outer * frac).astype(np.float32)


def _grow(mask: np.ndarray, steps: int, start: int = 0, combine=np.logical_or) -> np.ndarray:
    """Binary dilation (erosion with combine=np.logical_and) by a 3x3 cross and a 3x3 square in
    turn: repeated, they grow an octagon, close to the round brush a pen makes."""
    for step in range(start, start + steps):
        out = mask.copy()
        combine(out[1:], mask[:-1], out=out[1:])
        combine(out[:-1], mask[1:], out=out[:-1])
        src = out.copy() if step % 2 else mask
        combine(out[:, 1:], src[:, :-1], out=out[:, 1:])
        combine(out[:, :-1], src[:, 1:], out=out[:, :-1])
        mask = out
    return mask


def _shrink(mask: np.ndarray, steps: int, start: int = 0) -> np.ndarray:
    return _grow(mask, steps, start, combine=np.logical_and)


def remove_specks(mask: np.ndarray) -> np.ndarray:
    """Drop ink blobs of one or two pixels, measured on a grid coarse enough to see dust in photos."""
    k = max(1, max(mask.shape) // 384)
    small = _pool_any(mask, k)
    p = pad(small.view(np.uint8), 1, 1)
    rows = p[:-2] + p[1:-1] + p[2:]
    count = rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]  # inked pixels in each 3x3 neighbourhood
    core = small & (count >= 3)  # a pixel with two inked neighbours belongs to a line or blob
    keep = small & _grow(core, 1)  # gives back line ends
    if k > 1:
        keep = np.repeat(np.repeat(keep, k, 0), k, 1)[: mask.shape[0], : mask.shape[1]]
    return mask & keep


def pad(a: np.ndarray, py: int, px: int) -> np.ndarray:
    """Zero border of py rows and px columns each side (np.pad costs ~25 us of Python a call)."""
    out = np.zeros((a.shape[0] + 2 * py, a.shape[1] + 2 * px), a.dtype)
    out[py : py + a.shape[0], px : px + a.shape[1]] = a
    return out
