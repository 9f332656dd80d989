"""Does the reading say when a drawing is not a digit? Scribbles through the canvas path, and the cost.

Non-digit scribbles (tests/scribbles.py: dashes, "+", "×", the letters A, H and W, spirals, hatching,
each at random sizes, places and brushes) are rendered like the canvas and read by `reading.read_image`
with the model's `familiarity.judge`, as Draw reads them. Prints the share flagged per kind and what the
network picks for them, that circles still read 0 unflagged, and the accuracy on MNIST's test digits and
on the benchmark labs' drawings (`pen.benchmark_images`, the canvas path) when every flagged image counts
as wrong. Then the same figures for the alternatives, each with its threshold at the same quantile of
held-out known digits: max-softmax, energy (first network), either distance of `familiarity` alone.

    python bench/not_a_digit.py                                  # the default model
    python bench/not_a_digit.py --model assets/models/best_mlp.keras --mnist 2000 --per-kind 20
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import machine, percentiles, result_line

from digitlab import pen, reading
from digitlab.data import load_mnist
from digitlab.learn import familiarity
from digitlab.learn.model import members_of
from tests.scribbles import KINDS, NOT_DIGITS, scribbles


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="a .keras model file, or 'default'")
    parser.add_argument("--per-kind", type=int, default=40, help="scribbles of each kind")
    parser.add_argument("--mnist", type=int, default=5000, help="MNIST test digits to read (1-10000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the scribbles")
    return parser.parse_args(argv)


def energy(classifier, hidden: np.ndarray) -> np.ndarray:
    """-logsumexp of the first network's scores before softmax: lower for what it knows."""
    network = members_of(classifier.model)[0]
    weights, bias = (
        np.asarray(w)
        for w in [layer for layer in network.layers if type(layer).__name__ == "Dense"][-1].get_weights()
    )
    logits = hidden[:, : len(weights)] @ weights + bias
    top = logits.max(axis=1)
    return -(top + np.log(np.exp(logits - top[:, None]).sum(axis=1)))


def scores(classifier, fitted, images: np.ndarray) -> dict[str, np.ndarray]:
    """Every detector's score (higher: less like a digit) and the digit read, for preprocessed images."""
    hidden = familiarity.features(classifier, images)
    distances = fitted.distances(hidden, images) / np.asarray(fitted.thresholds)
    probabilities = reading.predict_many(classifier, images)
    return {
        "hidden + pixels + shape (chosen)": distances.max(axis=1),
        "hidden + pixels": distances[:, :2].max(axis=1),
        "hidden layer alone": distances[:, 0],
        "pixels alone": distances[:, 1],
        "shape alone": distances[:, 2],
        "max-softmax": -probabilities.max(axis=1),
        "energy": energy(classifier, hidden),
        "digit": probabilities.argmax(axis=1),
    }


def main(argv=None) -> None:
    args = parse_args(argv)
    from digitlab.learn.classifier import load_classifier

    classifier = load_classifier(None if args.model == "default" else args.model)
    print(f"machine: {machine()}\nmodel: {classifier.name}")
    start = time.perf_counter()
    fitted = familiarity.familiarity_for(classifier)
    print(
        f"fit on {len(fitted.references)} known digits, once per model: {time.perf_counter() - start:.1f} s"
    )
    held = scores(classifier, fitted, familiarity.known_digits()[2])
    judge = familiarity.judge(classifier)

    drawn = {kind: scribbles(kind, args.per_kind, args.seed) for kind in KINDS}
    readings = {
        kind: [reading.read_image(classifier, c, judge=judge) for c in canvases]
        for kind, canvases in drawn.items()
    }
    print(
        f"\n{'scribble':<10} flagged  read as (counts)        [{args.per_kind} of each, through read_image]"
    )
    for kind, found in readings.items():
        flagged = np.mean([not r.looks_like_a_digit for r in found])
        counts = np.bincount([r.digit for r in found], minlength=10)
        picks = ", ".join(f"{d}×{n}" for d, n in sorted(enumerate(counts), key=lambda x: -x[1]) if n)[:40]
        print(f"{kind:<10} {flagged:6.0%}   {picks}")
    not_digits = np.mean([not r.looks_like_a_digit for k in NOT_DIGITS for r in readings[k]])
    circles = readings["circle"]
    print(result_line("non-digit scribbles flagged", f"{not_digits:.0%}"))
    circles_ok = all(r.digit == 0 and r.looks_like_a_digit for r in circles)
    print(
        result_line(
            "circles read 0, unflagged",
            f"{np.mean([r.digit == 0 and r.looks_like_a_digit for r in circles]):.0%}",
            "100 %",
            circles_ok,
        )
    )

    mnist = load_mnist()
    sets = {
        f"MNIST test[:{args.mnist}]": (mnist.x_test[: args.mnist], mnist.y_test[: args.mnist]),
        "benchmark labs (canvas)": (pen.benchmark_images().images, pen.benchmark_images().labels),
    }
    known = {name: (scores(classifier, fitted, images), labels) for name, (images, labels) in sets.items()}
    scribble_images = {k: np.stack([r.steps.centred for r in found]) for k, found in readings.items()}
    made = {k: scores(classifier, fitted, images) for k, images in scribble_images.items()}
    print(
        f"\neach detector, threshold at the {familiarity.QUANTILE:.1%} quantile of "
        f"{len(held['energy'])} held-out known digits"
    )
    print(f"{'detector':<25} {'not digits':>10} {'circles':>8}   accuracy, flagged counted wrong (change)")
    for name in [k for k in held if k != "digit"]:
        threshold = (
            np.quantile(held[name], familiarity.QUANTILE)
            if "chosen" not in name and "alone" not in name
            else 1.0
        )
        flagged = np.mean([(made[k][name] > threshold).mean() for k in NOT_DIGITS])
        circle = (made["circle"][name] > threshold).mean()
        parts = []
        for set_name, (found, labels) in known.items():
            right = found["digit"] == labels
            kept = right & (found[name] <= threshold)
            parts.append(
                f"{set_name} {right.mean():.2%} → {kept.mean():.2%} "
                f"({100 * (kept.mean() - right.mean()):+.2f})"
            )
        print(f"{name:<25} {flagged:10.0%} {circle:8.0%}   " + "   ".join(parts))

    canvas = drawn["dash"][0]
    for label, given in (("read_image alone", None), ("read_image + judge", judge), ("judge alone", None)):
        call = (
            (lambda: judge(scribble_images["dash"][0]))
            if label == "judge alone"
            else (lambda given=given: reading.read_image(classifier, canvas, judge=given))
        )
        call()
        times = []
        for _ in range(40):
            start = time.perf_counter()
            call()
            times.append(1000 * (time.perf_counter() - start))
        cost = percentiles(times)
        print(f"{label:<20} per drawing: median {cost['p50']:.1f} ms, p95 {cost['p95']:.1f} ms")


if __name__ == "__main__":
    main()
