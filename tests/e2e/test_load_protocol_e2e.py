"""The classroom load test's protocol client (bench/_protocol.py) against a real server, no browser.

Two simulated pupils draw for 10 s while one trains: every stroke must come back with a new prediction
(a wrong canvas message would get "Nothing to read yet" instead), with no exception, no lost session and
no traceback in the server's log; the trainer's Start must start runs that end with their results.
Then the class wall phase (bench/_wall_load.py), briefly: a pupil who sends each finished digit must
see every send on the Wall page, open in Chromium, within 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import _wall_load  # noqa: E402
import load  # noqa: E402
from _browser import streamlit_server  # noqa: E402

SECONDS = 20  # long enough for a 2-epoch run on a fresh server (TensorFlow traced first) to end


def test_protocol_students_get_a_prediction_for_every_stroke(tmp_path):
    args = argparse.Namespace(students=2, trainers=1, duration=SECONDS, client="protocol", workers=1)
    log_path = tmp_path / "server.log"
    # A thread of its own: Playwright's sync API, used by the other e2e tests, leaves an event loop
    # running in this one, and asyncio.run refuses to start a second.
    with streamlit_server(log_path) as (url, server, _), ThreadPoolExecutor(max_workers=1) as pool:
        tally = pool.submit(asyncio.run, load.drive_protocol(url, server.pid, log_path, args)).result()
    assert tally.errors == []
    assert tally.lost_sessions == set()
    # One stroke a second each, less the odd second a Clear takes: most of 2 × 10 strokes are answered.
    assert len(tally.latencies_ms) >= 2 * SECONDS * 3 // 4
    assert all(0 < ms < load.PREDICTION_TIMEOUT_MS for ms in tally.latencies_ms)
    assert tally.runs_started >= 1 and tally.runs_ended >= 1
    assert load.server_tracebacks(log_path, tally.log_length) == []


def test_protocol_senders_reach_the_class_wall(tmp_path):
    seconds = 8  # a phase: two digits, so two sends
    args = argparse.Namespace(
        students=2, trainers=0, duration=seconds, client="protocol", wall=1, wall_client="browser", workers=1
    )
    log_path = tmp_path / "server.log"
    with (
        _wall_load.own_data_dir() as env,
        streamlit_server(log_path, env) as (url, server, _),
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        phases = pool.submit(asyncio.run, _wall_load.drive_phases(url, server.pid, log_path, args))
        without, with_wall, wall = phases.result()
    assert without.latencies_ms and with_wall.latencies_ms
    assert without.lost_sessions == with_wall.lost_sessions == set()
    assert wall.errors == []
    assert len(wall.pressed) >= 2 and set(wall.acknowledged) == set(wall.pressed)
    assert wall.in_time() == set(wall.pressed)  # every send on the wall within 10 s
    assert all(0 < ms < 10_000 for ms in wall.delays_ms(wall.pressed))
