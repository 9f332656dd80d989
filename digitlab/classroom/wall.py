"""The class wall: drawings students sent from the Draw page, for the whole class to see on the projector.

Each drawing keeps the 28×28 input the network read, a small thumbnail of the canvas, the digit the
student meant, what the network read and its ten probabilities, the model's name and an optional
nickname; nothing else about the student. They live in the classroom's SQLite file
(`classroom.database`), the newest MAX_DRAWINGS kept. Sending the same drawing twice stores it once: a
drawing is known by a digest of its pixels and its thumbnail.

A teacher runs rounds: a prompt ("Everyone draw a 4"), optionally with the digit it asks for, shown
large on the wall and on every Draw page until the teacher ends it. `class_reading` turns the wall
into the class's own confusion matrix, accuracy and commonest mix-ups, read by the model that read
each drawing or re-read by another; `to_zip` exports it in the format the Teach page imports.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from digitlab import evaluation
from digitlab.classroom import handwriting
from digitlab.classroom.board import BoardError, clean_nickname
from digitlab.classroom.database import connect

MAX_DRAWINGS = 2000  # the oldest beyond this are dropped: a term of rounds cannot fill the disk
MAX_PROMPT = 80  # characters: one line, large, on a projector
THUMBNAIL_PX = 96  # the canvas as the wall shows it, each side
OPEN_ROUND = "SELECT id FROM wall_rounds WHERE open = 1 ORDER BY id DESC LIMIT 1"
COLUMNS = "id, meant, read, probabilities, pixels, thumbnail, nickname, model, mnist, round, created"


class WallError(BoardError):
    """A drawing, a digit, a nickname or a prompt the wall cannot take; the message says why."""


@dataclass(frozen=True)
class WallDrawing:
    id: int
    meant: int  # the digit the student meant
    read: int  # what the network read when it was sent
    probabilities: tuple[float, ...]  # the ten probabilities of that reading
    pixels: np.ndarray  # (28, 28) uint8: the input exactly as the network saw it
    thumbnail: bytes  # PNG, THUMBNAIL_PX square: the canvas as drawn
    nickname: str  # "" when none was given
    model: str  # the name of the model that read it
    mnist: float | None  # that model's MNIST test accuracy, 0-1, when known
    round: int | None  # the round it was sent in
    created: str  # UTC, ISO 8601

    @property
    def right(self) -> bool:
        return self.meant == self.read

    @classmethod
    def from_row(cls, row) -> WallDrawing:
        id_, meant, read, probs, pixels, *rest = row
        pixels = np.frombuffer(pixels, dtype=np.uint8).reshape(28, 28)
        return cls(id_, meant, read, tuple(json.loads(probs)), pixels, *rest)


@dataclass(frozen=True)
class Round:
    id: int
    prompt: str
    digit: int | None  # the digit the prompt asks for, if one
    started: str


@dataclass(frozen=True)
class Sent:
    id: int
    new: bool  # False: this drawing was on the wall already, nothing changed


def thumbnail(canvas: np.ndarray, side: int = THUMBNAIL_PX) -> bytes:
    """The canvas (RGBA, H×W×4, or grey) as a small grey PNG: ink where it was drawn, as it was drawn."""
    canvas = np.asarray(canvas)
    if canvas.ndim != 2 and not (canvas.ndim == 3 and canvas.shape[2] in (3, 4)):
        raise WallError(f"A canvas is a picture (height × width × 3 or 4), not shape {canvas.shape}.")
    picture = Image.fromarray(canvas.astype(np.uint8))
    if picture.mode == "RGBA":  # the canvas's transparent parts are its black background
        background = Image.new("RGBA", picture.size, (0, 0, 0, 255))
        picture = Image.alpha_composite(background, picture)
    picture = picture.convert("L").resize((side, side), Image.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def digest(pixels: np.ndarray, thumbnail_png: bytes) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels, dtype=np.uint8).tobytes() + thumbnail_png).hexdigest()


def _digit(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) <= 9:
        raise WallError(f"{what} is a digit from 0 to 9, not {value!r}.")
    return int(value)


def _nickname(text: str | None) -> str:
    """Optional here: "" when none was given."""
    try:
        return clean_nickname(text) if text and str(text).strip() else ""
    except BoardError as error:
        raise WallError(str(error)) from None


def send(
    pixels: np.ndarray,
    meant: int,
    probabilities,
    thumbnail_png: bytes,
    nickname: str | None = None,
    model: str = "",
    mnist: float | None = None,
    path: Path | None = None,
) -> Sent:
    """Put one drawing on the wall, in the open round if there is one; the same drawing again is a no-op."""
    pixels = np.asarray(pixels)
    if pixels.shape != (28, 28):
        raise WallError(f"The wall takes the 28×28 input the network read, not shape {pixels.shape}.")
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.shape != (10,) or not np.all(np.isfinite(probs)):
        raise WallError("A reading has ten probabilities, one per digit.")
    meant = _digit(meant, "The digit you meant")
    nickname = _nickname(nickname)
    pixels = pixels.astype(np.uint8)
    key = digest(pixels, thumbnail_png)
    with connect(path, write=True) as db:
        found = db.execute("SELECT id FROM wall WHERE digest = ?", (key,)).fetchone()
        if found:
            return Sent(found[0], new=False)
        open_round = db.execute(OPEN_ROUND).fetchone()
        cursor = db.execute(
            "INSERT INTO wall (digest, meant, read, probabilities, pixels, thumbnail, nickname, model, "
            "mnist, round) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                meant,
                int(probs.argmax()),
                json.dumps([round(float(p), 6) for p in probs]),
                pixels.tobytes(),
                thumbnail_png,
                nickname,
                str(model)[:200],
                None if mnist is None else float(mnist),
                open_round[0] if open_round else None,
            ),
        )
        db.execute(
            "DELETE FROM wall WHERE id NOT IN (SELECT id FROM wall ORDER BY id DESC LIMIT ?)", (MAX_DRAWINGS,)
        )
        return Sent(int(cursor.lastrowid), new=True)


def drawings(
    meant: int | None = None, limit: int = MAX_DRAWINGS, path: Path | None = None
) -> list[WallDrawing]:
    """The wall, newest first; only the drawings of one meant digit when `meant` is given."""
    with connect(path) as db:
        if meant is None:
            rows = db.execute(f"SELECT {COLUMNS} FROM wall ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        else:
            rows = db.execute(
                f"SELECT {COLUMNS} FROM wall WHERE meant = ? ORDER BY id DESC LIMIT ?",
                (_digit(meant, "A filter"), limit),
            ).fetchall()
    return [WallDrawing.from_row(row) for row in rows]


def version(path: Path | None = None) -> tuple[int, int, int]:
    """Changes whenever the wall does (a drawing sent or dropped, a clear, a round started or ended):
    (newest drawing id, drawings, open round id or 0). One cheap query for a wall that polls."""
    with connect(path) as db:
        newest, count = db.execute("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM wall").fetchone()
        open_round = db.execute(OPEN_ROUND).fetchone()
    return int(newest), int(count), int(open_round[0]) if open_round else 0


def clear(path: Path | None = None) -> int:
    """Take every drawing off the wall; how many were removed."""
    with connect(path, write=True) as db:
        return db.execute("DELETE FROM wall").rowcount


def start_round(prompt: str, digit: int | None = None, path: Path | None = None) -> Round:
    """Open a round (the previous one ends); its prompt is "Everyone draw a 4" when only a digit is given."""
    digit = None if digit is None else _digit(digit, "The round's digit")
    text = " ".join("".join(ch for ch in str(prompt or "") if ch.isprintable()).split())
    if not text:
        if digit is None:
            raise WallError("Write a prompt, or pick the digit everyone should draw.")
        text = f"Everyone draw a {digit}"
    if len(text) > MAX_PROMPT:
        raise WallError(f"A prompt has at most {MAX_PROMPT} characters, this one {len(text)}.")
    with connect(path, write=True) as db:
        db.execute("UPDATE wall_rounds SET open = 0 WHERE open = 1")
        cursor = db.execute("INSERT INTO wall_rounds (prompt, digit) VALUES (?, ?)", (text, digit))
        round_id = int(cursor.lastrowid)
        started = db.execute("SELECT started FROM wall_rounds WHERE id = ?", (round_id,)).fetchone()[0]
    return Round(round_id, text, digit, started)


def end_round(path: Path | None = None) -> bool:
    """End the open round; whether there was one."""
    with connect(path, write=True) as db:
        return db.execute("UPDATE wall_rounds SET open = 0 WHERE open = 1").rowcount > 0


def current_round(path: Path | None = None) -> Round | None:
    with connect(path) as db:
        row = db.execute(
            "SELECT id, prompt, digit, started FROM wall_rounds WHERE open = 1 ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return Round(*row) if row else None


@dataclass(frozen=True)
class ClassReading:
    """The wall read by one model: the class's own confusion matrix and how it compares."""

    evaluation: evaluation.Evaluation  # over the wall's drawings, meant digit as the label
    mix_ups: list[tuple[int, int, int]]  # (meant, read, how many), commonest first, at most five

    @property
    def accuracy(self) -> float:
        return self.evaluation.accuracy


