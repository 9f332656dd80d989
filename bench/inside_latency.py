"""Latency of the Draw page's "look inside" views beside the plain prediction, one drawing at a time.

MNIST test digits go one by one through: the page's prediction (`reading.predict_views`, three tilted
views in one batch), one plain `predict_proba` call, and `inside.look_inside` (activations of every
hidden layer plus the saliency gradient, one compiled graph), then the figures each view draws, and
"Why did it read mine wrong?" (`neighbours.nearest` twice, the 8 most alike and the 8 nearest of the
second choice, and their figure). Prints p50/p95/p99 in milliseconds, the one-time cost of embedding the
neighbours' training sample, and how often the 8 nearest share the test digit's label by cosine and by
Euclidean distance. The page recomputes the open view after every stroke.

    python bench/inside_latency.py [--model PATH|default] [--n 300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import machine, percentiles

from digitlab import image_charts, inside_charts
from digitlab.data import load_mnist
from digitlab.learn import inside, neighbours
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


def neighbours_rows(classifier, image, meant):
    """What "Why did it read mine wrong?" computes: the 8 most alike, the 8 nearest of the digit meant."""
    return neighbours.nearest(classifier, image), neighbours.nearest(classifier, image, digit=meant)


def neighbours_view(classifier, image, meant, read_as):
    alike, nearest_meant = neighbours_rows(classifier, image, meant)
    return image_charts.neighbours_grid(alike.images, alike.labels, nearest_meant.images, meant, read_as)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def label_agreement(classifier, images, labels, k=8) -> dict:
    """The share of each image's k nearest sample images that carry its label, by each distance."""
    sample = neighbours.training_sample()
    queries, rows = neighbours.embed(classifier, images), neighbours.embed(classifier, sample.images)
    distances = {
        "cosine": 1 - unit_rows(queries) @ unit_rows(rows).T,
        "euclidean": (queries**2).sum(1)[:, None] - 2 * queries @ rows.T + (rows**2).sum(1)[None],
    }
    return {
        name: float((sample.labels[np.argsort(d, axis=1)[:, :k]] == labels[:, None]).mean())
        for name, d in distances.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="default")
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()

    classifier = load_classifier(args.model)
    digits = load_mnist().x_test
    picks = np.random.default_rng(0).choice(len(digits), args.n, replace=False)
    images = digits[picks]
    started = time.perf_counter()
    inside.look_inside(classifier, images[0])
    first_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    neighbours.sample_directions(classifier)  # once per model: trace the graph, embed 6,000 images
    sample_ms = (time.perf_counter() - started) * 1000
    # The reading, and the digit the page first offers as the one meant: the second choice.
    guesses = np.argsort(classifier.predict_proba(images), axis=1)
    readings, meant = guesses[:, -1].tolist(), guesses[:, -2].tolist()
    for image in images[:5]:  # warm-up: the first calls trace the graphs
        predict_views(classifier, image)
        classifier.predict_proba(image)
        inside.look_inside(classifier, image)
        neighbours.nearest(classifier, image)

    rows = {
        "prediction (predict_views, page)": [],
        "one image (predict_proba)": [],
        "look_inside (layers + gradient)": [],
        "+ hidden-layer figures": [],
        "saliency view (look_inside+image)": [],
        "weights figure": [],
        "neighbours (nearest ×2)": [],
        "neighbours view (+ figure)": [],
    }
    for image, read_as, digit in zip(images, readings, meant, strict=True):
        rows["prediction (predict_views, page)"].append(timed_ms(predict_views, classifier, image))
        rows["one image (predict_proba)"].append(timed_ms(classifier.predict_proba, image))
        rows["look_inside (layers + gradient)"].append(timed_ms(inside.look_inside, classifier, image))
        rows["+ hidden-layer figures"].append(
            timed_ms(lambda x: layer_figures(inside.look_inside(classifier, x)), image)
        )
        rows["saliency view (look_inside+image)"].append(timed_ms(saliency_image, classifier, image))
        rows["weights figure"].append(timed_ms(weights_figure, classifier))
        rows["neighbours (nearest ×2)"].append(timed_ms(neighbours_rows, classifier, image, digit))
        rows["neighbours view (+ figure)"].append(
            timed_ms(neighbours_view, classifier, image, digit, read_as)
        )
    agreement = label_agreement(classifier, images, load_mnist().y_test[picks])

    print(f"machine: {machine()}")
    print(
        f"model: {classifier.name}   {args.n} single drawings   first look_inside (builds the graph): "
        f"{first_ms:.0f} ms"
    )
    print(f"{'part':<36} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, samples in rows.items():
        p = percentiles(samples)
        print(f"{name:<36} {p['p50']:8.2f} {p['p95']:8.2f} {p['p99']:8.2f}")
    sample = neighbours.training_sample()
    print(
        f"neighbours' sample: {len(sample.indices)} training images embedded once per model in "
        f"{sample_ms:.0f} ms (graph included)"
    )
    print(
        "8 nearest with the test digit's label: "
        + ", ".join(f"{name} {share:.2%}" for name, share in agreement.items())
    )


if __name__ == "__main__":
    main()
