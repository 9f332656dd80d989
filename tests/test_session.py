"""digitlab.session: the pages' pure logic, checked against hand counts and measured timings."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from digitlab import session
from digitlab.config import DEFAULT_MODEL_CONFIG, PRESETS, ConfigError, TrainConfig


def test_session_imports_neither_streamlit_nor_tensorflow():
    code = "import sys, digitlab.session; print(' '.join(sys.modules))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split())
    assert "digitlab.session" in loaded
    assert not {"streamlit", "tensorflow", "keras"} & loaded


def test_choices_with_adds_a_missing_value_in_order():
    assert session.choices_with((1, 3), 2) == [1, 2, 3]
    assert session.choices_with((1, 2, 3), 2) == [1, 2, 3]


def test_every_config_field_has_a_control():
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"hidden_units"}
    assert fields <= set(session.CONTROL_NAMES)
    assert set(session.CONTROL_NAMES) == fields | {
        "layers",
        "units_0",
        "units_1",
        "units_2",
        "units_3",
        "units_4",
    }


@pytest.mark.parametrize("config", [*PRESETS.values(), DEFAULT_MODEL_CONFIG], ids=[*PRESETS, "default"])
def test_controls_give_back_the_config_they_show(config):
    assert session.config_from_controls(session.controls_from_config(config)) == config


def test_unused_layers_get_halving_widths_down_to_eight():
    values = session.controls_from_config(TrainConfig(hidden_units=(128, 64)))
    assert values["layers"] == 2
    assert [values[f"units_{i}"] for i in range(5)] == [128, 64, 32, 16, 8]


def test_only_the_chosen_number_of_layers_is_used():
    values = session.controls_from_config(TrainConfig(hidden_units=(128, 64)))
    values["layers"] = 3
    assert session.config_from_controls(values).hidden_units == (128, 64, 32)


def test_an_impossible_control_value_raises_config_error():
    values = session.controls_from_config(TrainConfig())
    values["units_0"] = 4  # fewer than the 8 units config allows
    with pytest.raises(ConfigError):
        session.config_from_controls(values)


def test_macs_of_an_mlp_are_its_dense_weights():
    # 784·128 + 128·64 + 64·10, counted by hand.
    assert session.macs_per_image(TrainConfig(hidden_units=(128, 64))) == 100_352 + 8_192 + 640


def test_macs_of_the_cnn_count_both_convolutions():
    conv1 = 28 * 28 * (3 * 3 * 1) * 32  # 225,792
    conv2 = 14 * 14 * (3 * 3 * 32) * 64  # 3,612,672 after 2×2 pooling
    dense = 7 * 7 * 64 * 128 + 128 * 10  # flattened 7×7×64 after the second pooling
    assert conv1 + conv2 + dense == 4_241_152
    assert session.macs_per_image(TrainConfig(architecture="cnn", hidden_units=(128,))) == 4_241_152


# Wall times measured on this 2-core machine (Keras already imported), see MACS_PER_SECOND's comment.
MEASURED = [
    (PRESETS["Quick demo"], 3.5),
    (PRESETS["Best MLP"].replace(train_size=10_000, epochs=1), 6.2),
    (TrainConfig(architecture="cnn", hidden_units=(128,), train_size=3_000, epochs=1), 18.4),
]


@pytest.mark.parametrize(("config", "seconds"), MEASURED, ids=["quick", "best-mlp-10k", "cnn-3k"])
def test_estimate_is_within_a_factor_two_of_measured_runs(config, seconds):
    assert seconds / 2 <= session.estimate_seconds(config) <= seconds * 2


def test_estimate_grows_with_epochs_and_images():
    base = TrainConfig(train_size=10_000, epochs=2)
    assert session.estimate_seconds(base.replace(epochs=4)) > session.estimate_seconds(base)
    assert session.estimate_seconds(base.replace(train_size=20_000)) > session.estimate_seconds(base)


def test_quick_demo_has_no_warning_but_a_full_cnn_has_one():
    assert session.long_run_warning(PRESETS["Quick demo"]) is None
    warning = session.long_run_warning(DEFAULT_MODEL_CONFIG)  # 12 augmented epochs took 20 minutes here
    assert warning is not None and "min" in warning


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (8.4, "8 s"),
        (59.4, "59 s"),
        (200, "3 min 20 s"),
        (605, "10 min"),
        (900, "15 min"),
        (3900, "1 h 05 min"),
    ],
)
def test_format_duration(seconds, text):
    assert session.format_duration(seconds) == text


def batch_event(epoch, batch, steps, epochs, elapsed):
    return {
        "epoch": epoch,
        "batch": batch,
        "steps_per_epoch": steps,
        "epochs": epochs,
        "progress": epoch - 1 + batch / steps,
        "step": (epoch - 1) * steps + batch,
        "elapsed": elapsed,
    }


def test_progress_line_with_eta():
    # 1 + 120/352 epochs of 5 done in 60 s: 26.8% done, so 60 · 0.732 / 0.268 = 164 s to go.
    fraction, text = session.progress_summary(batch_event(2, 120, 352, 5, 60.0))
    assert fraction == pytest.approx((1 + 120 / 352) / 5)
    assert text == "Epoch 2/5 · step 120/352 · ETA 2 min 44 s"


def test_no_eta_from_the_very_first_batches():
    _, text = session.progress_summary(batch_event(1, 1, 352, 5, 0.5))
    assert text == "Epoch 1/5 · step 1/352"


def test_progress_before_the_first_batch_and_after_the_end():
    assert session.progress_summary(None) == (
        0.0,
        "Getting ready: loading TensorFlow and building the network…",
    )
    assert session.progress_summary(None, "stopped") == (0.0, "Stopped before the first batch")
    assert "slot" in session.progress_summary(None, "waiting")[1]
    assert session.progress_summary(batch_event(2, 71, 71, 2, 8.0), "finished") == (
        1.0,
        "Done: 2 epochs, 142 steps",
    )
    fraction, text = session.progress_summary(batch_event(1, 30, 71, 2, 3.0), "stopped")
    assert (fraction, text) == (pytest.approx(30 / 71 / 2), "Stopped at epoch 1/2 · step 30/71")


PROBS = np.array([0.1, 0.05, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.35])


def test_top_guesses_likeliest_first_and_ties_to_the_smaller_digit():
    assert session.top_guesses(PROBS, 2) == [(4, 0.5), (9, 0.35)]
    assert session.top_guesses(np.full(10, 0.1), 2) == [(0, 0.1), (1, 0.1)]


def test_not_sure_below_the_threshold_only():
    assert session.unsure_message(PROBS, 0.6) == "Not sure — maybe 4 or 9"
    assert session.unsure_message(PROBS, 0.5) is None  # exactly at the threshold is sure enough
    assert session.unsure_message(PROBS, 0.3) is None


def test_probabilities_never_read_as_zero_or_certain():
    assert [session.format_probability(p) for p in (0.004, 0.62, 0.995, 1.0)] == [
        "<1%",
        "62%",
        ">99%",
        ">99%",
    ]
    assert session.guesses_title(PROBS) == "4: 50% 9: 35%"
    assert session.guesses_title(PROBS, "  \n") == "4: 50%  \n9: 35%"


def test_pair_label():
    assert session.pair_label(4, 9, 12) == "4 → 9: 12 images"
    assert session.pair_label(4, 9, 1) == "4 → 9: 1 image"


def test_selected_cell_reads_the_clicked_square():
    # The shape st.plotly_chart returns for a click on a confusion_matrix_figure square.
    event = {
        "selection": {"points": [{"x": 9, "y": 4, "customdata": [4, 9, 6, 0.006]}], "point_indices": [49]}
    }
    assert session.selected_cell(event) == (4, 9)
    assert session.selected_cell({"selection": {"points": []}}) is None
    assert session.selected_cell(None) is None


def test_examples_mix_a_few_mistakes_with_right_answers():
    labels = np.arange(30) % 10
    predictions = labels.copy()
    predictions[[3, 17, 25]] = 0  # three mistakes (label 0 at index 0, 10, 20 stay right)
    picks = session.pick_examples(labels, predictions, count=20, max_wrong=6)
    assert len(picks) == len(set(picks)) == 20
    assert list(picks) == sorted(picks)
    assert {3, 17, 25} <= set(picks)
    predictions[:10] = (labels[:10] + 1) % 10  # now 12 mistakes: only 6 are shown
    picks = session.pick_examples(labels, predictions, count=20, max_wrong=6)
    assert int(np.sum(labels[picks] != predictions[picks])) == 6
    assert np.array_equal(picks, session.pick_examples(labels, predictions, count=20, max_wrong=6))


def test_enlarge_turns_each_pixel_into_a_sharp_square():
    small = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    big = session.enlarge(small, 168)
    assert big.shape == (168, 168)
    blocks = big.reshape(28, 6, 28, 6)
    assert np.array_equal(blocks[:, 0, :, 0], small)
    assert (blocks == small[:, None, :, None]).all()


def test_enlarge_keeps_the_aspect_and_shrinks_big_images():
    assert session.enlarge(np.zeros((218, 118), np.uint8), 112).shape == (112, 61)
    assert session.enlarge(np.full((280, 280), 200, np.uint8), 112).shape == (112, 112)


def test_report_in_percent_scales_only_the_scores():
    row = {"digit": "4", "precision": 0.5, "recall": 0.25, "f1": 1 / 3, "support": 982}
    (scaled,) = session.report_in_percent([row])
    assert scaled == {
        "digit": "4",
        "precision": 50.0,
        "recall": 25.0,
        "f1": pytest.approx(33.333, abs=1e-3),
        "support": 982,
    }


# Settings in a link


def test_labels_are_what_the_menus_show():
    assert session.label("dropout", 0.1) == "10%"
    assert session.label("train_size", 5000) == "5,000"
    assert session.label("learning_rate", 0.001) == "0.001"
    assert session.label("architecture", "cnn") == "CNN"
    assert session.label("normalization", "zscore") == "z-score"
    assert session.label("augment", True) == "true"
    assert session.label("epochs", 7) == "7"


def test_a_link_holds_the_preset_and_only_what_differs_from_it():
    values = session.controls_from_config(PRESETS["Best MLP"].replace(epochs=3, dropout=0.1))
    assert session.link_params("Best MLP", values) == {"preset": "Best MLP", "epochs": "3", "dropout": "10%"}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"architecture": "cnn", "hidden_units": (128,), "train_size": 2000},
        {"hidden_units": (256, 128, 32), "learning_rate": 0.0003, "validation_split": 0.15},
        {"optimizer": "sgd", "momentum": 0.5, "augment": True, "normalization": "zscore", "seed": 42},
        {"labels": "onehot", "head": "sigmoid", "batch_size": 512, "epochs": 1, "activation": "tanh"},
    ],
)
def test_a_link_opens_with_the_settings_it_was_made_from(changes):
    config = PRESETS["Tutorial 784-128-64-10"].replace(**changes)
    params = session.link_params("Tutorial 784-128-64-10", session.controls_from_config(config))
    preset, values, unreadable = session.controls_from_params(params)
    assert (preset, unreadable) == ("Tutorial 784-128-64-10", [])
    assert session.config_from_controls(values) == config


def test_a_link_with_bad_values_keeps_the_presets_and_names_them():
    params = {"preset": "No such preset", "epochs": "999", "dropout": "lots", "architecture": "rnn"}
    params |= {"units_0": "32", "augment": "maybe", "seed": "-1"}
    preset, values, unreadable = session.controls_from_params(params)
    assert preset == "Quick demo"
    assert sorted(unreadable) == ["architecture", "augment", "dropout", "epochs", "seed"]
    assert session.config_from_controls(values) == PRESETS["Quick demo"].replace(hidden_units=(32,))


def test_settings_link_replaces_the_query_of_the_page_url():
    params = {"train_preset": "Best MLP", "a": "10%"}
    link = session.settings_link("http://class:8501/train?old=1#top", params)
    assert link == "http://class:8501/train?train_preset=Best+MLP&a=10%25"
    assert session.settings_link("/train", {"x": "1"}) == "/train?x=1"


@pytest.mark.parametrize(
    ("param", "before", "on"),
    [(None, False, False), (None, True, True), ("1", False, True), ("true", False, True), ("0", True, False)],
)
def test_classroom_mode_follows_the_link_else_stays(param, before, on):
    assert session.classroom_mode(param, before) is on


def test_a_waiting_student_reads_their_place_in_line():
    assert "You are next in line;" in session.waiting_message(1)
    assert "You are number 3 in line;" in session.waiting_message(3)
    assert "You are in line;" in session.waiting_message(None)


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(hidden_units=(128, 64)),
        TrainConfig(architecture="cnn", hidden_units=(128,)),
        TrainConfig(architecture="cnn", hidden_units=(128,), batch_norm=True),
    ],
    ids=["mlp", "cnn", "cnn-bn"],
)
def test_the_parameter_count_is_the_models_own(config):
    from digitlab.model import build_model

    assert session.parameter_count(config) == build_model(config, {"mean": 0.0, "std": 1.0}).count_params()


def test_a_run_that_may_not_fit_in_memory_is_warned_about():
    small = TrainConfig(hidden_units=(64,), train_size=5_000)
    large = TrainConfig(hidden_units=(1024,) * 5, train_size=60_000, batch_size=1024)
    assert session.estimate_memory_bytes(small) < session.estimate_memory_bytes(large)
    need = session.estimate_memory_bytes(large)
    assert session.memory_warning(large, available=None) is None  # unknown: no guess
    assert session.memory_warning(large, available=4 * need) is None
    warning = session.memory_warning(large, available=need)
    assert warning is not None and "may not fit" in warning
    assert f"{need / 2**20:,.0f} MB" in warning


def test_the_servers_free_memory_is_read_on_linux():
    free = session.available_memory_bytes()
    assert free is None or free > 0
