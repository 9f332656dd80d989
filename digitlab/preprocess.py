"""Turn any picture of a digit into the 28x28 image an MNIST model expects.

This module owns the one preprocessing path shared by the Draw page, uploads, the CLI and the
benchmark: reading image files safely, finding the ink (polarity, contrast, noise), normalising
stroke thickness, and the MNIST recipe itself (fit the ink's bounding box into 20x20 with
anti-aliasing, then place it in 28x28 by its centre of mass). Output is uint8, ink 255 on 0,
exactly like raw MNIST pixels. numpy and Pillow only: about 1.5 ms of CPU for a 280x280 canvas.
"""

from __future__ import annotations

import functools
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

# Pillow refuses bigger images as decompression bombs; 40 Mpx still admits any phone photo.
MAX_IMAGE_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# Larger inputs are box-reduced first: a digit needs far fewer pixels, and it bounds the time.
MAX_SIDE = 1024
# The only decoders an upload reaches (JPEG covers the MPO files many phones write). Pillow would
# otherwise try every format it knows, EPS among them, which hands the file to Ghostscript.
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")

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

SIZE, BOX, CENTRE = 28, 20, 14.0  # MNIST: 20x20 box in 28x28, centre of mass at pixel (14, 14)
MIN_CONTRAST = 24  # grey levels; less is a blank or a faint texture
MIN_SNR = 6.0  # ink must stand this many noise sigmas above the background
INK_FLOOR = 0.25  # ink map: below this fraction of the contrast is texture or JPEG ringing
MASK_LEVEL = 0.4  # a pixel is ink when at least this fraction of the contrast
TOP_PIXELS = 4  # contrast = level reached by this many pixels, so a lone hot pixel can't set it
# A two-toned picture's halves must be this many noise sigmas apart to be told ink and paper.
TWO_TONE_SEPARATION = 2.5
PLANE_SHARE = 0.6  # a lighting plane must explain this share of the border: the rest is strokes
WORK_PX = 64  # thickness is normalised with the digit 64-127 px tall (3-6x the 20 px box)


class NothingToRead(ValueError):  # noqa: N818 (the name is the shared contract)
    """The image holds no ink that could be a digit (blank, near-uniform or pure noise)."""


class ImageError(ValueError):
    """The file is not an image we can read; the message is for the user."""


@dataclass(frozen=True)
class PreprocessSteps:
    raw: np.ndarray  # ink map of the whole input, uint8, ink 255 (after polarity and contrast)
    cropped: np.ndarray  # raw cropped to the ink's bounding box
    fitted: np.ndarray  # 20x20: stroke width normalised, long side fitted to 20 px
    centred: np.ndarray  # 28x28 uint8 model input, centre of mass at (14, 14)


def open_image(data: bytes | str | Path) -> Image.Image:
    """Decode an uploaded file fully (truncation shows only on load); any failure is an ImageError."""
    try:
        raw = Path(data).read_bytes() if isinstance(data, (str, Path)) else bytes(data)
    except OSError:
        raise ImageError("The file could not be read.") from None
    if not raw:
        raise ImageError("The file is empty.")
    if b"<svg" in raw[:2048].lower():
        raise ImageError("SVG drawings are not supported: export the drawing as PNG or JPEG.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=FORMATS)
            if image.format == "JPEG":  # decode big photos at reduced scale: much faster
                image.draft(image.mode, (MAX_SIDE, MAX_SIDE))
            image.load()
            ImageOps.exif_transpose(image, in_place=True)  # phone photos are stored sideways
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"The image is too large (over {MAX_IMAGE_PIXELS // 1_000_000} megapixels)."
        ) from None
    except UnidentifiedImageError:
        raise ImageError("This file is not an image (try PNG, JPEG, GIF, BMP or WebP).") from None
    except Exception:  # a hostile file can trip any decoder (struct.error, IndexError, ...)
        raise ImageError("The image file is damaged or truncated.") from None
    return image


def canvas_to_input(image: Image.Image | np.ndarray) -> np.ndarray:
    """The 28x28 uint8 model input for a drawing or photo of one digit; raises NothingToRead."""
    return preprocess_steps(image).centred


