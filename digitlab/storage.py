"""Model files: one `Classifier` type, one way to save it and one way to load it.

A model on disk is a Keras `.keras` file plus a JSON file beside it holding the
config, normalisation, history, metrics and library versions. Loading always uses
Keras `safe_mode`, so a file from a user never runs code, and every failure becomes
a `ModelFileError` with a message a person can act on.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from digitlab.config import ConfigError, TrainConfig
from digitlab.data import ASSETS_DIR

FORMAT = "digitlab-model"
FORMAT_VERSION = 1
DEFAULT_MODEL_PATH = ASSETS_DIR / "models" / "default.keras"
# Bytes of UTF-8, well under the 255 that Linux, macOS and Windows allow, leaving room for a suffix.
MAX_FILENAME_BYTES = 120
# Names Windows refuses for a file whatever its extension: a student downloads to Windows too.
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"{port}{i}" for port in ("COM", "LPT") for i in range(10))}


class ModelFileError(ValueError):
    """A model file is missing, corrupt, foreign or incompatible."""


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
        from digitlab.model import outputs_to_probabilities

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
            import tensorflow as tf

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
    import keras
    import tensorflow as tf

    from digitlab import __version__

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


def safe_filename(name: str, fallback: str = "untitled") -> str:
    """A name typed by a user made safe as one file name: no folders, no hidden or reserved names.

    Letters and digits of any script, '-', '_' and '.' are kept; any other run of characters
    (slashes, NUL and other control characters, spaces, quotes) becomes one '_'. Leading dots,
    dashes and underscores go, so the result never climbs out of its folder ('..'), hides itself or
    reads as a command-line option.
    """
    name = unicodedata.normalize("NFKC", str(name))  # full-width '／' and '．' become '/' and '.'
    name = re.sub(r"[^\w.-]+|_+", "_", name, flags=re.UNICODE).lstrip("._-").rstrip("._ ")
    name = name.encode()[:MAX_FILENAME_BYTES].decode(errors="ignore").rstrip("._ ")
    if name.split(".")[0].upper() in WINDOWS_RESERVED:
        name = f"_{name}"
    return name or fallback


def metadata_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; a saved model is meant to be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_classifier(classifier: Classifier, path: str | Path) -> Path:
    """Save as `<path>.keras` plus `<path>.json`; returns the .keras path."""
    path = Path(path)
    if path.suffix != ".keras":
        path = path.with_name(path.name + ".keras")
    _atomic_write(path, lambda tmp: classifier.model.save(tmp))
    text = json.dumps(classifier.metadata, indent=1, default=_json_default)
    _atomic_write(metadata_path(path), lambda tmp: tmp.write_text(text))
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in model metadata")


def resolve_model_path(path: str | Path | None) -> Path:
    if path is None or str(path) == "default":
        return DEFAULT_MODEL_PATH
    path = Path(path)
    if path.suffix == ".json":
        path = path.with_suffix(".keras")
    if path.suffix != ".keras" and path.with_name(path.name + ".keras").exists():
        path = path.with_name(path.name + ".keras")
    return path


def read_metadata(path: Path) -> dict:
    meta_file = metadata_path(path)
    if not meta_file.exists():
        raise ModelFileError(f"{meta_file.name}: metadata file not found next to {path.name}")
    try:
        metadata = json.loads(meta_file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{meta_file.name}: metadata is not valid JSON ({exc})") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{meta_file.name}: not a digitlab model description")
    if metadata.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(
            f"{meta_file.name}: made by a newer digitlab (format {metadata['format_version']})"
        )
    return metadata


def load_classifier(path: str | Path | None = None) -> Classifier:
    """Load a saved model, or the shipped default for None/'default', with Keras safe_mode."""
    path = resolve_model_path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: model file not found")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path.name}: not a Keras .keras file (corrupt or another format)")
    metadata = read_metadata(path)
    try:
        config = TrainConfig.from_dict(metadata["config"])
    except (KeyError, TypeError, ConfigError) as exc:
        raise ModelFileError(f"{path.name}: model settings are missing or invalid ({exc})") from exc

    import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for bad archives; the user needs one message.
        raise ModelFileError(f"{path.name}: Keras could not load it ({type(exc).__name__}: {exc})") from exc
    if tuple(model.input_shape[1:]) != (28, 28) or tuple(model.output_shape[1:]) != (10,):
        raise ModelFileError(
            f"{path.name}: expects input {model.input_shape[1:]} and gives {model.output_shape[1:]}, "
            "not 28×28 images to 10 digits"
        )
    return Classifier(model=model, config=config, metadata=metadata)
