"""Your own handwriting: the drawings a user corrected, their export as a zip, and fine-tuning on them.

MNIST's writers were American students and clerks in the 1990s; a class on a tablet writes differently,
and the model's accuracy on its own drawings shows that domain shift. `fine_tune` teaches a copy of the
model those drawings, each batch mixing them (augmented) with MNIST images so it does not forget MNIST.
No streamlit here: the Draw and Teach pages keep a `HandwritingSet` in the session and call these.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections import deque
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

SESSION_KEY = "own_handwriting"  # where the pages keep the session's HandwritingSet
MAX_DRAWINGS = 500  # per session: older drawings make way for new ones
LABELS_FILE = "labels.csv"
MAX_FILE_BYTES = 2_000_000  # one PNG in an imported zip; a 280×280 canvas is about 10 kB
FINE_TUNED = " + your handwriting"


class HandwritingFileError(ValueError):
    """An imported zip is not a handwriting set we can read; the message is for the user."""


@dataclass(frozen=True)
class Drawing:
    image: np.ndarray  # (28, 28) uint8, the model input exactly as the network saw it
    label: int  # the digit the writer meant
    canvas_png: bytes | None = None  # the drawing as it was on the canvas, PNG; None if not kept


class HandwritingSet:
    """The session's labelled drawings, at most `limit`, oldest dropped first."""

    def __init__(self, drawings=(), limit: int = MAX_DRAWINGS):
        self.drawings: deque[Drawing] = deque(drawings, maxlen=limit)

    def __len__(self) -> int:
        return len(self.drawings)

    def add(self, image: np.ndarray, label: int, canvas: np.ndarray | None = None) -> Drawing:
        """Keep one corrected drawing; `canvas` is the raw canvas pixels (RGBA) to store as PNG."""
        image = np.asarray(image)
        if image.shape != (28, 28):
            raise ValueError(f"expected the 28×28 model input, got shape {image.shape}")
        if not 0 <= int(label) <= 9:
            raise ValueError(f"a label is a digit 0-9, got {label}")
        png = png_bytes(np.asarray(canvas, dtype=np.uint8)) if canvas is not None else None
        drawing = Drawing(image.astype(np.uint8).copy(), int(label), png)
        self.drawings.append(drawing)
        return drawing

    @property
    def images(self) -> np.ndarray:
        return (
            np.stack([d.image for d in self.drawings]) if self.drawings else np.zeros((0, 28, 28), np.uint8)
        )

    @property
    def labels(self) -> np.ndarray:
        return np.array([d.label for d in self.drawings], dtype=np.int64)

    def counts(self) -> np.ndarray:
        """How many drawings of each digit, (10,)."""
        return np.bincount(self.labels, minlength=10)


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def to_zip(drawings: HandwritingSet) -> bytes:
    """digits/NNNN.png (28×28), canvas/NNNN.png (as drawn, when kept) and labels.csv (file,label)."""
    buffer = io.BytesIO()
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["file", "label"])
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, drawing in enumerate(drawings.drawings, start=1):
            name = f"digits/{number:04d}.png"
            archive.writestr(name, png_bytes(drawing.image))
            if drawing.canvas_png is not None:
                archive.writestr(f"canvas/{number:04d}.png", drawing.canvas_png)
            writer.writerow([name, drawing.label])
        archive.writestr(LABELS_FILE, rows.getvalue())
    return buffer.getvalue()


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_FILE_BYTES:
        raise HandwritingFileError(f"{name} is too large ({info.file_size:,} bytes) for one drawing.")
    return archive.read(info)


def _read_digit(data: bytes, name: str) -> np.ndarray:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise HandwritingFileError(f"{name} is not a readable image.") from None
    if image.size != (28, 28):
        raise HandwritingFileError(f"{name} is {image.size[0]}×{image.size[1]} pixels, not 28×28.")
    return np.asarray(image.convert("L"))