def naive_resize(image: Image.Image | np.ndarray) -> np.ndarray:
    """Baseline: the whole picture squeezed to 28x28, ink white, without the MNIST recipe."""
    ink, _ = _polarised(_to_grey(image))
    return np.asarray(Image.fromarray(ink).resize((SIZE, SIZE), Image.LANCZOS))


def preprocess_steps(image: Image.Image | np.ndarray) -> PreprocessSteps:
    """Every stage of `canvas_to_input`, for the Draw page to show; raises NothingToRead."""
    raw = _ink_map(_to_grey(image))
    mask = _remove_specks(raw >= round(MASK_LEVEL * 255))
    if not mask.any():
        raise NothingToRead("Nothing to read: only specks of noise.")
    rows, cols = _bbox(mask)
    work = _work_mask(raw[rows, cols], mask[rows, cols])
    fitted = _fit_box(_normalise_thickness(work))
    return PreprocessSteps(raw, raw[rows, cols], _to_uint8(fitted), _to_uint8(_centre(fitted)))


def stroke_width(image: np.ndarray) -> float:
    """Mean stroke width in pixels: 2 x ink area / perimeter (total variation of the ink)."""
    a = _pad(np.asarray(image, np.float32), 1, 1)
    dy, dx = a[1:, :-1] - a[:-1, :-1], a[:-1, 1:] - a[:-1, :-1]
    perimeter = float(np.sqrt(dx * dx + dy * dy).sum())
    return 2 * float(a.sum()) / perimeter if perimeter else 0.0


def _to_grey(image: Image.Image | np.ndarray) -> np.ndarray:
    """Luminance as uint8; transparent backgrounds become a background that contrasts with the ink."""
    if isinstance(image, np.ndarray):
        image = _array_to_image(image)
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # animated GIF/WebP: the first frame
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        image = _array_to_image(np.asarray(image, np.float32))
    try:
        if "A" in image.getbands() or "transparency" in image.info:
            image = image if image.mode == "RGBA" else image.convert("RGBA")
        elif image.mode != "L":
            image = image.convert("L")
    except ValueError:  # Pillow cannot convert a few rare modes (LAB, La)
        raise ImageError(f"Images in the {image.mode} colour mode are not supported.") from None
    if max(image.size) > MAX_SIDE:
        image = image.reduce(-(-max(image.size) // MAX_SIDE))
    if image.mode == "RGBA" and np.asarray(image.getchannel("A")).min() < 255:
        return _composite(image)
    return np.asarray(image if image.mode == "L" else image.convert("L"))


def _composite(image: Image.Image) -> np.ndarray:
    """Flatten over white if the visible strokes are dark, over black if they are light."""
    grey, alpha = image.convert("L"), image.getchannel("A")
    over_black = ImageChops.multiply(grey, alpha)  # grey * alpha / 255, in C
    # The strokes' mean grey, weighted by opacity (every other pixel is plenty).
    ink_level = (
        255 * int(np.asarray(over_black)[::2, ::2].sum()) / max(int(np.asarray(alpha)[::2, ::2].sum()), 1)
    )
    if ink_level >= 128:
        return np.asarray(over_black)
    return np.asarray(ImageChops.screen(grey, ImageOps.invert(alpha)))  # 255 - (255 - grey) * alpha / 255


def _array_to_image(array: np.ndarray) -> Image.Image:
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)) or 0 in a.shape:
        raise ImageError(f"Expected a greyscale or colour image, got an array of shape {a.shape}.")
    if a.dtype != np.uint8:
        a = a.astype(np.float32)
        top = float(np.nanmax(a)) if a.size else 0.0
        scale = next((s for s in (1.0, 255.0, 4095.0, 65535.0) if top <= s), top)
        a = np.round(np.clip(np.nan_to_num(a) / scale, 0, 1) * 255).astype(np.uint8)
    if a.ndim == 3 and a.shape[2] == 2:
        a = np.dstack([a[..., 0]] * 3 + [a[..., 1]])  # grey + alpha
    return Image.fromarray(a)


