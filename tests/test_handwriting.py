"""digitlab.classroom.handwriting and digitlab.learn.fine_tuning: the bounded set, the zip round trip
and its errors, and fine-tuning on a style
MNIST never saw (mirrored digits), checked on held-out drawings and on MNIST."""

import csv
import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from digitlab.classroom import handwriting as hw
from digitlab.learn import fine_tuning


def digit(value: int) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 10 + value : 12 + value] = 255
    return image


def canvas(value: int) -> np.ndarray:
    pixels = np.zeros((40, 40, 4), np.uint8)
    pixels[..., 3] = 255
    pixels[5:35, value : value + 4, :3] = 255
    return pixels


def test_the_set_is_bounded_and_drops_the_oldest():
    drawings = hw.HandwritingSet(limit=3)
    for value in range(5):
        drawings.add(digit(value), value)
    assert len(drawings) == 3
    assert drawings.labels.tolist() == [2, 3, 4]
    np.testing.assert_array_equal(drawings.images[0], digit(2))
    assert drawings.counts().tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0]


def test_adding_checks_the_image_and_the_label():
    drawings = hw.HandwritingSet()
    with pytest.raises(ValueError, match="28×28"):
        drawings.add(np.zeros((280, 280)), 1)
    with pytest.raises(ValueError, match="0-9"):
        drawings.add(digit(1), 10)
    assert len(drawings) == 0 and drawings.images.shape == (0, 28, 28)


def test_zip_round_trip_keeps_images_labels_and_canvases():
    drawings = hw.HandwritingSet()
    for value in (7, 1, 4):
        drawings.add(digit(value), value, canvas(value))
    drawings.add(digit(0), 0)  # no canvas kept
    data = hw.to_zip(drawings)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        rows = list(csv.reader(io.StringIO(archive.read("labels.csv").decode())))
        names = set(archive.namelist())
    assert rows == [["file", "label"], ["digits/0001.png", "7"], ["digits/0002.png", "1"],
                    ["digits/0003.png", "4"], ["digits/0004.png", "0"]]  # fmt: skip
    assert {"canvas/0001.png", "canvas/0003.png"} <= names and "canvas/0004.png" not in names
    back = hw.from_zip(data)
    assert back.labels.tolist() == [7, 1, 4, 0]
    np.testing.assert_array_equal(back.images, drawings.images)
    assert [d.canvas_png for d in back.drawings] == [d.canvas_png for d in drawings.drawings]
    assert back.drawings[0].canvas_png is not None


def encoded(pixels: np.ndarray, image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=image_format)
    return buffer.getvalue()


def zip_of(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip", "not a zip"),
        (zip_of({"a.png": hw.png_bytes(digit(1))}), "no labels.csv"),
        (zip_of({"labels.csv": "file,label\na.png,x\n", "a.png": hw.png_bytes(digit(1))}), "line 2"),
        (zip_of({"labels.csv": "file,label\nb.png,1\n"}), "'b.png' is not in the zip"),
        (zip_of({"labels.csv": "file,label\na.png,1\n", "a.png": b"garbage"}), "a.png is not a PNG image"),
        (zip_of({"labels.csv": "file,label\na.png,1\n", "a.png": encoded(digit(1), "JPEG")}), "not a PNG"),
        (zip_of({"labels.csv": "file,label\na.png,1\n", "a.png": encoded(digit(1), "GIF")}), "not a PNG"),
        (
            zip_of(
                {"labels.csv": "file,label\na.png,1\n", "a.png": hw.png_bytes(np.zeros((30, 28), np.uint8))}
            ),
            "not 28×28",
        ),
    ],
)
def test_a_bad_zip_says_what_is_wrong(data, message):
    with pytest.raises(hw.HandwritingFileError, match=message):
        hw.from_zip(data)


def one_drawing_with_canvas(canvas: bytes) -> bytes:
    labels = "file,label\ndigits/0001.png,1\n"
    return zip_of(
        {"labels.csv": labels, "digits/0001.png": hw.png_bytes(digit(1)), "canvas/0001.png": canvas}
    )


def test_a_huge_picture_is_refused_from_its_header_before_it_is_decoded(monkeypatch):
    bomb = hw.png_bytes(np.zeros((6000, 6000), np.uint8))  # 36 Mpx, about 35 kB compressed
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self.size))
    for data in (
        zip_of({"labels.csv": "file,label\na.png,1\n", "a.png": bomb}),
        one_drawing_with_canvas(bomb),
    ):
        with pytest.raises(hw.HandwritingFileError, match="6000×6000 pixels"):
            hw.from_zip(data)
    assert (6000, 6000) not in decoded


def test_every_canvas_member_is_checked_too():
    with pytest.raises(hw.HandwritingFileError, match="canvas/0001.png is not a PNG"):
        hw.from_zip(one_drawing_with_canvas(encoded(np.zeros((280, 280), np.uint8), "BMP")))
    with pytest.raises(hw.HandwritingFileError, match="not at most 280×280"):
        hw.from_zip(one_drawing_with_canvas(hw.png_bytes(np.zeros((281, 280), np.uint8))))
    thumbnail = hw.png_bytes(np.zeros((96, 96), np.uint8))  # the class wall exports thumbnails
    assert hw.from_zip(one_drawing_with_canvas(thumbnail)).drawings[0].canvas_png == thumbnail


