"""Stroke-to-prediction latency on the server: preprocessing plus one model call.

Canvas-sized inputs (MNIST test digits blown up to 280×280 RGBA, as the Draw page
sends them) go one at a time through the one preprocessing function and the
classifier, as the Draw page reads them (`reading.predict_views`: one batch of the
drawing and its slightly rotated views). Prints p50/p95/p99 in milliseconds for each part and, side by side,
the same single-image prediction through Keras `model.predict`, which the app avoids.
Goals: prediction ≤ 5 ms per image; preprocess + predict ≤ 5 ms p50 and ≤ 20 ms p99.

    python bench/predict_latency.py [--model PATH|default] [--n 300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import machine, percentiles, result_line
from PIL import Image

from digitlab.data import load_mnist
from digitlab.learn.classifier import load_classifier
from digitlab.preprocess import canvas_to_input
from digitlab.reading import predict_views


def canvas_images(n: int, seed: int = 0) -> list[Image.Image]:
    digits = load_mnist().x_test
    picks = np.random.default_rng(seed).choice(len(digits), n, replace=False)
    images = []
    for i in picks:
        grey = Image.fromarray(digits[i]).resize((280, 280), Image.BILINEAR)
        rgba = Image.merge("RGBA", (grey, grey, grey, Image.new("L", (280, 280), 255)))
        images.append(rgba)
    return images


def timed_ms(fn, *args) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn(*args)
    return (time.perf_counter() - started) * 1000, value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="default")
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()

    classifier = load_classifier(args.model)
    images = canvas_images(args.n)
    for image in images[:5]:  # warm-up: first calls build the graph
        predict_views(classifier, canvas_to_input(image))
        classifier.model.predict(canvas_to_input(image)[None].astype(np.float32), verbose=0)

    prep, direct, total, keras_predict = [], [], [], []
    for image in images:
        ms_prep, x = timed_ms(canvas_to_input, image)
        ms_direct, _ = timed_ms(predict_views, classifier, x)
        ms_keras, _ = timed_ms(lambda x: classifier.model.predict(x[None].astype(np.float32), verbose=0), x)
        prep.append(ms_prep)
        direct.append(ms_direct)
        total.append(ms_prep + ms_direct)
        keras_predict.append(ms_keras)

    print(f"machine: {machine()}")
    print(f"model: {classifier.name}   {args.n} single drawings")
    print(f"{'part':<34} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    rows = [
        ("preprocess (canvas_to_input)", prep),
        ("predict (views, direct model call)", direct),
        ("stroke to prediction (both)", total),
        ("baseline: keras model.predict", keras_predict),
    ]
    for name, samples in rows:
        p = percentiles(samples)
        print(f"{name:<34} {p['p50']:8.2f} {p['p95']:8.2f} {p['p99']:8.2f}")
    p_direct, p_total = percentiles(direct), percentiles(total)
    speedup = percentiles(keras_predict)["p50"] / p_direct["p50"]
    print(f"model.predict / direct call at p50: {speedup:.1f}×")
    print(result_line("server: predict p50", f"{p_direct['p50']:.2f} ms", "≤ 5 ms", p_direct["p50"] <= 5))
    print(
        result_line(
            "server: preprocess+predict p50", f"{p_total['p50']:.2f} ms", "≤ 5 ms", p_total["p50"] <= 5
        )
    )
    print(
        result_line(
            "server: preprocess+predict p99", f"{p_total['p99']:.2f} ms", "≤ 20 ms", p_total["p99"] <= 20
        )
    )


if __name__ == "__main__":
    main()
