"""What a config will cost before it runs: parameters, time and memory, and the warnings they call for.

The CNN's shape comes from `config.cnn_filters` and `config.CNN_KERNEL`, the ones `learn.model` builds
from, so the forecast and the network cannot drift apart. The server's free memory comes from `machine`,
which counts a container's limit too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from digitlab import machine
from digitlab.config import CNN_KERNEL, TrainConfig, cnn_filters

RUN_OVERHEAD_BYTES = 64 * 2**20  # TensorFlow's state for one run, rounded up from bench/memory.py
MEMORY_SHARE = 0.5  # a run may take at most half of the memory left: other students train and draw too
# The built-in pace, until this server has measured its own (`Calibration`): one training batch costs
# 3 multiply-accumulates per weight use (forward and backward) at BATCH_MACS_PER_SECOND, plus
# BATCH_OVERHEAD_SECONDS, plus augmentation per image; a run (each network of an ensemble) starts in
# STARTUP_SECONDS (building the model, tracing its graphs, the first batch). Measured on this project's
# 2-core server with nothing else training (MLP 784-128-64-10: about 2.5 ms a batch of 128; the shipped
# CNN: about 60 ms a batch of 128): also what the training loop sizes its executions by (`learn.fit`).
BATCH_MACS_PER_SECOND = 2e10
CONV_SPEEDUP = 2.5  # the shipped CNN's batch: 30 ms, where its multiply-accumulates at Dense pace take 80
BATCH_OVERHEAD_SECONDS = 0.001
IMAGE_SECONDS = 1.5e-5  # each image through the input pipeline: what small MLPs spend most time on
AUGMENT_SECONDS_PER_IMAGE = 0.00015  # warps and stroke changes in tf.data
STARTUP_SECONDS = 1.0
VALIDATION_SECONDS = 0.1  # each epoch's validation pass, besides its images (a call of its own; 0.4 read the
# Quick demo, 15 of them, 1.6× too long: bench/forecast.py)
PEN_BENCHMARK_IMAGES = 4_338  # the pen-drawn test digits a finished run is scored on, beside MNIST's
VIEWS_SCORED = (0.0, -8.0, 8.0)  # each read turned three ways, as Draw reads (reading.VIEW_ANGLES)
SCORING_SECONDS = 1.2  # the scoring's own cost: turning the pen-drawn digits, reports, the first call
# Pen-drawn renders added per MNIST image kept (3 renders of 11,615 digits per 60,000: digitlab.pen).
PEN_SHARE = 3 * 11_615 / 60_000
LONG_RUN_SECONDS = 180  # a class waits this long at most without being warned
MEMINFO = str(machine.MEMINFO)


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


def conv_macs_per_image(config: TrainConfig) -> int:
    """The part of `macs_per_image` in convolutions, which run faster here than Dense layers do."""
    if config.architecture != "cnn":
        return 0
    return sum(side * side * CNN_KERNEL**2 * ins * outs for side, ins, outs in _convolutions(config))


def effective_macs(config: TrainConfig) -> float:
    """`macs_per_image` with a convolution's counted at Dense speed (divided by CONV_SPEEDUP)."""
    conv = conv_macs_per_image(config)
    return macs_per_image(config) - conv + conv / CONV_SPEEDUP


def macs_per_image(config: TrainConfig) -> int:
    """Multiply-accumulates of one forward pass; for Dense layers this is the number of weights."""
    macs = conv_macs_per_image(config)
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


def available_memory_bytes(meminfo: str = MEMINFO, **cgroup) -> int | None:
    """Memory the server can still use, a container's limit included (`machine.available_memory_bytes`)."""
    return machine.available_memory_bytes(meminfo, **cgroup)


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


@dataclass(frozen=True)
class Pace:
    """How fast this server trains: a batch's compute and fixed cost, and a run's start."""

    macs_per_second: float = BATCH_MACS_PER_SECOND
    batch_seconds: float = BATCH_OVERHEAD_SECONDS
    image_seconds: float = IMAGE_SECONDS
    startup_seconds: float = STARTUP_SECONDS

    def __str__(self) -> str:  # bench/forecast.py prints it
        return (
            f"{self.macs_per_second / 1e9:.1f} GMAC/s, {self.batch_seconds * 1000:.2f} ms a batch and "
            f"{self.image_seconds * 1e6:.1f} µs an image besides, {self.startup_seconds:.1f} s to start"
        )


DEFAULT_PACE = Pace()


def seconds_per_batch(config: TrainConfig, pace: Pace = DEFAULT_PACE) -> float:
    """A forecast of one training batch's time, forward and backward, augmentation included."""
    compute = 3 * effective_macs(config) * config.batch_size / pace.macs_per_second
    augment = AUGMENT_SECONDS_PER_IMAGE * config.batch_size if config.augment else 0.0
    return compute + augment + pace.batch_seconds + pace.image_seconds * config.batch_size


