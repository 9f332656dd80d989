"""Tests for digitlab.charts: each figure's data checked against numbers computed here by hand."""

import base64
import io
import re
from collections import Counter

import numpy as np
import plotly.graph_objects as go
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from digitlab.charts import colour_name, confusion_matrix_figure, probability_bars
from digitlab.curve_charts import (
    ACCURACY_TICK_FORMATS,
    CompareRun,
    compare_curves,
    thin_points,
    training_curves,
)
from digitlab.image_charts import enlarge, image_grid, neighbours_grid, pixels_svg, weights_grid


def odd_ones_out(colours) -> list[int]:
    """Indices whose colour differs from the most common colour."""
    usual = Counter(colours).most_common(1)[0][0]
    return [i for i, colour in enumerate(colours) if colour != usual]


def test_probability_bars_heights_labels_and_highlight():
    probs = np.array([0.005, 0.01, 0.02, 0.0, 0.9, 0.03, 0.015, 0.0099, 0.0051, 0.005])
    bar = probability_bars(probs).data[0]
    np.testing.assert_allclose(bar.y, probs)
    assert list(bar.x) == list(range(10))
    assert odd_ones_out(bar.marker.color) == [4]
    # 0.0099 would round to "1%" and 0.005 to "0%" or "1%": both read "<1%".
    assert list(bar.text) == ["<1%", "1%", "2%", "<1%", "90%", "3%", "2%", "<1%", "<1%", "<1%"]
    assert odd_ones_out(probability_bars(probs, highlight=7).data[0].marker.color) == [7]
    assert list(probability_bars(probs).layout.yaxis.range) == [0, 1]


def test_live_chart_of_a_long_run_stays_small():
    # 50 epochs of 469 batches: the browser gets 300 points of 4 bytes each, not 23,450 of 8.
    batches = [{"progress": (i + 1) / 469, "loss": 1 / (i + 1)} for i in range(50 * 469)]
    fig = training_curves(batches, [], "loss")
    assert len(fig.data[0].x) == 300 and fig.data[0].y.dtype == np.float32
    assert len(fig.to_json()) < 6_000


def test_probability_bars_are_what_plotly_makes_of_them_with_full_validation():
    # Only the fixed parts are validated once (charts._bars_template); Plotly's full validation of the
    # whole figure, as go.Figure(dict) does it, must leave every stroke's figure exactly as it is.
    rng = np.random.default_rng(4)
    for highlight in (None, 3, None, 9):
        probs = rng.dirichlet(np.full(10, 0.3))
        fig = probability_bars(probs, highlight=highlight)
        assert isinstance(fig, go.Figure)
        assert go.Figure(fig.to_dict()).to_json() == fig.to_json()
    first, second = probability_bars(np.eye(10)[1]), probability_bars(np.eye(10)[8])
    assert list(first.data[0].text) != list(second.data[0].text)  # no stroke's lists leak into the next
    assert odd_ones_out(first.data[0].marker.color) == [1]


def test_probability_bars_never_claim_certainty():
    labels = probability_bars(np.array([0.9951, 0.0049] + [0.0] * 8)).data[0].text
    assert list(labels[:3]) == [">99%", "<1%", "<1%"]  # not "100%", "0%", "0%"
    assert probability_bars(np.array([0.99] + [0.01 / 9] * 9)).data[0].text[0] == "99%"


def test_accuracy_ticks_stay_distinct_at_every_tick_step():
    fig = training_curves(*make_events(with_val=False), "accuracy")
    stops = fig.layout.yaxis.tickformatstops
    assert [[list(stop.dtickrange), stop.value] for stop in stops] == [
        [list(steps), form] for steps, form in ACCURACY_TICK_FORMATS
    ]
    # Plotly's tick steps are 1, 2 or 5 times a power of ten; each must label two neighbours apart.
    for step in [m * 10.0**e for e in range(-5, 0) for m in (1, 2, 5)]:
        (form,) = [f for (low, high), f in ACCURACY_TICK_FORMATS if (low or 0) <= step <= (high or 1)]
        python_form = "{:" + form + "}"
        assert python_form.format(0.97) != python_form.format(0.97 + step), (step, form)


