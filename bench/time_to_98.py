"""Time to 98 %: how many seconds of training each preset needs to read 98.0 % of the test set right.

Each candidate preset trains through the app's own `training.train` (full training set, the preset's
batch size and validation split). A callback scores the 10,000 test images four times an epoch; the
clock stops while it scores, so the curve shows training seconds only (model building included).
Prints each preset's curve (seconds, test accuracy) and whether the fastest reached 98 % within 5 s
(issue 17's goal; it was 30 s before).
A run is cut at `--limit` training seconds, so the whole bench is bounded.

    python bench/time_to_98.py [--presets "Fast 98% (CNN)","Best MLP"] [--limit 45]
        [--config '{"architecture": "cnn", "epochs": 2}' ...]

`--config` adds a TrainConfig given as JSON (the preset's fields it leaves out take their defaults), to
compare a preset with another recipe in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import threading
import time

import keras
import numpy as np
from _common import machine, result_line

from digitlab.config import PRESETS, ConfigError, TrainConfig
from digitlab.data import load_mnist
from digitlab.learn.training import train

GOAL_ACCURACY, GOAL_SECONDS = 0.98, 5.0
CHECKS_PER_EPOCH = 4


class TestAccuracyCurve(keras.callbacks.Callback):
    """Scores the test set a few times an epoch; the time spent scoring is left off the clock."""

    def __init__(self, x_test, y_test, started: float, stop_event: threading.Event, limit: float):
        super().__init__()
        self.x_test, self.y_test = x_test, y_test
        self.started, self.paused = started, 0.0
        self.stop_event, self.limit = stop_event, limit
        self.points: list[tuple[float, float]] = []

    def set_params(self, params):
        super().set_params(params)
        self.every = max(1, (params.get("steps") or 1) // CHECKS_PER_EPOCH)

    def training_seconds(self) -> float:
        return time.perf_counter() - self.started - self.paused

    def score(self) -> None:
        seconds = self.training_seconds()
        scoring = time.perf_counter()
        chunks = range(0, len(self.x_test), 2000)
        outputs = np.concatenate([self.model(self.x_test[i : i + 2000], training=False) for i in chunks])
        accuracy = float(np.mean(np.argmax(outputs, axis=1) == self.y_test))
        self.points.append((seconds, accuracy))
        self.paused += time.perf_counter() - scoring
        if seconds > self.limit or accuracy >= GOAL_ACCURACY:
            self.stop_event.set()  # the curve has answered the question
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        if (batch + 1) % self.every == 0:
            self.score()


def time_to_goal(points) -> float | None:
    return next((seconds for seconds, accuracy in points if accuracy >= GOAL_ACCURACY), None)


def run_preset(name: str, dataset, limit: float, config: TrainConfig | None = None) -> float | None:
    config = config or PRESETS[name]
    stop_event = threading.Event()
    curve = TestAccuracyCurve(
        dataset.x_test.astype(np.float32), dataset.y_test, time.perf_counter(), stop_event, limit
    )
    train(config, dataset, stop_event=stop_event, extra_callbacks=[curve], evaluate_test=False)
    print(f"\n{name}: {config.label}, batch {config.batch_size}, {config.epochs} epochs max")
    print(f"{'seconds':>9} {'test accuracy':>14}")
    for seconds, accuracy in curve.points:
        print(f"{seconds:9.1f} {accuracy:14.2%}")
    reached = time_to_goal(curve.points)
    print(f"98% reached after {reached:.1f} s" if reached is not None else "98% not reached")
    return reached


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    full_size = [name for name, config in PRESETS.items() if config.train_size == 60_000]
    parser.add_argument("--presets", default=",".join(full_size), help="comma-separated preset names")
    parser.add_argument("--limit", type=float, default=45.0, help="training seconds per preset at most")
    parser.add_argument("--config", action="append", default=[], help="another recipe, as TrainConfig JSON")
    args = parser.parse_args()
    try:
        others = {f"--config {text}": TrainConfig.from_json(text) for text in args.config}
    except (ConfigError, ValueError) as error:
        parser.error(f"--config: {error}")

    dataset = load_mnist()
    print(f"machine: {machine()}")
    times = {}
    for name in args.presets.split(","):
        if name not in PRESETS:
            parser.error(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
        times[name] = run_preset(name, dataset, args.limit)
    for name, config in others.items():
        seconds = run_preset(name, dataset, args.limit, config)
        print(
            f"for comparison, {name} reached 98% after "
            + (f"{seconds:.1f} s" if seconds else "more than the limit")
        )
    reached = {name: seconds for name, seconds in times.items() if seconds is not None}  # presets only
    if not reached:
        print(result_line("time to 98% test accuracy", "not reached", f"≤ {GOAL_SECONDS:.0f} s", False))
        return
    fastest = min(reached, key=reached.get)
    figure = f"{reached[fastest]:.1f} s ({fastest})"
    print(
        result_line(
            "time to 98% test accuracy", figure, f"≤ {GOAL_SECONDS:.0f} s", reached[fastest] <= GOAL_SECONDS
        )
    )


if __name__ == "__main__":
    main()
