"""Preprocessing: shapes with known answers, every input kind, noise, and broken files.

Centres of mass, bounding boxes and stroke widths are recomputed here with plain numpy.
"""

import gzip
import io
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitlab import preprocess
from digitlab.preprocess import (
    MNIST_STROKE_WIDTH,
    ImageError,
    NothingToRead,
    canvas_to_input,
    naive_resize,
    open_image,
    preprocess_steps,
    stroke_width,
)

MNIST_TRAIN = Path(__file__).resolve().parent.parent / "assets/mnist/train-images-idx3-ubyte.gz"
# A "4"-like polyline with a bar to one side, so its centre of mass is off its box's centre.
FOUR = [(180, 230), (180, 50), (90, 170), (215, 170)]


def draw(points, width=18, size=280, ink=255, background=0) -> Image.Image:
    image = Image.new("L", (size, size), background)
    ImageDraw.Draw(image).line(points, fill=ink, width=width, joint="curve")
    return image


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    total = image.astype(float).sum()
    return (ys * image).sum() / total, (xs * image).sum() / total


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(image.any(1)), np.flatnonzero(image.any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def width_by_hand(image: np.ndarray) -> float:
    """2 x area / perimeter, the perimeter summed edge by edge over a zero-padded copy."""
    a = np.pad(image.astype(float) / 255, 1).tolist()
    perimeter = 0.0
    for y in range(len(a) - 1):
        for x in range(len(a[0]) - 1):
            perimeter += math.hypot(a[y][x + 1] - a[y][x], a[y + 1][x] - a[y][x])
    return 2 * sum(map(sum, a)) / perimeter


def png_bytes(image: Image.Image, fmt="PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_stroke_width_of_a_bar_matches_a_hand_count():
    bar = np.zeros((50, 50))
    bar[5:45, 10:14] = 1  # 4 x 40: area 160, perimeter 2 * (4 + 40) = 88, except that forward
    # differences meet at the bottom-right corner pixel, which counts hypot(1, 1) for its 2 edges.
    assert stroke_width(bar) == pytest.approx(2 * 160 / (88 - 2 + math.sqrt(2)))


def test_mnist_stroke_width_constant_is_the_median_of_mnist():
    with gzip.open(MNIST_TRAIN) as file:
        images = np.frombuffer(file.read(16 + 2000 * 784), np.uint8, offset=16).reshape(-1, 28, 28)
    assert np.median([width_by_hand(i) for i in images[:300]]) == pytest.approx(MNIST_STROKE_WIDTH, abs=0.1)


@pytest.mark.parametrize("shape", [FOUR, [(60, 60), (220, 200)], [(140, 40), (140, 240)]])
def test_mnist_recipe_box_20_and_centre_of_mass_at_14(shape):
    steps = preprocess_steps(draw(shape))
    assert steps.fitted.shape == (20, 20) and steps.centred.shape == (28, 28)
    assert steps.centred.dtype == np.uint8 and steps.centred.max() == 255
    assert max(ink_box(steps.centred)) == 20
    cy, cx = centre_of_mass(steps.centred)
    # Whole-pixel shifts leave at most 0.5 px; rounding to uint8 may add a hair.
    assert abs(cy - 14) <= 0.52 and abs(cx - 14) <= 0.52
    assert np.array_equal(canvas_to_input(draw(shape)), steps.centred)


def test_steps_show_the_raw_ink_and_its_crop():
    steps = preprocess_steps(draw([(100, 60), (100, 200)], width=10))
    assert steps.raw.shape == (280, 280) and steps.raw.dtype == np.uint8
    assert steps.cropped.shape == (141, 10)  # rows 60-200 of a 10 px wide line with flat ends


def test_tall_rectangle_keeps_its_orientation():
    image = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(image).rectangle((110, 40, 150, 240), fill=255)
    height, width = ink_box(canvas_to_input(image))
    assert height == 20 and width < 8


def test_polarity_is_found_automatically():
    assert np.array_equal(canvas_to_input(draw(FOUR)), canvas_to_input(draw(FOUR, ink=0, background=255)))


def test_transparent_background_reads_like_opaque_canvas():
    coverage = np.asarray(draw(FOUR))
    opaque = np.dstack([coverage] * 3 + [np.full_like(coverage, 255)])
    dark_on_clear = np.dstack([np.zeros_like(coverage)] * 3 + [coverage])
    light_on_clear = np.dstack([np.full_like(coverage, 255)] * 3 + [coverage])
    expected = canvas_to_input(opaque)
    assert np.array_equal(canvas_to_input(Image.fromarray(dark_on_clear)), expected)
    assert np.array_equal(canvas_to_input(light_on_clear), expected)


@pytest.mark.parametrize(
    "convert",
    [
        lambda im: im.convert("P"),
        lambda im: im.convert("RGB").convert("CMYK"),
        lambda im: im.convert("LA"),
        lambda im: Image.fromarray(np.asarray(im).astype(np.uint16) * 257),  # I;16
        lambda im: Image.fromarray(np.asarray(im).astype(np.float32) / 255),  # F
        lambda im: np.asarray(im).astype(np.float64) / 255,
        lambda im: np.asarray(im.convert("RGB")),
    ],
)
def test_every_image_mode_gives_the_same_input(convert):
    image = draw(FOUR)
    assert np.array_equal(canvas_to_input(convert(image)), canvas_to_input(image))


def test_animated_gif_reads_the_first_frame():
    frames = [draw(FOUR).convert("P"), Image.new("P", (280, 280), 0)]
    data = png_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert np.array_equal(canvas_to_input(open_image(data)), canvas_to_input(draw(FOUR)))


def test_huge_and_tiny_images_are_read():
    big = draw(FOUR).resize((3000, 3000), Image.BILINEAR)
    assert max(ink_box(canvas_to_input(big))) == 20
    small = draw(FOUR).resize((28, 28), Image.LANCZOS)
    assert np.abs(canvas_to_input(small).astype(int) - canvas_to_input(draw(FOUR))).mean() < 12


@pytest.mark.parametrize("size", [1, 3])
def test_one_pixel_images_are_nothing_to_read(size):
    with pytest.raises(NothingToRead):
        canvas_to_input(Image.new("L", (size, size), 255))


@pytest.mark.parametrize("level", [0, 128, 255])
def test_blank_image_is_nothing_to_read(level):
    with pytest.raises(NothingToRead):
        canvas_to_input(Image.new("RGB", (280, 280), (level,) * 3))


@pytest.mark.parametrize(
    "noise",
    [
        lambda rng: 128 + rng.normal(0, 25, (280, 280)),  # sensor noise
        lambda rng: rng.integers(0, 256, (280, 280)),  # pure static
        lambda rng: 200 + 10 * np.sin(np.arange(280) / 3)[None, :] + rng.normal(0, 3, (280, 280)),  # paper
        lambda rng: (rng.random((280, 280)) < 0.002) * 255,  # lone specks
    ],
)
def test_noise_only_is_nothing_to_read(noise):
    image = np.clip(noise(np.random.default_rng(0)), 0, 255).astype(np.uint8)
    with pytest.raises(NothingToRead):
        canvas_to_input(image)


def test_noisy_jpeg_photo_reads_like_the_clean_drawing():
    clean = canvas_to_input(draw(FOUR))
    rng = np.random.default_rng(1)
    grey = 230 - 0.6 * np.asarray(draw(FOUR), float) + rng.normal(0, 12, (280, 280))
    grey += np.linspace(-50, 50, 280)[None, :]  # light falling across the page
    photo = open_image(png_bytes(Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)), "JPEG", quality=30))
    assert np.abs(canvas_to_input(photo).astype(int) - clean).mean() < 4


