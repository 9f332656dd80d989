"""What a config will cost before it runs: parameters, time and memory, and the warnings they call for.

The CNN's shape comes from `config.cnn_filters` and `config.CNN_KERNEL`, the ones `learn.model` builds
from, so the forecast and the network cannot drift apart. Reading the server's free memory
(`/proc/meminfo`) lives here too, next to the only code that uses it.
"""

from __future__ import annotations

import numpy as np

from digitlab.config import CNN_KERNEL, TrainConfig, cnn_filters

RUN_OVERHEAD_BYTES = 64 * 2**20  # TensorFlow's state for one run, rounded up from bench/memory.py
MEMORY_SHARE = 0.5  # a run may take at most half of the memory left: other students train and draw too
# Throughput of the 2-core classroom server while other work shares it, measured by training the
# presets on 3,000-10,000 images (MLP 512-256: 3.7 s per 9,000 images; CNN: 10.7 s per 2,700 images;
# batch 32: 24 ms a step) and the shipped CNN (12 augmented epochs of 57,000 images in 20 minutes).
MACS_PER_SECOND = 5e9  # multiply-accumulates per second, forward and backward passes counted
SECONDS_PER_STEP = 0.02  # Keras' own cost per batch, whatever the model
AUGMENT_SECONDS_PER_IMAGE = 0.00015  # warps and stroke changes in tf.data
STARTUP_SECONDS = 3.0  # building the model, tracing the graphs, the first batch
# Pen-drawn renders added per MNIST image kept (3 renders of 11,615 digits per 60,000: digitlab.pen).
PEN_SHARE = 3 * 11_615 / 60_000
# Training speed of one batch on this 2-core server with nothing else training, from its steady pace
# (MLP 784-128-64-10: about 2.5 ms a batch of 128; the shipped CNN: about 60 ms a batch of 128): what
# the training loop sizes its executions by (`learn.fit`), before it measures the run itself.
BATCH_MACS_PER_SECOND = 2e10
BATCH_OVERHEAD_SECONDS = 0.001
LONG_RUN_SECONDS = 180  # a class waits this long at most without being warned
MEMINFO = "/proc/meminfo"


def _convolutions(config: TrainConfig):
    """(side, inputs, filters) of each convolution: 'same' padding, then 2×2 pooling halves the side."""
    side, inputs = 28, 1
    for filters in cnn_filters(config):
        yield side, inputs, filters
        side, inputs = side // 2, filters


def _flat_width(config: TrainConfig) -> int:
    """Values the first Dense layer reads: the pixels, or the last pooled feature maps."""
    if config.architecture != "cnn":
        return 28 * 28
    filters = cnn_filters(config)
    side = 28 // 2 ** len(filters)
    return side * side * filters[-1]


def macs_per_image(config: TrainConfig) -> int:
    """Multiply-accumulates of one forward pass; for Dense layers this is the number of weights."""
    macs = 0
    if config.architecture == "cnn":
        macs += sum(side * side * CNN_KERNEL**2 * ins * outs for side, ins, outs in _convolutions(config))
    width = _flat_width(config)
    for units in (*config.hidden_units, 10):
        macs += width * units
        width = units
    return macs


def parameter_count(config: TrainConfig) -> int:
    """Weights and biases of the network `learn.model.build_model` makes from `config`."""
    count = 0
    if config.architecture == "cnn":
        count += sum((CNN_KERNEL**2 * ins + 1) * outs for _, ins, outs in _convolutions(config))
        count += (
            4 * sum(cnn_filters(config)) * config.batch_norm
        )  # scale, shift and the two running statistics
    width = _flat_width(config)
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
    if config.architecture == "cnn":  # each convolution's maps, then the pooled ones
        activations_per_image += sum(side * side * outs * 5 // 4 for side, _, outs in _convolutions(config))
    return int(
        4 * 4 * parameter_count(config)
        + 4 * 28 * 28 * config.train_size * (1 + PEN_SHARE * (config.data == "mnist+pen"))
        + 4 * 3 * activations_per_image * config.batch_size
        + RUN_OVERHEAD_BYTES
    )


def available_memory_bytes(meminfo: str = MEMINFO) -> int | None:
    """Memory the server can still use (Linux's MemAvailable), or None where that cannot be read."""
    try:
        with open(meminfo) as lines:
            for line in lines:
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
    one = compute + steps * SECONDS_PER_STEP + evaluation / MACS_PER_SECOND + augment
    return float(STARTUP_SECONDS + one * config.members)  # an ensemble's networks train one by one


def seconds_per_batch(config: TrainConfig) -> float:
    """A forecast of one training batch's time, forward and backward, augmentation included."""
    compute = 3 * macs_per_image(config) * config.batch_size / BATCH_MACS_PER_SECOND
    augment = AUGMENT_SECONDS_PER_IMAGE * config.batch_size if config.augment else 0.0
    return compute + augment + BATCH_OVERHEAD_SECONDS


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
