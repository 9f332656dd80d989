"""Pen-drawn digits: the bundle split by lab, the training renders, the benchmark set, and their use in
training (the pen digits join the training part only) and in every run's second accuracy."""

import numpy as np
import pytest

from digitlab import pen, strokes
from digitlab.config import TrainConfig
from digitlab.learn.training import split_data, train

# The split of ../shared/data/unipen/README.md, written out here rather than read from the code.
BENCHMARK = {"ibm", "ced", "tos", "uqb", "imp"}


@pytest.fixture(scope="module")
def parts():
    return {part: strokes.load_pen_digits(part) for part in ("training", "benchmark")}


def test_the_bundle_is_split_by_lab_as_the_data_says(parts):
    training, benchmark = parts["training"], parts["benchmark"]
    assert len(training) == 11_615 and len(benchmark) == 4_338
    assert {s.source for s in benchmark} == BENCHMARK
    assert not {s.source for s in training} & BENCHMARK
    assert len({s.writer for s in training}) == 109 and len({s.writer for s in benchmark}) == 159
    assert not {s.writer for s in training} & {s.writer for s in benchmark}
    counts = np.bincount([s.label for s in training + benchmark], minlength=10)
    assert counts.tolist() == [1646, 1748, 1653, 1591, 1626, 1522, 1518, 1546, 1558, 1545]


@pytest.mark.skipif(not strokes.UNIPEN_PATH.exists(), reason="the original UNIPEN file is not here")
def test_the_bundle_holds_exactly_the_original_strokes(parts):
    original = {(s.label, s.writer, s.source, repr(s.strokes)) for s in strokes.load_unipen()}
    bundled = {(s.label, s.writer, s.source, repr(s.strokes)) for s in parts["training"] + parts["benchmark"]}
    assert bundled == original


def test_write_bundle_round_trips(tmp_path, parts):
    few = parts["training"][:5] + parts["benchmark"][:3]
    strokes.write_bundle(few, tmp_path)
    again = strokes.load_pen_digits("training", tmp_path) + strokes.load_pen_digits("benchmark", tmp_path)
    assert [(s.label, s.writer, s.strokes) for s in again] == [(s.label, s.writer, s.strokes) for s in few]


def test_a_missing_bundle_is_a_data_error(tmp_path):
    from digitlab.data import DataError

    with pytest.raises(DataError, match="pen-drawn digits"):
        strokes.load_pen_digits("training", tmp_path)


def test_training_renders_vary_brush_size_and_place(parts):
    sample = parts["training"][:20]
    rendered = pen.render_training(sample, variants=3, seed=0)
    assert rendered.images.shape == (60, 28, 28) and rendered.images.dtype == np.uint8
    assert rendered.labels.tolist() == [s.label for s in sample] * 3
    assert all(image.max() == 255 for image in rendered.images)  # every render was read
    # The three renders of one digit differ (brush and placement), yet are the same digit.
    first, second = rendered.images[0].astype(float), rendered.images[20].astype(float)
    assert not np.array_equal(first, second)
    assert np.corrcoef(first.ravel(), second.ravel())[0, 1] > 0.4


def test_the_benchmark_set_is_the_benchmark_labs_once_each(parts):
    bench = pen.benchmark_images()
    assert len(bench.images) == 4_338 and set(bench.sources) == BENCHMARK
    assert bench.labels.tolist() == [s.label for s in parts["benchmark"]]
    assert (bench.images.reshape(len(bench.images), -1).max(1) > 0).all()
    again = pen.render_benchmark(parts["benchmark"][:10])
    np.testing.assert_array_equal(again.images, bench.images[:10])  # the cache holds what renders


def test_pen_digits_join_the_training_part_only(small_mnist):
    mnist_only = TrainConfig(train_size=2000, validation_split=0.1, seed=2)
    with_pen = mnist_only.replace(data="mnist+pen")
    x_mnist, _, x_val_mnist, _ = split_data(mnist_only, small_mnist)
    x_both, y_both, x_val, _ = split_data(with_pen, small_mnist)
    np.testing.assert_array_equal(x_val, x_val_mnist)  # validation stays MNIST
    added = len(x_both) - len(x_mnist)
    assert added == round(3 * 11_615 * 2000 / 60_000)  # pen digits in MNIST's share: 1,162 for 2,000
    np.testing.assert_array_equal(x_both[: len(x_mnist)], x_mnist)
    assert set(np.unique(y_both[len(x_mnist) :])) == set(range(10))


def test_every_run_reports_mnist_and_pen_accuracy_side_by_side(small_mnist):
    result = train(TrainConfig(hidden_units=(16,), epochs=1, train_size=1000, seed=4), small_mnist)
    metrics = result.classifier.metadata["metrics"]
    assert metrics["pen_images"] == 4_338 and 0.0 < metrics["pen_accuracy"] < 1.0
    assert set(metrics["pen_by_lab"]) == BENCHMARK
    # The overall figure is the labs' figures weighted by their sizes: an independent recount.
    sizes = {lab: int((pen.benchmark_images().sources == lab).sum()) for lab in BENCHMARK}
    weighted = sum(metrics["pen_by_lab"][lab] * n for lab, n in sizes.items()) / 4_338
    assert metrics["pen_accuracy"] == pytest.approx(weighted)


def test_two_runs_that_start_together_render_once(tmp_path, monkeypatch, parts):
    import threading

    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path))
    calls = []

    def render(samples, seed):
        calls.append(seed)
        return pen.render_benchmark(samples[:3], seed)

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(pen._cached("benchmark", render, 0))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [0] and len(results) == 2
    np.testing.assert_array_equal(results[0].images, results[1].images)