def training_seconds(
    config: TrainConfig, pace: Pace = DEFAULT_PACE, correction: float = 1.0, startup: float | None = None
) -> float:
    """The training itself, what a run reports as its training time: each network's start (`startup`,
    else the pace's), then every batch of every epoch and the validation passes, their time multiplied
    by `correction`."""
    startup = pace.startup_seconds if startup is None else startup
    return float(config.members * (startup + correction * _work_seconds(config, pace)))


def _work_seconds(config: TrainConfig, pace: Pace) -> float:
    """One network's batches and validation passes."""
    images = config.train_size * (1 - config.validation_split + PEN_SHARE * (config.data == "mnist+pen"))
    steps = np.ceil(images / config.batch_size) * config.epochs
    held_out = config.train_size * config.validation_split
    validation = (effective_macs(config) / pace.macs_per_second + pace.image_seconds) * held_out
    validation += VALIDATION_SECONDS * (held_out > 0)
    return float(steps * seconds_per_batch(config, pace) + validation * config.epochs)


def estimate_seconds(
    config: TrainConfig, pace: Pace = DEFAULT_PACE, correction: float = 1.0, startup: float | None = None
) -> float:
    """A forecast of a run's wall time on this machine: training, then its scores on the test sets."""
    images = 10_000 + len(VIEWS_SCORED) * PEN_BENCHMARK_IMAGES
    each = correction * effective_macs(config) / pace.macs_per_second + pace.image_seconds
    scoring = SCORING_SECONDS + config.members * images * each
    return training_seconds(config, pace, correction, startup) + scoring


class Calibration:
    """This server's own forecast: the pace measured at start-up (`use`), corrected per architecture by
    the runs that finished here (`record`). Shared by every session, so it is thread-safe."""

    SMOOTHING = 0.5  # after the first, each finished run moves the correction halfway to what it measured
    LIMITS = (0.2, 5.0)  # a correction never goes beyond these: one odd run cannot wreck the forecast
    MIN_WORK_S = 2.0  # runs forecast to train for less than this teach it nothing

    def __init__(self, pace: Pace = DEFAULT_PACE):
        self.pace = pace
        self.measured = False  # whether this server's own batches were timed (`measured_pace`)
        self._corrections: dict[str, float] = {}
        self._startups: dict[str, float] = {}  # an architecture whose runs start slower or faster
        self._lock = threading.Lock()

    def copy(self) -> Calibration:
        twin = Calibration(self.pace)
        with self._lock:
            twin.measured, twin._corrections, twin._startups = (
                self.measured,
                dict(self._corrections),
                dict(self._startups),
            )
        return twin

    def correction(self, config: TrainConfig) -> float:
        return self._corrections.get(config.architecture, 1.0)

    def startup(self, config: TrainConfig) -> float:
        return self._startups.get(config.architecture, self.pace.startup_seconds)

    def forecast(self, config: TrainConfig) -> float:
        """`estimate_seconds` at this server's pace, as corrected by its finished runs."""
        with self._lock:
            pace, correction, startup = self.pace, self.correction(config), self.startup(config)
        return estimate_seconds(config, pace, correction, startup)

    def measured_pace(self, config: TrainConfig, batch_s: float, startup_s: float) -> None:
        """What a measurement found for `config`'s architecture: a batch in `batch_s`, a start in
        `startup_s`; the later finished runs refine it."""
        with self._lock:
            forecast = seconds_per_batch(config, self.pace)
            low, high = self.LIMITS
            self._corrections[config.architecture] = min(max(batch_s / forecast, low), high)
            self._startups[config.architecture] = startup_s
            self.measured = True

    def record(self, config: TrainConfig, training_s: float) -> None:
        """A run of `config` trained for `training_s` (pauses left out): learn how much slower or faster
        than forecast its architecture's batches go here (a run's start is the pace's own)."""
        with self._lock:
            work = _work_seconds(config, self.pace)
            spent = training_s / config.members - self.startup(config)
            if work < self.MIN_WORK_S or spent <= 0:
                return  # a run of a few batches is mostly its start: it says little of the pace
            measured = spent / work
            before = self._corrections.get(config.architecture)
            after = measured if before is None else before * (1 - self.SMOOTHING) + measured * self.SMOOTHING
            self._corrections[config.architecture] = min(max(after, self.LIMITS[0]), self.LIMITS[1])


def long_run_warning(config: TrainConfig, seconds: float | None = None) -> str | None:
    """A warning for a run that would keep the class waiting (`seconds`: a forecast already made), or None."""
    seconds = estimate_seconds(config) if seconds is None else seconds
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
