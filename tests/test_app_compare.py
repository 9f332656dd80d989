"""The Compare page, the class board, and the Train page's links, exports and classroom mode, in AppTest.

Run through app.py (the router), as a browser would. Runs train on 500 images for one epoch; the board
lives in a temporary data folder.
"""

import json
import math
import time

import pytest
from streamlit.testing.v1 import AppTest

from digitlab.app import workarounds
from digitlab.classroom import board
from digitlab.classroom import history as runs
from tests.apptest import APP, TIMEOUT, open_page, texts, train_until_done

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("through_the_router")]


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Every test gets its own empty class board and no teacher code."""
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DIGITLAB_TEACHER_CODE", raising=False)
    return tmp_path


def train_small(at: AppTest, architecture: str = "mlp", seconds: float = 150) -> AppTest:
    """One run on 500 images for one epoch, waited for until its results show."""
    at.switch_page("pages/train.py").run()
    at.radio(key="train_architecture").set_value(architecture)
    at.select_slider(key="train_train_size").set_value(500)
    at.slider(key="train_epochs").set_value(1)
    at.run()
    at.button(key="train_start").click().run()
    deadline = time.monotonic() + seconds
    while not any(m.label == "MNIST test accuracy" for m in at.metric):
        assert not at.exception, at.exception
        assert time.monotonic() < deadline, f"training did not finish in {seconds} s"
        time.sleep(0.5)
        at.run()
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


@pytest.fixture(scope="module")
def two_runs():
    """One session that trained an MLP and a CNN, its board in a folder of its own."""
    with pytest.MonkeyPatch.context() as patch:
        workarounds.settle_pages_guess_in_apptest(patch)
        at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
        train_small(at, "mlp")
        train_small(at, "cnn")
    return at


def test_compare_without_runs_invites_training_and_shows_the_empty_board():
    at = open_page("compare")
    assert at.title[0].value == "Compare runs"
    assert "No run trained in this session yet" in texts(at.info)
    assert "Nobody has published a run yet" in texts(at.info)
    assert not at.get("plotly_chart")
    assert "python -m digitlab board clear" in texts(at.caption)  # no teacher code set


def test_two_runs_are_ranked_overlaid_and_their_matrices_shown(two_runs):
    at = two_runs
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    history = at.session_state[runs.HISTORY]
    assert [r.config.architecture for r in history] == ["mlp", "cnn"]
    table = at.table[0].value
    assert sorted(name[:3] for name in table["Technical name"]) == ["CNN", "MLP"]
    assert all("network" in name for name in table["Network"])  # the friendly name first
    accuracies = [float(text.rstrip("%")) for text in table["Test accuracy"]]
    assert accuracies == sorted(accuracies, reverse=True)
    charts = {chart.key: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}
    for metric in ("loss", "accuracy"):
        names = [trace["name"] for trace in charts[f"compare_{metric}"]["data"]]
        assert len(names) == 2 and any("(CNN)" in n for n in names) and any("Simple" in n for n in names)
    assert sorted(k for k in charts if k.startswith("compare_confusion")) == [
        "compare_confusion_1",
        "compare_confusion_2",
    ]
    config = json.loads(at.get("plotly_chart")[0].proto.config)
    assert config["modeBarButtons"] == [["toImage"]] and config["toImageButtonOptions"]["format"] == "png"


def test_a_run_goes_on_the_board_under_a_nickname(two_runs, data_dir):
    at = two_runs
    at.switch_page("pages/compare.py").run()
    best = runs.by_accuracy(at.session_state[runs.HISTORY])[0]
    at.selectbox(key="board_run").set_value(best.name)
    at.text_input(key="board_nickname").input("**Ada**")
    button(at, "Publish to the class board").click().run()
    assert not at.exception, at.exception
    assert "Published to the class board." in texts(at.success)
    entry = board.entries()[0]
    assert (entry.nickname, entry.accuracy) == ("**Ada**", best.accuracy)
    assert json.loads(entry.config)["architecture"] == best.config.architecture
    leaderboard = at.dataframe[0].value
    assert list(leaderboard["nickname"]) == ["**Ada**"]  # a table cell: plain text, never markdown
    at.text_input(key="board_nickname").input("   ")
    button(at, "Publish to the class board").click().run()
    assert "Choose a nickname first." in texts(at.error)
    assert len(board.entries()) == 1


def test_the_teacher_code_clears_the_board(monkeypatch):
    monkeypatch.setenv("DIGITLAB_TEACHER_CODE", "owl-42")
    board.publish("Ada", "MLP", 0.9, "{}")
    at = open_page("compare")
    at.text_input(key="board_code").input("owl")  # a form: sent together with its button
    button(at, "Clear the board").click().run()
    assert "not the teacher code" in texts(at.error) and len(board.entries()) == 1
    at.text_input(key="board_code").input("owl-42")
    button(at, "Clear the board").click().run()
    assert "Cleared: 1 entries removed." in texts(at.success)
    assert board.entries() == []


def test_the_train_page_offers_the_runs_files(two_runs):
    at = two_runs
    at.switch_page("pages/train.py").run()
    downloads = {b.label: b.proto for b in at.download_button}
    print({label: (proto.url, proto.deferred_file_id) for label, proto in downloads.items()})
    assert set(downloads) == {"Model (.keras)", "Metrics (.csv)", "Metrics (.json)"}
    assert downloads["Model (.keras)"].deferred_file_id  # saved only when clicked
    keys = [chart.key for chart in at.get("plotly_chart")]
    assert {"train_loss_curve", "train_accuracy_curve", "train_confusion"} <= set(keys)


def test_a_link_opens_the_train_page_with_its_settings():
    query = {"train_preset": "Best MLP", "train_epochs": "3", "train_dropout": "10%", "train_layers": "3"}
    query |= {"train_units_2": "32", "train_optimizer": "sgd"}
    at = open_page("train", **query)
    assert at.selectbox(key="train_preset").value == "Best MLP"
    assert at.slider(key="train_epochs").value == 3
    assert at.select_slider(key="train_dropout").value == 0.1
    assert [at.select_slider(key=f"train_units_{i}").value for i in range(3)] == [512, 256, 32]
    assert at.selectbox(key="train_optimizer").value == "sgd"
    assert at.slider(key="train_momentum").value == 0.9  # shown because sgd is
    link = at.code[0].value
    assert link.startswith("/train?train_preset=Best+MLP&")
    for part in ("train_epochs=3", "train_dropout=10%25", "train_layers=3", "train_units_2=32"):
        assert part in link


def test_a_link_with_a_bad_value_says_so_and_uses_the_preset():
    at = open_page("train", train_preset="Best MLP", train_epochs="many")
    assert at.slider(key="train_epochs").value == 15
    assert "train_epochs" not in at.code[0].value
    assert any("epochs could not be read" in str(toast.value) for toast in at.toast)


def test_classroom_mode_trains_the_preset_behind_the_hidden_controls():
    preset = "Tutorial 784-128-64-10"
    at = open_page(
        "train",
        classroom="1",
        train_preset=preset,
        train_activation="tanh",
        train_units_0="256",
        train_epochs="2",
    )
    from digitlab import config
    from digitlab.app import settings_form

    chosen = settings_form.settings.config_from_controls(
        {name: at.session_state[f"train_{name}"] for name in settings_form.settings.CONTROL_NAMES}
    )
    expected = config.PRESETS[preset]
    assert chosen.activation == expected.activation != "tanh"  # hidden: the preset's
    assert chosen.hidden_units[0] == 256 and chosen.epochs == 2  # shown: the link's
    assert chosen.optimizer == expected.optimizer and chosen.batch_size == expected.batch_size


def test_classroom_mode_keeps_only_the_basic_controls():
    at = open_page("train", classroom="1", train_preset="Tutorial 784-128-64-10", train_learning_rate="0.01")
    assert "Classroom mode" in texts(at.info)
    kinds = ("selectbox", "slider", "select_slider", "radio", "toggle", "number_input")
    shown = {widget.key for kind in kinds for widget in getattr(at, kind)}
    assert shown == {
        "train_preset",
        "train_layers",
        "train_units_0",
        "train_units_1",
        "train_learning_rate",
        "train_epochs",
    }
    assert at.select_slider(key="train_learning_rate").value == 0.01
    assert "classroom=1" in at.code[0].value
    at.switch_page("pages/draw.py").run()
    at.switch_page("pages/train.py").run()
    assert "Classroom mode" in texts(at.info)  # remembered for the session
    assert at.button(key="train_start").disabled is False


def test_a_diverged_run_keeps_its_legend_on_train_and_is_drawn_dashed_on_compare():
    # Issue 13: a run whose loss blew up lost its legend on Train and was missing from Compare's charts.
    query = {"train_optimizer": "sgd", "train_learning_rate": "10", "train_momentum": "0.99"}
    query |= {"train_train_size": "500", "train_epochs": "1", "train_batch_size": "16"}
    at = open_page("train", **query)
    train_until_done(at)
    assert "The loss exploded" in texts(at.error)
    curves = {chart.key: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}
    loss = curves["train_loss_curve"]
    assert [trace["name"] for trace in loss["data"]] == ["Training, each batch"]  # no epoch ended
    assert loss["layout"]["showlegend"] is True  # Plotly hides a one-trace figure's legend otherwise

    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    assert list(at.table[0].value["Ended"]) == ["diverged"]
    charts = {chart.key: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}
    for metric in ("loss", "accuracy"):
        (trace,) = charts[f"compare_{metric}"]["data"]
        assert trace["name"].endswith("(training, diverged)"), trace["name"]
        assert trace["line"]["dash"] == "dash"
        points = trace["y"]
        assert points and all(math.isfinite(y) for y in points), points  # its batches up to the blow-up
