"""digitlab.app.settings: controls ↔ config ↔ link, checked by hand (it imports no streamlit)."""

import dataclasses
import subprocess
import sys

import pytest

from digitlab.app import settings
from digitlab.config import DEFAULT_MODEL_CONFIG, PRESETS, ConfigError, TrainConfig


def test_settings_import_neither_streamlit_nor_tensorflow():
    code = "import sys, digitlab.app.settings; print(' '.join(sys.modules))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split())
    assert "digitlab.app.settings" in loaded
    assert not {"streamlit", "tensorflow", "keras"} & loaded


# Settings in a link


def test_choices_with_adds_a_missing_value_in_order():
    assert settings.choices_with((1, 3), 2) == [1, 2, 3]
    assert settings.choices_with((1, 2, 3), 2) == [1, 2, 3]


def test_every_config_field_has_a_control():
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"hidden_units"}
    assert fields <= set(settings.CONTROL_NAMES)
    assert set(settings.CONTROL_NAMES) == fields | {
        "layers",
        "units_0",
        "units_1",
        "units_2",
        "units_3",
        "units_4",
    }


@pytest.mark.parametrize("config", [*PRESETS.values(), DEFAULT_MODEL_CONFIG], ids=[*PRESETS, "default"])
def test_controls_give_back_the_config_they_show(config):
    assert settings.config_from_controls(settings.controls_from_config(config)) == config


def test_unused_layers_get_halving_widths_down_to_eight():
    values = settings.controls_from_config(TrainConfig(hidden_units=(128, 64)))
    assert values["layers"] == 2
    assert [values[f"units_{i}"] for i in range(5)] == [128, 64, 32, 16, 8]


def test_only_the_chosen_number_of_layers_is_used():
    values = settings.controls_from_config(TrainConfig(hidden_units=(128, 64)))
    values["layers"] = 3
    assert settings.config_from_controls(values).hidden_units == (128, 64, 32)


def test_an_impossible_control_value_raises_config_error():
    values = settings.controls_from_config(TrainConfig())
    values["units_0"] = 4  # fewer than the 8 units config allows
    with pytest.raises(ConfigError):
        settings.config_from_controls(values)


def test_labels_are_what_the_menus_show():
    assert settings.label("dropout", 0.1) == "10%"
    assert settings.label("train_size", 5000) == "5,000"
    assert settings.label("learning_rate", 0.001) == "0.001"
    assert settings.label("architecture", "cnn") == "CNN"
    assert settings.label("normalization", "zscore") == "z-score"
    assert settings.label("augment", True) == "true"
    assert settings.label("epochs", 7) == "7"


def test_a_link_holds_the_preset_and_only_what_differs_from_it():
    values = settings.controls_from_config(PRESETS["Best MLP"].replace(epochs=3, dropout=0.1))
    assert settings.link_params("Best MLP", values) == {"preset": "Best MLP", "epochs": "3", "dropout": "10%"}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"architecture": "cnn", "hidden_units": (128,), "train_size": 2000},
        {"hidden_units": (256, 128, 32), "learning_rate": 0.0003, "validation_split": 0.15},
        {"optimizer": "sgd", "momentum": 0.5, "augment": True, "normalization": "zscore", "seed": 42},
        {"labels": "onehot", "head": "sigmoid", "batch_size": 512, "epochs": 1, "activation": "tanh"},
        {"architecture": "cnn", "filters": 8, "weight_decay": 1e-4, "lr_schedule": "step"},
        {"weight_decay": 0.01, "lr_schedule": "cosine", "filters": 64},
    ],
)
def test_a_link_opens_with_the_settings_it_was_made_from(changes):
    config = PRESETS["Tutorial 784-128-64-10"].replace(**changes)
    params = settings.link_params("Tutorial 784-128-64-10", settings.controls_from_config(config))
    preset, values, unreadable = settings.controls_from_params(params)
    assert (preset, unreadable) == ("Tutorial 784-128-64-10", [])
    assert settings.config_from_controls(values) == config


def test_a_link_with_bad_values_keeps_the_presets_and_names_them():
    params = {"preset": "No such preset", "epochs": "999", "dropout": "lots", "architecture": "rnn"}
    params |= {"units_0": "32", "augment": "maybe", "seed": "-1"}
    preset, values, unreadable = settings.controls_from_params(params)
    assert preset == "Quick demo"
    assert sorted(unreadable) == ["architecture", "augment", "dropout", "epochs", "seed"]
    assert settings.config_from_controls(values) == PRESETS["Quick demo"].replace(hidden_units=(32,))


def test_settings_link_replaces_the_query_of_the_page_url():
    params = {"train_preset": "Best MLP", "a": "10%"}
    link = settings.settings_link("http://class:8501/train?old=1#top", params)
    assert link == "http://class:8501/train?train_preset=Best+MLP&a=10%25"
    assert settings.settings_link("/train", {"x": "1"}) == "/train?x=1"


@pytest.mark.parametrize(
    ("param", "before", "on"),
    [(None, False, False), (None, True, True), ("1", False, True), ("true", False, True), ("0", True, False)],
)
def test_classroom_mode_follows_the_link_else_stays(param, before, on):
    assert settings.classroom_mode(param, before) is on
