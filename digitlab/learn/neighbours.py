"""The training images a network finds most alike to a drawing: Draw's "Why did it read mine wrong?".

Alike here means alike *to the network*: close in its last hidden layer (the input of its output layer,
what the ten digit scores are computed from), not pixel by pixel. A fixed, balanced sample of MNIST's
training images (600 of each digit, one seed) is embedded once per model, on first use, and kept while the
model lives, as `inside` keeps its compiled graph; a drawing then costs one call of one graph, its forward
pass and its product with the sample (bench/inside_latency.py). An ensemble is looked at through its first
network, as `inside.look_inside` does.

Keras and TensorFlow are imported inside the functions, as in `model`: the Draw page imports this module
before TensorFlow is loaded.
"""

from __future__ import annotations

import functools
import threading
import weakref
from dataclasses import dataclass

import numpy as np

from digitlab.data import load_mnist
from digitlab.learn.inside import inspected

SAMPLE_PER_CLASS = 600  # 6,000 images: the default CNN embeds them in about a second, once per model
SAMPLE_SEED = 16  # the sample is the same for every model and every run
BATCH = 500  # images per forward pass while embedding the sample

# keras model → its embedding graph, and → its sample's embeddings: both kept while the model lives.
_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SEARCHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# One lock for both: two sessions that open the view together embed the sample once.
_LOCK = threading.RLock()


@dataclass(frozen=True, eq=False)
class TrainingSample:
    """A fixed subset of the training images; `indices` point into the full training set."""

    indices: np.ndarray  # (N,), increasing
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) uint8


@dataclass(frozen=True, eq=False)
class Neighbours:
    """The `k` sample images nearest to one drawing, nearest first."""

    indices: np.ndarray  # (k,) into the sample (`training_sample()`)
    distances: np.ndarray  # (k,) cosine distances, 0 (same direction) to 2
    labels: np.ndarray  # (k,)
    images: np.ndarray  # (k, 28, 28) uint8


@dataclass(frozen=True, eq=False)
class _Search:
    directions: np.ndarray  # (N, units) float32: the sample's embeddings, each scaled to length 1
    distances: object  # tf.function: one (28, 28) float32 image of raw pixels → (N,) cosine distances


def balanced_indices(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """`per_class` indices of each digit 0-9, drawn without replacement from `labels`, in increasing order."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    picks = []
    for digit in range(10):
        (of_digit,) = np.nonzero(labels == digit)
        if len(of_digit) < per_class:
            raise ValueError(f"only {len(of_digit)} training images of {digit}, {per_class} wanted")
        picks.append(rng.choice(of_digit, per_class, replace=False))
    return np.sort(np.concatenate(picks))


@functools.lru_cache(maxsize=1)
def training_sample() -> TrainingSample:
    """The sample every model's neighbours come from: 600 MNIST training images of each digit."""
    dataset = load_mnist()
    indices = balanced_indices(dataset.y_train, SAMPLE_PER_CLASS, SAMPLE_SEED)
    return TrainingSample(indices, dataset.x_train[indices], dataset.y_train[indices])


def _embedding_graph(classifier):
    import keras
    import tensorflow as tf

    network = inspected(classifier.model)
    dense = [layer for layer in network.layers if type(layer).__name__ == "Dense"]
    if not dense:
        raise ValueError("this network does not end in a Dense layer, the only kind compared here")
    output_layer = dense[-1]
    # From raw pixels: the model's first layer normalises them (model.build_model), so the sample and the
    # drawing are normalised exactly as the classifier normalises what it reads.
    probe = keras.Model(network.inputs, output_layer.input)
    return tf.function(
        lambda batch: probe(batch, training=False),
        input_signature=[tf.TensorSpec((None, 28, 28), tf.float32)],
    )


def _graph(classifier):
    """The forward pass to the last hidden layer, as one TensorFlow graph for any batch size."""
    with _LOCK:
        if classifier.model not in _GRAPHS:
            _GRAPHS[classifier.model] = _embedding_graph(classifier)
        return _GRAPHS[classifier.model]


def embed(classifier, images: np.ndarray) -> np.ndarray:
    """(N, units): the input of the output layer for uint8 images (N, 28, 28); an ensemble's first network."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"expected 28×28 images (N, 28, 28), got shape {images.shape}")
    forward = _graph(classifier)
    batches = [images[start : start + BATCH].astype(np.float32) for start in range(0, len(images), BATCH)]
    return np.concatenate([forward(batch).numpy() for batch in batches])


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(lengths, 1e-12)  # a drawing that wakes no unit stays 0: distance 1 to all


def _search_graph(classifier, directions: np.ndarray):
    """One graph from a drawing's raw pixels to its cosine distance to each sample image.

    The product with the sample runs in TensorFlow too: numpy's (OpenBLAS) threads, woken between
    TensorFlow's calls, made a search take 12 ms at the median on two busy cores, against 2 ms here.
    """
    import tensorflow as tf

    forward, table = _graph(classifier), tf.constant(directions)

    @tf.function(input_signature=[tf.TensorSpec((28, 28), tf.float32)])
    def distances(image):
        features = forward(image[None])[0]
        direction = features / tf.maximum(tf.norm(features), 1e-12)
        return 1.0 - tf.linalg.matvec(table, direction)

    return distances


def _search(classifier) -> _Search:
    """The embedded sample of this classifier's model, computed on first use (about a second for a CNN)."""
    with _LOCK:
        if classifier.model not in _SEARCHES:
            directions = _unit_rows(embed(classifier, training_sample().images))
            _SEARCHES[classifier.model] = _Search(directions, _search_graph(classifier, directions))
        return _SEARCHES[classifier.model]


def sample_directions(classifier) -> np.ndarray:
    """(N, units): the sample's embeddings scaled to length 1, computed once per model."""
    return _search(classifier).directions


def nearest(classifier, image: np.ndarray, k: int = 8, digit: int | None = None) -> Neighbours:
    """The `k` sample images nearest to one uint8 28×28 image, among those of `digit` only if given.

    Cosine distance rather than Euclidean: the output layer scores each digit by a dot product with this
    vector, so its direction decides which digit wins and its length mostly how sure the network is.
    Measured too: on MNIST test digits the 8 nearest share the digit's label a little more often by
    cosine than by Euclidean distance (`python bench/inside_latency.py` prints both).
    """
    image = np.asarray(image)
    if image.shape != (28, 28):
        raise ValueError(f"expected one 28×28 image, got shape {image.shape}")
    if digit is not None and not 0 <= digit <= 9:
        raise ValueError(f"digit must be 0-9, got {digit}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    from digitlab.learn.classifier import PREDICTIONS  # imports TensorFlow

    search = _search(classifier)
    with PREDICTIONS.predicting():  # a student waits for it: training steps pause meanwhile
        distances = search.distances(image.astype(np.float32)).numpy()
    sample = training_sample()
    candidates = np.arange(len(distances)) if digit is None else np.nonzero(sample.labels == digit)[0]
    k = min(k, len(candidates))
    closest = candidates[np.argpartition(distances[candidates], k - 1)[:k]]
    closest = closest[np.argsort(distances[closest], kind="stable")]
    return Neighbours(closest, distances[closest], sample.labels[closest], sample.images[closest])
