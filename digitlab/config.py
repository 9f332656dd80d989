"""The whole configuration of a training run, as one serialisable object.

`TrainConfig` is to digitlab what `state.ts` is to TensorFlow Playground: every
setting of a run, the seed included, so the same config gives the same result
and a config can travel as JSON or in a URL.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass

ARCHITECTURES = ("mlp", "cnn")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu")
HEADS = ("softmax", "sigmoid", "linear")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
NORMALIZATIONS = ("unit", "zscore")
LABEL_ENCODINGS = ("sparse", "onehot")
# What a run learns from: MNIST's scanned digits alone, or with pen-drawn digits from the UNIPEN
# training labs, rendered through the Draw page's canvas path.
TRAINING_DATA = {"mnist": "MNIST", "mnist+pen": "MNIST + pen-drawn digits"}
LR_SCHEDULES = ("constant", "step", "cosine")
# "step": the rate drops to STEP_DROP of itself at each of these fractions of the run.
STEP_DROP, STEP_AT = 0.1, (0.5, 0.75)
COSINE_FLOOR = 0.01  # "cosine" ends at 1 % of the starting rate rather than 0: the last batches still learn

MIN_LAYERS, MAX_LAYERS = 1, 5
MIN_UNITS, MAX_UNITS = 8, 1024
MAX_TRAIN_SIZE = 60_000
MIN_TRAIN_SIZE = 100
MAX_MEMBERS = 5
# The CNN's two convolutions: 3×3 'same' kernels, each followed by 2×2 pooling; the first has
# `TrainConfig.filters` filters and the second twice as many. learn.model builds them and estimate
# counts their cost, both through `cnn_filters`.
CNN_KERNEL = 3
FILTER_CHOICES = (4, 8, 16, 32, 64)
MAX_WEIGHT_DECAY = 0.1


class ConfigError(ValueError):
    """A setting is out of range or of the wrong kind; the message says which."""


@dataclass(frozen=True)
class TrainConfig:
    # "mlp": Dense layers on the flattened image; "cnn": two conv blocks, then the Dense layers.
    architecture: str = "mlp"
    # CNN only: batch normalisation after each convolution, which steadies and speeds up learning.
    batch_norm: bool = False
    # CNN only: filters of the first convolution; the second has twice as many.
    filters: int = 32
    # Units of each hidden Dense layer, input side first (1-5 layers of 8-1024 units).
    hidden_units: tuple[int, ...] = (128, 64)
    activation: str = "relu"
    # Dropout after each hidden layer; 0 turns it off.
    dropout: float = 0.0
    # softmax, or the sigmoid and linear heads the classic projects used. A linear head
    # trains with a from-logits loss; every head still reports probabilities.
    head: str = "softmax"
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    # "constant"; "step": a tenth of the rate from half-way, a hundredth from three quarters of the run;
    # "cosine": from learning_rate down to 1 % of it over the whole run, smoothly (see `rate_at`).
    lr_schedule: str = "constant"
    # L2 weight decay: each weight's square, times this, joins the loss, which keeps weights small.
    weight_decay: float = 0.0
    # Only used by sgd.
    momentum: float = 0.9
    epochs: int = 5
    batch_size: int = 128
    # Fraction of the training images held out to draw the validation curves.
    validation_split: float = 0.1
    # How many training images to use (a class can run a 10-second experiment).
    train_size: int = MAX_TRAIN_SIZE
    # "unit" scales pixels to [0,1]; "zscore" uses the training set's mean and std.
    normalization: str = "unit"
    # "sparse" integer labels or "onehot" vectors; the loss follows.
    labels: str = "sparse"
    # Random rotations, shifts, scaling, elastic warps and stroke-thickness changes.
    augment: bool = False
    # "mnist", or "mnist+pen": MNIST plus renders of the pen-drawn training-lab digits.
    data: str = "mnist"
    # Networks trained one after another, from seeds seed, seed + 1, ...; the model averages their
    # probabilities (an ensemble): each is wrong on different drawings.
    members: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        # JSON and URLs give lists; keep the dataclass hashable and comparable.
        object.__setattr__(self, "hidden_units", tuple(int(u) for u in self.hidden_units))
        validate(self)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["hidden_units"] = list(self.hidden_units)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config is not valid JSON: {exc.msg}") from exc
        if not isinstance(data, dict):
            raise ConfigError("config JSON must be an object")
        return cls.from_dict(data)

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    @property
    def label(self) -> str:
        """A short human name, e.g. 'MLP 784-128-64-10 relu adam'."""
        if self.architecture == "cnn":
            first, second = cnn_filters(self)
            body = f"CNN {first}c-{second}c-" + "-".join(map(str, self.hidden_units)) + "-10"
            body += " BN" if self.batch_norm else ""
        else:
            body = "MLP 784-" + "-".join(map(str, self.hidden_units)) + "-10"
        members = f" ×{self.members}" if self.members > 1 else ""
        return f"{body} {self.activation} {self.optimizer}{members}"


def cnn_filters(config: TrainConfig) -> tuple[int, int]:
    """Filters of the CNN's two convolutions."""
    return config.filters, 2 * config.filters


