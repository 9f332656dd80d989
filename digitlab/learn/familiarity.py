"""Does a drawing look like any digit the network learnt? Two distances from the digits it knows.

A network with ten outputs must share its probability between ten digits, so a dash or a letter still
gets a "confident" answer: softmax says which of the ten, never whether it is a digit at all. What the
network has learnt about digits shows elsewhere, in its last hidden layer (the input of its output
layer): the digits it was taught fill ten clouds there, one per digit, and a drawing unlike all of them
lands away from all ten.

Two distances, each learnt from known digits only:
- hidden: the Mahalanobis distance, in the last hidden layer of every network of an ensemble side by
  side, to the nearest of ten digit clouds (ten means, one shared covariance);
- pixels: the mean Euclidean distance, in the 28×28 pixels, to the 8 nearest known digits;
- shape: how much wider than tall the ink's box is. Preprocessing fits any drawing's long side to the
  same 20 px, so a dash fills the box's width as a 1 fills its height, and only the box's shape keeps
  what sets them apart: known digits are almost never more than 1.8 times as wide as tall.
All are fitted per model on digits it knows: MNIST training images (`neighbours.training_sample`) and
pen-drawn digits of the UNIPEN *training* labs, rendered through the canvas path. Each one's threshold
is its QUANTILE on other such digits, held out of the fit; a drawing past either threshold is "unlike
any digit". Nothing here ever sees a scribble, a letter or a benchmark lab. bench/not_a_digit.py
measures it, and the alternatives it was chosen over (max-softmax, energy, either distance alone).

The fit is made on first use, in a background thread, and kept while the model lives, as `neighbours`
keeps its sample: seconds for a CNN, and `familiarity_for(..., wait=False)` answers None meanwhile.
Then a reading costs two small products more than the prediction: the `Judge` runs the network once for
both, its probabilities and its last hidden layer (`predict_with_features`), where a second pass for the
hidden layer alone cost a stroke 3-4 ms. A network whose last layer is not Dense cannot be judged: its
`familiarity_for` is None and the reading says nothing about it.
"""

from __future__ import annotations

import functools
import threading
import weakref
from dataclasses import dataclass

import numpy as np

from digitlab import pen, strokes
from digitlab.data import load_mnist
from digitlab.learn import neighbours
from digitlab.learn.model import members_of

QUANTILE = 0.999  # of held-out known digits' distances: each threshold (bench/not_a_digit.py)
CALIBRATION_PER_CLASS = 300  # MNIST training images of each digit, not in the fit, for the thresholds
CALIBRATION_SEED = 61
PEN_PER_CLASS = 150  # pen-drawn training-lab digits of each digit, for the fit and as many held out
PEN_SEED = 5
NEAREST = 8  # known digits averaged in the pixel distance
INK_LEVEL = 64  # of 255: a pixel that counts in the ink's box
SHRINKAGE = 1e-3  # of the mean variance, added to the covariance's diagonal: dead units stay invertible

_FITTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # keras model → Familiarity or None
_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # keras model → its features graph
_BOTH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # keras model → outputs and features graph
_FITTING: dict[int, threading.Thread] = {}  # id(keras model) → the thread fitting it
_LOCK = threading.RLock()


@dataclass(frozen=True, eq=False)
class Familiarity:
    """The digits one network knows, as clouds in its hidden layer and as pixels, and how far is too far."""

    whitening: np.ndarray  # (units, units) Σ^-1/2: a Mahalanobis distance is a Euclidean one after it
    centres: np.ndarray  # (10, units): each digit's mean, whitened
    references: np.ndarray  # (N, 784) float32: the known digits' pixels, 0-1
    reference_norms: np.ndarray  # (N,): their squared lengths, kept: recomputing them cost 50 ms a drawing
    thresholds: tuple[float, float, float]  # (hidden, pixels, shape): the QUANTILE of held-out known digits

    def distances(self, features: np.ndarray, images: np.ndarray) -> np.ndarray:
        """(N, 3): the hidden and the pixel distance of N images, given their hidden features, and the
        shape of their ink's box."""
        whitened = np.asarray(features, np.float32) @ self.whitening
        hidden = ((whitened[:, None, :] - self.centres[None]) ** 2).sum(axis=-1).min(axis=1)
        pixels = _pixels(images)
        squared = (pixels**2).sum(1)[:, None] - 2 * pixels @ self.references.T + self.reference_norms[None]
        nearest = np.partition(np.maximum(squared, 0), NEAREST - 1, axis=1)[:, :NEAREST]
        return np.stack([np.sqrt(hidden), np.sqrt(nearest).mean(axis=1), box_shape(images)], axis=1)

    def strangeness(self, features: np.ndarray, images: np.ndarray) -> np.ndarray:
        """(N,): the larger distance over its threshold; above 1, an image is unlike every known digit."""
        return (self.distances(features, images) / np.asarray(self.thresholds)).max(axis=1)