@pytest.mark.parametrize("brush", [1, 25])
def test_thin_and_thick_strokes_come_out_mnist_wide(brush):
    width = width_by_hand(canvas_to_input(draw(FOUR, width=brush)))
    assert width == pytest.approx(MNIST_STROKE_WIDTH, abs=0.35)


def test_thick_erosion_keeps_thin_parts():
    image = draw(FOUR, width=40)
    ImageDraw.Draw(image).line([(60, 40), (60, 240)], fill=255, width=2)  # a hairline beside it
    out = canvas_to_input(image)
    hairline_rows = (out[:, :8].max(axis=1) > 100).sum()  # at the left of the box, as tall as the 4
    assert hairline_rows >= 15


def test_an_mnist_digit_comes_back_mnist_like():
    with gzip.open(MNIST_TRAIN) as file:
        images = np.frombuffer(file.read(16 + 20 * 784), np.uint8, offset=16).reshape(-1, 28, 28)
    for image in images:
        redone = canvas_to_input(image).astype(float)
        assert np.corrcoef(redone.ravel(), image.astype(float).ravel())[0, 1] > 0.75


def test_naive_resize_squeezes_the_whole_canvas_with_white_ink():
    out = naive_resize(draw([(0, 0), (279, 279)], width=40, ink=0, background=255))
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert out[14, 14] > 200 and out[0, 27] == 0 and out[27, 0] == 0