def test_probability_bars_rejects_wrong_length():
    with pytest.raises(ValueError, match="10 probabilities"):
        probability_bars(np.ones(9) / 9)


def test_thin_points_leaves_short_series_alone():
    xs, ys = np.arange(10) / 10, np.arange(10) ** 2
    thin_x, thin_y = thin_points(xs, ys, 1000)
    np.testing.assert_array_equal(thin_x, xs)
    np.testing.assert_array_equal(thin_y, ys)


@pytest.mark.parametrize(("length", "cap"), [(10_001, 500), (501, 500), (1000, 3), (7, 2)])
def test_thin_points_caps_length_and_keeps_endpoints(length, cap):
    xs = np.arange(length) * 0.01
    ys = np.sin(xs)
    thin_x, thin_y = thin_points(xs, ys, cap)
    assert len(thin_x) == cap
    assert (thin_x[0], thin_x[-1]) == (xs[0], xs[-1])
    assert np.all(np.diff(thin_x) > 0)
    np.testing.assert_array_equal(thin_y, np.sin(thin_x))  # pairs stay together
    np.testing.assert_array_equal(thin_points(xs, ys, cap)[0], thin_x)  # deterministic


def test_thin_points_needs_room_for_both_ends():
    with pytest.raises(ValueError):
        thin_points([1, 2, 3], [1, 2, 3], 1)


def make_events(epochs=3, steps=100, with_val=True):
    batches = [
        {
            "kind": "batch",
            "progress": (e * steps + s + 1) / steps,
            "loss": 2.0 / (e * steps + s + 1),
            "accuracy": 0.5,
        }
        for e in range(epochs)
        for s in range(steps)
    ]
    ends = [
        {
            "kind": "epoch",
            "epoch": e + 1,
            "loss": 1.0 / (e + 1),
            "accuracy": 0.8 + e / 100,
            "val_loss": 1.2 / (e + 1) if with_val else None,
            "val_accuracy": 0.78 + e / 100 if with_val else None,
        }
        for e in range(epochs)
    ]
    return batches, ends


def test_training_curves_has_separate_train_and_validation_traces():
    batches, ends = make_events()
    fig = training_curves(batches, ends, "loss", max_points=50)
    per_batch, train, val = fig.data
    assert "batch" in per_batch.name and "Training" in train.name and val.name == "Validation"
    assert len(per_batch.x) == 50
    assert (per_batch.x[-1], per_batch.y[-1]) == (3.0, 2.0 / 300)  # the latest batch is always drawn
    assert list(train.x) == [1, 2, 3] and list(train.y) == [1.0, 0.5, 1 / 3]
    np.testing.assert_allclose(val.y, [1.2, 0.6, 0.4])
    assert "Epoch" in train.hovertemplate and "loss" in train.hovertemplate


def test_training_curves_without_validation_and_for_accuracy():
    batches, ends = make_events(with_val=False)
    fig = training_curves(batches, ends, "accuracy")
    assert [trace.name for trace in fig.data] == ["Training, each batch", "Training, end of epoch"]
    assert len(fig.data[0].x) == 300  # under max_points: every batch
    assert fig.layout.yaxis.tickformat == ".0%"
    assert len(training_curves([], [], "loss").data) == 0
    with pytest.raises(ValueError, match="metric"):
        training_curves(batches, ends, "f1")


def test_compare_curves_uses_validation_when_a_run_has_it():
    _, with_val = make_events(with_val=True)
    _, without = make_events(epochs=2, with_val=False)
    fig = compare_curves([("wide", with_val), ("narrow", without)], "accuracy")
    assert [trace.name for trace in fig.data] == ["wide (validation)", "narrow (training)"]
    np.testing.assert_allclose(fig.data[0].y, [0.78, 0.79, 0.80])
    np.testing.assert_allclose(fig.data[1].y, [0.80, 0.81])
    assert fig.data[0].line.color != fig.data[1].line.color


def test_compare_curves_ticks_every_epoch_only_while_they_fit():
    _, short = make_events(with_val=True)
    _, long = make_events(epochs=60, with_val=True)
    assert compare_curves([("short", short)], "loss").layout.xaxis.dtick == 1
    assert compare_curves([("short", short), ("shelf", long)], "loss").layout.xaxis.dtick is None


