"""Choosing how the model learns from pen-drawn digits without looking at the benchmark labs.

The benchmark labs (ibm, ced, tos, uqb, imp) may only measure, never decide. So a choice about the pen
training data is made here, by leave-labs-out validation inside the training labs: some training labs
(`--held`, by default apb, val and aga: 3,900 digits) are held out, the shipped model's recipe learns
from MNIST plus the others, and the held-out labs, rendered like the benchmark set, say how well it
reads writers and tablets it never saw. Each arm changes one thing; they run one after another on
the same split and seed.

    python bench/leave_labs_out.py                            # resampled strokes: 0 vs 50 % of renders
    python bench/leave_labs_out.py --epochs 15 --resampled 0  # the recipe as shipped, one arm

About 4 minutes an arm on 2 cores at the default 6 epochs (the shipped model trains 15).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from _common import machine, result_line

from digitlab import pen, strokes
from digitlab.config import DEFAULT_MODEL_CONFIG
from digitlab.data import load_mnist


def arm(resampled: float, held: set[str], epochs: int, seed: int, dataset) -> dict:
    import digitlab.learn.training as training

    samples = strokes.load_pen_digits("training")
    learn_from = [s for s in samples if s.source not in held]
    held_out = pen.render_benchmark([s for s in samples if s.source in held])
    started = time.perf_counter()
    renders = pen.render_training(learn_from, pen.TRAINING_VARIANTS, seed, resampled=resampled)
    # The training path reads the pen renders from `training_images`; this arm's split replaces them.
    training.training_images = lambda: renders
    config = DEFAULT_MODEL_CONFIG.replace(epochs=epochs, members=1)
    result = training.train(config, dataset, evaluate_pen=False)
    read = np.argmax(result.classifier.predict_proba(held_out.images), axis=1)
    right = read == held_out.labels
    return {
        "resampled": resampled,
        "held_out_accuracy": float(right.mean()),
        "by_lab": {lab: float(right[held_out.sources == lab].mean()) for lab in sorted(held)},
        "mnist_test_accuracy": result.evaluation.accuracy,
        "held_out_digits": len(right),
        "seconds": round(time.perf_counter() - started),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held", default="apb,val,aga", help="training labs to hold out, comma-separated")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--resampled", default="0,0.5", help="shares of renders drawn from resampled strokes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    held = set(args.held.split(","))
    unknown = held - {s.source for s in strokes.load_pen_digits("training")}
    if unknown:
        parser.error(f"not training labs: {', '.join(sorted(unknown))}")
    print(
        f"# leave-labs-out validation on {machine()}: "
        f"held out {', '.join(sorted(held))}, {args.epochs} epochs"
    )
    dataset = load_mnist()
    rows = [arm(float(share), held, args.epochs, args.seed, dataset) for share in args.resampled.split(",")]
    for row in rows:
        print(json.dumps(row))
    for row in rows:
        figure = f"held-out training labs, resampled {row['resampled']:.0%}"
        value = f"{row['held_out_accuracy']:.2%} of {row['held_out_digits']:,} digits"
        print(result_line(figure, f"{value}; MNIST test {row['mnist_test_accuracy']:.2%}"))


if __name__ == "__main__":
    main()
