"""Does a drawing stay quick to read while the server trains? Predictions with and without training.

In one process, as on the server: one canvas-sized drawing read every `--every` seconds (the one
preprocessing path plus the three rotated views through the default model) while nothing trains,
then while `--runs` Quick-demo trainings (`--epochs` long) run in background threads, once with
training pausing between batches for predictions (`learn.classifier.PREDICTIONS`, the app's setting) and
once without.
Prints p50/p95 prediction latency for each case and how long the trainings took.

    python bench/predict_under_training.py [--runs 2] [--epochs 10] [--n 400] [--every 0.02]
"""

from __future__ import annotations

import argparse
import threading
import time

from _common import machine, percentiles
from predict_latency import canvas_images

from digitlab.config import PRESETS
from digitlab.data import load_mnist
from digitlab.learn.classifier import load_classifier
from digitlab.learn.training import train
from digitlab.reading import read_image


def read_while(classifier, images, every: float, busy) -> list[float]:
    """Milliseconds per reading, one every `every` seconds until `busy()` is false or the images run out."""
    samples = []
    for image in images:
        if not busy():
            break
        started = time.perf_counter()
        read_image(classifier, image)
        samples.append(1000 * (time.perf_counter() - started))
        time.sleep(every)
    return samples


def with_training(classifier, images, dataset, args, predictions_first: bool) -> tuple[list[float], float]:
    config = PRESETS["Quick demo"].replace(epochs=args.epochs)
    threads = [
        threading.Thread(
            target=train, args=(config, dataset), kwargs={"predictions_first": predictions_first}, daemon=True
        )
        for _ in range(args.runs)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(3)  # past model building and graph tracing: measure during the batches
    samples = read_while(classifier, images, args.every, lambda: any(t.is_alive() for t in threads))
    for thread in threads:
        thread.join(600)
    return samples, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="trainings at once (1-4)")
    parser.add_argument("--n", type=int, default=200, help="readings per case at most (10-2000)")
    parser.add_argument("--every", type=float, default=0.02, help="seconds between readings")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per Quick-demo run (1-50)")
    args = parser.parse_args()
    args.runs, args.n = min(max(args.runs, 1), 4), min(max(args.n, 10), 2000)
    args.epochs = min(max(args.epochs, 1), 50)

    classifier, dataset = load_classifier(), load_mnist()
    images = canvas_images(args.n)
    read_while(classifier, images[:5], 0, lambda: True)  # warm-up: traces the graph
    print(f"machine: {machine()}")
    idle = read_while(classifier, images, args.every, lambda: True)
    cases = [("no training", idle, None)]
    for predictions_first in (True, False):
        samples, seconds = with_training(classifier, images, dataset, args, predictions_first)
        priority = "predictions first" if predictions_first else "no priority"
        name = f"{args.runs} Quick-demo runs, {args.epochs} epochs, {priority}"
        cases.append((name, samples, seconds))
    for name, samples, seconds in cases:
        p = percentiles(samples)
        took = f", trainings done in {seconds:.1f} s" if seconds else ""
        print(f"{name:45s} n={len(samples):4d}  p50 {p['p50']:6.1f} ms  p95 {p['p95']:6.1f} ms{took}")


if __name__ == "__main__":
    main()
