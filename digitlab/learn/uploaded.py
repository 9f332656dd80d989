"""A model file a student uploads: its size limit, safe loading, its shapes, and foreign Keras models.

`load_uploaded` takes the bytes of a `.keras` file. A digitlab model (its description inside) loads as
it was saved. Any other Keras model that reads a 28×28 image into 10 numbers loads too, as a foreign
model. Nothing says how a foreign model was trained, so digitlab assumes what Keras's MNIST examples
do: pixels divided by 255, so 0–1, unless the model starts with a Rescaling layer of its own (then it
gets the pixels as they are, 0–255, like digitlab's own models). It is rebuilt with that scaling in
front, layer by layer, so predictions, look-inside and fine-tuning see what they see in digitlab's
models: raw 0–255 pixels of shape (28, 28) in, 10 numbers out. Every refusal is a `ModelFileError`
of one sentence, and loading always uses Keras `safe_mode`.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import keras
from keras import layers

from digitlab.config import TrainConfig
from digitlab.learn.classifier import (
    Classifier,
    build_metadata,
    check_digit_shapes,
    config_of,
    load_keras_model,
)
from digitlab.modelfile import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_MB,
    ModelFileError,
    embedded_metadata,
    safe_filename,
)

ZIP_START, HDF5_START = b"PK\x03\x04", b"\x89HDF\r\n\x1a\n"
FOREIGN_INPUTS = ((28, 28), (28, 28, 1))  # (28, 28, 1): a CNN's, whose channel axis a Reshape adds
# Keras's .keras archives are stored, not compressed: their content is hardly larger than the file.
MAX_UNPACKED_BYTES = 2 * MAX_UPLOAD_BYTES
UNIT_PIXELS = {"kind": "unit", "mean": 0.0, "std": 1.0}  # digitlab's own "unit" normalisation: pixel / 255


def load_uploaded(data: bytes, name: str) -> tuple[Classifier, list[str]]:
    """The classifier in an uploaded .keras file, and notes for the student about what was assumed."""
    shown = safe_filename(name, fallback="This file")  # shown in the app: no markdown, no folders
    check_archive(data, shown)
    metadata = embedded_metadata(io.BytesIO(data), shown)
    config = config_of(metadata, shown) if metadata is not None else None
    with tempfile.TemporaryDirectory(prefix="digitlab-upload-") as folder:
        path = Path(folder) / "upload.keras"  # Keras loads a path ending in .keras, not bytes
        path.write_bytes(data)
        model = load_keras_model(path, shown)
    if metadata is None:
        return foreign_classifier(model, shown)
    check_digit_shapes(model, shown)
    return Classifier(model=model, config=config, metadata=metadata), []


def check_archive(data: bytes, shown: str) -> None:
    """Refuse, before Keras sees it, a file too large, cut off, not a .keras archive, or a zip bomb."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ModelFileError(
            f"{shown} is {len(data) / 1024**2:.0f} MB, and a model file may be at most {MAX_UPLOAD_MB} MB."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError):
        entries = None
    if entries is None and data.startswith(ZIP_START):
        raise ModelFileError(f"{shown} is incomplete, cut off before its end: download or save it again.")
    if entries is None and data.startswith(HDF5_START):
        raise ModelFileError(
            f"{shown} is in Keras's old HDF5 format: load it in Keras and save it again as a .keras file."
        )
    if entries is None:
        raise ModelFileError(f"{shown} is not a Keras model: a .keras file is a zip archive, and it is not.")
    if "config.json" not in {entry.filename for entry in entries}:
        raise ModelFileError(f"{shown} is a zip archive but not a Keras model: it has no config.json.")
    # Keras unpacks an archive of more than three entries to disk, checking each entry's ratio alone.
    if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
        raise ModelFileError(
            f"{shown} would unpack to more than {MAX_UNPACKED_BYTES // 1024**2} MB: too much."
        )


