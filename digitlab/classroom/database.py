"""The classroom's one SQLite file, shared by the class board, the class wall and the training slots.

It lives in the data folder (env DIGITLAB_DATA_DIR, default <repo>/var/) and serves the whole server,
and every process of it. A whole class may press a button in the same second, so every operation
opens its own connection (a connection is not safe to share between the server's threads), the
journal is in WAL mode (readers never wait for the writer) and a writer takes the write lock first
(BEGIN IMMEDIATE), waiting up to BUSY_TIMEOUT_S for it instead of failing. The file is switched to WAL
and given its tables once per process, one thread at a time: connections converting a new file
together can deadlock, and SQLite then fails one of them at once without waiting. Values always
travel as query parameters, never inside the SQL text.

Also the teacher code, which the board and the wall ask for before anything that changes them for
everyone.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from digitlab.data import var_dir

DEFAULT_DATA_DIR = var_dir()
FILE_NAME = "board.sqlite3"  # named when it held the board alone; kept so a school's board survives
BUSY_TIMEOUT_S = 10.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    nickname TEXT NOT NULL,
    summary TEXT NOT NULL,
    accuracy REAL NOT NULL,
    config TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS wall (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL UNIQUE,
    meant INTEGER NOT NULL CHECK (meant BETWEEN 0 AND 9),
    read INTEGER NOT NULL CHECK (read BETWEEN 0 AND 9),
    probabilities TEXT NOT NULL,
    pixels BLOB NOT NULL,
    thumbnail BLOB NOT NULL,
    nickname TEXT NOT NULL,
    model TEXT NOT NULL,
    mnist REAL,
    round INTEGER,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS wall_rounds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    prompt TEXT NOT NULL,
    digit INTEGER CHECK (digit BETWEEN 0 AND 9),
    open INTEGER NOT NULL DEFAULT 1,
    started TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS training_slots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    holding INTEGER NOT NULL DEFAULT 0 CHECK (holding IN (0, 1)),
    seen REAL NOT NULL,
    owner TEXT NOT NULL
);
"""


def database_path() -> Path:
    """Where the classroom lives: DIGITLAB_DATA_DIR/board.sqlite3, or <repo>/var/board.sqlite3."""
    return Path(os.environ.get("DIGITLAB_DATA_DIR") or DEFAULT_DATA_DIR) / FILE_NAME


_prepared: set[Path] = set()
_prepare_lock = threading.Lock()


def _prepare(path: Path) -> None:
    """Create the file in WAL mode with its tables, once per process; retried while another process
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
                    connection.executescript(SCHEMA)
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
    path = Path(path or database_path())
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


def teacher_code(secrets: Mapping[str, object] | None = None) -> str | None:
    """The code that lets a teacher clear the board and run the wall, or None: `teacher_code` in the
    server's secrets (Streamlit's .streamlit/secrets.toml, handed in by the app), else env
    DIGITLAB_TEACHER_CODE."""
    code = (secrets or {}).get("teacher_code") or os.environ.get("DIGITLAB_TEACHER_CODE")
    return str(code) if code else None


def is_teacher(entered: str, code: str | None) -> bool:
    """Whether `entered` is the teacher code; never true when no code is set."""
    return bool(code) and hmac.compare_digest(str(entered).encode(), code.encode())
