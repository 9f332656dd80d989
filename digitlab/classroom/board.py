"""The class board: runs that students chose to publish under a nickname, best test accuracy first.

It is the `entries` table of the classroom's SQLite file (`classroom.database`, which says how a
whole class pressing Publish in the same second is kept safe). Values always travel as query
parameters, never inside the SQL text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from digitlab.classroom.database import connect, is_teacher, teacher_code
from digitlab.classroom.database import database_path as board_path

# The connection and the teacher code are the database's, named here too for the board's users.
__all__ = ["BoardError", "Entry", "board_path", "clean_nickname", "clear", "connect", "entries"]
__all__ += ["is_teacher", "publish", "teacher_code"]

MAX_NICKNAME = 24  # characters: fits a table cell on a projector
MAX_ENTRIES = 500  # the oldest beyond this are dropped, so a busy term cannot fill the disk


class BoardError(ValueError):
    """A nickname or a score that cannot go on the board; the message says why."""


@dataclass(frozen=True)
class Entry:
    id: int
    nickname: str
    summary: str  # the run's settings in one line (runs.summary)
    accuracy: float  # on the 10,000 test images, 0-1
    config: str  # the run's TrainConfig as JSON
    created: str  # UTC, ISO 8601


def clean_nickname(text: str) -> str:
    """The nickname as stored: spaces collapsed, control characters removed, 1-MAX_NICKNAME long."""
    text = "".join(ch for ch in str(text) if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise BoardError("Choose a nickname first.")
    if len(text) > MAX_NICKNAME:
        raise BoardError(f"A nickname has at most {MAX_NICKNAME} characters, this one {len(text)}.")
    return text


def publish(nickname: str, summary: str, accuracy: float, config: str, path: Path | None = None) -> int:
    """Put a run on the board; its entry id."""
    nickname = clean_nickname(nickname)
    if not 0.0 <= accuracy <= 1.0:
        raise BoardError(f"A test accuracy is between 0 and 1, not {accuracy!r}.")
    with connect(path, write=True) as db:
        cursor = db.execute(
            "INSERT INTO entries (nickname, summary, accuracy, config) VALUES (?, ?, ?, ?)",
            (nickname, summary, float(accuracy), config),
        )
        db.execute(
            "DELETE FROM entries WHERE id NOT IN (SELECT id FROM entries ORDER BY id DESC LIMIT ?)",
            (MAX_ENTRIES,),
        )
        return int(cursor.lastrowid)


def entries(limit: int = 100, path: Path | None = None) -> list[Entry]:
    """The board, best test accuracy first; equal scores: the first one published first."""
    with connect(path) as db:
        rows = db.execute(
            "SELECT id, nickname, summary, accuracy, config, created FROM entries "
            "ORDER BY accuracy DESC, id ASC LIMIT ?",
            (limit,),
        ).fetchall()
    return [Entry(*row) for row in rows]


def clear(path: Path | None = None) -> int:
    """Empty the board; how many entries were removed."""
    with connect(path, write=True) as db:
        return db.execute("DELETE FROM entries").rowcount
