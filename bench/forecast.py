"""The Train page's time forecast against real runs, before and after calibrating it on this machine.

A class trusts "Takes about 35 s" only if it is about right. This trains each configuration below
through the app's own path (`learn.training.train`, the Train page's live events left out, scored on
MNIST's test set and the pen-drawn digits after, as the page does), times it whole, and prints
its forecast three ways: the built-in pace (`estimate.DEFAULT_PACE`), each architecture's pace measured
at start-up by `learn.calibration.calibrate` (one short run each, as the server does once), and that
corrected by the runs trained before it in this process (`estimate.Calibration.record`, as the server
does after each run).

    python bench/forecast.py            # the presets a class starts from, shortened where long
    python bench/forecast.py --quick    # three short runs

Goal: every calibrated forecast within 1.5× of the measured time (issue 13: 10-14× before).
"""

from __future__ import annotations

import argparse
import time

from _common import machine, result_line

from digitlab import config, estimate
from digitlab.data import load_mnist

RUNS = [
    ("Quick demo", config.PRESETS["Quick demo"]),
    ("Tutorial 784-128-64-10", config.PRESETS["Tutorial 784-128-64-10"]),
    ("Best MLP, 3 epochs", config.PRESETS["Best MLP"].replace(epochs=3)),
    ("Fast 98% (CNN), 10,000 images", config.PRESETS["Fast 98% (CNN)"].replace(train_size=10_000)),
    (
        "Tutorial MLP, 2 networks, 20,000",
        config.PRESETS["Tutorial 784-128-64-10"].replace(train_size=20_000, members=2),
    ),
]
QUICK = [RUNS[0], ("Tutorial, 20,000 images", RUNS[1][1].replace(train_size=20_000)), RUNS[3]]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="three short runs")
    args = parser.parse_args()
    from digitlab.learn.calibration import CNN, MLP, calibrate
    from digitlab.learn.training import train

    dataset = load_mnist()
    print(machine())
    started = time.perf_counter()
    at_startup = estimate.Calibration()
    calibrate(at_startup, dataset)
    calibration = at_startup.copy()  # this one learns from the runs below too
    found = ", ".join(
        f"{config.architecture}: batches ×{at_startup.correction(config):.2f} the built-in pace, "
        f"{at_startup.startup(config):.1f} s to start"
        for config in (MLP, CNN)
    )
    print(f"built-in pace: {at_startup.pace}")
    print(f"start-up measurement, {time.perf_counter() - started:.1f} s: {found}")
    rows, worst = [], 1.0
    for name, run_config in QUICK if args.quick else RUNS:
        built_in = estimate.estimate_seconds(run_config)
        measured_pace = at_startup.forecast(run_config)
        calibrated = calibration.forecast(run_config)
        started = time.perf_counter()
        result = train(run_config, dataset, predictions_first=False)  # scored on both test sets, as the app
        actual = time.perf_counter() - started
        calibration.record(run_config, result.seconds)
        ratio = max(calibrated / actual, actual / calibrated)
        worst = max(worst, ratio)
        rows.append((name, actual, built_in, measured_pace, calibrated, ratio))
    print(f"{'run':34s} {'measured':>9s} {'built-in':>9s} {'start-up':>9s} {'+ runs':>9s} {'off by':>7s}")
    for name, actual, built_in, measured_pace, calibrated, ratio in rows:
        figures = f"{actual:8.1f}s {built_in:8.1f}s {measured_pace:8.1f}s {calibrated:8.1f}s {ratio:6.2f}×"
        print(f"{name:34s} {figures}")
    print(
        result_line(
            "time forecast, calibrated on this machine",
            f"worst {worst:.2f}× off over {len(rows)} runs (built-in pace: "
            f"{max(max(r[2] / r[1], r[1] / r[2]) for r in rows):.2f}×)",
            "within 1.5× each",
            worst <= 1.5,
        )
    )


if __name__ == "__main__":
    main()
