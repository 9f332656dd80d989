"""digitlab.classroom.history: a session's run history, its table and the files a run exports.

Two real runs train on 2,000 images (seconds each); the records are checked against the runs' own
events and evaluations, and against hand counts.
"""

import csv
import dataclasses
import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from digitlab.classroom import history as runs
from digitlab.classroom.runs import TrainingRun
from digitlab.config import TrainConfig
from digitlab.learn.classifier import keras_bytes
from digitlab.learn.training import train

MLP = TrainConfig(hidden_units=(16,), epochs=2, batch_size=64, train_size=1000, seed=1)
SLOW_LEARNER = MLP.replace(learning_rate=1e-5, seed=2)  # barely moves: a worse test accuracy


def finished_run(config, dataset) -> TrainingRun:
    run = TrainingRun(config, dataset, train=train)
    run.start()
    run.join(timeout=120)
    run.drain_events()
    assert run.state == "finished", run.error
    return run


@pytest.fixture(scope="module")
def two_runs(small_mnist):
    return finished_run(MLP, small_mnist), finished_run(SLOW_LEARNER, small_mnist)


def test_runs_imports_neither_streamlit_nor_tensorflow():
    code = "import sys, digitlab.classroom.history, digitlab.classroom.board; print(' '.join(sys.modules))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split())
    assert {"digitlab.classroom.history", "digitlab.classroom.board"} <= loaded
    assert not {"streamlit", "tensorflow", "keras"} & loaded


def test_thin_keeps_the_ends_and_at_most_the_limit():
    events = [{"progress": i} for i in range(1000)]
    kept = runs.thin(events, 7)
    assert [e["progress"] for e in kept] == [0, 166, 333, 499, 666, 832, 999]
    assert runs.thin(events[:5], 7) == events[:5]


def test_a_record_holds_the_runs_curves_and_test_result(two_runs):
    run = two_runs[0]
    record = runs.record_of(run, number=4)
    assert record.name == "Run 4 · MLP 784-16-10 relu adam"
    assert [e["epoch"] for e in record.epochs] == [1, 2]
    assert [e["val_accuracy"] for e in record.epochs] == pytest.approx(run.result.history["val_accuracy"])
    # 900 training images in batches of 64: 15 steps an epoch; every event kept (under the thinning limit).
    assert len(record.batches) == len(run.batch_events) and run.batch_events[-1]["step"] == 30
    assert record.accuracy == run.result.evaluation.accuracy
    confusion = np.array(record.confusion)
    assert confusion.sum() == 500 and np.trace(confusion) == round(500 * record.accuracy)
    assert not hasattr(record, "classifier") and "model" not in vars(record)


def test_history_records_each_run_once_and_keeps_the_last_ten(two_runs):
    state = {}
    first, second = two_runs
    assert runs.record_finished(state, None) is None
    assert runs.record_finished(state, first).number == 1
    assert runs.record_finished(state, first) is None  # the page reruns: not twice
    assert runs.record_finished(state, second).number == 2
    assert [r.number for r in state[runs.HISTORY]] == [1, 2]
    history = state[runs.HISTORY]
    for _ in range(12):
        runs.add(history, runs.record_of(first, number=history[-1].number + 1))
    assert [r.number for r in history] == list(range(5, 15))


def test_table_ranks_by_test_accuracy(two_runs):
    good, slow = (runs.record_of(run, number) for number, run in enumerate(two_runs, 1))
    assert good.accuracy > slow.accuracy
    rows = runs.table_rows([slow, good])
    assert [row["Run"] for row in rows] == [1, 2]
    assert rows[0]["Test accuracy"] == f"{100 * good.accuracy:.2f}%"
    assert rows[0]["Technical name"] == "MLP 784-16-10 relu adam" and rows[0]["Training images"] == "1,000"
    assert rows[0]["Network"] == "Simple network, 1 hidden layer: 16 units"
    assert rows[1]["Learning rate"] == "1e-05" and rows[1]["Ended"] == "finished"


def test_a_run_stopped_inside_an_epoch_shows_how_far_it_got(two_runs):
    record = runs.record_of(two_runs[0], 1)
    assert runs.table_rows([record])[0]["Epochs"] == "2"  # 2 whole epochs
    stopped = dataclasses.replace(record, epochs=[], batches=record.batches[:4])
    assert 0 < stopped.batches[-1]["progress"] < 1
    assert (
        runs.table_rows([stopped])[0]["Epochs"] == f"{stopped.batches[-1]['progress']:.2f}"
    )  # not "1", not "0"