def test_the_number_of_members_and_their_total_size_are_capped(monkeypatch):
    files = {"labels.csv": "file,label\na.png,1\n", "a.png": hw.png_bytes(digit(1))}
    files |= {f"junk/{i}.txt": "x" for i in range(hw.MAX_MEMBERS)}
    with pytest.raises(hw.HandwritingFileError, match=f"holds {hw.MAX_MEMBERS + 2:,} files"):
        hw.from_zip(zip_of(files))
    monkeypatch.setattr(hw, "MAX_TOTAL_BYTES", 5_000_000)
    big = zip_of(
        {"labels.csv": "file,label\na.png,1\n", "a.png": hw.png_bytes(digit(1)), "x": b"0" * 6_000_000}
    )
    with pytest.raises(hw.HandwritingFileError, match="unpacks to 6 MB"):
        hw.from_zip(big)


def test_accuracy_on_the_set_is_the_share_read_right(tiny_classifier, small_mnist):
    drawings = hw.HandwritingSet()
    for image, label in zip(small_mnist.x_test[:50], small_mnist.y_test[:50], strict=True):
        drawings.add(image, label)
    logits = tiny_classifier.model(small_mnist.x_test[:50].astype(np.float32)).numpy()
    expected = np.mean(logits.argmax(axis=1) == small_mnist.y_test[:50])
    assert hw.evaluate_on(tiny_classifier, drawings).accuracy == pytest.approx(expected)
    with pytest.raises(ValueError):
        hw.evaluate_on(tiny_classifier, hw.HandwritingSet())


def test_each_pass_mixes_a_quarter_of_drawings_with_mnist(small_mnist):
    drawings = hw.HandwritingSet()
    for value in range(10):
        drawings.add(digit(value) // 2, value)  # only 0 and 127: no MNIST digit is that flat
    config = fine_tuning.FineTuneConfig(own_per_epoch=40, mnist_per_own=3)
    images, labels = fine_tuning.mix(drawings, small_mnist.x_train, small_mnist.y_train, config)
    assert len(images) == 160 and len(labels) == 160
    own = np.isin(images, (0, 127)).all(axis=(1, 2))
    assert own.sum() == 40 and np.bincount(labels[own], minlength=10).tolist() == [4] * 10


def mirrored(images: np.ndarray, labels: np.ndarray) -> hw.HandwritingSet:
    """A writer MNIST never saw: every digit mirrored left to right."""
    drawings = hw.HandwritingSet()
    for image, label in zip(images, labels, strict=True):
        drawings.add(image[:, ::-1], label)
    return drawings


def test_fine_tuning_learns_the_new_style_and_keeps_mnist(tiny_classifier, mnist, small_mnist):
    own = mirrored(mnist.x_test[-300:-150], mnist.y_test[-300:-150])
    held_out = mirrored(mnist.x_test[-150:], mnist.y_test[-150:])
    weights_before = [w.copy() for w in tiny_classifier.model.get_weights()]
    before = hw.evaluate_on(tiny_classifier, held_out).accuracy
    events = []
    config = fine_tuning.FineTuneConfig(epochs=3, own_per_epoch=300, learning_rate=1e-3)
    result = fine_tuning.fine_tune(tiny_classifier, own, small_mnist, config, emit=events.append)
    after = hw.evaluate_on(result.classifier, held_out).accuracy
    plain_before = np.mean(tiny_classifier.predict_proba(small_mnist.x_test).argmax(1) == small_mnist.y_test)
    mnist_after = result.evaluation.accuracy
    print(f"mirrored held out {before:.1%} → {after:.1%}; MNIST {plain_before:.1%} → {mnist_after:.1%}")
    assert after > before + 0.1
    assert mnist_after > plain_before - 0.05
    assert [e["epoch"] for e in events if e["kind"] == "epoch"] == [1, 2, 3]
    assert result.classifier.name.endswith("+ your handwriting")
    assert result.classifier.metadata["metrics"]["test_accuracy"] == result.evaluation.accuracy
    for old, new in zip(weights_before, tiny_classifier.model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # the original model is untouched


def test_fine_tuning_needs_drawings(tiny_classifier, small_mnist):
    with pytest.raises(ValueError, match="nothing to learn"):
        fine_tuning.fine_tune(tiny_classifier, hw.HandwritingSet(), small_mnist)


def test_the_new_modules_import_without_streamlit_or_tensorflow():
    modules = "digitlab.classroom.handwriting, digitlab.learn.inside, digitlab.inside_charts"
    code = f"import sys, {modules}; print(*sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert not {"streamlit", "tensorflow", "keras"} & set(loaded)


def test_a_drawing_can_be_relabelled_or_taken_out():
    drawings = hw.HandwritingSet()
    for label in (1, 7, 3):
        drawings.add(np.full((28, 28), label, np.uint8), label)
    drawings.relabel(1, 9)
    assert list(drawings.labels) == [1, 9, 3]
    assert (drawings.images[1] == 7).all()  # the drawing itself is unchanged
    drawings.remove(0)
    assert list(drawings.labels) == [9, 3]
    with pytest.raises(ValueError):
        drawings.relabel(0, 10)