def _polarised(grey: np.ndarray) -> tuple[np.ndarray, float]:
    """Ink as uint8 above the background, dark or light ink chosen by which deviates more, and the
    background's noise sigma."""
    bg, noise = _background(grey)
    if isinstance(bg, np.ndarray):  # unevenly lit photo: subtract the fitted plane
        diff = grey - bg
        lighter = float(np.square(np.maximum(diff[::2, ::2], 0)).sum())
        darker = float(np.square(np.minimum(diff[::2, ::2], 0)).sum())
        return np.clip(diff if lighter >= darker else -diff, 0, 255).astype(np.uint8), noise
    # Every other pixel is plenty to weigh light against dark ink, at a quarter of the cost.
    counts = np.array(Image.fromarray(grey[::2, ::2]).histogram())
    levels = np.arange(256) - bg
    if (counts * np.square(np.maximum(levels, 0))).sum() >= (counts * np.square(np.minimum(levels, 0))).sum():
        return np.maximum(grey, bg) - np.uint8(bg), noise
    return np.uint8(bg) - np.minimum(grey, bg), noise


def _level_and_noise(values: np.ndarray) -> tuple[int, float]:
    """Median grey of uint8 values and their noise sigma (1.4826 x the median absolute deviation)."""
    level = _median_uint8(values)
    return level, 1.4826 * _median_uint8(np.abs(values.astype(np.int16) - level).astype(np.uint8))


def _otsu(counts: np.ndarray) -> int:
    """The grey level that best splits a 256-bin histogram in two (Otsu): below it is one class."""
    levels = np.arange(256)
    weight = np.cumsum(counts)[:-1].astype(np.float64)
    mass = np.cumsum(counts * levels)[:-1].astype(np.float64)
    total, total_mass = float(counts.sum()), float((counts * levels).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mass * weight - total * mass) ** 2 / (weight * (total - weight))
    return int(np.nanargmax(np.nan_to_num(between, nan=-1.0))) + 1


def _two_tone(grey: np.ndarray, border: np.ndarray, noise: float) -> tuple[int, float] | None:
    """Level and noise of the background of a clearly two-toned picture, ink and paper; else None.

    The picture is split in two by Otsu's threshold. The paper is the side that holds more of the
    picture, its border and its corners together: ink can touch every edge of a tight crop, and a
    tightly cropped 1 is mostly ink, but no digit covers most of all three.
    """
    sample = grey[::2, ::2] if grey.size > 4096 else grey
    split = _otsu(np.bincount(sample.ravel(), minlength=256))
    dark, light = sample[sample < split], sample[sample >= split]
    if not len(dark) or not len(light):
        return None
    dark_level, light_level = _median_uint8(dark), _median_uint8(light)
    # Sensor noise, static or textured paper are split too, but their halves are not far apart.
    if light_level - dark_level < max(MIN_CONTRAST, TWO_TONE_SEPARATION * 2 * noise):
        return None
    h, w = grey.shape
    corners = grey[[0, 0, h - 1, h - 1], [0, w - 1, 0, w - 1]]
    votes = (sample < split).mean() + (border < split).mean() + (corners < split).mean()
    return (dark_level if votes > 1.5 else light_level), noise


def _pixel_noise(grey: np.ndarray) -> float:
    """Noise sigma from the differences of neighbouring pixels: unlike a spread of grey levels, it
    stays small for a blurred (enlarged, anti-aliased) picture and is large for real noise."""
    steps = np.abs(np.diff(grey.astype(np.int16), axis=1)).astype(np.uint8)
    return _median_uint8(steps.ravel()) / (0.6745 * np.sqrt(2))


