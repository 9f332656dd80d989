"""Tests for digitlab.live_charts: the live SVG pictures, read back as XML and checked against the numbers."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from digitlab import live_charts
from digitlab.live_charts import HEIGHT, LEFT, RIGHT, WIDTH, live_curves_svg, nice_ticks, tick_label

SVG = "{http://www.w3.org/2000/svg}"


def run_events(epochs_done: float, steps: int = 94, with_val: bool = True):
    batches = [
        {"progress": (i + 1) / steps, "loss": 2 / (i + 1) ** 0.3, "accuracy": 1 - 1 / (i + 1) ** 0.3}
        for i in range(int(epochs_done * steps))
    ]
    ends = [
        {"epoch": k, "loss": 0.5 / k, "accuracy": 0.9 + k / 100}
        | ({"val_loss": 0.6 / k, "val_accuracy": 0.89 + k / 100} if with_val else {})
        for k in range(1, int(epochs_done) + 1)
    ]
    return batches, ends


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def polylines(root: ET.Element) -> dict[str, list[tuple[float, float]]]:
    """Each curve's points, by stroke colour."""
    return {
        line.get("stroke"): [tuple(map(float, p.split(","))) for p in line.get("points").split()]
        for line in root.iter(f"{SVG}polyline")
    }


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def test_three_curves_their_legend_and_the_last_values_for_screen_readers():
    root = parse(live_curves_svg(*run_events(2.5), "loss", epochs=10))
    lines = polylines(root)
    assert set(lines) == {live_charts.SKY, live_charts.BLUE, live_charts.VERMILLION}
    assert len(lines[live_charts.SKY]) == int(2.5 * 94) == int(root.get("data-batch-points"))
    assert len(lines[live_charts.BLUE]) == len(lines[live_charts.VERMILLION]) == 2
    assert {"Training, each batch", "Training, end of epoch", "Validation", "Epochs", "Loss"} <= set(
        texts(root)
    )
    assert root.get("role") == "img"
    assert "validation 0.300 at epoch 2.00" in root.get("aria-label")
    assert root.find(f"{SVG}title").text == root.get("aria-label")


def test_the_x_axis_spans_the_whole_run_so_the_curve_grows_left_to_right():
    root = parse(live_curves_svg(*run_events(2.5), "loss", epochs=10))
    batch = polylines(root)[live_charts.SKY]
    inner = WIDTH - LEFT - RIGHT
    assert batch[-1][0] == pytest.approx(LEFT + 2.5 / 10 * inner, abs=0.1)
    assert root.get("data-last-progress") == "2.5000"
    xs = [x for x, _ in batch]
    assert xs == sorted(xs)
    assert [t for t in texts(root) if t in {"0", "2", "4", "6", "8", "10"}] == ["0", "2", "4", "6", "8", "10"]


def test_values_map_inside_the_plot_and_loss_starts_at_zero():
    root = parse(live_curves_svg(*run_events(3), "loss", epochs=3))
    for points in polylines(root).values():
        ys = [y for _, y in points]
        assert min(ys) >= live_charts.TOP - 0.1 and max(ys) <= HEIGHT - live_charts.BOTTOM + 0.1
    assert texts(root)[0] == "0.0"  # the lowest tick: loss is drawn from zero
    batch = polylines(root)[live_charts.SKY]
    assert batch[0][1] < batch[-1][1]  # the loss falls: the curve goes down the screen (y grows)


def test_a_long_run_keeps_at_most_300_batch_points():
    root = parse(live_curves_svg(*run_events(50, steps=469, with_val=False), "accuracy", epochs=50))
    assert int(root.get("data-batch-points")) == len(polylines(root)[live_charts.SKY]) == 300
    assert live_charts.VERMILLION not in polylines(root)
    assert "Validation" not in texts(root)


def test_accuracy_ticks_are_percentages_that_never_read_alike():
    batches = [{"progress": i / 100, "accuracy": 0.981 + i / 20_000} for i in range(1, 101)]
    root = parse(live_curves_svg(batches, [], "accuracy", epochs=1))
    labels = [t for t in texts(root) if t.endswith("%")]
    assert len(labels) >= 3 and len(set(labels)) == len(labels)
    assert all(98.0 <= float(label.rstrip("%")) <= 98.7 for label in labels)


def test_before_the_first_batch_it_says_it_is_waiting():
    root = parse(live_curves_svg([], [], "accuracy", epochs=5))
    assert "Waiting for the first batch…" in texts(root)
    assert root.get("data-batch-points") == "0" and not polylines(root)
    with pytest.raises(ValueError, match="metric"):
        live_curves_svg([], [], "f1", epochs=5)


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 10, [0, 2, 4, 6, 8, 10]),
        (0, 2.2, [0, 0.5, 1, 1.5, 2]),
        (0.981, 0.986, [0.981, 0.982, 0.983, 0.984, 0.985, 0.986]),
    ],
)
def test_nice_ticks_are_round_and_cover_the_range(low, high, expected):
    np.testing.assert_allclose(nice_ticks(low, high), expected)


def test_tick_labels_have_the_decimals_their_step_needs():
    assert tick_label(0.5, 0.5, percent=False) == "0.5"
    assert tick_label(4, 2, percent=False) == "4"
    assert tick_label(0.975, 0.005, percent=True) == "97.5%"
    assert tick_label(0.9, 0.2, percent=True) == "90%"


def test_a_diverged_batchs_nan_leaves_the_curve_inside_the_plot_with_its_legend():
    # The batch that diverged reports a NaN loss: it used to make the y range NaN, pushing the whole
    # curve off the picture (negative y) with a "nan" point in it.
    batches, _ = run_events(0.3)
    batches.append({"progress": 0.31, "loss": float("nan"), "accuracy": 0.1})
    root = parse(live_curves_svg(batches, [], "loss", epochs=3))
    (points,) = polylines(root).values()
    assert len(points) == len(batches) - 1
    ys = [y for _, y in points]
    assert min(ys) >= live_charts.TOP - 0.1 and max(ys) <= HEIGHT - live_charts.BOTTOM + 0.1
    assert "Training, each batch" in texts(root)
    assert "nan" not in root.get("aria-label")
