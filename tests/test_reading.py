import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitlab.preprocess import NothingToRead
from digitlab.reading import (
    Reading,
    format_probability,
    guesses_title,
    read_image,
    top_guesses,
    unsure_message,
    views,
)


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
    from digitlab.learn.classifier import load_classifier

    classifier = load_classifier()
    one = Image.new("RGB", (280, 280), "black")
    ImageDraw.Draw(one).line([(140, 50), (140, 230)], fill="white", width=18)
    seven = Image.new("RGB", (280, 280), "black")
    ImageDraw.Draw(seven).line([(85, 60), (195, 60), (120, 230)], fill="white", width=18, joint="curve")
    zero = Image.new("RGB", (280, 280), "black")
    ImageDraw.Draw(zero).ellipse([(80, 45), (200, 235)], outline="white", width=18)
    assert [read_image(classifier, image).digit for image in (one, seven, zero)] == [1, 7, 0]
    assert isinstance(read_image(classifier, one), Reading)


# Common ways people draw that MNIST's writers rarely used, each made in many variants: a random tilt,
# shear, size, place and brush, as different students would draw them on the canvas.
def _curve(p0, p1, p2, n=14):
    t = np.linspace(0, 1, n)[:, None]
    return list(
        map(tuple, (1 - t) ** 2 * np.array(p0) + 2 * (1 - t) * t * np.array(p1) + t * t * np.array(p2))
    )


def _arc(cx, cy, rx, ry, start, end, n=28):
    angles = np.radians(np.linspace(start, end, n))
    return list(zip(cx + rx * np.cos(angles), cy + ry * np.sin(angles), strict=True))


def crossed_seven_with_a_hook(rng):
    """The pen starts low on the left and curls up into the top bar; a bar crosses the stem."""
    hook, bar_y, bend, foot = (
        rng.uniform(25, 60),
        rng.uniform(135, 175),
        rng.uniform(-30, 30),
        rng.uniform(-20, 20),
    )
    top = _curve((80, 60 + hook), (75, 50), (125, 55)) + _curve((125, 55), (165, 60), (205, 58))[1:]
    stem = _curve((205, 58), (160 + bend, 140), (115 + foot, 240))
    bar = [(100 + rng.uniform(-10, 10), bar_y), (205 + rng.uniform(-15, 10), bar_y - rng.uniform(-5, 15))]
    return [top + stem[1:], bar]


def nine_with_a_curved_tail(rng):
    """An open or closed loop, then a tail that curves down and back to the left, like a g."""
    r, gap, cy = rng.uniform(40, 55), rng.uniform(0, 80), rng.uniform(85, 105)
    loop = _arc(140, cy, r, r * rng.uniform(0.75, 0.95), -20, -360 + gap)
    x0, y0 = loop[0]
    depth = rng.uniform(220, 250)
    return [
        loop + _curve((x0, y0 + 10), (x0 + rng.uniform(0, 15), depth), (rng.uniform(70, 120), depth - 20))
    ]


def four_in_one_stroke_open_at_the_top(rng):
    """Down and left, across, up to the top of the stem and down again, in one stroke: the top is open."""
    lean, y, top = rng.uniform(10, 60), rng.uniform(140, 170), rng.uniform(40, 90)
    return [[(100 + lean, 45), (80, y), (212, y), (178, y - 4), (175 + rng.uniform(-8, 8), top), (170, 245)]]


def as_drawn_by_someone(strokes, rng):
    angle, scale, shear = np.radians(rng.uniform(-12, 12)), rng.uniform(0.7, 1.05), rng.uniform(-0.25, 0.25)
    dx, dy = rng.uniform(-15, 15, 2)
    c, s = np.cos(angle), np.sin(angle)

    def move(x, y):
        x, y = x - 140 + shear * (y - 140), y - 140
        return 140 + scale * (c * x - s * y) + dx, 140 + scale * (s * x + c * y) + dy

    return [[move(x, y) for x, y in stroke] for stroke in strokes]


@pytest.mark.parametrize(
    "digit, style",
    [(7, crossed_seven_with_a_hook), (9, nine_with_a_curved_tail), (4, four_in_one_stroke_open_at_the_top)],
    ids=["7-crossed-hooked", "9-g-tail", "4-one-stroke-open-top"],
)
def test_the_default_model_reads_common_ways_of_drawing(digit, style):
    from digitlab.learn.classifier import load_classifier
    from digitlab.strokes import render_strokes

    classifier, rng = load_classifier(), np.random.default_rng(1)
    reads = [
        read_image(
            classifier, render_strokes(as_drawn_by_someone(style(rng), rng), brush=rng.uniform(10, 30))
        ).digit
        for _ in range(60)
    ]
    assert sum(read == digit for read in reads) >= 57, reads  # 95 % of sixty students


PROBS = np.array([0.1, 0.05, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.35])


def test_top_guesses_likeliest_first_and_ties_to_the_smaller_digit():
    assert top_guesses(PROBS, 2) == [(4, 0.5), (9, 0.35)]
    assert top_guesses(np.full(10, 0.1), 2) == [(0, 0.1), (1, 0.1)]


def test_not_sure_below_the_threshold_only():
    assert unsure_message(PROBS, 0.6) == "Not sure — maybe 4 or 9"
    assert unsure_message(PROBS, 0.5) is None  # exactly at the threshold is sure enough
    assert unsure_message(PROBS, 0.3) is None


def test_probabilities_never_read_as_zero_or_certain():
    assert [format_probability(p) for p in (0.004, 0.62, 0.995, 1.0)] == [
        "<1%",
        "62%",
        ">99%",
        ">99%",
    ]
    assert guesses_title(PROBS) == "4: 50% 9: 35%"
    assert guesses_title(PROBS, "  \n") == "4: 50%  \n9: 35%"


def test_a_drawing_unlike_every_digit_says_so_and_still_names_its_guess():
    seen = []

    class Fixed:
        def predict_proba(self, images):
            return np.tile(np.eye(10)[2] * 0.9 + 0.01, (len(images), 1))

    def judge(image):
        seen.append(image)
        return 1.7

    canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(canvas).line([(40, 140), (240, 140)], fill=(255, 255, 255, 255), width=18)
    answer = read_image(Fixed(), canvas, judge=judge)
    assert answer.digit == 2 and not answer.looks_like_a_digit
    assert answer.not_a_digit_message == "That doesn't look like a digit I know — my best guess is 2"
    np.testing.assert_array_equal(seen[0], answer.steps.centred)  # the judge sees what the network sees
    assert read_image(Fixed(), canvas, judge=lambda image: 0.4).not_a_digit_message is None
    assert read_image(Fixed(), canvas).looks_like_a_digit  # not judged: nothing said


def test_a_judge_that_reads_predicts_too_in_one_call_on_the_unturned_view():
    calls = []

    class Unused:
        def predict_proba(self, images):
            raise AssertionError("the judge's one pass gives the probabilities")

    class JudgeThatReads:
        def read(self, views, judged):
            calls.append((views, judged))
            return np.tile(np.eye(10)[5] * 0.9 + 0.01, (len(views), 1)), 2.5

        def __call__(self, image):
            raise AssertionError("read, not a second pass")

    canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(canvas).line([(140, 40), (140, 240)], fill=(255, 255, 255, 255), width=18)
    answer = read_image(Unused(), canvas, angles=(-8.0, 0.0, 8.0), judge=JudgeThatReads())
    assert answer.digit == 5 and answer.strangeness == 2.5
    views, judged = calls[0]
    assert len(views) == 3 and judged == 1
    np.testing.assert_array_equal(views[judged], answer.steps.centred)  # judged as the network sees it