def box_shape(images: np.ndarray) -> np.ndarray:
    """(N,): the width over the height of each image's ink (pixels of at least INK_LEVEL); 1 if blank."""
    ink = np.asarray(images) >= INK_LEVEL
    rows, columns = ink.any(axis=2), ink.any(axis=1)

    def extent(present: np.ndarray) -> np.ndarray:
        first = present.argmax(axis=1)
        last = present.shape[1] - 1 - present[:, ::-1].argmax(axis=1)
        return np.where(present.any(axis=1), last - first + 1, 1)

    return extent(columns) / extent(rows)


def _pixels(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


@functools.lru_cache(maxsize=1)
def known_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fit images, their labels, held-out images): digits only, MNIST training and pen training labs."""
    sample = neighbours.training_sample()
    mnist = load_mnist()
    rest = np.setdiff1d(np.arange(len(mnist.y_train)), sample.indices)
    held = rest[neighbours.balanced_indices(mnist.y_train[rest], CALIBRATION_PER_CLASS, CALIBRATION_SEED)]
    drawn = _pen_digits()
    half = len(drawn.labels) // 2
    images = np.concatenate([sample.images, drawn.images[:half]])
    return (
        images,
        np.concatenate([sample.labels, drawn.labels[:half]]),
        np.concatenate([mnist.x_train[held], drawn.images[half:]]),
    )


def _pen_digits() -> pen.PenImages:
    """2 × PEN_PER_CLASS training-lab digits of each digit, rendered with varied brushes, sizes, places."""
    samples = strokes.load_pen_digits("training")
    picked = neighbours.balanced_indices(np.array([s.label for s in samples]), 2 * PEN_PER_CLASS, PEN_SEED)
    np.random.default_rng(PEN_SEED).shuffle(picked)  # so that each half holds each digit about as often
    return pen.render_training([samples[i] for i in picked], variants=1, seed=PEN_SEED)


def _last_hidden(network):
    dense = [layer for layer in network.layers if type(layer).__name__ == "Dense"]
    if not dense:
        raise ValueError("this network does not end in a Dense layer")
    return dense[-1].input


def _features_graph(classifier):
    """One graph from raw pixels to the last hidden layer of every network of the model, side by side."""
    import keras
    import tensorflow as tf

    probes = [keras.Model(network.inputs, _last_hidden(network)) for network in members_of(classifier.model)]
    return tf.function(
        lambda batch: tf.concat([probe(batch, training=False) for probe in probes], axis=-1),
        input_signature=[tf.TensorSpec((None, 28, 28), tf.float32)],
    )


def _outputs_and_features_graph(classifier):
    """One graph from raw pixels to the model's outputs and to `_features_graph`'s hidden layers: each
    network runs once for both. A single network, or the average of networks `model.average_members`
    builds; ValueError for any other ensemble, whose way of combining its members is not known here."""
    import keras
    import tensorflow as tf

    model = classifier.model
    members = members_of(model)
    combine = None
    if members != [model]:
        rest = [
            layer for layer in model.layers if type(layer).__name__ != "InputLayer" and layer not in members
        ]
        if len(rest) != 1 or type(rest[0]).__name__ != "Average" or model.layers[-1] is not rest[0]:
            raise ValueError("an ensemble that is not the average of its members")
        combine = rest[0]  # the model's own Average layer: the same operation as model(batch)
    probes = [keras.Model(net.inputs, [net.outputs[0], _last_hidden(net)]) for net in members]

    def forward(batch):
        answers = [probe(batch, training=False) for probe in probes]
        outputs = [output for output, _ in answers]
        combined = outputs[0] if combine is None else combine(outputs)
        return combined, tf.concat([hidden for _, hidden in answers], axis=-1)

    return tf.function(forward, input_signature=[tf.TensorSpec((None, 28, 28), tf.float32)])


def _graph(graphs: weakref.WeakKeyDictionary, build, classifier):
    """`build(classifier)`, made once per model; a ValueError is kept too, and raised at every call."""
    with _LOCK:
        if classifier.model not in graphs:
            try:
                graphs[classifier.model] = build(classifier)
            except ValueError as error:
                graphs[classifier.model] = error
        graph = graphs[classifier.model]
    if isinstance(graph, ValueError):
        raise ValueError(str(graph))
    return graph


def features(classifier, images: np.ndarray) -> np.ndarray:
    """(N, units): the last hidden layer of each network of the model, for uint8 images (N, 28, 28)."""
    from digitlab.learn.classifier import PREDICTIONS  # imports TensorFlow

    forward = _graph(_GRAPHS, _features_graph, classifier)
    images = np.asarray(images, np.float32)
    with PREDICTIONS.predicting():  # a student waits for it: training steps pause meanwhile
        return np.concatenate(
            [
                forward(images[i : i + neighbours.BATCH]).numpy()
                for i in range(0, len(images), neighbours.BATCH)
            ]
        )


def predict_with_features(classifier, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`classifier.predict_proba(images)` and `features(classifier, images)` from one forward pass, for a
    few uint8 images (N, 28, 28), such as a drawing's views. ValueError when the model cannot be judged."""
    from digitlab.learn.classifier import PREDICTIONS
    from digitlab.learn.model import outputs_to_probabilities

    forward = _graph(_BOTH, _outputs_and_features_graph, classifier)
    with PREDICTIONS.predicting():  # a student's drawing: training steps wait meanwhile
        outputs, hidden = forward(np.asarray(images, np.float32))
    return outputs_to_probabilities(outputs.numpy(), classifier.config.head), hidden.numpy()


