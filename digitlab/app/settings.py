"""The Train page's settings as data: controls ↔ `TrainConfig` ↔ a shareable link.

Like TensorFlow Playground's state, a run's whole setup is one serialisable object: the flat values of
the controls, their labels in the URL (Streamlit writes a menu's shown label there), and the preset they
differ from. No streamlit here, so it is tested without a browser; `settings_form` draws the controls.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np

from digitlab import config as settings
from digitlab.config import MAX_LAYERS, MIN_UNITS, TrainConfig

# Choices offered on the Train page; a preset value outside them is added (`choices_with`).
LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BATCH_SIZES = (16, 32, 64, 128, 256, 512, 1024)
TRAIN_SIZES = (500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000)
UNIT_CHOICES = (8, 16, 32, 50, 64, 100, 128, 150, 256, 512, 1024)
WEIGHT_DECAYS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)
HIDDEN_LAYER_KEYS = tuple(f"units_{i}" for i in range(MAX_LAYERS))
# Every TrainConfig field a control sets directly (hidden_units comes from "layers" and units_0..4).
PLAIN_FIELDS = (
    "architecture",
    "activation",
    "dropout",
    "head",
    "optimizer",
    "learning_rate",
    "lr_schedule",
    "weight_decay",
    "momentum",
    "epochs",
    "batch_size",
    "validation_split",
    "train_size",
    "normalization",
    "labels",
    "augment",
    "batch_norm",
    "filters",
    "data",
    "members",
    "seed",
)
CONTROL_NAMES = (*PLAIN_FIELDS, "layers", *HIDDEN_LAYER_KEYS)
# What a class sees in classroom mode, besides the preset; the other settings follow the preset.
CLASSROOM_CONTROLS = ("layers", *HIDDEN_LAYER_KEYS, "epochs", "learning_rate")
# How a control shows a value, in its menu and so in the URL: Streamlit writes the shown label there.
LABELS = {
    "architecture": str.upper,
    "dropout": "{:.0%}".format,
    "validation_split": "{:.0%}".format,
    "learning_rate": "{:g}".format,
    "weight_decay": lambda value: "off" if value == 0 else f"{value:g}",
    "train_size": "{:,}".format,
    "normalization": {"unit": "[0, 1]", "zscore": "z-score"}.get,
    "data": settings.TRAINING_DATA.get,
}
# The bounds of the sliders and the number box; the menus (select sliders) take any value.
RANGES = {
    "layers": (settings.MIN_LAYERS, settings.MAX_LAYERS),
    "epochs": (1, 50),
    "momentum": (0.0, 0.99),
    "seed": (0, 2**31 - 1),
    "members": (1, settings.MAX_MEMBERS),
}
# The menus whose values a link names by their shown label (words, or a short list of numbers).
CHOICES = {
    "architecture": settings.ARCHITECTURES,
    "activation": settings.ACTIVATIONS,
    "head": settings.HEADS,
    "optimizer": settings.OPTIMIZERS,
    "normalization": settings.NORMALIZATIONS,
    "labels": settings.LABEL_ENCODINGS,
    "data": tuple(settings.TRAINING_DATA),
    "lr_schedule": settings.LR_SCHEDULES,
    "weight_decay": WEIGHT_DECAYS,
    "filters": settings.FILTER_CHOICES,
}


def choices_with(options, value) -> list:
    """`options` plus `value`, sorted: a preset or a saved config may use a value the menu lacks."""
    return sorted({*options, value})


def controls_from_config(config: TrainConfig) -> dict:
    """The flat values of the Train page's controls for `config` (units of unused layers filled in)."""
    values = {name: getattr(config, name) for name in PLAIN_FIELDS}
    units = list(config.hidden_units)
    while len(units) < MAX_LAYERS:  # unused layers get a sensible value in case the user adds them
        units.append(max(MIN_UNITS, units[-1] // 2))
    values |= dict(zip(HIDDEN_LAYER_KEYS, units, strict=True))
    values["layers"] = len(config.hidden_units)
    return values


def config_from_controls(values: dict) -> TrainConfig:
    """The TrainConfig the controls describe; raises config.ConfigError for an impossible setting."""
    layers = int(values["layers"])
    hidden = tuple(int(values[key]) for key in HIDDEN_LAYER_KEYS[:layers])
    return TrainConfig(hidden_units=hidden, **{name: values[name] for name in PLAIN_FIELDS})


def label(name: str, value) -> str:
    """How the control `name` shows `value`: '10%', '5,000', 'MLP', 'true'."""
    if isinstance(value, bool):
        return str(value).lower()
    return LABELS.get(name, str)(value)


def parse_label(name: str, text: str, like):
    """The control value that `label(name, ·)` shows as `text`; `like` gives its type. ValueError if none."""
    text = text.strip()
    if name in CHOICES:
        found = [option for option in CHOICES[name] if label(name, option) == text or option == text]
        if not found:
            raise ValueError(f"{name} cannot be {text!r}")
        return found[0]
    if isinstance(like, bool):
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{name} is true or false, not {text!r}")
        return text.lower() == "true"
    if isinstance(like, int):
        value = int(text.replace(",", ""))
    else:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    low, high = RANGES.get(name, (-np.inf, np.inf))
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, not {value}")
    return value


def link_params(preset: str, values: dict) -> dict[str, str]:
    """The query of a link to these settings: the preset, and each control that differs from it.

    Only the used layers' units count: the link stays short and reads as what the teacher changed.
    """
    base = controls_from_config(settings.PRESETS[preset])
    used = ("layers", *HIDDEN_LAYER_KEYS[: int(values["layers"])])
    names = [name for name in (*PLAIN_FIELDS, *used) if values[name] != base[name]]
    return {"preset": preset} | {name: label(name, values[name]) for name in names}


def controls_from_params(params: Mapping[str, str]) -> tuple[str, dict, list[str]]:
    """Preset, control values and the names that could not be read, from a link's query.

    The preset fills every control first; the link's own values then override it, one by one.
    """
    preset = params.get("preset")
    preset = preset if preset in settings.PRESETS else settings.DEFAULT_PRESET
    values = controls_from_config(settings.PRESETS[preset])
    unreadable = []
    for name in CONTROL_NAMES:
        if name in params:
            try:
                values[name] = parse_label(name, params[name], values[name])
            except ValueError:
                unreadable.append(name)
    return preset, values, unreadable


def settings_link(page_url: str, params: dict[str, str]) -> str:
    """`page_url` with its query replaced by `params`: the link to hand out."""
    parts = urlsplit(page_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(params), ""))


def classroom_mode(param: str | None, before: bool) -> bool:
    """Whether classroom mode is on: `?classroom=1` turns it on, `?classroom=0` off, else as before."""
    if param is None:
        return before
    return param.strip().lower() in ("1", "true", "yes", "on")