def test_a_diverged_run_is_drawn_dashed_from_its_batches_when_it_never_ended_an_epoch():
    _, calm = make_events(epochs=2, with_val=True)
    batches = [
        {"progress": 0.1, "loss": 2.2, "accuracy": 0.1},
        {"progress": 0.2, "loss": 1.9, "accuracy": 0.2},
    ]
    batches += [{"progress": 0.3, "loss": 5e4, "accuracy": 0.1}, {"progress": 0.4, "loss": float("nan")}]
    runs = [("calm", calm), CompareRun("wild", [], batches, diverged=True)]
    loss = compare_curves(runs, "loss")
    wild = loss.data[1]
    assert wild.name == "wild (training, diverged)" and wild.line.dash == "dash"
    assert list(wild.x) == [0.1, 0.2, 0.3] and list(wild.y) == [2.2, 1.9, 5e4]  # the NaN left out
    assert loss.data[0].name == "calm (validation)" and loss.data[0].line.dash == "solid"
    # The loss axis stops a little above guessing (ln 10 = 2.30, above calm's 1.2): 5e4 would flatten it.
    assert loss.layout.yaxis.range == pytest.approx((0, 1.2 * np.log(10)))
    assert list(compare_curves(runs, "accuracy").data[1].y) == [0.1, 0.2, 0.1]
    assert compare_curves([("calm", calm)], "loss").layout.yaxis.range is None


def test_the_accuracy_axis_never_leaves_0_to_100_percent():
    # The tour: Compare with only a diverged run, one point on it, drew its axis from -50 % to 100 %.
    lone = CompareRun("wild", [], [{"progress": 0.1, "loss": 2.2, "accuracy": 0.1}], diverged=True)
    for fig in (compare_curves([lone], "accuracy"), training_curves(lone.batches, [], "accuracy")):
        bounds = fig.layout.yaxis.autorangeoptions
        assert (bounds.minallowed, bounds.maxallowed) == (0, 1)
    assert compare_curves([lone], "loss").layout.yaxis.autorangeoptions.minallowed is None


@pytest.mark.parametrize(
    ("colour", "name"),
    [
        ("#D55E00", "orange"),  # Okabe-Ito vermillion: hue 26°, what the grids frame mistakes in
        ("#E69F00", "orange"),  # hue 41°
        ("#0072B2", "blue"),  # hue 202°
        ("#009E73", "green"),  # hue 164°
        ("#B2182B", "red"),  # RdBu's red end, the weights' negative: hue 353°
        ("#FF0000", "red"),
        ("#AAB4BE", "grey"),  # hardly saturated
    ],
)
def test_colour_names_follow_the_hue(colour, name):
    assert colour_name(colour) == name


def test_a_one_trace_figure_keeps_its_legend():
    # A run that diverged in its first epoch has only its per-batch curve; Plotly would hide the legend.
    batches = [{"progress": 0.1, "loss": 2.2, "accuracy": 0.1}, {"progress": 0.2, "loss": float("nan")}]
    fig = training_curves(batches, [], "loss")
    assert [trace.name for trace in fig.data] == ["Training, each batch"] and fig.layout.showlegend is True
    assert compare_curves([("only", make_events(epochs=2)[1])], "loss").layout.showlegend is True


@pytest.fixture
def confusion():
    cm = np.random.default_rng(5).integers(0, 30, (10, 10))
    cm[np.diag_indices(10)] = 900
    cm[4, 9] = 12
    cm[6] = 0  # a digit the test set does not hold
    return cm


def test_confusion_scatter_has_one_point_per_cell(confusion):
    trace = confusion_matrix_figure(confusion, normalize=False).data[0]
    assert trace.type == "scatter" and trace.marker.symbol == "square" and trace.mode == "markers+text"
    custom = np.asarray(trace.customdata)
    assert custom.shape[0] == 100
    rebuilt = np.full((10, 10), -1)
    for true, pred, count in custom[:, :3].astype(int):
        rebuilt[true, pred] = count
    np.testing.assert_array_equal(rebuilt, confusion)
    np.testing.assert_array_equal(trace.x, custom[:, 1])
    np.testing.assert_array_equal(trace.y, custom[:, 0])
    cell = 4 * 10 + 9
    assert (trace.x[cell], trace.y[cell]) == (9, 4)
    assert trace.hovertext[cell].startswith("True 4, predicted 9: 12 images")
    assert trace.text[cell] == "12"


