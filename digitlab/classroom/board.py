"""The class board: runs that students chose to publish under a nickname, best test accuracy first.

One SQLite file in the data folder (env DIGITLAB_DATA_DIR, default <repo>/var/) holds it for the whole
server. A whole class may press Publish in the same second, so every operation opens its own
connection (a connection is not safe to share between the server's threads), the journal is in WAL
mode (readers never wait for the writer) and a writer takes the write lock first (BEGIN IMMEDIATE),
waiting up to BUSY_TIMEOUT_S for it instead of failing. The file is switched to WAL and given its
table once per process, one thread at a time: connections converting a new file together can
deadlock, and SQLite then fails one of them at once without waiting. Values always travel as query
parameters, never inside the SQL text.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import sqlite3
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from digitlab.data import var_dir

DEFAULT_DATA_DIR = var_dir()
FILE_NAME = "board.sqlite3"
MAX_NICKNAME = 24  # characters: fits a table cell on a projector
MAX_ENTRIES = 500  # the oldest beyond this are dropped, so a busy term cannot fill the disk
BUSY_TIMEOUT_S = 10.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    nickname TEXT NOT NULL,
    summary TEXT NOT NULL,
    accuracy REAL NOT NULL,
    config TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
)
"""


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


def board_path() -> Path:
    """Where the board lives: DIGITLAB_DATA_DIR/board.sqlite3, or <repo>/var/board.sqlite3."""
    return Path(os.environ.get("DIGITLAB_DATA_DIR") or DEFAULT_DATA_DIR) / FILE_NAME


_prepared: set[Path] = set()
_prepare_lock = threading.Lock()


def _prepare(path: Path) -> None:
    """Create the file in WAL mode with its table, once per process; retried while another process
    holds the new file."""
    with _prepare_lock:
        if path in _prepared and path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                with contextlib.closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)) as connection:
                    connection.execute("PRAGMA journal_mode = WAL")
                    connection.execute(SCHEMA)
                    connection.commit()
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        _prepared.add(path)


@contextlib.contextmanager
def connect(path: Path | None = None, write: bool = False):
    """One connection for one operation, committed on success, rolled back on an exception and always
    closed. A writer holds the write lock from its first statement."""
    path = Path(path or board_path())
    _prepare(path)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    finally:
        connection.close()


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


def teacher_code() -> str | None:
    """The code that lets a teacher clear the board from the page (env DIGITLAB_TEACHER_CODE), or None."""
    return os.environ.get("DIGITLAB_TEACHER_CODE") or None


def is_teacher(entered: str, code: str | None) -> bool:
    """Whether `entered` is the teacher code; never true when no code is set."""
    return bool(code) and hmac.compare_digest(entered.encode(), code.encode())
