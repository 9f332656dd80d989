import json

import pytest

from digitlab.config import PRESETS, ConfigError, TrainConfig


def test_json_round_trip_keeps_every_field():
    config = TrainConfig(
        architecture="cnn",
        hidden_units=(256, 32, 16),
        activation="gelu",
        dropout=0.25,
        head="linear",
        optimizer="sgd",
        learning_rate=0.05,
        momentum=0.8,
        epochs=7,
        batch_size=64,
        validation_split=0.2,
        train_size=1234,
        normalization="zscore",
        labels="onehot",
        augment=True,
        seed=42,
    )
    text = config.to_json()
    assert json.loads(text)["hidden_units"] == [256, 32, 16]
    assert TrainConfig.from_json(text) == config


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"hidden_units": ()}, "hidden layers"),
        ({"hidden_units": (8,) * 6}, "hidden layers"),
        ({"hidden_units": (7,)}, "units"),
        ({"hidden_units": (1025,)}, "units"),
        ({"activation": "softsign"}, "activation"),
        ({"head": "tanh"}, "head"),
        ({"learning_rate": 0.0}, "learning rate"),
        ({"learning_rate": 100.0}, "learning rate"),
        ({"batch_size": 0}, "batch size"),
        ({"train_size": 60_001}, "training images"),
        ({"validation_split": 0.9}, "validation split"),
        ({"epochs": True}, "epochs"),
    ],
)
def test_out_of_range_settings_are_refused_with_their_name(changes, words):
    with pytest.raises(ConfigError, match=words):
        TrainConfig().replace(**changes)


def test_unknown_and_malformed_json_is_refused():
    with pytest.raises(ConfigError, match="unknown setting"):
        TrainConfig.from_json('{"hidden_units": [8], "colour": "red"}')
    with pytest.raises(ConfigError, match="not valid JSON"):
        TrainConfig.from_json("{hidden")
    with pytest.raises(ConfigError, match="object"):
        TrainConfig.from_json("[1, 2]")


def test_presets_include_the_classic_tutorial_architectures():
    shapes = {config.hidden_units for config in PRESETS.values()}
    assert (128, 64) in shapes and (150, 50) in shapes
    assert PRESETS["Tutorial 784-150-50-10"].epochs == 5
    assert PRESETS["Robust (for drawings)"].augment


def test_fast_preset_trains_a_cnn_on_every_training_image():
    # bench/time_to_98.py: this preset reads 98 % of the test set after about 10-15 s on two cores.
    fast = PRESETS["Fast 98% (CNN)"]
    assert fast.architecture == "cnn" and fast.train_size == 60_000 and fast.validation_split == 0.0
    assert TrainConfig.from_json(fast.to_json()) == fast