def class_reading(shown: list[WallDrawing], probabilities: np.ndarray | None = None) -> ClassReading | None:
    """The wall's confusion matrix, accuracy and five commonest mix-ups; re-read when `probabilities`
    ((N, 10), in the order of `shown`) come from another model. None for an empty wall."""
    if not shown:
        return None
    if probabilities is None:
        probabilities = np.array([drawing.probabilities for drawing in shown])
    labels = np.array([drawing.meant for drawing in shown])
    read = evaluation.Evaluation.from_probabilities(np.asarray(probabilities, dtype=np.float64), labels)
    return ClassReading(read, read.most_confused(5))


def images(shown: list[WallDrawing]) -> np.ndarray:
    """The 28×28 inputs of `shown` as one batch, (N, 28, 28) uint8, to re-read with another model."""
    return np.stack([d.pixels for d in shown]) if shown else np.zeros((0, 28, 28), np.uint8)


def to_zip(shown: list[WallDrawing]) -> bytes:
    """The wall as the Teach page imports it, oldest first: digits/NNNN.png, canvas/NNNN.png, labels.csv."""
    oldest_first = [handwriting.Drawing(d.pixels, d.meant, d.thumbnail) for d in reversed(shown)]
    return handwriting.to_zip(handwriting.HandwritingSet(oldest_first, limit=max(1, len(shown))))