def rate_at(config: TrainConfig, step: int, total_steps: int) -> float:
    """The learning rate of batch `step` (0-based) of a run of `total_steps` batches.

    The formula `learn.model`'s Keras schedule computes and the live chart draws. `total_steps` may grow
    when a run continues: "cosine" then climbs back part of the way (a warm restart) and decays again.
    """
    base, total = config.learning_rate, max(total_steps, 1)
    done = min(max(step, 0), total) / total
    if config.lr_schedule == "cosine":
        return base * (COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + math.cos(math.pi * done)))
    if config.lr_schedule == "step":
        return base * STEP_DROP ** sum(done >= at for at in STEP_AT)
    return base


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {value!r}")


def validate(config: TrainConfig) -> None:
    _check_choice("architecture", config.architecture, ARCHITECTURES)
    _check_choice("activation", config.activation, ACTIVATIONS)
    _check_choice("head", config.head, HEADS)
    _check_choice("optimizer", config.optimizer, OPTIMIZERS)
    _check_choice("normalization", config.normalization, NORMALIZATIONS)
    _check_choice("labels", config.labels, LABEL_ENCODINGS)
    _check_choice("training data", config.data, tuple(TRAINING_DATA))
    _check_choice("learning-rate schedule", config.lr_schedule, LR_SCHEDULES)
    if not MIN_LAYERS <= len(config.hidden_units) <= MAX_LAYERS:
        raise ConfigError(f"use {MIN_LAYERS} to {MAX_LAYERS} hidden layers, not {len(config.hidden_units)}")
    for units in config.hidden_units:
        _check_range("units per layer", units, MIN_UNITS, MAX_UNITS)
    _check_range("dropout", config.dropout, 0.0, 0.9)
    _check_range("learning rate", config.learning_rate, 1e-6, 10.0)
    _check_range("momentum", config.momentum, 0.0, 0.999)
    _check_range("epochs", config.epochs, 1, 200)
    _check_range("batch size", config.batch_size, 1, 8192)
    _check_range("validation split", config.validation_split, 0.0, 0.5)
    _check_range("training images", config.train_size, MIN_TRAIN_SIZE, MAX_TRAIN_SIZE)
    _check_range("seed", config.seed, 0, 2**31 - 1)
    _check_range("networks in the ensemble", config.members, 1, MAX_MEMBERS)
    if not isinstance(config.members, int):
        raise ConfigError(f"networks in the ensemble must be a whole number, not {config.members!r}")
    _check_range("weight decay", config.weight_decay, 0.0, MAX_WEIGHT_DECAY)
    if config.filters not in FILTER_CHOICES or isinstance(config.filters, bool):
        raise ConfigError(
            f"filters must be one of {', '.join(map(str, FILTER_CHOICES))}, not {config.filters!r}"
        )
    if not isinstance(config.batch_norm, bool):
        raise ConfigError(f"batch normalisation must be true or false, not {config.batch_norm!r}")
    if not isinstance(config.augment, bool):
        raise ConfigError(f"augment must be true or false, not {config.augment!r}")


PRESETS: dict[str, TrainConfig] = {
    # About 10 s of live curves on two cores: 15 epochs of 141 small batches, about 93 % at the end.
    "Quick demo": TrainConfig(hidden_units=(64,), epochs=15, batch_size=32, train_size=5_000),
    "Tutorial 784-128-64-10": TrainConfig(hidden_units=(128, 64), epochs=5, batch_size=32),
    "Tutorial 784-150-50-10": TrainConfig(hidden_units=(150, 50), epochs=5, batch_size=32),
    "Best MLP": TrainConfig(hidden_units=(512, 256), dropout=0.2, epochs=15, batch_size=128),
    # The quickest way to 98 % test accuracy on two cores (bench/time_to_98.py): a small CNN on all
    # 60,000 images, past 98 % within its first epoch, and no validation pass to wait for. 8 filters
    # and a rate of 0.004 got there in 10.3 s where 16 filters at 0.003 took 15.4 s, in one run, and
    # end no worse after two epochs (98.66 % against 98.56 % of the test set, in 25 s against 38 s).
    "Fast 98% (CNN)": TrainConfig(
        architecture="cnn",
        filters=8,
        hidden_units=(128,),
        learning_rate=4e-3,
        epochs=2,
        batch_size=128,
        validation_split=0.0,
    ),
    "Robust (for drawings)": TrainConfig(
        hidden_units=(512, 256), dropout=0.2, epochs=15, batch_size=128, augment=True
    ),
}
DEFAULT_PRESET = "Quick demo"

# The shipped default model: a small CNN that learnt from MNIST and the pen-drawn training labs,
# with augmentation, so it reads drawings by writers it never saw as well as MNIST.
# `python -m digitlab train --preset default --out assets/models/default`.
DEFAULT_MODEL_CONFIG = TrainConfig(
    architecture="cnn",
    hidden_units=(128,),
    dropout=0.3,
    lr_schedule="cosine",
    epochs=15,
    batch_size=128,
    validation_split=0.05,
    augment=True,
    data="mnist+pen",
    members=2,
    seed=1234,
)
