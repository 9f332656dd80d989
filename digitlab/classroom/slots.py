"""Training slots: how many runs may train at once on a shared server, and the line for the rest.

Each run keeps about one core busy; a class of thirty pressing Start together queues, first come,
first served, and every pupil sees their place in the line.

One server process keeps its line in memory (`TrainingSlots`). Several processes behind a proxy
(`digitlab serve --workers N`) share one line in the classroom's SQLite file (`SharedTrainingSlots`),
so the limit and the order are the server's, whichever process a pupil's browser reaches.
"""

from __future__ import annotations

import collections
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from digitlab import machine
from digitlab.classroom import database

SHARED_ENV = "DIGITLAB_SHARED_SLOTS"  # set to 1 by `digitlab serve --workers N` for its processes


def slot_count(environ=os.environ, cores: int | None = None) -> int:
    """Runs allowed to train at once: env DIGITLAB_TRAINING_SLOTS, else half the cores (at least 1),
    counted as a container's limits allow (`machine.cpu_cores`).

    Each run keeps about one core busy; the other half stays free for drawing and predictions.
    """
    default = max(1, (cores or machine.cpu_cores()) // 2)
    try:
        return max(1, int(environ.get("DIGITLAB_TRAINING_SLOTS", default)))
    except ValueError:  # a typo in the server's environment must not stop every training
        return default


def shared(environ=os.environ) -> bool:
    """Whether this process is one of several sharing the server's slots (env DIGITLAB_SHARED_SLOTS=1)."""
    return environ.get(SHARED_ENV, "").strip().lower() in ("1", "true", "yes")


def server_slots(environ=os.environ):
    """The slots this process hands out: its own line, or the line it shares with the other processes."""
    size = slot_count(environ)
    return SharedTrainingSlots(size) if shared(environ) else TrainingSlots(size)


class TrainingSlots:
    """A fixed number of training slots, handed out in the order runs asked for them (FIFO)."""

    def __init__(self, size: int):
        self.size = size
        self._changed = threading.Condition()
        self._waiting: collections.deque = collections.deque()  # tickets, first in line first
        self._busy = 0

    def acquire(self, ticket, stop_event: threading.Event, poll: float = 0.2) -> bool:
        """Wait in line for a slot; False if `stop_event` is set first (the ticket leaves the line)."""
        with self._changed:
            self._waiting.append(ticket)
            try:
                while self._waiting[0] is not ticket or self._busy >= self.size:
                    if stop_event.is_set():
                        return False
                    self._changed.wait(poll)
                self._busy += 1
                return True
            finally:
                self._waiting.remove(ticket)
                self._changed.notify_all()

    def release(self) -> None:
        with self._changed:
            self._busy -= 1
            self._changed.notify_all()

    def anyone_waiting(self) -> bool:
        """Whether a run waits in line for a slot."""
        with self._changed:
            return bool(self._waiting)

    def position(self, ticket) -> int | None:
        """1 for the next in line, 2 behind it, ...; None when `ticket` is not waiting."""
        with self._changed:
            return self._waiting.index(ticket) + 1 if ticket in self._waiting else None

    @property
    def busy(self) -> int:
        return self._busy


class SharedTrainingSlots:
    """`TrainingSlots` for several processes: the line is a table in the classroom's SQLite file.

    Each ticket in line or holding a slot is a row, first in line the lowest id. Every process keeps
    its rows fresh (`seen`), the waiting ones while they poll and the holding ones from a heartbeat
    thread, and whoever looks at the line first deletes rows not seen for STALE_S: a process that died
    holding a slot frees it that way, and no clock but the machine's is needed. The same interface as
    `TrainingSlots`; a waiter polls (`poll` seconds) instead of being woken.
    """

    HEARTBEAT_S = 2.0
    STALE_S = 15.0

    def __init__(self, size: int, path: Path | None = None):
        self.size = size
        self.path = path
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._lock = threading.Lock()
        self._waiting: dict = {}  # ticket -> its row, while it waits in this process
        self._held: list[int] = []  # rows of the slots this process holds
        self._heartbeat: threading.Thread | None = None

    def acquire(self, ticket, stop_event: threading.Event, poll: float = 0.2) -> bool:
        """Wait in line for a slot; False if `stop_event` is set first (the ticket leaves the line)."""
        row = self._join()
        with self._lock:
            self._waiting[ticket] = row
        taken = False
        try:
            while True:
                row, taken = self._try_to_take(row)
                with self._lock:
                    self._waiting[ticket] = row
                if taken:
                    with self._lock:
                        self._held.append(row)
                    self._keep_alive()
                    return True
                if stop_event.is_set():
                    return False
                stop_event.wait(poll)
        finally:
            with self._lock:
                self._waiting.pop(ticket, None)
            if not taken:
                self._delete(row)

    def release(self) -> None:
        with self._lock:
            row = self._held.pop() if self._held else None
        if row is not None:
            self._delete(row)

    def anyone_waiting(self) -> bool:
        """Whether a run of any process waits in line for a slot."""
        return self._count("holding = 0") > 0

    def position(self, ticket) -> int | None:
        """1 for the next in line, 2 behind it, ...; None when `ticket` is not waiting in this process."""
        with self._lock:
            row = self._waiting.get(ticket)
        if row is None:
            return None
        return self._count("holding = 0 AND id <= ?", row) or None

    @property
    def busy(self) -> int:
        """Slots held by the runs of every process."""
        return self._count("holding = 1")

    def _join(self) -> int:
        with database.connect(self.path, write=True) as connection:
            return self._insert(connection, time.time())

    def _insert(self, connection, now: float) -> int:
        """A new row at the back of the line."""
        sql = "INSERT INTO training_slots (holding, seen, owner) VALUES (0, ?, ?)"
        return connection.execute(sql, (now, self.owner)).lastrowid

    def _try_to_take(self, row: int) -> tuple[int, bool]:
        """Refresh `row` (joining again at the back, should another process have found it stale) and
        take a slot if it is first in line and one is free: (its row, whether it holds a slot)."""
        now = time.time()
        with database.connect(self.path, write=True) as connection:
            connection.execute("DELETE FROM training_slots WHERE seen < ?", (now - self.STALE_S,))
            if not connection.execute("UPDATE training_slots SET seen = ? WHERE id = ?", (now, row)).rowcount:
                row = self._insert(connection, now)
            (busy,) = connection.execute("SELECT COUNT(*) FROM training_slots WHERE holding = 1").fetchone()
            (first,) = connection.execute("SELECT MIN(id) FROM training_slots WHERE holding = 0").fetchone()
            if first != row or busy >= self.size:
                return row, False
            connection.execute("UPDATE training_slots SET holding = 1 WHERE id = ?", (row,))
            return row, True

    def _delete(self, row: int) -> None:
        with database.connect(self.path, write=True) as connection:
            connection.execute("DELETE FROM training_slots WHERE id = ?", (row,))

    def _count(self, where: str, *parameters) -> int:
        with database.connect(self.path) as connection:
            (count,) = connection.execute(
                f"SELECT COUNT(*) FROM training_slots WHERE seen >= ? AND {where}",  # noqa: S608 - fixed text
                (time.time() - self.STALE_S, *parameters),
            ).fetchone()
        return count

    def _keep_alive(self) -> None:
        """Start the thread that keeps this process's held rows fresh, once."""
        with self._lock:
            if self._heartbeat is None:
                beat = threading.Thread(target=self._beat, name="digitlab-slot-heartbeat", daemon=True)
                self._heartbeat = beat
                beat.start()

    def _beat(self) -> None:
        while True:
            with self._lock:
                held = list(self._held)
                if not held:  # under the lock, so that the next `_keep_alive` starts a new beat
                    self._heartbeat = None
                    return
            try:
                with database.connect(self.path, write=True) as connection:
                    now = time.time()
                    sql = "UPDATE training_slots SET seen = ? WHERE id = ?"
                    connection.executemany(sql, [(now, row) for row in held])
            except sqlite3.Error as error:  # a busy file now and then: the next beat retries
                print(f"digitlab: could not refresh the training slots: {error!r}")
            time.sleep(self.HEARTBEAT_S)
