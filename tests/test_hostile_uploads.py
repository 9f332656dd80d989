"""Files a class will upload sooner or later, by accident or on purpose, read without a traceback.

Each file is made here, in memory: a text file named .png, a truncated PNG, decompression bombs, a 1×1
and a 10,000×10,000 image, an animated GIF, a 16-bit PNG, a CMYK JPEG, a fully transparent PNG, an
SVG, an EPS and an empty file. The core must answer each with an ImageError or NothingToRead (whose
message is for the student) or a reading; the Draw page must show that message and keep working.
"""

import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from digitlab import preprocess
from digitlab.preprocess import ImageError, NothingToRead, canvas_to_input, open_image
from tests.apptest import APP, TIMEOUT, draw, texts

CONFIG = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def a_one(size: int = 280, mode: str = "L") -> Image.Image:
    """A vertical stroke, white on black, like a finger-drawn 1."""
    image = Image.new("L", (size, size), 0)
    middle = size // 2
    ImageDraw.Draw(image).line([(middle, size // 7), (middle, size * 6 // 7)], fill=255, width=size // 15)
    return image.convert(mode)


def bomb(side: int) -> bytes:
    """A real 1-bit PNG of side × side black pixels: a few kB that decode to side² bytes."""
    return encode(Image.new("1", (side, side), 0), optimize=True)


def animated_gif() -> bytes:
    frames = [a_one().convert("P"), Image.new("P", (280, 280), 0)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def sixteen_bit_png() -> bytes:
    return encode(Image.fromarray(np.asarray(a_one(), np.uint16) * 257))


# name -> (file bytes, what the core makes of it: an exception type or "read")
HOSTILE = {
    "text-renamed.png": (lambda: b"Dear teacher, here is my homework.\n" * 20, ImageError),
    "truncated.png": (lambda: encode(a_one())[:400], ImageError),
    "bomb-49mpx.png": (lambda: bomb(7_000), ImageError),  # over the 40 Mpx limit: Pillow's warning
    "bomb-144mpx.png": (lambda: bomb(12_000), ImageError),  # over twice the limit: Pillow's error
    "one-pixel.png": (lambda: encode(Image.new("L", (1, 1), 255)), NothingToRead),
    "huge-10000.png": (lambda: encode(a_one(10_000)), ImageError),
    "animated.gif": (animated_gif, "read"),
    "sixteen-bit.png": (sixteen_bit_png, "read"),
    "cmyk.jpg": (lambda: encode(a_one(mode="CMYK"), "JPEG"), "read"),
    "transparent.png": (lambda: encode(Image.new("RGBA", (280, 280), (0, 0, 0, 0))), NothingToRead),
    "drawing.svg": (lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><path d="M5 0v28"/></svg>', ImageError),
    "postscript.eps": (lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\nshowpage\n", ImageError),
    "empty.png": (lambda: b"", ImageError),
}
MESSAGES = {  # a phrase of the message each failure must carry: the student can act on it
    "text-renamed.png": "not an image",
    "truncated.png": "damaged or truncated",
    "bomb-49mpx.png": "too large",
    "bomb-144mpx.png": "too large",
    "one-pixel.png": "blank",
    "huge-10000.png": "too large",
    "transparent.png": "blank",
    "drawing.svg": "SVG",
    "postscript.eps": "not an image",
    "empty.png": "empty",
}


@pytest.fixture(scope="module")
def corpus() -> dict[str, bytes]:
    return {name: make() for name, (make, _) in HOSTILE.items()}


def test_bombs_are_small_files(corpus):
    # What makes them bombs: kilobytes on disk, hundreds of megabytes once decoded.
    assert len(corpus["bomb-144mpx.png"]) < 100_000 and len(corpus["huge-10000.png"]) < 1_000_000


def test_pillow_limit_is_deliberate():
    assert Image.MAX_IMAGE_PIXELS == preprocess.MAX_IMAGE_PIXELS == 40_000_000


@pytest.mark.parametrize("name", HOSTILE)
def test_the_core_answers_every_file_with_a_message_or_a_reading(corpus, name, tmp_path):
    expected = HOSTILE[name][1]
    (tmp_path / name).write_bytes(corpus[name])
    started = time.perf_counter()
    for source in (corpus[name], tmp_path / name):  # upload bytes and a path given to the CLI
        if expected == "read":
            digit = canvas_to_input(open_image(source))
            assert digit.shape == (28, 28) and digit.max() == 255
            continue
        with pytest.raises(expected) as caught:
            canvas_to_input(open_image(source))
        message = str(caught.value)
        assert MESSAGES[name].lower() in message.lower()
        assert "Traceback" not in message and str(tmp_path) not in message
    assert time.perf_counter() - started < 5  # refused before decoding, or decoded at reduced size


def test_the_upload_limit_is_kept():
    assert "maxUploadSize = 20" in CONFIG.read_text()


# The Draw page, through Streamlit's AppTest


def draw_on_canvas(at: AppTest) -> AppTest:
    return draw(at, encode(a_one(mode="RGBA")))


@pytest.mark.slow
def test_the_draw_page_explains_every_file_and_keeps_reading_drawings(corpus, through_the_router):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/draw.py").run()
    for name, data in corpus.items():
        # Streamlit itself refuses a name outside the uploader's types; the content is what is hostile.
        renamed = name if name.endswith((".png", ".jpg")) else f"{name}.png"
        at.file_uploader(key="draw_upload").upload(renamed, data, "image/png").run()
        assert not at.exception, (name, at.exception)
        shown = texts(at.error) + texts(at.info)
        predictions = [m.value for m in at.metric if m.label == "Prediction"]
        if HOSTILE[name][1] == "read":
            assert predictions == ["1"], name
            continue
        if HOSTILE[name][1] is NothingToRead:
            assert "No digit found in this picture" in texts(at.info), (name, shown)
        else:
            assert "That file cannot be read" in texts(at.error), (name, shown)
            assert MESSAGES[name].lower() in texts(at.error).lower(), (name, shown)
        assert "Traceback" not in shown and not predictions, name
    draw_on_canvas(at)  # the page still works after all of them
    assert not at.exception
    assert [m.value for m in at.metric if m.label == "Prediction"][0] == "1"


# The canvas: a crafted websocket message can hand the server any picture as the canvas's drawing.


@pytest.mark.parametrize(
    ("picture", "message"),
    [
        (encode(a_one(size=281, mode="RGBA")), "281×281 pixels, not 280×280"),
        (bomb(6_000), "6000×6000 pixels, not 280×280"),
        (bomb(20_000), "too large"),
        (encode(a_one(mode="RGB"), "JPEG"), "not a PNG image"),
        (encode(a_one(mode="RGBA"), "WEBP"), "not a PNG image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "not a PNG image"),
        (b"A" * 2_000_000, "too large"),
    ],
)
def test_a_canvas_picture_not_the_canvas_own_is_refused_before_decoding(picture, message, monkeypatch):
    decoded = []
    original = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self.size) or original(self))
    with pytest.raises(ImageError, match=message):
        preprocess.open_png_of_size(picture, (280, 280), "The canvas's picture")
    assert all(size == (280, 280) for size in decoded)  # nothing bigger was ever decoded


def test_the_canvas_own_picture_is_read():
    image = preprocess.open_png_of_size(encode(a_one(mode="RGBA")), (280, 280))
    assert image.size == (280, 280) and image.mode == "RGBA"


@pytest.mark.slow
def test_the_draw_page_refuses_a_forged_canvas_picture_and_reads_the_next_drawing(through_the_router):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/draw.py").run()
    for forged in (bomb(20_000), encode(a_one(size=1000, mode="RGBA")), encode(a_one(mode="RGB"), "JPEG")):
        draw(at, forged)
        assert not at.exception, at.exception
        assert "The canvas's picture" in texts(at.error) and "Press Clear and draw again." in texts(at.error)
        assert not [m for m in at.metric if m.label == "Prediction"]
    draw_on_canvas(at)
    assert not at.exception and not at.error
    assert [m.value for m in at.metric if m.label == "Prediction"][0] == "1"
