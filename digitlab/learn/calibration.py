"""How fast this server trains, measured: the Train page's forecast starts from it (`estimate.Calibration`).

For each architecture, a short and a longer run through the app's own training path
(`learn.training.train`, nothing scored after): the tutorial MLP for 200 and 600 batches of 32, the
CNN for 8 and 40 batches of 128. Their difference is a batch's time here, and what is left of the short
one a run's start. A first, tiny run is left out: the process's first training traces more than any
later one. About 8 seconds on two cores, once per server, in the background
(`app.resources.calibrate_in_the_background`); every run that finishes on the server then corrects the
forecast further (`Calibration.record`).
"""

from __future__ import annotations

from digitlab import estimate
from digitlab.config import PRESETS, TrainConfig
from digitlab.data import Dataset

WARM_UP = TrainConfig(hidden_units=(32,), batch_size=128, train_size=1_024, epochs=1, validation_split=0.0)
# Each architecture as a class first trains it, timed over a few and then many batches.
MLP = PRESETS["Tutorial 784-128-64-10"].replace(epochs=1, validation_split=0.0)
CNN = TrainConfig(architecture="cnn", hidden_units=(128,), batch_size=128, epochs=1, validation_split=0.0)
# Both past the loop's first timed executions (`learn.fit`), which may re-size them and trace again.
BATCHES = {"mlp": (200, 600), "cnn": (8, 40)}


def training_seconds(config: TrainConfig, dataset: Dataset) -> float:
    from digitlab.learn.training import train

    result = train(config, dataset, evaluate_test=False, evaluate_pen=False, predictions_first=False)
    return result.seconds


def batch_and_startup(config: TrainConfig, dataset: Dataset) -> tuple[float, float]:
    """Seconds per batch and to start, from a short and a longer run of `config`."""
    few, many = BATCHES[config.architecture]
    short = training_seconds(config.replace(train_size=few * config.batch_size), dataset)
    long = training_seconds(config.replace(train_size=many * config.batch_size), dataset)
    batch = max((long - short) / (many - few), 1e-5)
    return batch, max(short - few * batch, 0.1)


def calibrate(calibration: estimate.Calibration, dataset: Dataset, go_on=lambda: True) -> None:
    """Time each architecture's batches and start on this server, into `calibration`; between two
    architectures, stop as soon as `go_on()` is false (a student's run waits for the slot)."""
    training_seconds(WARM_UP, dataset)
    for config in (MLP, CNN):
        if not go_on():
            return
        calibration.measured_pace(config, *batch_and_startup(config, dataset))