def from_zip(data: bytes, limit: int = MAX_DRAWINGS) -> HandwritingSet:
    """Read back a zip made by `to_zip`; the last `limit` drawings are kept."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise HandwritingFileError("This file is not a zip archive.") from None
    with archive:
        listing = _read_member(archive, LABELS_FILE)
        if listing is None:
            raise HandwritingFileError(f"The zip has no {LABELS_FILE} (one line per drawing: file,label).")
        try:
            rows = list(csv.DictReader(io.StringIO(listing.decode("utf-8"))))
        except (UnicodeDecodeError, csv.Error):
            raise HandwritingFileError(f"{LABELS_FILE} is not a readable CSV file.") from None
        drawings = HandwritingSet(limit=limit)
        for line, row in enumerate(rows[-limit:], start=2 + max(0, len(rows) - limit)):
            name, label = (row.get("file") or "").strip(), (row.get("label") or "").strip()
            if label not in {str(d) for d in range(10)}:
                raise HandwritingFileError(f"{LABELS_FILE}, line {line}: the label must be a digit 0-9.")
            pixels = _read_member(archive, name)
            if pixels is None:
                raise HandwritingFileError(f"{LABELS_FILE}, line {line}: {name!r} is not in the zip.")
            canvas = (
                _read_member(archive, name.replace("digits/", "canvas/", 1))
                if name.startswith("digits/")
                else None
            )
            drawings.drawings.append(Drawing(_read_digit(pixels, name), int(label), canvas))
    return drawings


def evaluate_on(classifier, drawings: HandwritingSet):
    """The classifier's `evaluation.Evaluation` on the drawings (each image alone, as on MNIST)."""
    from digitlab.evaluation import evaluate

    if not len(drawings):
        raise ValueError("no drawings yet")
    return evaluate(classifier, drawings.images, drawings.labels)


@dataclass(frozen=True)
class FineTuneConfig:
    # Passes over the mix; each pass augments the drawings differently.
    epochs: int = 3
    # Your drawings per pass, repeated as needed: ten drawings become many augmented variants.
    own_per_epoch: int = 512
    # MNIST training images per drawing in the mix, so the model keeps what it knew (3: a quarter is yours).
    mnist_per_own: int = 3
    batch_size: int = 64
    # Small steps (training uses 1e-3): the model already reads MNIST well.
    learning_rate: float = 3e-4
    # Rotations, shifts, warps and stroke widths, as in training.
    augment: bool = True
    seed: int = 0


@dataclass
class FineTuneResult:
    classifier: object  # storage.Classifier, a new one: the original is untouched
    evaluation: object | None  # on the MNIST test set
    history: dict
    seconds: float


def mix(drawings: HandwritingSet, x_mnist: np.ndarray, y_mnist: np.ndarray, config: FineTuneConfig):
    """One pass's images and labels: the drawings repeated to `own_per_epoch`, plus a sample of MNIST."""
    rng = np.random.default_rng(config.seed)
    own = max(config.own_per_epoch, len(drawings))
    repeat = np.resize(rng.permutation(len(drawings)), own)
    sample = rng.choice(len(x_mnist), min(len(x_mnist), own * config.mnist_per_own), replace=False)
    images = np.concatenate([drawings.images[repeat], x_mnist[sample]])
    labels = np.concatenate([drawings.labels[repeat], np.asarray(y_mnist)[sample]])
    return images, labels


def fine_tune(
    classifier,
    drawings: HandwritingSet,
    dataset,
    config: FineTuneConfig | None = None,
    *,
    emit=lambda event: None,
    stop_event=None,
    evaluate_test: bool = True,
) -> FineTuneResult:
    """A copy of `classifier` trained a few passes on the drawings mixed with MNIST; progress via `emit`."""
    import copy

    import keras

    from digitlab.augment import make_dataset
    from digitlab.callbacks import LiveProgress
    from digitlab.evaluation import drawings_summary, evaluate, evaluate_drawings
    from digitlab.model import compile_model
    from digitlab.storage import Classifier
    from digitlab.training import encode_targets

    if not len(drawings):
        raise ValueError("draw and correct a few digits first: there is nothing to learn from")
    config = config or FineTuneConfig()
    started = time.perf_counter()
    model = keras.models.clone_model(classifier.model)
    model.set_weights(classifier.model.get_weights())
    compile_model(model, classifier.config.replace(optimizer="adam", learning_rate=config.learning_rate))
    images, labels = mix(drawings, dataset.x_train, dataset.y_train, config)
    batches = make_dataset(
        images,
        encode_targets(labels, classifier.config),
        config.batch_size,
        config.seed,
        train=True,
        augment=config.augment,
    )
    progress = LiveProgress(emit, stop_event, batch_size=config.batch_size)
    history = model.fit(batches, epochs=config.epochs, shuffle=False, verbose=0, callbacks=[progress]).history
    tuned = Classifier(model=model, config=classifier.config, metadata=copy.deepcopy(classifier.metadata))
    evaluation = evaluate(tuned, dataset.x_test, dataset.y_test) if evaluate_test else None
    metrics = evaluation.summary() if evaluation is not None else {}
    if evaluate_test:
        metrics.update(drawings_summary(evaluate_drawings(tuned)))
    seconds = time.perf_counter() - started
    tuned.metadata |= {
        "name": classifier.name.removesuffix(FINE_TUNED) + FINE_TUNED,
        "metrics": metrics,
        "fine_tuned": {"drawings": len(drawings), "images": len(images), "epochs": config.epochs},
    }
    history = {key: [float(v) for v in values] for key, values in history.items()}
    return FineTuneResult(tuned, evaluation, history, seconds)
