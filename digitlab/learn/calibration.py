"""How fast this server trains, measured: the Train page's forecast starts from it (`estimate.Calibration`).

For each architecture, one run through the app's own training path (`learn.training.train`, nothing
scored after): the tutorial MLP for 800 batches of 32, the Fast 98% preset's CNN for 48 batches of 128.
A batch's time is read inside the run, from its live events: the median pace of its executions in the
second half, once tracing and the sizing of executions are over. What is left of the run's time is its
start. Two runs of different lengths, subtracted, gave the same figures but with every start's noise in
the batch's time (`bench/forecast.py --quick` read 2.06× off). A first, tiny run is left out: the
process's first training traces more than any later one. About 5 seconds on two cores (5.2 s in
`bench/forecast.py` with the 8-filter preset), once per server, in the background
(`app.resources.calibrate_in_the_background`); every run that finishes on the server then corrects
the forecast further (`Calibration.record`).
"""

from __future__ import annotations

import itertools
import statistics

from digitlab import estimate
from digitlab.config import PRESETS, TrainConfig
from digitlab.data import Dataset

WARM_UP = TrainConfig(hidden_units=(32,), batch_size=128, train_size=1_024, epochs=1, validation_split=0.0)
# Each architecture as a class first trains it, one epoch of BATCHES batches.
MLP = PRESETS["Tutorial 784-128-64-10"].replace(epochs=1, validation_split=0.0, data="mnist")
CNN = PRESETS["Fast 98% (CNN)"].replace(epochs=1, validation_split=0.0, data="mnist")
BATCHES = {"mlp": 800, "cnn": 48}


def training_seconds(config: TrainConfig, dataset: Dataset, emit=lambda event: None) -> float:
    from digitlab.learn.training import train

    result = train(
        config, dataset, emit=emit, evaluate_test=False, evaluate_pen=False, predictions_first=False
    )
    return result.seconds


def batch_seconds(events: list[dict]) -> float | None:
    """A batch's time from a run's batch events (`step`, `elapsed`): the median over the executions of
    its second half; None with fewer than two of them."""
    later = [e for e in events if e["step"] > events[-1]["step"] / 2] if events else []
    paces = [
        (after["elapsed"] - before["elapsed"]) / (after["step"] - before["step"])
        for before, after in itertools.pairwise(later)
        if after["step"] > before["step"]
    ]
    return statistics.median(paces) if paces else None


def batch_and_startup(config: TrainConfig, dataset: Dataset) -> tuple[float, float]:
    """Seconds per batch and to start, from one run of BATCHES batches of `config`."""
    batches = BATCHES[config.architecture]
    events = []
    seconds = training_seconds(
        config.replace(train_size=batches * config.batch_size),
        dataset,
        emit=lambda event: events.append(event) if event.get("kind") == "batch" else None,
    )
    batch = batch_seconds(events) or seconds / batches
    return max(batch, 1e-5), max(seconds - batches * batch, 0.1)


def calibrate(calibration: estimate.Calibration, dataset: Dataset, go_on=lambda: True) -> None:
    """Time each architecture's batches and start on this server, into `calibration`; between two
    architectures, stop as soon as `go_on()` is false (a student's run waits for the slot)."""
    training_seconds(WARM_UP, dataset)
    for config in (MLP, CNN):
        if not go_on():
            return
        calibration.measured_pace(config, *batch_and_startup(config, dataset))
