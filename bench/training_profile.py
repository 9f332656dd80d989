"""Where a training run's time goes, part by part: what `bench/training_overhead.py` adds up.

MLP 784-128-64-10 (or `--config`, a TrainConfig as JSON: a CNN, say) on `--train-size` images, batch
`--batch-size`, each figure the median of `--repeats`:
  pipeline     reading one epoch of `EpochBatches` alone (gather, cast), no training
  fit call     one `model.fit` call over a single batch: what each segment of a run pays to start
  per batch    one epoch through `model.fit` at each of `--per-execution` batches per execution
               (1 and 16 unless told), per batch
  the app      one epoch of the app's own `fit` (pace, events, control), per batch

    python bench/training_profile.py [--batch-size 128] [--repeats 3] [--train-size 60000]
        [--config '{"architecture": "cnn", "filters": 16, "hidden_units": [128]}'] [--per-execution 1,2,4,16]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import machine

from digitlab.config import ConfigError, TrainConfig
from digitlab.data import load_mnist
from digitlab.learn.fit import fit, steps_per_execution_for, training_batches
from digitlab.learn.model import build_model, compile_model, normalization_params


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=60_000)
    parser.add_argument("--config", default='{"hidden_units": [128, 64]}', help="a TrainConfig as JSON")
    parser.add_argument("--per-execution", default="1,16", help="batches per execution to time: 1,16")
    args = parser.parse_args()
    try:
        paces = [int(each) for each in args.per_execution.split(",")]
    except ValueError:
        parser.error("--per-execution: whole numbers, comma-separated, such as 1,4,16")
    if not paces or min(paces) < 1:
        parser.error("--per-execution: each count is at least 1")
    try:
        config = TrainConfig.from_json(args.config).replace(batch_size=args.batch_size, validation_split=0.0)
    except (ConfigError, ValueError) as error:
        parser.error(f"--config: {error}")
    dataset = load_mnist()
    x, y = dataset.x_train[: args.train_size], dataset.y_train[: args.train_size]
    norm = normalization_params(x, config.normalization)
    data = training_batches(x, y, config, args.batch_size, 0, False)
    steps = data.steps_per_epoch

    def model(steps_per_execution: int = 1):
        network = build_model(config, norm)
        compile_model(network, config)
        network.steps_per_execution = steps_per_execution
        network.fit(data.epoch(0, steps - 2), verbose=0)  # traced: the figures below leave tracing out
        return network

    figures: dict[str, list[float]] = {}

    def note(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    for repeat in range(args.repeats):
        note("pipeline, s per epoch", timed(lambda r=repeat: sum(1 for _ in data.epoch(r))))
        network = model()
        note(
            "one model.fit call over one batch, s",
            timed(lambda n=network: n.fit(data.epoch(1, steps - 1), epochs=2, initial_epoch=1, verbose=0)),
        )
        for per_execution in paces:
            network = model(per_execution)
            seconds = timed(lambda n=network, r=repeat: n.fit(data.epoch(r), verbose=0))
            note(f"model.fit, {per_execution} per execution, ms per batch", 1000 * seconds / steps)
        network = model()
        pace = steps_per_execution_for(config, steps)
        seconds = timed(
            lambda n=network, p=pace: fit(n, data, epochs=1, emit=lambda e: None, steps_per_execution=p)
        )
        note(f"the app's fit (pace {pace}), ms per batch", 1000 * seconds / steps)
    print(f"machine: {machine()}; {config.label}, batch {args.batch_size}, {steps} batches an epoch")
    for name, values in figures.items():
        print(f"  {name:48s} {statistics.median(values):8.3f}  (of {', '.join(f'{v:.3f}' for v in values)})")


if __name__ == "__main__":
    main()