def _background(grey: np.ndarray) -> tuple[int | np.ndarray, float]:
    """The background's grey and noise sigma.

    Usually the border's median and median absolute deviation; where the border varies smoothly
    (light falling across a photo), a plane fitted to it and the noise around it. But ink can touch
    the edges (a tightly cropped scan): a border that is neither uniform nor a smooth plane is not
    the background, and a two-toned picture's background is then found from the whole of it.
    """
    h, w = grey.shape
    ys, xs = _ring(h, w)
    border = grey[ys, xs]
    bg, noise = _level_and_noise(border)
    if noise < 3 or min(h, w) < 8:
        return bg, noise
    pixel_noise = _pixel_noise(grey)
    # Light falls smoothly across a photo; a picture a few strokes wide is all border, and no photo.
    plane = _border_plane(border.astype(np.float32), ys, xs, noise, pixel_noise) if min(h, w) >= 32 else None
    if plane is not None:
        coef, plane_noise = plane
        rows, cols = np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]
        return coef[0] + coef[1] * cols + coef[2] * rows, plane_noise
    return _two_tone(grey, border, pixel_noise) or (bg, noise)


def _border_plane(border: np.ndarray, ys: np.ndarray, xs: np.ndarray, noise: float, pixel_noise: float):
    """(coefficients, noise) of a plane that explains most of the border far better than its median
    does, refitted without the strokes that cross it; None when there is no such smooth trend."""
    design = np.column_stack([np.ones_like(border), xs, ys]).astype(np.float32)
    keep = np.ones(border.shape, bool)
    for _ in range(3):
        coef = np.linalg.lstsq(design[keep], border[keep], rcond=None)[0]
        residual = np.abs(border - design @ coef)
        plane_noise = 1.4826 * float(np.median(residual))
        keep = residual <= 3 * plane_noise + 1
    # No trend; or ink covers the border, so the "plane" is strokes: light leaves sensor noise only.
    if plane_noise > noise / 2 or keep.mean() < PLANE_SHARE or plane_noise > max(3 * pixel_noise, 8):
        return None
    return coef, plane_noise


