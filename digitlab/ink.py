"""Finding the ink in any picture: grey levels, polarity, background, noise and contrast, specks.

The first stage of `preprocess`: whatever the colours, lighting or paper, the result is an ink map,
ink 255 on 0, or `NothingToRead` when the picture holds no digit.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageChops, ImageOps

# Larger inputs are box-reduced first: a digit needs far fewer pixels, and it bounds the time.
MAX_SIDE = 1024
MASK_LEVEL = 0.4  # a pixel is ink when at least this fraction of the contrast
MIN_CONTRAST = 24  # grey levels; less is a blank or a faint texture
MIN_SNR = 6.0  # ink must stand this many noise sigmas above the background
INK_FLOOR = 0.25  # ink map: below this fraction of the contrast is texture or JPEG ringing
TOP_PIXELS = 4  # contrast = level reached by this many pixels, so a lone hot pixel can't set it
# A two-toned picture's halves must be this many noise sigmas apart to be told ink and paper.
TWO_TONE_SEPARATION = 2.5
PLANE_SHARE = 0.6  # a lighting plane must explain this share of the border: the rest is strokes


class NothingToRead(ValueError):  # noqa: N818 (the name is the shared contract)
    """The image holds no ink that could be a digit (blank, near-uniform or pure noise)."""


class ImageError(ValueError):
    """The file is not an image we can read; the message is for the user."""


def to_grey(image: Image.Image | np.ndarray) -> np.ndarray:
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


def polarised(grey: np.ndarray) -> tuple[np.ndarray, float]:
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


def ink_map(grey: np.ndarray) -> np.ndarray:
    """Ink as uint8 scaled to the image's contrast (255 = full ink); raises NothingToRead for blank
    or noise-only images. Faint texture and JPEG ringing below INK_FLOOR are set to 0."""
    ink, noise = polarised(grey)
    contrast = _contrast(ink)
    if contrast < MIN_CONTRAST or contrast < MIN_SNR * noise:
        raise NothingToRead("Nothing to read: the image is blank.")
    table = np.minimum(np.arange(256) * (255 / contrast), 255)
    table[table < INK_FLOOR * 255] = 0
    return np.take(np.round(table).astype(np.uint8), ink)


def _median_uint8(values: np.ndarray) -> int:
    return int(np.searchsorted(np.cumsum(np.bincount(values, minlength=256)), (values.size + 1) // 2))
