"""Latency of the Draw page's "look inside" views beside the plain prediction, one drawing at a time.

MNIST test digits go one by one through: the page's prediction (`reading.predict_views`, three tilted
views in one batch), one plain `predict_proba` call, and `inside.look_inside` (activations of every
hidden layer plus the saliency gradient, one compiled graph), then the figures each view draws.
Prints p50/p95/p99 in milliseconds. The page recomputes the open view after every stroke.

    python bench/inside_latency.py [--model PATH|default] [--n 300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import machine, percentiles

from digitlab import image_charts, inside_charts
from digitlab.data import load_mnist
from digitlab.learn import inside
from digitlab.learn.classifier import load_classifier
from digitlab.reading import predict_views


def timed_ms(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def layer_figures(view: inside.InsideView) -> list:
    return [
        inside_charts.feature_maps(layer.values)
        if layer.kind == "conv"
        else inside_charts.units_grid(layer.values)
        for layer in view.layers
    ]


def weights_figure(classifier):
    kind, weights = inside.first_layer_weights(classifier)
    return image_charts.weights_grid(weights) if kind == "dense" else inside_charts.filters_grid(weights)


def saliency_image(classifier, image):
    view = inside.look_inside(classifier, image)
    return inside.saliency_overlay(image, inside.saliency(view, image), side=224)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="default")
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()

    classifier = load_classifier(args.model)
    digits = load_mnist().x_test
    images = digits[np.random.default_rng(0).choice(len(digits), args.n, replace=False)]
    started = time.perf_counter()
    inside.look_inside(classifier, images[0])
    first_ms = (time.perf_counter() - started) * 1000
    for image in images[:5]:  # warm-up: the first calls trace the graphs
        predict_views(classifier, image)
        classifier.predict_proba(image)
        inside.look_inside(classifier, image)

    rows = {
        "prediction (predict_views, page)": [],
        "one image (predict_proba)": [],
        "look_inside (layers + gradient)": [],
        "+ hidden-layer figures": [],
        "saliency view (look_inside+image)": [],
        "weights figure": [],
    }
    for image in images:
        rows["prediction (predict_views, page)"].append(timed_ms(predict_views, classifier, image))
        rows["one image (predict_proba)"].append(timed_ms(classifier.predict_proba, image))
        rows["look_inside (layers + gradient)"].append(timed_ms(inside.look_inside, classifier, image))
        rows["+ hidden-layer figures"].append(
            timed_ms(lambda x: layer_figures(inside.look_inside(classifier, x)), image)
        )
        rows["saliency view (look_inside+image)"].append(timed_ms(saliency_image, classifier, image))
        rows["weights figure"].append(timed_ms(weights_figure, classifier))

    print(f"machine: {machine()}")
    print(
        f"model: {classifier.name}   {args.n} single drawings   first look_inside (builds the graph): "
        f"{first_ms:.0f} ms"
    )
    print(f"{'part':<36} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, samples in rows.items():
        p = percentiles(samples)
        print(f"{name:<36} {p['p50']:8.2f} {p['p95']:8.2f} {p['p99']:8.2f}")


if __name__ == "__main__":
    main()