def test_confusion_normalised_rows_sum_to_one(confusion):
    trace = confusion_matrix_figure(confusion, normalize=True).data[0]
    fractions = np.asarray(trace.customdata)[:, 3].reshape(10, 10)
    row_sums = fractions.sum(axis=1)
    np.testing.assert_allclose(np.delete(row_sums, 6), 1.0)
    assert row_sums[6] == 0
    expected = confusion[4, 9] / sum(int(v) for v in confusion[4])
    assert fractions[4, 9] == pytest.approx(expected)
    assert trace.text[4 * 10 + 9] == f"{expected:.1%}"
    assert trace.text[0] == f"{900 / sum(int(v) for v in confusion[0]):.0%}"


def test_confusion_diagonal_stands_apart_and_one_click_selects_one_cell(confusion):
    fig = confusion_matrix_figure(confusion, normalize=False)
    trace = fig.data[0]
    on_diagonal = [i for i in range(100) if i // 10 == i % 10]
    outlined = [i for i, width in enumerate(trace.marker.line.width) if width > 0]
    assert outlined == on_diagonal
    diagonal_colours = {trace.marker.color[i] for i in on_diagonal if confusion.flat[i]}
    error_colours = {trace.marker.color[i] for i in range(100) if i not in on_diagonal}
    assert not diagonal_colours & error_colours
    assert fig.layout.clickmode == "event+select"
    assert fig.layout.dragmode is False
    assert list(fig.layout.yaxis.range) == [9.5, -0.5]  # digit 0 on top


def decode_png(source: str) -> np.ndarray:
    header, payload = source.split(",", 1)
    assert header == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))))


def test_image_grid_shows_every_image_and_marks_wrong_ones():
    images = np.random.default_rng(2).integers(0, 256, (12, 28, 28), dtype=np.uint8)
    titles = [f"#{i}" for i in range(12)]
    wrong = [i % 5 == 0 for i in range(12)]
    fig = image_grid(images, titles, columns=5, wrong=wrong)
    canvas = decode_png(fig.data[0].source)
    windows = sliding_window_view(canvas, (28, 28))
    for image in images:
        assert np.all(windows == image, axis=(2, 3)).sum() == 1  # each digit appears exactly once, unchanged
    texts = [note.text.removeprefix("<b>").removesuffix("</b>") for note in fig.layout.annotations]
    assert texts == titles
    colours = [note.font.color for note in fig.layout.annotations]
    assert odd_ones_out(colours) == [0, 5, 10]
    assert len(fig.layout.shapes) == 3


def test_image_grid_titles_may_take_two_lines():
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    one_line = image_grid(images, ["1", "2", "3"], columns=3)
    two_lines = image_grid(images, ["1", "7\nis 2", "3"], columns=3, wrong=[False, True, False])
    assert two_lines.layout.annotations[1].text == "<b>7<br>is 2</b>"
    assert two_lines.layout.height > one_line.layout.height  # room for the second line
    assert decode_png(two_lines.data[0].source).shape[0] == 28 + 18


def test_image_grid_of_fifty_stays_light():
    images = np.random.default_rng(3).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    fig = image_grid(images, [str(i % 10) for i in range(50)], columns=10)
    assert len(fig.data) == 1
    assert len(fig.to_json()) < 150_000  # noise compresses worst; real digits are far smaller


