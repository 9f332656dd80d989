"""The pure logic behind the pages: settings ↔ config and links, run progress, reading predictions.

Pages hold layout and wiring; whatever they compute that deserves a test lives here, free of streamlit
and TensorFlow: the flat control values of a `TrainConfig` and their form in a shared link, how long a
run will take on this machine,
the "Epoch 2/5 · step 120/352 · ETA 35 s" line, the "Not sure — maybe 4 or 9" decision, which cell of
the confusion matrix was clicked, and which test images to show after a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np
from PIL import Image

from digitlab import config as settings
from digitlab.config import MAX_LAYERS, MIN_UNITS, TrainConfig

# Choices offered on the Train page; a preset value outside them is added (`choices_with`).
LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BATCH_SIZES = (16, 32, 64, 128, 256, 512, 1024)
TRAIN_SIZES = (500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000)
UNIT_CHOICES = (8, 16, 32, 50, 64, 100, 128, 150, 256, 512, 1024)
RUN_OVERHEAD_BYTES = 64 * 2**20  # TensorFlow's state for one run, rounded up from bench/memory.py
MEMORY_SHARE = 0.5  # a run may take at most half of the memory left: other students train and draw too
HIDDEN_LAYER_KEYS = tuple(f"units_{i}" for i in range(MAX_LAYERS))
# Every TrainConfig field a control sets directly (hidden_units comes from "layers" and units_0..4).
PLAIN_FIELDS = (
    "architecture",
    "activation",
    "dropout",
    "head",
    "optimizer",
    "learning_rate",
    "momentum",
    "epochs",
    "batch_size",
    "validation_split",
    "train_size",
    "normalization",
    "labels",
    "augment",
    "data",
    "seed",
)
CONTROL_NAMES = (*PLAIN_FIELDS, "layers", *HIDDEN_LAYER_KEYS)
# What a class sees in classroom mode, besides the preset; the other settings follow the preset.
CLASSROOM_CONTROLS = ("layers", *HIDDEN_LAYER_KEYS, "epochs", "learning_rate", "data")
# How a control shows a value, in its menu and so in the URL: Streamlit writes the shown label there.
LABELS = {
    "architecture": str.upper,
    "dropout": "{:.0%}".format,
    "validation_split": "{:.0%}".format,
    "learning_rate": "{:g}".format,
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
}
# The menus of the controls that choose among words.
CHOICES = {
    "architecture": settings.ARCHITECTURES,
    "activation": settings.ACTIVATIONS,
    "head": settings.HEADS,
    "optimizer": settings.OPTIMIZERS,
    "normalization": settings.NORMALIZATIONS,
    "labels": settings.LABEL_ENCODINGS,
    "data": tuple(settings.TRAINING_DATA),
}

# Throughput of the 2-core classroom server while other work shares it, measured by training the
# presets on 3,000-10,000 images (MLP 512-256: 3.7 s per 9,000 images; CNN: 10.7 s per 2,700 images;
# batch 32: 24 ms a step) and the shipped CNN (12 augmented epochs of 57,000 images in 20 minutes).
MACS_PER_SECOND = 5e9  # multiply-accumulates per second, forward and backward passes counted
SECONDS_PER_STEP = 0.02  # Keras' own cost per batch, whatever the model
AUGMENT_SECONDS_PER_IMAGE = 0.00015  # warps and stroke changes in tf.data
STARTUP_SECONDS = 3.0  # building the model, tracing the graphs, the first batch
# Pen-drawn renders added per MNIST image kept (3 renders of 11,615 digits per 60,000: digitlab.pen).
PEN_SHARE = 3 * 11_615 / 60_000
LONG_RUN_SECONDS = 180  # a class waits this long at most without being warned


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


def macs_per_image(config: TrainConfig) -> int:
    """Multiply-accumulates of one forward pass; for Dense layers this is the number of weights."""
    macs, width = 0, 28 * 28
    if config.architecture == "cnn":  # 3×3 'same' convolutions, 32 then 64 filters, each 2×2 pooled
        macs += 28 * 28 * 9 * 1 * 32 + 14 * 14 * 9 * 32 * 64
        width = 7 * 7 * 64
    for units in (*config.hidden_units, 10):
        macs += width * units
        width = units
    return macs


def parameter_count(config: TrainConfig) -> int:
    """Weights and biases of the network `model.build_model` makes from `config`."""
    count, width = 0, 28 * 28
    if config.architecture == "cnn":  # 3×3 convolutions of 32 then 64 filters, each 2×2 pooled
        count += (9 * 1 + 1) * 32 + (9 * 32 + 1) * 64
        count += 4 * (32 + 64) * config.batch_norm  # scale, shift and the two running statistics
        width = 7 * 7 * 64
    for units in (*config.hidden_units, 10):
        count += (width + 1) * units
        width = units
    return count


def estimate_memory_bytes(config: TrainConfig) -> int:
    """A generous forecast of what a run adds to the server's memory while it trains.

    Weights, gradients and two optimizer slots per weight; the training images as float32 (an upper
    bound: they are kept as bytes); each batch's activations, kept for the backward pass; and
    RUN_OVERHEAD_BYTES for TensorFlow's own state (bench/memory.py measures about 48 MiB per run).
    """
    activations_per_image = 28 * 28 + sum(config.hidden_units) + 10
    if config.architecture == "cnn":
        activations_per_image += 28 * 28 * 32 + 14 * 14 * 32 + 14 * 14 * 64 + 7 * 7 * 64
    return int(
        4 * 4 * parameter_count(config)
        + 4 * 28 * 28 * config.train_size * (1 + PEN_SHARE * (config.data == "mnist+pen"))
        + 4 * 3 * activations_per_image * config.batch_size
        + RUN_OVERHEAD_BYTES
    )


def available_memory_bytes() -> int | None:
    """Memory the server can still use (Linux's MemAvailable), or None where that cannot be read."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def memory_warning(config: TrainConfig, available: int | None) -> str | None:
    """A warning for a run that might not fit in the memory the server has left, or None."""
    need = estimate_memory_bytes(config)
    if available is None or need <= MEMORY_SHARE * available:
        return None
    return (
        f"This run needs about {need / 2**20:,.0f} MB of memory and the server has "
        f"{available / 2**20:,.0f} MB free, shared with the class: it may not fit. Use fewer training "
        "images, smaller layers or smaller batches."
    )


def estimate_seconds(config: TrainConfig) -> float:
    """A rough forecast of a run's wall time on this machine: compute, per-batch cost and set-up."""
    images = config.train_size * (1 - config.validation_split + PEN_SHARE * (config.data == "mnist+pen"))
    steps = np.ceil(images / config.batch_size) * config.epochs
    compute = 3 * macs_per_image(config) * images * config.epochs / MACS_PER_SECOND  # forward + backward
    evaluation = macs_per_image(config) * (
        10_000 + config.train_size * config.validation_split * config.epochs
    )
    augment = AUGMENT_SECONDS_PER_IMAGE * images * config.epochs if config.augment else 0.0
    return float(
        STARTUP_SECONDS + compute + steps * SECONDS_PER_STEP + evaluation / MACS_PER_SECOND + augment
    )


def waiting_message(position: int | None) -> str:
    """What a student whose run waits for a training slot reads, with their place in the line."""
    place = {None: "in line", 1: "next in line"}.get(position, f"number {position} in line")
    return (
        f"Waiting for a free training slot: other networks are training on this server. You are {place}; "
        "your run starts by itself as soon as a slot frees up."
    )


def long_run_warning(config: TrainConfig) -> str | None:
    """A warning for a run that would keep the class waiting, or None."""
    seconds = estimate_seconds(config)
    if seconds < LONG_RUN_SECONDS:
        return None
    return (
        f"This run would take about {format_duration(seconds)} on this machine. For a live demo, use "
        "fewer training images or epochs, or the CNN only with a few thousand images."
    )


def format_duration(seconds: float) -> str:
    """'8 s', '3 min 20 s', '1 h 05 min': rounded the way a person says it."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min {rest:02d} s" if minutes < 10 else f"{round(seconds / 60)} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min"


def progress_summary(event: dict | None, state: str = "running") -> tuple[float, str]:
    """Fraction done and 'Epoch 2/5 · step 120/352 · ETA 35 s' from the run's state and latest batch event."""
    if state == "waiting":
        return 0.0, "Waiting for a free training slot…"
    if not event:
        if state in ("pending", "running"):
            return 0.0, "Getting ready: loading TensorFlow and building the network…"
        return 0.0, f"{state.capitalize()} before the first batch"
    fraction = min(1.0, event["progress"] / event["epochs"])
    where = f"epoch {event['epoch']}/{event['epochs']} · step {event['batch']}/{event['steps_per_epoch']}"
    if state == "finished":
        return 1.0, f"Done: {event['epochs']} epochs, {event['step']:,} steps"
    if state in ("stopped", "diverged", "failed"):
        return fraction, f"{state.capitalize()} at {where}"
    text = where[0].upper() + where[1:]
    if fraction >= 0.02 and event.get("elapsed"):  # earlier, the first batches' set-up skews the rate
        eta = event["elapsed"] * (1 - fraction) / fraction
        text += f" · ETA {format_duration(eta)}"
    return fraction, text


def top_guesses(probs: np.ndarray, k: int = 2) -> list[tuple[int, float]]:
    """The `k` likeliest digits with their probabilities, likeliest first (ties: smaller digit first)."""
    probs = np.asarray(probs, dtype=float)
    order = np.argsort(-probs, kind="stable")[:k]
    return [(int(d), float(probs[d])) for d in order]


def unsure_message(probs: np.ndarray, threshold: float) -> str | None:
    """'Not sure — maybe 4 or 9' when the best probability is under `threshold`, else None."""
    (first, p_first), (second, _) = top_guesses(probs, 2)
    if p_first >= threshold:
        return None
    return f"Not sure — maybe {first} or {second}"


def format_probability(p: float) -> str:
    """'62%', and '<1%' or '>99%' rather than a 0% or 100% the network never quite says."""
    if p < 0.01:
        return "<1%"
    if p > 0.99:
        return ">99%"
    return f"{p:.0%}"


def guesses_title(probs: np.ndarray, separator: str = " ") -> str:
    """The two best guesses as a short title, e.g. '9: 62% 4: 30%'."""
    return separator.join(f"{digit}: {format_probability(p)}" for digit, p in top_guesses(probs, 2))


def report_in_percent(report: list[dict]) -> list[dict]:
    """evaluation.report with precision, recall and F1 as percentages, for a table with one decimal."""
    scores = ("precision", "recall", "f1")
    return [{key: 100 * value if key in scores else value for key, value in row.items()} for row in report]


def pair_label(true: int, predicted: int, count: int) -> str:
    """'4 → 9: 12 images': a most-confused pair as the class reads it."""
    return f"{true} → {predicted}: {count:,} image{'s' * (count != 1)}"


def selected_cell(event) -> tuple[int, int] | None:
    """(true, predicted) of the clicked confusion-matrix square, from st.plotly_chart's selection."""
    try:
        points = event["selection"]["points"]
        true, predicted = points[0]["customdata"][:2]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return int(true), int(predicted)


def pick_examples(
    labels: np.ndarray, predictions: np.ndarray, count: int = 20, max_wrong: int = 6, seed: int = 0
) -> np.ndarray:
    """Indices of `count` test images to show after a run: up to `max_wrong` mistakes, the rest right.

    Random images alone would show a 97% model making no mistake at all; a few errors teach more.
    """
    rng = np.random.default_rng(seed)
    wrong = np.flatnonzero(labels != predictions)
    right = np.flatnonzero(labels == predictions)
    n_wrong = min(max_wrong, len(wrong), count)
    chosen = np.concatenate(
        [
            rng.choice(wrong, n_wrong, replace=False),
            rng.choice(right, min(count - n_wrong, len(right)), replace=False),
        ]
    ).astype(np.int64)
    return np.sort(chosen)


def enlarge(pixels: np.ndarray, side: int) -> np.ndarray:
    """Scale a grey image so its longer side is `side`: blocky (nearest) when growing, so pixels show."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    h, w = pixels.shape
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    method = Image.NEAREST if scale >= 1 else Image.BOX
    return np.asarray(Image.fromarray(pixels).resize(size, method))
