"""A training run in a background thread, and the watcher that stops the runs of closed tabs.

A `TrainingRun` waits for a slot (`classroom.slots`), calls the training function it was handed, and
collects its progress events (`digitlab.events`) for the page to poll. Stop, Pause and Step take effect
after the current batch (`control.RunControl`), weights kept; a paused run keeps its slot. It holds no
TensorFlow: the app passes `learn.training.train` (or `continue_training`) in.
"""

from __future__ import annotations

import queue
import threading
import time

from digitlab import events
from digitlab.classroom.slots import TrainingSlots
from digitlab.config import TrainConfig
from digitlab.control import RunControl
from digitlab.data import Dataset


class RunWatcher:
    """Stops the runs whose browser session has gone, releasing their slots.

    Streamlit tells a page nothing when its tab closes, so a thread asks `is_connected(run.owner)`
    every `period` seconds while runs are watched. A run whose owner stays away `grace` seconds is
    stopped; a tablet that only reloads or loses Wi-Fi for a moment keeps its run.
    """

    def __init__(self, is_connected, grace: float = 30.0, period: float = 5.0):
        self.is_connected = is_connected
        self.grace = grace
        self.period = period
        self._lock = threading.Lock()
        self._away_since: dict[TrainingRun, float | None] = {}  # watched run -> when its owner left
        self._thread: threading.Thread | None = None

    def watch(self, run: TrainingRun) -> None:
        with self._lock:
            self._away_since[run] = None
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="run-watcher", daemon=True)
                self._thread.start()

    def watched(self) -> int:
        with self._lock:
            return len(self._away_since)

    def check(self, now: float | None = None) -> list[TrainingRun]:
        """Stop the runs abandoned for `grace` seconds, forget the finished ones; return those stopped."""
        now = time.monotonic() if now is None else now
        stopped = []
        with self._lock:
            for run, since in list(self._away_since.items()):
                if run.done:
                    del self._away_since[run]
                elif self.is_connected(run.owner):
                    self._away_since[run] = None
                elif since is None:
                    self._away_since[run] = now
                elif now - since >= self.grace and not run.stop_event.is_set():
                    run.stop()
                    stopped.append(run)
        return stopped

    def _loop(self) -> None:
        """Runs while something is watched; the next `watch` starts a new one."""
        while True:
            time.sleep(self.period)
            self.check()
            with self._lock:
                if not self._away_since:
                    self._thread = None
                    return


class TrainingRun:
    """One training in a background thread; the page polls `drain_events` and may call `stop`."""

    def __init__(
        self,
        config: TrainConfig,
        dataset: Dataset,
        *,
        train,
        slots: TrainingSlots | None = None,
        owner: str | None = None,
        continues: TrainingRun | None = None,
    ):
        self.config = config
        self.dataset = dataset
        # train(config, dataset, emit=, control=) -> a result with .diverged and .stopped: the app
        # passes learn.training.train, so this module needs neither TensorFlow nor its import time.
        self.train = train
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.control = RunControl()
        self.slots = slots
        self.owner = owner  # the browser session that started it, so a closed tab can stop it
        self.state = "pending"  # pending → waiting → running → finished | stopped | diverged | failed
        self.result = None  # learn.training.TrainResult
        self.error: str | None = None
        # A run that continues another draws its curves on from the other's.
        self.continues = continues
        self.batch_events: list[events.BatchEvent] = list(continues.batch_events) if continues else []
        self.epoch_events: list[events.EpochEvent] = list(continues.epoch_events) if continues else []
        self._thread = threading.Thread(target=self._run, name=f"train-{config.label}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def stop_event(self) -> threading.Event:
        return self.control.stop_event

    def stop(self) -> None:
        self.control.stop()

    @property
    def paused(self) -> bool:
        """Waiting between two batches for Resume or Step."""
        return self.control.waiting and not self.done

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def queue_position(self) -> int | None:
        """Place in the line for a training slot (1 = next), or None when not waiting."""
        return self.slots.position(self) if self.slots is not None else None

    @property
    def done(self) -> bool:
        return self.state in ("finished", "stopped", "diverged", "failed")

    def drain_events(self) -> list[events.ProgressEvent]:
        """Move new events from the queue into the run's history; return the new ones."""
        new = []
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            new.append(event)
            (self.batch_events if event["kind"] == "batch" else self.epoch_events).append(event)
        return new

    def _run(self) -> None:
        try:
            if self.slots is not None:
                self.state = "waiting"
                if not self.slots.acquire(self, self.stop_event):
                    self.state = "stopped"
                    return
            try:
                self.state = "running"
                self.result = self.train(
                    self.config,
                    self.dataset,
                    emit=self.events.put,
                    control=self.control,
                )
            finally:
                if self.slots is not None:
                    self.slots.release()
            if self.result.diverged:
                self.state = "diverged"
            elif self.result.stopped:
                self.state = "stopped"
            else:
                self.state = "finished"
        except Exception as exc:  # the page shows the message; the server must not lose the thread silently
            self.error = f"{type(exc).__name__}: {exc}"
            self.state = "failed"
        finally:
            self.dataset = None  # shared, but a finished run need not pin it: pages keep only the result
            self.control.model = None
            self.continues = None  # its events are copied; its model lives on in this run's result
