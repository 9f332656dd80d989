"""Looking inside a classifier: its first layer's weights, every hidden layer's answer to one digit, and
which pixels pushed the prediction (saliency).

One call per drawing: `look_inside` runs a single compiled TensorFlow graph that returns the probabilities,
the activations of each hidden layer and the gradient of the chosen digit's score (before softmax) with
respect to the 28×28 input pixels. The graph is built once per model and kept while the model lives, so it is
cheap enough to rerun after every stroke (bench/inside_latency.py).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np
from PIL import Image

from digitlab.learn.model import members_of, outputs_to_probabilities

HIDDEN_KINDS = {"Conv2D": "conv", "Dense": "dense"}  # Keras layer class → how its answer is drawn
# Saliency colours, over the input dimmed to a third: vermillion pushed towards the digit, blue against it.
TOWARDS, AGAINST = np.array((213, 94, 0)), np.array((0, 114, 178))
INPUT_DIMMING = 0.35

_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # keras model → its compiled inspection
_GRAPHS_LOCK = threading.Lock()


@dataclass(frozen=True)
class LayerAnswer:
    """One hidden layer's activations for one image."""

    name: str
    kind: str  # "conv": (height, width, channels) feature maps; "dense": (units,)
    values: np.ndarray


@dataclass(frozen=True)
class InsideView:
    """What the network computed for one 28×28 image."""

    probabilities: np.ndarray  # (10,), from this image alone (the page's reading averages three views)
    # and, for an ensemble, from its first network alone
    target: int  # the digit the gradient is about
    layers: list[LayerAnswer]
    gradient: np.ndarray  # (28, 28): d score(target) / d pixel, the score before softmax, pixels 0-255


def inspected(model):
    """The network to look inside: the model itself, or an ensemble's first network."""
    return members_of(model)[0]


def hidden_layers(model) -> list:
    """The convolution and dense layers before the output layer, in order (an ensemble: its first's)."""
    layers = [layer for layer in inspected(model).layers if type(layer).__name__ in HIDDEN_KINDS]
    return layers[:-1]  # the last one is the output layer: its answer is the prediction


def first_layer_weights(classifier) -> tuple[str, np.ndarray]:
    """("dense", (784, units)) for an MLP, ("conv", (height, width, 1, filters)) for a CNN."""
    layers = hidden_layers(classifier.model)
    if not layers:
        raise ValueError("this model has no hidden layer: its input goes straight to the 10 digits")
    first = layers[0]
    return HIDDEN_KINDS[type(first).__name__], np.asarray(first.get_weights()[0])


def _build_graph(classifier):
    import keras
    import tensorflow as tf

    model = inspected(classifier.model)
    layers = hidden_layers(model)
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    if not dense or not getattr(dense[-1], "use_bias", True):
        raise ValueError("this network does not end in a Dense layer with biases, the only kind shown here")
    output_layer = dense[-1]
    probe = keras.Model(
        model.inputs, [layer.output for layer in layers] + [output_layer.input, *model.outputs]
    )
    kernel, bias = output_layer.kernel, output_layer.bias

    @tf.function(input_signature=[tf.TensorSpec((28, 28), tf.float32), tf.TensorSpec((), tf.int32)])
    def inspect(image, target):
        batch = image[None]
        with tf.GradientTape() as tape:
            tape.watch(batch)
            *hidden, features, outputs = probe(batch, training=False)
            # The digit's score before softmax or sigmoid: its gradient does not vanish when the model
            # is sure, as the probability's does.
            scores = (tf.matmul(features, kernel) + bias)[0]
            target = tf.where(target < 0, tf.argmax(scores, output_type=tf.int32), target)
            score = tf.gather(scores, target)
        gradient = tape.gradient(score, batch)[0]
        return outputs[0], target, gradient, [values[0] for values in hidden]

    return inspect, [(layer.name, HIDDEN_KINDS[type(layer).__name__]) for layer in layers]


def _graph(classifier):
    """The compiled inspection of this classifier's model, built on first use (about a second)."""
    with _GRAPHS_LOCK:
        if classifier.model not in _GRAPHS:
            _GRAPHS[classifier.model] = _build_graph(classifier)
        return _GRAPHS[classifier.model]


def look_inside(classifier, image: np.ndarray, target: int | None = None) -> InsideView:
    """Activations and saliency for one uint8 28×28 image; `target` defaults to the likeliest digit."""
    image = np.asarray(image)
    if image.shape != (28, 28):
        raise ValueError(f"expected one 28×28 image, got shape {image.shape}")
    if target is not None and not 0 <= target <= 9:
        raise ValueError(f"target must be a digit 0-9, got {target}")
    inspect, names = _graph(classifier)
    outputs, chosen, gradient, hidden = inspect(
        image.astype(np.float32), np.int32(-1 if target is None else target)
    )
    layers = [
        LayerAnswer(name, kind, values.numpy()) for (name, kind), values in zip(names, hidden, strict=True)
    ]
    probs = outputs_to_probabilities(outputs.numpy(), classifier.config.head)
    return InsideView(probs, int(chosen), layers, gradient.numpy())


def saliency(view: InsideView, image: np.ndarray, times_input: bool = False) -> np.ndarray:
    """(28, 28) in [-1, 1]: the gradient, or gradient × input (what the ink itself contributed).

    Scaled by its largest magnitude, so 1 is the pixel that mattered most for this drawing.
    """
    values = view.gradient * (np.asarray(image, np.float32) / 255.0 if times_input else 1.0)
    peak = float(np.abs(values).max())
    return values / peak if peak > 0 else np.zeros_like(values)


def saliency_overlay(image: np.ndarray, salience: np.ndarray, side: int = 280) -> np.ndarray:
    """RGB uint8 `side`×`side`: the input dimmed, each pixel tinted by how much it pushed the prediction."""
    grey = np.asarray(image, np.float32)[..., None] * INPUT_DIMMING
    strength = np.abs(salience)[..., None]
    colour = np.where(salience[..., None] >= 0, TOWARDS, AGAINST)
    rgb = np.clip(grey * (1 - strength) + colour * strength, 0, 255).astype(np.uint8)
    return np.asarray(Image.fromarray(rgb).resize((side, side), Image.NEAREST))
