"""Small Keras models for the model-file tests, built in a second and never trained.

Their weights make them a nearest-centroid reader: the output layer scores digit c as
x·m_c − |m_c|²/2, with m_c the mean training image of c in 0–1 pixels, so the likeliest digit is the
nearest mean image. `centroid_accuracy` counts that reader's hits with numpy alone, an independent
reference for what a loaded model, or the command line, reports. `stored_numbers` counts what a
`.keras` file holds, read with h5py rather than Keras.
"""

import io
import zipfile

import numpy as np


def centroids(dataset) -> np.ndarray:
    """(10, 784): the mean training image of each digit, pixels in 0–1."""
    x = dataset.x_train.reshape(len(dataset.x_train), -1).astype(np.float64) / 255.0
    return np.stack([x[dataset.y_train == digit].mean(axis=0) for digit in range(10)])


def centroid_accuracy(dataset) -> float:
    """The nearest-centroid reader's share of right answers on the test images, by numpy."""
    means = centroids(dataset)
    x = dataset.x_test.reshape(len(dataset.x_test), -1).astype(np.float64) / 255.0
    nearest = [
        ((chunk[:, None, :] - means[None]) ** 2).sum(axis=-1).argmin(axis=1)  # 1,000 images at a time
        for chunk in np.array_split(x, max(1, len(x) // 1000))
    ]
    return float((np.concatenate(nearest) == dataset.y_test).mean())


def scoring_weights(dataset) -> list[np.ndarray]:
    """Kernel (784, 10) and bias (10,) of a Dense layer whose largest score is the nearest centroid."""
    means = centroids(dataset)
    return [means.T.astype(np.float32), (-0.5 * (means**2).sum(axis=1)).astype(np.float32)]


def digitlab_classifier(dataset, name: str = "nearest mean"):
    """A digitlab model as Train builds it (784 → 784 relu → 10 scores), its weights the reader's."""
    from digitlab.config import TrainConfig
    from digitlab.learn.classifier import Classifier, build_metadata
    from digitlab.learn.model import build_model

    config = TrainConfig(hidden_units=(784,), head="linear", epochs=1, train_size=1000, seed=5)
    norm = {"kind": "unit", "mean": 0.0, "std": 1.0}
    model = build_model(config, norm)
    # relu passes 0–1 pixels unchanged: the hidden layer is the identity, the output layer reads.
    model.get_layer("hidden1").set_weights([np.eye(784, dtype=np.float32), np.zeros(784, np.float32)])
    model.get_layer("digits").set_weights(scoring_weights(dataset))
    metrics = {"test_accuracy": 0.8123}  # a stand-in figure: the tests check that it travels with the model
    return Classifier(model, config, build_metadata(config, norm, name=name, metrics=metrics))


def foreign_model(dataset, *, channel: bool = False, rescaling: bool = False, hidden: bool = False):
    """A Keras model as a tutorial makes it: no digitlab description, the same reader inside.

    It reads 0–1 pixels, or 0–255 ones when it starts with its own `Rescaling(1/255)`; `channel`
    gives it a (28, 28, 1) input, `hidden` an identity Dense layer of 784 relu units.
    """
    import keras
    from keras import layers

    stack = [keras.Input((28, 28, 1) if channel else (28, 28))]
    if rescaling:
        stack.append(layers.Rescaling(1 / 255))
    stack.append(layers.Flatten())
    if hidden:
        stack.append(layers.Dense(784, activation="relu", name="seen"))
    stack.append(layers.Dense(10, name="scores"))
    model = keras.Sequential(stack, name="tutorial")
    if hidden:
        model.get_layer("seen").set_weights([np.eye(784, dtype=np.float32), np.zeros(784, np.float32)])
    model.get_layer("scores").set_weights(scoring_weights(dataset))
    return model


def stored_numbers(path) -> dict[str, int]:
    """How many numbers the .keras file at `path` stores, per top-level group of its weights file."""
    import h5py

    counts: dict[str, int] = {}

    def count(name, item):
        if isinstance(item, h5py.Dataset):
            group = name.split("/")[0]
            counts[group] = counts.get(group, 0) + item.size

    with zipfile.ZipFile(path) as archive, h5py.File(io.BytesIO(archive.read("model.weights.h5"))) as weights:
        weights.visititems(count)
    return counts
