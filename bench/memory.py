"""Server memory: resident size (RSS) idle, with one session, and with N sessions that each trained.

A Streamlit server on a free port; its RSS read from /proc/<pid>/status. Debian Chromium (Playwright)
opens sessions, one browser context each, all kept open to the end:
  idle        the server up, no browser yet
  1 session   one session has opened the Train page (the dataset is loaded)
  k trained   k sessions have each trained a small network (Quick demo, `--train-size` images,
              one epoch, through the page's link) and seen its results, for k = 1..N
Per-session memory is the growth from 1 trained session to N, divided by N - 1.
Goal: per-session memory bounded, here ≤ 50 MiB for each session that trained a network.
Every wait is bounded (a run that never finishes fails the bench).

    python bench/memory.py [--sessions 10] [--train-size 1000]
"""

from __future__ import annotations

import argparse
import time
from urllib.parse import urlencode

from _browser import chromium, new_page, rss_mib, streamlit_server, wait_for_app_idle
from _common import machine, result_line

START = ".st-key-train_start button"
PER_SESSION_GOAL_MIB = 50
RUN_MS = 180_000


def train_in_new_session(browser, url: str, train_size: int):
    """A new session that trains one small network and shows its results; the page is kept open."""
    page = new_page(browser)
    query = urlencode({"train_epochs": "1", "train_train_size": f"{train_size:,}"})
    page.goto(f"{url}/train?{query}")
    page.locator(START).wait_for(timeout=RUN_MS)
    wait_for_app_idle(page, timeout_ms=RUN_MS)
    page.locator(START).click()
    page.get_by_test_id("stMetric").filter(has_text="Training time").wait_for(timeout=RUN_MS)
    wait_for_app_idle(page, timeout_ms=RUN_MS)
    return page


def settled_rss(pid: int) -> float:
    time.sleep(1.0)  # let the session's rerun and any garbage collection finish
    return rss_mib(pid)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--train-size", type=int, default=1000)
    args = parser.parse_args()
    if args.sessions < 2:
        parser.error("--sessions must be at least 2, to measure the growth per session")

    print(f"machine: {machine()}")
    with streamlit_server() as (url, process, _), chromium() as browser:
        idle = settled_rss(process.pid)
        print(f"idle server: {idle:.0f} MiB")
        first = new_page(browser)
        first.goto(f"{url}/train")
        first.locator(START).wait_for(timeout=RUN_MS)
        wait_for_app_idle(first, timeout_ms=RUN_MS)
        one = settled_rss(process.pid)
        print(f"one session on Train: {one:.0f} MiB")
        trained = []
        for k in range(1, args.sessions + 1):
            train_in_new_session(browser, url, args.train_size)
            trained.append(settled_rss(process.pid))
            print(f"{k:>2} sessions trained: {trained[-1]:.0f} MiB")
    per_session = (trained[-1] - trained[0]) / (args.sessions - 1)
    print(result_line("memory: idle server RSS", f"{idle:.0f} MiB"))
    print(result_line("memory: RSS with one session", f"{one:.0f} MiB"))
    print(result_line(f"memory: RSS, {args.sessions} sessions trained", f"{trained[-1]:.0f} MiB"))
    figure = f"{per_session:.1f} MiB"
    goal = f"≤ {PER_SESSION_GOAL_MIB} MiB"
    print(
        result_line("memory: growth per trained session", figure, goal, per_session <= PER_SESSION_GOAL_MIB)
    )


if __name__ == "__main__":
    main()