@functools.lru_cache(maxsize=8)
def _ring(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the ring two pixels wide around an image (cached: canvases repeat)."""
    ys = np.concatenate([np.repeat(np.clip([0, 1, h - 2, h - 1], 0, h - 1), w), np.repeat(np.arange(h), 4)])
    xs = np.concatenate([np.tile(np.arange(w), 4), np.tile(np.clip([0, 1, w - 2, w - 1], 0, w - 1), h)])
    return ys, xs


def _contrast(ink: np.ndarray) -> int:
    """The ink level reached by TOP_PIXELS pixels, so that a lone hot pixel cannot set it."""
    top = int(ink.max())
    if np.count_nonzero(ink == top) >= TOP_PIXELS:  # the usual case, without a histogram
        return top
    counts_from_top = np.cumsum(Image.fromarray(ink).histogram()[::-1])
    return 255 - int(np.searchsorted(counts_from_top, TOP_PIXELS))


def _ink_map(grey: np.ndarray) -> np.ndarray:
    """Ink as uint8 scaled to the image's contrast (255 = full ink); raises NothingToRead for blank
    or noise-only images. Faint texture and JPEG ringing below INK_FLOOR are set to 0."""
    ink, noise = _polarised(grey)
    contrast = _contrast(ink)
    if contrast < MIN_CONTRAST or contrast < MIN_SNR * noise:
        raise NothingToRead("Nothing to read: the image is blank.")
    table = np.minimum(np.arange(256) * (255 / contrast), 255)
    table[table < INK_FLOOR * 255] = 0
    return np.take(np.round(table).astype(np.uint8), ink)


def _remove_specks(mask: np.ndarray) -> np.ndarray:
    """Drop ink blobs of one or two pixels, measured on a grid coarse enough to see dust in photos."""
    k = max(1, max(mask.shape) // 384)
    small = _pool_any(mask, k)
    p = _pad(small.view(np.uint8), 1, 1)
    rows = p[:-2] + p[1:-1] + p[2:]
    count = rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]  # inked pixels in each 3x3 neighbourhood
    core = small & (count >= 3)  # a pixel with two inked neighbours belongs to a line or blob
    keep = small & _grow(core, 1)  # gives back line ends
    if k > 1:
        keep = np.repeat(np.repeat(keep, k, 0), k, 1)[: mask.shape[0], : mask.shape[1]]
    return mask & keep


def _pool_any(mask: np.ndarray, k: int) -> np.ndarray:
    """Max-pool a mask by k x k blocks (strided slices: far faster than reshape().any())."""
    if k == 1:
        return mask
    h, w = -(-mask.shape[0] // k) * k, -(-mask.shape[1] // k) * k
    padded = np.zeros((h, w), bool)
    padded[: mask.shape[0], : mask.shape[1]] = mask
    rows = np.logical_or.reduce([padded[i::k] for i in range(k)])
    return np.logical_or.reduce([rows[:, j::k] for j in range(k)])


def _bbox(mask: np.ndarray) -> tuple[slice, slice]:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _work_mask(ink: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The ink as a sharp mask with its long side at WORK_PX..2*WORK_PX pixels."""
    long_side = max(mask.shape)
    if long_side >= WORK_PX:
        return _pool_any(mask, long_side // WORK_PX)  # max-pooling keeps 1-px lines whole
    # Small inputs (an uploaded MNIST digit): upscale the anti-aliased ink, then threshold.
    scale = WORK_PX / long_side
    near = _pad(ink * _grow(mask, 1) / np.float32(255), 1, 1)
    size = (round(near.shape[1] * scale), round(near.shape[0] * scale))
    return np.asarray(Image.fromarray(near).resize(size, Image.BICUBIC)) >= MASK_LEVEL


def _normalise_thickness(mask: np.ndarray) -> np.ndarray:
    """Dilate or erode so the stroke will be DRAW_WIDTH px wide once the box is fitted to 20 px."""
    width = stroke_width(mask)
    long_side = max(mask.shape)
    # After the change the bounding box grows by (target - width); solve for the target so that
    # target * BOX / (long_side - width + target) == DRAW_WIDTH.
    skeleton = max(long_side - width, long_side / 2)
    target = DRAW_WIDTH * skeleton / (BOX - DRAW_WIDTH)
    radius = (target - width) / 2
    margin = int(max(radius, target / 2)) + 2
    mask = _pad(mask, margin, margin)
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


def _fit_box(work: np.ndarray) -> np.ndarray:
    """Anti-aliased resize of the ink's bounding box so its long side spans exactly 20 px."""
    rows, cols = _bbox(work > 0)
    ink = work[rows, cols]
    side = max(ink.shape)
    pad_y, pad_x = (side - ink.shape[0]) // 2 + 1, (side - ink.shape[1]) // 2 + 1
    padded = Image.fromarray(_pad(ink, pad_y, pad_x))
    top, left = pad_y - (side - ink.shape[0]) / 2, pad_x - (side - ink.shape[1]) / 2
    return np.asarray(padded.resize((BOX, BOX), Image.BOX, box=(left, top, left + side, top + side)))


def _centre(fitted: np.ndarray) -> np.ndarray:
    """Place the 20x20 box in 28x28 so the centre of mass is at (14, 14), by a whole-pixel shift."""
    total = fitted.sum()
    cy = float((fitted.sum(1) * np.arange(BOX)).sum() / total)
    cx = float((fitted.sum(0) * np.arange(BOX)).sum() / total)
    rows, cols = _bbox(fitted > 0)
    dy = int(np.clip(np.floor(CENTRE - cy + 0.5), -rows.start, SIZE - rows.stop))
    dx = int(np.clip(np.floor(CENTRE - cx + 0.5), -cols.start, SIZE - cols.stop))
    out = np.zeros((SIZE, SIZE), np.float32)
    out[rows.start + dy : rows.stop + dy, cols.start + dx : cols.stop + dx] = fitted[rows, cols]
    return out


def _pad(a: np.ndarray, py: int, px: int) -> np.ndarray:
    """Zero border of py rows and px columns each side (np.pad costs ~25 us of Python a call)."""
    out = np.zeros((a.shape[0] + 2 * py, a.shape[1] + 2 * px), a.dtype)
    out[py : py + a.shape[0], px : px + a.shape[1]] = a
    return out


def _median_uint8(values: np.ndarray) -> int:
    return int(np.searchsorted(np.cumsum(np.bincount(values, minlength=256)), (values.size + 1) // 2))


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