def foreign_classifier(model, shown: str) -> tuple[Classifier, list[str]]:
    """A Keras model without digitlab's description, made to read raw pixels; and what was assumed."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        check_digit_shapes(model, shown)  # says how many inputs and outputs it has
    input_shape, output_shape = tuple(model.input_shape[1:]), tuple(model.output_shape[1:])
    if output_shape != (10,):
        answers = " × ".join(f"{n:,}" for n in output_shape if n is not None) or "no"
        raise ModelFileError(
            f"{shown} gives {answers} numbers per image, but a digit reader gives 10, one per digit 0–9."
        )
    if input_shape not in FOREIGN_INPUTS:
        raise ModelFileError(
            f"{shown} expects inputs shaped {' × '.join(map(str, input_shape))}, but digitlab gives a model "
            "28 × 28-pixel greyscale images."
        )
    scales_itself = starts_with_rescaling(model)
    head = head_of(model)
    try:
        model = reading_raw_pixels(model, scales_itself, channel=len(input_shape) == 3)
    except Exception as exc:  # a graph Keras cannot rebuild: the student needs one sentence, not a trace
        raise ModelFileError(f"{shown} loaded, but digitlab could not feed it images ({exc}).") from exc
    cnn = any(type(layer).__name__.startswith("Conv") for layer in all_layers(model))
    config = TrainConfig(architecture="cnn" if cnn else "mlp", head=head)
    pixels = "its own Rescaling layer" if scales_itself else "0–1 assumed"
    metadata = build_metadata(config, UNIT_PIXELS, name=Path(shown).stem, foreign={"pixels": pixels})
    notes = [
        (
            "This model starts with a Rescaling layer of its own, so it gets the pixels as they are (0–255)."
            if scales_itself
            else "This model says nothing about how it was trained, so digitlab assumes it reads pixels "
            "scaled to 0–1 (each pixel ÷ 255), centred in 28 × 28 like MNIST; if it reads badly, it may "
            "expect other preprocessing."
        )
    ]
    if head == "linear":
        notes.append("Its last layer gives scores, not probabilities: digitlab makes them probabilities.")
    return Classifier(model=model, config=config, metadata=metadata), notes


def all_layers(model):
    """The model's layers, and those inside its nested models (an ensemble's members), in order."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from all_layers(layer)


def starts_with_rescaling(model) -> bool:
    """Whether the first thing the model does to its input is a Rescaling (looking into nested models)."""
    first = next((layer for layer in model.layers if not isinstance(layer, layers.InputLayer)), None)
    if first is not None and hasattr(first, "layers"):
        return starts_with_rescaling(first)
    return isinstance(first, layers.Rescaling)


def head_of(model) -> str:
    """digitlab's name for what the last layer gives: "softmax" or "sigmoid" scores, else "linear" ones."""
    last = model.layers[-1]
    if isinstance(last, layers.Softmax):
        return "softmax"
    activation = getattr(getattr(last, "activation", None), "__name__", "linear")
    return activation if activation in ("softmax", "sigmoid") else "linear"


def reading_raw_pixels(model, scales_itself: bool, channel: bool):
    """The model with pixel / 255 and the channel axis in front as needed, taking (28, 28) raw pixels."""
    if scales_itself and not channel:
        return model
    inputs = keras.Input((28, 28), name="uploaded_pixels")
    x = inputs if scales_itself else layers.Rescaling(1 / 255, name="uploaded_scaling")(inputs)
    if channel:
        x = layers.Reshape((28, 28, 1), name="uploaded_channel")(x)
    # The model's `call`, not the model: its layers join the new model one by one rather than as one
    # nested block, so look-inside finds its Dense and Conv2D layers as it finds digitlab's. Cloned, so
    # each layer belongs to this model alone: look-inside reads a layer's `output`, its first use.
    joined = keras.Model(inputs, model.call(x), name=model.name)
    reading = keras.models.clone_model(joined)
    reading.set_weights(joined.get_weights())
    return reading