def test_summary_reads_as_one_line():
    config = MLP.replace(dropout=0.2, augment=True, train_size=5000)
    expected = "MLP 784-16-10 relu adam · lr 0.001 · 2 epochs · 5,000 images · dropout 20% · augmented"
    assert runs.summary(config) == expected


def test_file_names_are_plain_ascii():
    config = TrainConfig(architecture="cnn", hidden_units=(128,))
    assert runs.file_stem(config, 3) == "digitlab-cnn-32c-64c-128-10-relu-adam-run-3"
    assert runs.file_stem(MLP).isascii()


def test_metrics_csv_has_one_row_per_epoch_then_the_test(two_runs):
    result = two_runs[0].result
    rows = list(csv.reader(io.StringIO(runs.metrics_csv(result.history, result.evaluation))))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert [row[0] for row in rows[1:]] == ["1", "2", "test"]
    assert float(rows[2][4]) == pytest.approx(result.history["val_accuracy"][1])
    assert float(rows[3][2]) == pytest.approx(result.evaluation.accuracy)


def test_metrics_json_is_strict_json(two_runs):
    run = two_runs[0]
    history = run.result.history | {"loss": [float("nan"), 0.5]}  # as after a diverged batch
    text = runs.metrics_json(run.config, history, run.result.evaluation, 1.5, "diverged")
    document = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert document["history"]["loss"] == [None, 0.5]
    assert document["config"] == MLP.to_dict() and document["state"] == "diverged"
    assert document["test_accuracy"] == run.result.evaluation.accuracy
    assert np.array(document["confusion"]).sum() == 500


def test_the_model_downloads_as_a_keras_file_that_keras_loads(two_runs, small_mnist, tmp_path):
    import keras

    classifier = two_runs[0].result.classifier
    path = tmp_path / "download.keras"
    path.write_bytes(keras_bytes(classifier))
    assert "model.weights.h5" in zipfile.ZipFile(path).namelist()
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    images = small_mnist.x_test[:8].astype(np.float32)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), classifier.model.predict(images, verbose=0))


def test_charts_download_as_png_from_plotlys_own_button():
    config = runs.png_config("digitlab-run-1-loss")
    assert config["modeBarButtons"] == [["toImage"]] and config["displayModeBar"] is True
    assert config["toImageButtonOptions"] == {"format": "png", "filename": "digitlab-run-1-loss", "scale": 2}


def test_a_shelf_model_becomes_a_record_from_its_description(two_runs):
    confusion = np.diag([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]).tolist()
    description = {
        "config": MLP.replace(hidden_units=(1024, 1024), epochs=3).to_dict(),
        "history": {"loss": [0.5, 0.3, 0.2], "accuracy": [0.8, 0.9, 0.95], "val_accuracy": [0.9, 0.95, 0.97]},
        "metrics": {"test_accuracy": 1.0, "test_loss": 0.01, "confusion": confusion},
        "training": {"seconds": 1234.5},
    }
    record = runs.record_of_description(description, "Best MLP")
    assert record.name == "Shelf · Best MLP" and record.stem == "digitlab-shelf-best-mlp"
    assert record.key == "shelf-best-mlp"
    assert (record.accuracy, record.loss, record.seconds, record.confusion) == (1.0, 0.01, 1234.5, confusion)
    assert [e["epoch"] for e in record.epochs] == [1, 2, 3] and record.epochs[2]["val_accuracy"] == 0.97
    assert record.epochs[0]["val_loss"] is None  # a curve the file does not hold
    run = runs.record_of(two_runs[0], number=1)
    rows = runs.table_rows([run, record])
    assert [row["Run"] for row in rows] == ["shelf", 1] and rows[0]["Time"] == "1234 s"
    assert run.stem == "digitlab-mlp-784-16-10-relu-adam-run-1" and run.name.startswith("Run 1 · ")
    assert run.key == "1"
    assert runs.record_of_description({"metrics": {}}, "untested") is None
    assert runs.record_of_description({**description, "config": {"units": 3}}, "foreign") is None
