"""Training slots: how many runs may train at once on a shared server, and the line for the rest.

Each run keeps about one core busy; a class of thirty pressing Start together queues, first come,
first served, and every pupil sees their place in the line.
"""

from __future__ import annotations

import collections
import os
import threading

from digitlab import machine


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
