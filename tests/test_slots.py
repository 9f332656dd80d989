"""Training slots on a shared server: first come first served, a visible place in line, closed tabs freed.

Runs here are TrainingRuns on a tiny config, or plain tickets where only the line matters.
"""

import multiprocessing
import threading
import time

import pytest

from digitlab.classroom.runs import RunWatcher, TrainingRun
from digitlab.classroom.slots import SharedTrainingSlots, TrainingSlots, server_slots, slot_count
from digitlab.config import TrainConfig
from digitlab.learn.training import train


def wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture(params=["one process", "shared"])
def make_slots(request, tmp_path):
    """Slots of one process (in memory), or the line several processes share (in SQLite)."""
    if request.param == "one process":
        return TrainingSlots
    return lambda size: SharedTrainingSlots(size, tmp_path / "classroom.sqlite3")


def test_slot_count_comes_from_the_environment_or_half_the_cores():
    assert slot_count({}, cores=16) == 8
    assert slot_count({}, cores=1) == 1
    assert slot_count({"DIGITLAB_TRAINING_SLOTS": "3"}, cores=16) == 3
    assert slot_count({"DIGITLAB_TRAINING_SLOTS": "0"}, cores=16) == 1
    assert slot_count({"DIGITLAB_TRAINING_SLOTS": "lots"}, cores=4) == 2


def test_waiters_get_the_slot_in_the_order_they_asked(make_slots):
    slots, never = make_slots(1), threading.Event()
    assert slots.acquire("first", never)
    order = []

    def take(ticket):
        slots.acquire(ticket, never)
        order.append(ticket)
        slots.release()

    threads = []
    for ticket in ("a", "b", "c", "d"):
        threads.append(threading.Thread(target=take, args=(ticket,)))
        threads[-1].start()
        wait_until(lambda t=ticket: slots.position(t) is not None)  # in line before the next one comes
    assert [slots.position(t) for t in "abcd"] == [1, 2, 3, 4]
    slots.release()
    for thread in threads:
        thread.join(10)
    assert order == ["a", "b", "c", "d"]
    assert slots.busy == 0 and slots.position("a") is None


def test_a_stopped_waiter_leaves_the_line_and_the_others_move_up(make_slots):
    slots = make_slots(1)
    assert slots.acquire("running", threading.Event())
    stops = {ticket: threading.Event() for ticket in "abc"}
    results = {}
    threads = [
        threading.Thread(target=lambda t=t: results.update({t: slots.acquire(t, stops[t], poll=0.01)}))
        for t in "abc"
    ]
    for ticket, thread in zip("abc", threads, strict=True):
        thread.start()
        wait_until(lambda t=ticket: slots.position(t) is not None)
    stops["a"].set()
    threads[0].join(10)
    assert results["a"] is False
    assert (slots.position("a"), slots.position("b"), slots.position("c")) == (None, 1, 2)
    stops["b"].set(), stops["c"].set()
    for thread in threads:
        thread.join(10)
    assert slots.position("b") is None and not slots.anyone_waiting()


def test_a_waiter_told_not_to_wait_still_takes_a_free_slot(make_slots):
    slots, now = make_slots(2), threading.Event()
    now.set()
    assert slots.acquire("first", now) and slots.acquire("second", now)
    assert slots.acquire("third", now) is False
    assert slots.busy == 2 and not slots.anyone_waiting()
    slots.release(), slots.release()
    assert slots.busy == 0


def test_two_slots_let_two_runs_train_and_a_third_wait(small_mnist, make_slots):
    slots = make_slots(2)
    config = TrainConfig(hidden_units=(8,), epochs=200, batch_size=32, train_size=500)
    runs = [TrainingRun(config, small_mnist, train=train, slots=slots) for _ in range(3)]
    for run in runs:
        run.start()  # in line (or holding a slot) before the next presses Start: the line is FIFO
        wait_until(lambda r=run: r.state == "running" or r.queue_position() is not None)
    wait_until(lambda: slots.busy == 2 and runs[2].state == "waiting")
    assert [run.queue_position() for run in runs] == [None, None, 1]
    runs[0].stop()
    wait_until(lambda: runs[2].state == "running", seconds=60)
    assert runs[2].queue_position() is None
    for run in runs:
        run.stop()
        run.join(60)
    assert slots.busy == 0
    assert all(run.dataset is None for run in runs)  # a finished run does not pin the images


class FakeRun:
    """What RunWatcher reads of a TrainingRun."""

    def __init__(self, owner):
        self.owner, self.stop_event, self.done = owner, threading.Event(), False

    def stop(self):
        self.stop_event.set()


def test_the_watcher_stops_a_run_whose_tab_stayed_closed():
    connected = {"alice": True, "bob": True}
    watcher = RunWatcher(lambda owner: connected[owner], grace=30, period=3600)
    alice, bob = FakeRun("alice"), FakeRun("bob")
    watcher.watch(alice), watcher.watch(bob)
    connected["bob"] = False
    assert watcher.check(now=100) == []  # bob just left: maybe a reload
    connected["bob"] = True
    assert watcher.check(now=120) == []  # back within the grace: the clock starts again
    connected["bob"] = False
    assert watcher.check(now=130) == []
    assert watcher.check(now=159) == []
    assert watcher.check(now=160) == [bob]
    assert bob.stop_event.is_set() and not alice.stop_event.is_set()
    bob.done = True
    watcher.check(now=161)
    assert watcher.watched() == 1  # finished runs are forgotten


