"""What the app's training path costs against the fastest plain Keras fit of the same network.

The anchor is what a Keras user would write: the same model, compiled the same way, `model.fit` on
float32 arrays already in memory, the same batch size, no callbacks, with `steps_per_execution`
chosen by measurement (the faster of 1 and 16, per batch size, in this very run). Against it, the app's
whole path: a `classroom.runs.TrainingRun` in a background thread, with a training slot, the live
events, the pause/stop control, the predictions-first wait and the learning-rate callback, its
tf.data input pipeline from uint8 images, while the main thread does what the Train page's fragment
does every 0.4 s (drain the events, draw both live SVG charts).

Every run trains long enough (default: 6 epochs of all 60,000 images, over 5 s) that noise is small;
the modes are interleaved, run after run, `--repeats` times. Timed: build, compile and fit, the same
span in every mode (the app's run reports it as its training seconds; its test evaluation afterwards
is not counted). Prints, per batch size, each mode's median and spread (min-max) and the ratio of
medians, app / best plain; the RESULT line states the worst of those ratios, as the table does.

    python bench/training_overhead.py [--batch-sizes 32,128,512] [--epochs 6] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import machine, result_line

from digitlab import curve_charts, live_charts
from digitlab.classroom.runs import TrainingRun
from digitlab.classroom.slots import TrainingSlots
from digitlab.config import TrainConfig
from digitlab.data import load_mnist
from digitlab.learn.training import train

PAGE_REFRESH_S = 0.4  # the Train page's st.fragment(run_every=0.4)
GOAL = 1.15


def plain_seconds(config: TrainConfig, x: np.ndarray, y: np.ndarray, steps_per_execution: int) -> float:
    """Build, compile and `model.fit` on float32 arrays: what a Keras tutorial does, nothing else."""
    import keras

    from digitlab.learn.model import build_model, make_loss, make_optimizer, normalization_params

    started = time.perf_counter()
    model = build_model(config, normalization_params(x[:1000], config.normalization))
    model.compile(
        optimizer=make_optimizer(config),
        loss=make_loss(config),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        steps_per_execution=steps_per_execution,
    )
    model.fit(x, y, batch_size=config.batch_size, epochs=config.epochs, verbose=0, shuffle=True)
    return time.perf_counter() - started


def draw_page(run: TrainingRun) -> None:
    """One fragment refresh while a run trains: new events in, both live pictures out."""
    run.drain_events()
    for metric in curve_charts.METRICS:
        live_charts.live_curves_svg(run.batch_events, run.epoch_events, metric, run.config.epochs)


def app_seconds(config: TrainConfig, dataset) -> float:
    run = TrainingRun(config, dataset, train=train, slots=TrainingSlots(1))
    run.start()
    while not run.done:
        run.join(PAGE_REFRESH_S)
        draw_page(run)
    if run.result is None:
        raise RuntimeError(f"training failed: {run.error}")
    return run.result.seconds


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def measure(config: TrainConfig, dataset, repeats: int) -> dict[str, list[float]]:
    x = dataset.x_train[: config.train_size].astype(np.float32)
    y = dataset.y_train[: config.train_size].astype(np.int32)
    modes = {
        "plain, steps_per_execution 1": lambda: plain_seconds(config, x, y, 1),
        "plain, steps_per_execution 16": lambda: plain_seconds(config, x, y, 16),
        "app": lambda: app_seconds(config, dataset),
    }
    short = config.replace(epochs=1)  # warm-up, not timed: TensorFlow's first start and the data caches
    plain_seconds(short, x, y, 1)
    app_seconds(short, dataset)
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(repeats):
        for mode, run in modes.items():
            times[mode].append(run())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-sizes", default="32,128,512")
    parser.add_argument("--train-size", type=int, default=60_000)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    dataset = load_mnist()
    print(f"machine: {machine()}")
    print(
        f"MLP 784-128-64-10, {args.train_size:,} images, {args.epochs} epochs, {args.repeats} interleaved "
        "repeats; seconds as median (min-max)"
    )
    worst = 0.0
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        config = TrainConfig(
            hidden_units=(128, 64),
            epochs=args.epochs,
            batch_size=batch_size,
            train_size=args.train_size,
            validation_split=0.0,
        )
        times = measure(config, dataset, args.repeats)
        medians = {mode: statistics.median(values) for mode, values in times.items()}
        best_plain = min(medians[mode] for mode in medians if mode.startswith("plain"))
        ratio = medians["app"] / best_plain
        worst = max(worst, ratio)
        print(f"batch {batch_size}:")
        for mode, values in times.items():
            print(f"  {mode:32s} {spread(values)} s")
        print(f"  app / fastest plain (medians)    {ratio:.3f}×")
    figure = f"{worst:.3f}× at worst (medians of {args.repeats}, batch {args.batch_sizes})"
    print(result_line("training: app path / fastest plain Keras fit", figure, f"≤ {GOAL}×", worst <= GOAL))


if __name__ == "__main__":
    main()
