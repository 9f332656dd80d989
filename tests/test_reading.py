import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitlab.preprocess import NothingToRead
from digitlab.reading import Reading, read_image, views


def test_views_turn_the_image_about_its_centre():
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 13:15] = 255  # a vertical bar through the centre
    batch = views(image, angles=(0.0, 90.0))
    assert batch.shape == (2, 28, 28)
    np.testing.assert_array_equal(batch[0], image)
    # Turned a quarter, the bar lies across: ink spreads over columns, not rows.
    assert (batch[1].sum(axis=0) > 0).sum() >= 18 and (batch[1].sum(axis=1) > 0).sum() <= 4


class FixedClassifier:
    """Answers the same probabilities for every image, so averaging can be checked by hand."""

    def __init__(self, rows):
        self.rows = np.asarray(rows, dtype=float)

    def predict_proba(self, images):
        return self.rows[: len(images)]


def test_read_image_averages_the_views_and_reports_the_top_two():
    rows = np.zeros((3, 10))
    rows[0, 4], rows[0, 9] = 0.5, 0.5
    rows[1, 4], rows[1, 9] = 0.7, 0.3
    rows[2, 4], rows[2, 9] = 0.6, 0.4
    canvas = Image.new("RGB", (280, 280), "black")
    ImageDraw.Draw(canvas).line([(140, 40), (140, 240)], fill="white", width=18)
    reading = read_image(FixedClassifier(rows), canvas)
    assert reading.digit == 4
    assert reading.confidence == pytest.approx(0.6)
    assert reading.top(2) == [(4, pytest.approx(0.6)), (9, pytest.approx(0.4))]
    assert reading.is_sure(0.55) and not reading.is_sure(0.65)
    assert reading.steps.centred.shape == (28, 28)


def test_a_blank_canvas_is_nothing_to_read():
    with pytest.raises(NothingToRead):
        read_image(FixedClassifier(np.eye(10)[:3]), Image.new("RGBA", (280, 280), (0, 0, 0, 0)))


def test_the_default_model_reads_clear_strokes():
    from digitlab.storage import load_classifier

    classifier = load_classifier()
    one = Image.new("RGB", (280, 280), "black")
    ImageDraw.Draw(one).line([(140, 50), (140, 230)], fill="white", width=18)
    seven = Image.new("RGB", (280, 280), "black")
    ImageDraw.Draw(seven).line([(85, 60), (195, 60), (120, 230)], fill="white", width=18, joint="curve")
    zero = Image.new("RGB", (280, 280), "black")
    ImageDraw.Draw(zero).ellipse([(80, 45), (200, 235)], outline="white", width=18)
    assert [read_image(classifier, image).digit for image in (one, seven, zero)] == [1, 7, 0]
    assert isinstance(read_image(classifier, one), Reading)