def test_open_image_decodes_a_png():
    image = open_image(png_bytes(draw(FOUR)))
    assert image.size == (280, 280)


def bomb_png(width: int, height: int) -> bytes:
    """A PNG header claiming a huge 1-bit image (no pixel data: Pillow checks the size first)."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is not an image",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"/>',
        bomb_png(7000, 7000),  # 49 Mpx: over the limit
        bomb_png(20000, 20000),  # 400 Mpx: Pillow's own hard error
        png_bytes(draw(FOUR))[:300],  # truncated
    ],
    ids=["empty", "text", "svg", "bomb", "huge-bomb", "truncated"],
)
def test_unreadable_files_raise_image_error(data):
    with pytest.raises(ImageError):
        open_image(data)


def test_missing_file_is_an_image_error(tmp_path):
    with pytest.raises(ImageError):
        open_image(tmp_path / "missing.png")


def test_pillow_limit_is_set_deliberately():
    assert Image.MAX_IMAGE_PIXELS == preprocess.MAX_IMAGE_PIXELS == 40_000_000


def tight_crop(digit: np.ndarray, dark_on_white: bool, level: int = 64, scale: int = 4) -> Image.Image:
    """An MNIST digit cropped to its ink (the ink touches all four edges), enlarged like a scan."""
    rows, cols = np.flatnonzero((digit > level).any(1)), np.flatnonzero((digit > level).any(0))
    crop = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    crop = 255 - crop if dark_on_white else crop
    return Image.fromarray(crop).resize((crop.shape[1] * scale, crop.shape[0] * scale), Image.BICUBIC)


def mnist_test_digits(n: int) -> np.ndarray:
    path = MNIST_TRAIN.with_name("t10k-images-idx3-ubyte.gz")
    return np.frombuffer(gzip.open(path).read(), np.uint8, offset=16).reshape(-1, 28, 28)[:n]


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


@pytest.mark.parametrize("dark_on_white", [True, False], ids=["dark-on-white", "light-on-dark"])
def test_digits_cropped_to_their_ink_are_read_with_the_ink_found(dark_on_white):
    # Before the background was taken from what most of the picture is, 2-3 % of these (mostly 1s,
    # whose tight crop is more ink than paper along the border) were answered "the image is blank".
    digits = mnist_test_digits(600)
    blank, unlike = [], []
    for i, digit in enumerate(digits):
        try:
            read = canvas_to_input(tight_crop(digit, dark_on_white))
        except NothingToRead:
            blank.append(i)
            continue
        # The ink found is the digit's, not the paper around it: the input matches the uncropped digit's.
        if correlation(read, canvas_to_input(digit)) < 0.6:
            unlike.append(i)
    assert blank == []
    assert len(unlike) <= 3, unlike


def test_a_tight_crop_of_a_one_that_is_mostly_ink_is_read_as_a_stroke():
    one = np.zeros((28, 8), np.uint8)
    one[:, 2:6] = 255  # a 1 four pixels wide, cropped to 8: half the picture and most of the border
    for picture in (one, 255 - one):
        read = canvas_to_input(Image.fromarray(picture).resize((32, 112), Image.BICUBIC))
        rows, cols = np.flatnonzero(read.any(1)), np.flatnonzero(read.any(0))
        assert rows[-1] - rows[0] + 1 == 20 and cols[-1] - cols[0] + 1 < 10  # a tall thin stroke


@pytest.mark.parametrize("edges", [1, 2, 3])
def test_ink_touching_some_edges_is_read(edges):
    image = np.full((120, 120), 255, np.uint8)
    image[10:110, 50:62] = 0  # a 1, away from the edges
    if edges >= 1:
        image[:10, 50:62] = 0  # up to the top edge
    if edges >= 2:
        image[110:, 50:62] = 0  # and the bottom
    if edges >= 3:
        image[100:, :] = 0  # and a foot along the whole bottom, both sides
    read = canvas_to_input(image)
    assert read.max() == 255 and (read > 0).mean() < 0.4