def test_neighbours_grid_two_rows_headings_and_the_reading_framed():
    rng = np.random.default_rng(5)
    alike, meant = rng.integers(0, 256, (2, 8, 28, 28), dtype=np.uint8)
    labels = np.array([9, 9, 4, 9, 7, 4, 9, 9])
    fig = neighbours_grid(alike, labels, meant, meant_digit=4, read_as=9)
    canvas = decode_png(fig.data[0].source)
    windows = sliding_window_view(canvas, (28, 28))
    for row, images in enumerate((alike, meant)):
        for image in images:
            (top,), _ = np.nonzero(np.all(windows == image, axis=(2, 3)))
            assert (top >= canvas.shape[0] // 2) == bool(row)  # the meant digit's row is the lower one
    notes = [note.text.removeprefix("<b>").removesuffix("</b>") for note in fig.layout.annotations]
    assert notes[:16] == [str(label) for label in labels] + ["4"] * 8
    assert notes[16:] == ["Most alike to the network", "Nearest 4s it learnt from"]
    colours = [note.font.color for note in fig.layout.annotations[:16]]
    assert odd_ones_out(colours) == [0, 1, 3, 6, 7] and len(fig.layout.shapes) == 5  # the 9s: its reading
    read_right = neighbours_grid(alike, labels, meant, meant_digit=9, read_as=9)
    assert len(read_right.layout.shapes) == 0  # nothing to explain when it read what was meant
    with pytest.raises(ValueError, match="two rows"):
        neighbours_grid(alike, labels, meant[:7], meant_digit=4, read_as=9)


def test_weights_grid_tiles_and_symmetric_scale():
    weights = np.random.default_rng(4).normal(0, 0.05, (784, 10)).astype(np.float32)
    weights[3, 7] = -0.9  # unit 7 is not shown with max_units=6, so it must not set the scale
    weights[5, 2] = 0.4
    heatmap = weights_grid(weights, max_units=6).data[0]
    z = np.asarray(heatmap.z, dtype=np.float32)
    assert (heatmap.zmin, heatmap.zmax) == pytest.approx((-0.4, 0.4))
    shown = z[np.isfinite(z)]
    np.testing.assert_array_equal(np.sort(shown), np.sort(weights[:, :6].ravel()))
    windows = sliding_window_view(z, (28, 28))
    for unit in range(6):
        tile = weights[:, unit].reshape(28, 28)
        assert np.all(windows == tile, axis=(2, 3)).sum() == 1  # upright 28x28 tile, not transposed
    assert heatmap.colorscale[0][1] != heatmap.colorscale[-1][1]  # two hues: a diverging scale


def test_enlarge_turns_each_pixel_into_a_sharp_square():
    small = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    big = enlarge(small, 168)
    assert big.shape == (168, 168)
    blocks = big.reshape(28, 6, 28, 6)
    assert np.array_equal(blocks[:, 0, :, 0], small)
    assert (blocks == small[:, None, :, None]).all()


def svg_parts(svg: str) -> tuple[dict, np.ndarray, str]:
    """The <image>'s attributes, its embedded PNG's pixels, and the markup before it."""
    head, image = svg.split("<image ", 1)
    attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', image))
    png = base64.b64decode(attributes["href"].removeprefix("data:image/png;base64,"))
    return attributes, np.asarray(Image.open(io.BytesIO(png))), head


def test_pixels_as_svg_keep_the_image_at_its_own_size_for_the_browser_to_enlarge_sharply():
    small = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    svg, width = pixels_svg(small, 168, 100)
    attributes, embedded, head = svg_parts(svg)
    assert width == 168 and 'width="168" height="168"' in head and "<rect" not in head
    assert np.array_equal(embedded, small)  # 784 bytes of pixels, not 168² of enlarged ones
    assert (attributes["width"], attributes["height"]) == ("168", "168")
    assert "image-rendering:pixelated" in attributes["style"]


def test_a_narrow_image_gets_a_band_wide_enough_for_its_caption():
    svg, width = pixels_svg(np.zeros((218, 18), np.uint8), 112, 100)  # a cropped "1", shrunk
    attributes, embedded, head = svg_parts(svg)
    assert width == 100 and 'width="100" height="112"' in head
    assert 'fill="rgb(128,128,128)"' in head  # mid grey: apart from white ink and black background
    assert (attributes["x"], attributes["width"]) == ("45", "9")
    assert embedded.shape == (112, 9)  # shrunk here, by averaging, as `enlarge` does
    svg, width = pixels_svg(np.zeros((28, 28), np.uint8), 99, 100)  # one pixel short of the caption's width
    assert width == 100 and "<rect" in svg


def test_enlarge_keeps_the_aspect_and_shrinks_big_images():
    assert enlarge(np.zeros((218, 118), np.uint8), 112).shape == (112, 61)
    assert enlarge(np.full((280, 280), 200, np.uint8), 112).shape == (112, 112)
