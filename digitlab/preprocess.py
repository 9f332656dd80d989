"""Turn any picture of a digit into the 28x28 image an MNIST model expects.

This module owns the one preprocessing path shared by the Draw page, uploads, the CLI and the
benchmark: reading image files safely, then finding the ink (polarity, contrast, noise: `ink`),
normalising stroke thickness (`thickness`), and the MNIST recipe itself (fit the ink's bounding box
into 20x20 with anti-aliasing, then place it in 28x28 by its centre of mass). Output is uint8, ink 255 on 0,
exactly like raw MNIST pixels. numpy and Pillow only: about 1.5 ms of CPU for a 280x280 canvas.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digitlab.ink import MASK_LEVEL, MAX_SIDE, ImageError, NothingToRead, ink_map, polarised, to_grey
from digitlab.thickness import (
    BOX,
    CENTRE,
    DRAW_WIDTH,
    MNIST_STROKE_WIDTH,
    SIZE,
    normalise_thickness,
    pad,
    remove_specks,
    stroke_width,
    work_mask,
)

# What the rest of digitlab uses from here; the stages themselves live in `ink` and `thickness`.
__all__ = [
    "DRAW_WIDTH",
    "MAX_IMAGE_PIXELS",
    "MNIST_STROKE_WIDTH",
    "ImageError",
    "NothingToRead",
    "PreprocessSteps",
    "canvas_to_input",
    "naive_resize",
    "open_image",
    "open_png_of_size",
    "preprocess_steps",
    "stroke_width",
]

# Pillow refuses bigger images as decompression bombs; 40 Mpx still admits any phone photo.
MAX_IMAGE_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# The only decoders an upload reaches (JPEG covers the MPO files many phones write). Pillow would
# otherwise try every format it knows, EPS among them, which hands the file to Ghostscript.
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
# A PNG of known size is at most its raw RGBA pixels (plus one filter byte a row) and its chunks; real ones
# are far smaller (a 280×280 canvas is about 10 kB).
MAX_PNG_BYTES_PER_PIXEL = 5
PNG_OVERHEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class PreprocessSteps:
    raw: np.ndarray  # ink map of the whole input, uint8, ink 255 (after polarity and contrast)
    cropped: np.ndarray  # raw cropped to the ink's bounding box
    fitted: np.ndarray  # 20x20: stroke width normalised, long side fitted to 20 px
    centred: np.ndarray  # 28x28 uint8 model input, centre of mass at (14, 14)


FILE_SIZE = "digitlab_file_size"  # image.info key: (width, height) of the picture in the file, upright
ORIENTATION, SIDEWAYS = 0x0112, (5, 6, 7, 8)  # the EXIF tag, and its values that turn a photo 90°


def open_image(data: bytes | str | Path) -> Image.Image:
    """Decode an uploaded file fully (truncation shows only on load); any failure is an ImageError.

    `image.info[FILE_SIZE]` keeps the picture's size in the file: a big JPEG is decoded at a reduced
    scale, and the page should still say how big the photo was."""
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
            size = image.size  # as the file has it: a big JPEG is decoded smaller just below
            if image.format == "JPEG":  # decode big photos at reduced scale: much faster
                image.draft(image.mode, (MAX_SIDE, MAX_SIDE))
            image.load()
            turned = image.getexif().get(ORIENTATION, 1) in SIDEWAYS
            ImageOps.exif_transpose(image, in_place=True)  # phone photos are stored sideways
            image.info[FILE_SIZE] = size[::-1] if turned else size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"The image is too large (over {MAX_IMAGE_PIXELS // 1_000_000} megapixels)."
        ) from None
    except UnidentifiedImageError:
        raise ImageError("This file is not an image (try PNG, JPEG, GIF, BMP or WebP).") from None
    except Exception:  # a hostile file can trip any decoder (struct.error, IndexError, ...)
        raise ImageError("The image file is damaged or truncated.") from None
    return image


def open_png_of_size(
    data: bytes, size: tuple[int, int], what: str = "This picture", exact: bool = True
) -> Image.Image:
    """A PNG of exactly `size` (width, height), or at most that with `exact=False`, checked from its
    header before one pixel is decoded.

    For pictures whose size is known beforehand: the Draw page's canvas (a crafted websocket message can
    send the server any picture as the canvas's), and the drawings in a Teach zip. Then decoded fully
    through `open_image`'s guards; any failure is an ImageError that says what was wrong.
    """
    raw = bytes(data)
    if len(raw) > MAX_PNG_BYTES_PER_PIXEL * size[0] * size[1] + PNG_OVERHEAD_BYTES:
        raise ImageError(f"{what} is too large ({len(raw):,} bytes) for {size[0]}×{size[1]} pixels.")
    try:
        with Image.open(io.BytesIO(raw), formats=("PNG",)) as header:
            declared = header.size
    except Image.DecompressionBombError:
        raise ImageError(f"{what} is too large (over {MAX_IMAGE_PIXELS // 1_000_000} megapixels).") from None
    except Exception:  # not a PNG, or a header no decoder accepts
        raise ImageError(f"{what} is not a PNG image.") from None
    fits = declared == tuple(size) if exact else declared[0] <= size[0] and declared[1] <= size[1]
    if not fits:
        wanted = f"{size[0]}×{size[1]}" if exact else f"at most {size[0]}×{size[1]}"
        raise ImageError(f"{what} is {declared[0]}×{declared[1]} pixels, not {wanted}.")
    return open_image(raw)


def canvas_to_input(image: Image.Image | np.ndarray) -> np.ndarray:
    """The 28x28 uint8 model input for a drawing or photo of one digit; raises NothingToRead."""
    return preprocess_steps(image).centred


def naive_resize(image: Image.Image | np.ndarray) -> np.ndarray:
    """Baseline: the whole picture squeezed to 28x28, ink white, without the MNIST recipe."""
    ink, _ = polarised(to_grey(image))
    return np.asarray(Image.fromarray(ink).resize((SIZE, SIZE), Image.LANCZOS))


def preprocess_steps(image: Image.Image | np.ndarray) -> PreprocessSteps:
    """Every stage of `canvas_to_input`, for the Draw page to show; raises NothingToRead."""
    raw = ink_map(to_grey(image))
    mask = remove_specks(raw >= round(MASK_LEVEL * 255))
    if not mask.any():
        raise NothingToRead("Nothing to read: only specks of noise.")
    rows, cols = _bbox(mask)
    work = work_mask(raw[rows, cols], mask[rows, cols])
    fitted = _fit_box(normalise_thickness(work))
    return PreprocessSteps(raw, raw[rows, cols], _to_uint8(fitted), _to_uint8(_centre(fitted)))


def _bbox(mask: np.ndarray) -> tuple[slice, slice]:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _fit_box(work: np.ndarray) -> np.ndarray:
    """Anti-aliased resize of the ink's bounding box so its long side spans exactly 20 px."""
    rows, cols = _bbox(work > 0)
    ink = work[rows, cols]
    side = max(ink.shape)
    pad_y, pad_x = (side - ink.shape[0]) // 2 + 1, (side - ink.shape[1]) // 2 + 1
    padded = Image.fromarray(pad(ink, pad_y, pad_x))
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


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
