"""The classifier: a Keras model with its description, one way to save it, one way to load it.

A saved model is one `.keras` file with its description inside (see `digitlab.modelfile`). Loading
always uses Keras `safe_mode`, so a file from a user never runs code, and every failure
becomes a `modelfile.ModelFileError`. Predictions of a few images go through one compiled graph, and
mark themselves in `PREDICTIONS`, so training steps elsewhere in the process wait for them.
"""

from __future__ import annotations

import contextlib
import copy
import json
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from digitlab import __version__
from digitlab.config import ConfigError, TrainConfig
from digitlab.learn.model import outputs_to_probabilities
from digitlab.modelfile import (
    FORMAT,
    FORMAT_VERSION,
    ModelFileError,
    atomic_write,
    embed_metadata,
    metadata_path,
    read_metadata,
    resolve_model_path,
)


class PredictionsFirst:
    """Lets training wait between batches while a prediction runs: a drawing is answered first.

    Training and predictions share the server's cores and TensorFlow's thread pool; a student who
    draws waits for a prediction, a training run hardly notices a pause of a few milliseconds.
    """

    def __init__(self):
        self._idle = threading.Condition()
        self._running = 0

    @contextlib.contextmanager
    def predicting(self):
        with self._idle:
            self._running += 1
        try:
            yield
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def wait(self, timeout: float = 0.5) -> None:
        """Return when no prediction runs, or after `timeout` seconds: training must never starve."""
        with self._idle:
            self._idle.wait_for(lambda: not self._running, timeout)


PREDICTIONS = PredictionsFirst()  # one per server: every session's predictions, every training run


@dataclass
class Classifier:
    """A trained Keras model with the metadata that says how to read its outputs."""

    model: object
    config: TrainConfig
    metadata: dict = field(default_factory=dict)
    _forward: object = field(default=None, init=False, repr=False, compare=False)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """10 probabilities per image for uint8 images shaped (28, 28) or (N, 28, 28)."""
        images = np.asarray(images)
        single = images.ndim == 2
        batch = images[None] if single else images
        if batch.shape[1:] != (28, 28):
            raise ValueError(f"expected 28×28 images, got shape {images.shape}")
        batch = batch.astype(np.float32)
        if len(batch) <= 32:
            # model.predict builds a tf.data pipeline each call (~50 ms); a compiled direct call does not.
            with PREDICTIONS.predicting():  # a student's drawing: training steps wait meanwhile
                outputs = self._compiled_call()(batch).numpy()
        else:
            outputs = self.model.predict(batch, batch_size=512, verbose=0)
        probs = outputs_to_probabilities(outputs, self.config.head)
        return probs[0] if single else probs

    def _compiled_call(self):
        """The model's forward pass as one TensorFlow graph, traced once for any batch size."""
        if self._forward is None:
            self._forward = tf.function(
                lambda x: self.model(x, training=False),
                input_signature=[tf.TensorSpec((None, 28, 28), tf.float32)],
            )
        return self._forward

    @property
    def name(self) -> str:
        return self.metadata.get("name") or self.config.label

    @property
    def test_accuracy(self) -> float | None:
        return self.metadata.get("metrics", {}).get("test_accuracy")


def library_versions() -> dict:
    return {
        "digitlab": __version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
    }


def build_metadata(config: TrainConfig, norm: dict, **extra) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": config.to_dict(),
        "normalization": norm,
        "versions": library_versions(),
        **extra,
    }