def fit(classifier, images: np.ndarray, labels: np.ndarray, held_out: np.ndarray) -> Familiarity:
    """The digit clouds of `images` (by `labels`); thresholds the QUANTILE of `held_out`'s distances."""
    hidden = features(classifier, images).astype(np.float64)
    means = np.stack([hidden[labels == digit].mean(axis=0) for digit in range(10)])
    centred = hidden - means[labels]
    covariance = centred.T @ centred / len(hidden)
    covariance += SHRINKAGE * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
    values, vectors = np.linalg.eigh(covariance)
    whitening = (vectors / np.sqrt(values)).astype(np.float32)
    references = _pixels(images)
    centres = (means @ whitening).astype(np.float32)
    unscaled = Familiarity(whitening, centres, references, (references**2).sum(axis=1), (1.0, 1.0, 1.0))
    held = unscaled.distances(features(classifier, held_out), held_out)
    thresholds = tuple(float(t) for t in np.quantile(held, QUANTILE, axis=0))
    return Familiarity(whitening, centres, references, unscaled.reference_norms, thresholds)


def _fit_and_keep(classifier) -> None:
    try:
        images, labels, held_out = known_digits()
        fitted = fit(classifier, images, labels, held_out)
    except ValueError:  # not a Dense output layer: this network cannot be judged
        fitted = None
    with _LOCK:
        _FITTED[classifier.model] = fitted
        _FITTING.pop(id(classifier.model), None)


def familiarity_for(classifier, wait: bool = True) -> Familiarity | None:
    """This classifier's Familiarity, fitted once per model; None if it cannot be judged, or, with
    `wait=False`, while it is still being fitted in the background (the next call may have it)."""
    with _LOCK:
        if classifier.model in _FITTED:
            return _FITTED[classifier.model]
        thread = _FITTING.get(id(classifier.model))
        if thread is None:
            thread = threading.Thread(target=_fit_and_keep, args=(classifier,), daemon=True)
            _FITTING[id(classifier.model)] = thread
            thread.start()
    if not wait:
        return None
    thread.join()
    with _LOCK:
        return _FITTED.get(classifier.model)


@dataclass(frozen=True, eq=False)
class Judge:
    """How unlike every known digit a preprocessed 28×28 image is, for `reading.read_image`: called with one
    image, its strangeness (a forward pass of its own); `read` also predicts, in the same pass."""

    classifier: object
    familiarity: Familiarity

    def __call__(self, image: np.ndarray) -> float:
        hidden = features(self.classifier, image[None])
        return float(self.familiarity.strangeness(hidden, image[None])[0])

    def read(self, images: np.ndarray, judged: int = 0) -> tuple[np.ndarray, float]:
        """(N, 10) probabilities of `images` (a drawing's views) and the strangeness of `images[judged]`,
        from one forward pass; two passes for an ensemble whose combination is not known here."""
        try:
            probabilities, hidden = predict_with_features(self.classifier, images)
        except ValueError:
            return self.classifier.predict_proba(images), self(images[judged])
        one = slice(judged, judged + 1)
        return probabilities, float(self.familiarity.strangeness(hidden[one], images[one])[0])


def judge(classifier, wait: bool = True) -> Judge | None:
    """The `Judge` of this classifier's drawings, for `reading.read_image`; None when this model cannot be
    judged (or, with `wait=False`, is not fitted yet)."""
    fitted = familiarity_for(classifier, wait)
    return None if fitted is None else Judge(classifier, fitted)