def test_a_closed_tab_releases_the_slot_for_the_next_in_line(small_mnist):
    connected = {"closed-tab": False, "waiting-tab": True}
    watcher = RunWatcher(lambda owner: connected[owner], grace=0.2, period=0.05)
    slots = TrainingSlots(1)
    config = TrainConfig(hidden_units=(8,), epochs=200, batch_size=32, train_size=500)
    abandoned = TrainingRun(config, small_mnist, train=train, slots=slots, owner="closed-tab")
    waiting = TrainingRun(
        config.replace(epochs=1), small_mnist, train=train, slots=slots, owner="waiting-tab"
    )
    for run in (abandoned, waiting):
        watcher.watch(run)
        run.start()
        wait_until(lambda r=run: r.state in ("running", "waiting"))
    assert waiting.queue_position() == 1
    waiting.join(120)
    assert abandoned.state == "stopped" and waiting.state == "finished"
    wait_until(lambda: watcher.watched() == 0, seconds=5)


def test_the_watchers_own_thread_stops_an_abandoned_run():
    watcher = RunWatcher(lambda owner: False, grace=0.0, period=0.01)
    run = FakeRun("gone")
    watcher.watch(run)
    wait_until(lambda: run.stop_event.is_set(), seconds=5)
    run.done = True
    wait_until(lambda: watcher.watched() == 0, seconds=5)


def test_the_environment_chooses_a_shared_line(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path))
    assert type(server_slots({"DIGITLAB_TRAINING_SLOTS": "3"})) is TrainingSlots
    shared = server_slots({"DIGITLAB_TRAINING_SLOTS": "3", "DIGITLAB_SHARED_SLOTS": "1"})
    assert type(shared) is SharedTrainingSlots and shared.size == 3


def _hold_a_slot(path, held, release):
    """In another process: take the one slot, say so, and keep it until told to let go."""
    slots = SharedTrainingSlots(1, path)
    assert slots.acquire("other process", threading.Event())
    held.set()
    release.wait(60)
    slots.release()


def _hold_then_die(path, held):
    slots = SharedTrainingSlots(1, path)
    slots.acquire("doomed", threading.Event())
    held.set()
    time.sleep(60)  # killed long before


def test_the_slot_limit_holds_across_processes(tmp_path):
    path, spawn = tmp_path / "classroom.sqlite3", multiprocessing.get_context("spawn")
    held, release = spawn.Event(), spawn.Event()
    other = spawn.Process(target=_hold_a_slot, args=(path, held, release), daemon=True)
    other.start()
    try:
        assert held.wait(60), "the other process never took its slot"
        slots, give_up = SharedTrainingSlots(1, path), threading.Event()
        assert slots.busy == 1
        threading.Timer(0.5, give_up.set).start()
        assert slots.acquire("here", give_up) is False, "two processes trained at once in one slot"
        waiter = threading.Thread(target=slots.acquire, args=("here", threading.Event(), 0.02))
        waiter.start()
        wait_until(lambda: slots.position("here") == 1)
        release.set()
        waiter.join(30)
        assert not waiter.is_alive() and slots.busy == 1 and slots.position("here") is None
        slots.release()
        assert slots.busy == 0
    finally:
        release.set()
        other.join(30)


def test_a_process_that_dies_holding_a_slot_frees_it(tmp_path):
    path, spawn = tmp_path / "classroom.sqlite3", multiprocessing.get_context("spawn")
    held = spawn.Event()
    doomed = spawn.Process(target=_hold_then_die, args=(path, held), daemon=True)
    doomed.start()
    assert held.wait(60)
    doomed.kill()
    doomed.join(10)
    slots = SharedTrainingSlots(1, path)
    slots.STALE_S = 1.0  # its heartbeat has stopped: after a second its row is stale
    assert slots.busy == 1
    started = time.monotonic()
    assert slots.acquire("next", threading.Event(), poll=0.05)
    assert 0.5 < time.monotonic() - started < 10
    slots.release()


def test_a_held_slot_stays_held_past_the_stale_time(tmp_path):
    slots = SharedTrainingSlots(1, tmp_path / "classroom.sqlite3")
    slots.STALE_S, slots.HEARTBEAT_S = 0.6, 0.1
    assert slots.acquire("long run", threading.Event())
    time.sleep(1.5)  # the heartbeat keeps the row fresh
    other = SharedTrainingSlots(1, tmp_path / "classroom.sqlite3")
    other.STALE_S = 0.6
    assert other.busy == 1 and other.acquire("second", _already_set()) is False
    slots.release()
    assert other.acquire("second", _already_set())
    other.release()


def _already_set() -> threading.Event:
    event = threading.Event()
    event.set()
    return event