def save_classifier(
    classifier: Classifier, path: str | Path, *, sidecar: bool = False, include_optimizer: bool = True
) -> Path:
    """Save as one `<path>.keras` holding the description too; returns its path.

    `sidecar` also writes the description beside it, as `<path>.json`, for people and scripts to read
    (the command line does); the `.keras` file never needs it. `include_optimizer=False` leaves out the
    optimizer's state (see `without_optimizer`): digitlab never reads it back, and Adam's is twice the
    size of the weights.
    """
    path = Path(path)
    if path.suffix != ".keras":
        path = path.with_name(path.name + ".keras")
    text = json.dumps(classifier.metadata, indent=1, default=_json_default)
    model = classifier.model if include_optimizer else without_optimizer(classifier.model)

    def write(tmp: Path) -> None:
        model.save(tmp)
        embed_metadata(tmp, text)

    atomic_write(path, write)
    if sidecar:
        atomic_write(metadata_path(path), lambda tmp: tmp.write_text(text))
    return path


def without_optimizer(model):
    """`model` itself if it has no optimizer, else the same network, layers and weights shared, uncompiled.

    Keras 3.15 writes a compiled model's optimizer variables into its `.keras` file and ignores
    `model.save(..., include_optimizer=False)` (saving_api.save_model pops the argument and uses it only
    for legacy .h5 files); `keras.models.clone_model` compiles its copy again, with a fresh optimizer
    that is saved too. A new functional model over the same inputs and outputs never had one.
    """
    if getattr(model, "optimizer", None) is None:
        return model
    return keras.Model(model.inputs, model.outputs, name=model.name)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in model metadata")


def load_classifier(path: str | Path | None = None) -> Classifier:
    """Load a saved model, or the shipped default for None/'default', with Keras safe_mode."""
    path = resolve_model_path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: model file not found")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path.name}: not a Keras .keras file (corrupt or another format)")
    metadata = read_metadata(path)
    config = config_of(metadata, path.name)
    model = load_keras_model(path, path.name)
    check_digit_shapes(model, path.name)
    return Classifier(model=model, config=config, metadata=metadata)


def config_of(metadata: dict, label: str) -> TrainConfig:
    try:
        return TrainConfig.from_dict(metadata["config"])
    except (KeyError, TypeError, ConfigError) as exc:
        raise ModelFileError(f"{label}: model settings are missing or invalid ({exc})") from exc


def load_keras_model(path: Path, label: str):
    """The Keras model in the .keras file at `path`, loaded with safe_mode: it never runs code."""
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for bad archives; the user needs one message.
        raise ModelFileError(f"{label}: Keras could not load it: {why_keras_refused(exc)}") from exc


def why_keras_refused(exc: Exception) -> str:
    """Keras's reason for refusing a model, in words a student can act on."""
    text = str(exc)
    if "safe_mode=False" in text:
        layer = " (a Lambda layer)" if "Lambda" in text or "lambda" in text else ""
        return f"it holds Python code{layer}, and safe mode never runs code from a file"
    if "Could not locate" in text:
        return "it uses a layer or model class of its own, and only Keras's own layers load here"
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else 'no reason given'}"


def check_digit_shapes(model, label: str) -> None:
    """Refuse a model that does not take one 28×28 image and give 10 numbers, one per digit."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelFileError(
            f"{label}: has {len(model.inputs)} inputs and {len(model.outputs)} outputs, "
            "not one 28×28 image in and 10 digits out"
        )
    if tuple(model.input_shape[1:]) != (28, 28) or tuple(model.output_shape[1:]) != (10,):
        raise ModelFileError(
            f"{label}: expects input {model.input_shape[1:]} and gives {model.output_shape[1:]}, "
            "not 28×28 images to 10 digits"
        )


def copy_classifier(classifier: Classifier, model) -> Classifier:
    """A new Classifier around `model` with a copy of `classifier`'s config and metadata."""
    return Classifier(model=model, config=classifier.config, metadata=copy.deepcopy(classifier.metadata))


def keras_bytes(classifier: Classifier) -> bytes:
    """The trained model as the bytes of one .keras file, its description inside: all it needs."""
    with tempfile.TemporaryDirectory(prefix="digitlab-export-") as folder:
        return Path(save_classifier(classifier, Path(folder) / "model")).read_bytes()
