"""How much the live-display machinery costs training: plain `model.fit` against the app's path.

For each batch size, the same config, data and seed are trained three ways, interleaved
and repeated so that machine noise hits all of them alike:
  plain     model.fit with no callbacks, in the main thread
  callback  model.fit with LiveProgress emitting every batch into a queue
  app       the app's path: fit + LiveProgress in a background thread, while the main thread
            drains the queue twice a second, as the Train page's fragment does
Only the `fit` call is timed. Prints medians and the ratios to plain (goal: at most 1.10).

    python bench/training_overhead.py [--batch-sizes 32,128,512] [--train-size 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import queue
import statistics
import threading
import time

from _common import machine

from digitlab.augment import make_dataset
from digitlab.config import TrainConfig
from digitlab.data import load_mnist
from digitlab.model import build_model, compile_model, normalization_params
from digitlab.training import encode_targets, split_data


def prepare(config, dataset):
    x_train, y_train, _, _ = split_data(config, dataset)
    model = build_model(config, normalization_params(x_train, config.normalization))
    compile_model(model, config)
    data = make_dataset(
        x_train, encode_targets(y_train, config), config.batch_size, config.seed, train=True, augment=False
    )
    return model, data


def fit_seconds(config, dataset, mode: str) -> float:
    from digitlab.callbacks import LiveProgress

    model, data = prepare(config, dataset)
    events = queue.SimpleQueue()
    callbacks = [] if mode == "plain" else [LiveProgress(events.put, batch_size=config.batch_size)]

    def fit():
        model.fit(data, epochs=config.epochs, verbose=0, shuffle=False, callbacks=callbacks)

    started = time.perf_counter()
    if mode == "app":
        worker = threading.Thread(target=fit)
        worker.start()
        while worker.is_alive():
            worker.join(0.5)
            while not events.empty():
                events.get_nowait()
    else:
        fit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-sizes", default="32,128,512")
    parser.add_argument("--train-size", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    dataset = load_mnist()
    print(f"machine: {machine()}")
    print(f"config: MLP 784-128-64-10, {args.train_size} images, {args.epochs} epoch(s), ", end="")
    print(f"median of {args.repeats} interleaved repeats")
    header = ("batch", "plain s", "callback s", "app s", "callback/plain", "app/plain")
    print(" ".join(f"{name:>{len(name) + 2}}" for name in header))
    worst = 0.0
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        config = TrainConfig(
            hidden_units=(128, 64),
            epochs=args.epochs,
            batch_size=batch_size,
            train_size=args.train_size,
            validation_split=0.0,
        )
        fit_seconds(config, dataset, "plain")  # warm-up: first graph build and data caches
        times = {"plain": [], "callback": [], "app": []}
        for _ in range(args.repeats):
            for mode in times:
                times[mode].append(fit_seconds(config, dataset, mode))
        med = {mode: statistics.median(values) for mode, values in times.items()}
        cb_ratio, app_ratio = med["callback"] / med["plain"], med["app"] / med["plain"]
        worst = max(worst, cb_ratio, app_ratio)
        print(
            f"{batch_size:>7} {med['plain']:9.2f} {med['callback']:12.2f} {med['app']:7.2f} "
            f"{cb_ratio:16.3f} {app_ratio:11.3f}"
        )
    print(f"worst ratio {worst:.3f} (goal ≤ 1.10): {'met' if worst <= 1.10 else 'NOT met'}")


if __name__ == "__main__":
    main()
