"""Your own handwriting: the drawings a user corrected, and their export and import as a zip.

MNIST's writers were American students and clerks in the 1990s; a class on a tablet writes differently,
and the model's accuracy on its own drawings shows that domain shift (`evaluate_on`). Teaching a copy of
the model those drawings is `learn.fine_tuning`. No streamlit here: the Draw and Teach pages keep a
`HandwritingSet` in the session and call these.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import deque
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from digitlab.evaluation import evaluate
from digitlab.preprocess import ImageError, open_png_of_size
from digitlab.strokes import CANVAS

SESSION_KEY = "own_handwriting"  # where the pages keep the session's HandwritingSet
MAX_DRAWINGS = 500  # per session: older drawings make way for new ones
LABELS_FILE = "labels.csv"
MAX_FILE_BYTES = 2_000_000  # one PNG in an imported zip; a 280×280 canvas is about 10 kB
MAX_MEMBERS = 2 * MAX_DRAWINGS + 1  # a digit and its canvas per drawing, and labels.csv
MAX_TOTAL_BYTES = 100_000_000  # all members together, uncompressed
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

    def relabel(self, index: int, label: int) -> None:
        """Say that drawing `index` (0 = the oldest) is a `label` after all."""
        if not 0 <= int(label) <= 9:
            raise ValueError(f"a label is a digit 0-9, got {label}")
        self.drawings[index] = replace(self.drawings[index], label=int(label))

    def remove(self, index: int) -> None:
        """Take drawing `index` (0 = the oldest) out of the set."""
        del self.drawings[index]

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


def _read_png(data: bytes, name: str, size: tuple[int, int], exact: bool = True) -> Image.Image:
    """A member that must be a PNG of `size` (at most, unless `exact`): format, bytes and pixels checked
    before it is decoded."""
    try:
        return open_png_of_size(data, size, name, exact)
    except ImageError as error:
        raise HandwritingFileError(str(error)) from None


def _read_digit(data: bytes, name: str) -> np.ndarray:
    return np.asarray(_read_png(data, name, (28, 28)).convert("L"))


def from_zip(data: bytes, limit: int = MAX_DRAWINGS) -> HandwritingSet:
    """Read back a zip made by `to_zip`; the last `limit` drawings are kept."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise HandwritingFileError("This file is not a zip archive.") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise HandwritingFileError(
                f"The zip holds {len(members):,} files; at most {MAX_MEMBERS:,} are read."
            )
        if (total := sum(info.file_size for info in members)) > MAX_TOTAL_BYTES:
            raise HandwritingFileError(
                f"The zip unpacks to {total / 1e6:,.0f} MB; at most {MAX_TOTAL_BYTES // 1_000_000} MB fit."
            )
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
            if canvas is not None:  # kept as it came, and shown on the page later: checked now
                _read_png(canvas, name.replace("digits/", "canvas/", 1), (CANVAS, CANVAS), exact=False)
            drawings.drawings.append(Drawing(_read_digit(pixels, name), int(label), canvas))
    return drawings


def evaluate_on(classifier, drawings: HandwritingSet):
    """The classifier's `evaluation.Evaluation` on the drawings (each image alone, as on MNIST)."""
    if not len(drawings):
        raise ValueError("no drawings yet")
    return evaluate(classifier, drawings.images, drawings.labels)
