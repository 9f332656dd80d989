"""Live curves: what watching the Train page costs training, and how often the browser sees it redraw.

A Streamlit server on a free port and Debian Chromium (Playwright); the Quick demo preset on
`--train-size` images for `--epochs` epochs (set through the page's link), long enough that the
whole seconds the page shows measure it to a few percent. Two ways, alternated
`--repeats` times so machine noise hits both alike:
  watched    Start, then stay on the Train page until the results show: the page redraws both live
             charts (SVG pictures, live_charts.py) 2.5 times a second. A recorder in the page notes
             every change of the loss picture's per-batch curve (data-batch-points and
             data-last-progress on its <svg>) every 20 ms.
  unwatched  Start, then go to Home in the same session (no charts drawn) and come back to Train
             once the run is surely over.
Both read the run's own "Training time" (train(): split, build and fit; shown in whole seconds).
Prints the watched/unwatched ratio of medians
(goal ≤ 1.10), the redraws per second seen in the browser (goal ≥ 2) and the most points the
per-batch curve ever held (capped by live_charts.live_curves_svg). For the watched runs it also prints
the CPU seconds the server and the browser (on this same machine) used meanwhile: a classroom's
browsers run on the pupils' own devices, so only the server's share would slow training there.

    python bench/live_curves.py [--epochs 30] [--train-size 20000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from urllib.parse import urlencode

from _browser import (
    chromium,
    cpu_seconds,
    descendants_cpu_seconds,
    new_page,
    streamlit_server,
    wait_for_app_idle,
)
from _common import machine, result_line

from tests.e2e.helpers import metric_value

START = ".st-key-train_start button"
RESULT_MS = 300_000
RECORD_REDRAWS = """() => {
  window.__redraws = [];
  window.__maxPoints = 0;
  let last = null;
  window.__recorder = setInterval(() => {
    const svg = document.querySelector('.st-key-train_live svg[data-metric=loss]');
    if (!svg) return;
    const state = svg.dataset.batchPoints + ':' + svg.dataset.lastProgress;
    if (state !== last) { window.__redraws.push(performance.now()); last = state; }
    window.__maxPoints = Math.max(window.__maxPoints, Number(svg.dataset.batchPoints));
  }, 20);
}"""


def seconds_shown(text: str) -> float:
    """'21 s' or '1 min 05 s' -> seconds."""
    match = re.fullmatch(r"(?:(\d+) min )?(\d+) s", text.strip())
    if not match:
        raise ValueError(f"unexpected training time {text!r}")
    return int(match.group(1) or 0) * 60 + int(match.group(2))


def open_train(browser, url: str, epochs: int, train_size: int):
    page = new_page(browser)
    page.goto(f"{url}/train?{urlencode({'train_epochs': epochs, 'train_train_size': f'{train_size:,}'})}")
    page.locator(START).wait_for(timeout=120_000)
    wait_for_app_idle(page, timeout_ms=120_000)
    return page


def finish(page) -> float:
    page.get_by_test_id("stMetric").filter(has_text="Training time").wait_for(timeout=RESULT_MS)
    return seconds_shown(metric_value(page, "Training time"))


def watched_run(browser, url: str, epochs: int, train_size: int, server_pid: int) -> dict:
    """Training seconds, redraws per second while it ran, most per-batch points drawn at once, and
    the CPU seconds the server and the browser used from Start to the results."""
    page = open_train(browser, url, epochs, train_size)
    page.evaluate(RECORD_REDRAWS)
    server_cpu, browser_cpu = cpu_seconds(server_pid), descendants_cpu_seconds(os.getpid(), server_pid)
    page.locator(START).click()
    seconds = finish(page)
    server_cpu = cpu_seconds(server_pid) - server_cpu
    browser_cpu = descendants_cpu_seconds(os.getpid(), server_pid) - browser_cpu
    redraws, max_points = page.evaluate("() => [window.__redraws, window.__maxPoints]")
    page.context.close()
    rate = (len(redraws) - 1) / ((redraws[-1] - redraws[0]) / 1000) if len(redraws) > 2 else 0.0
    return {
        "seconds": seconds,
        "rate": rate,
        "points": max_points,
        "server_cpu": server_cpu,
        "browser_cpu": browser_cpu,
    }


def unwatched_run(browser, url: str, epochs: int, train_size: int, expected_s: float) -> float:
    page = open_train(browser, url, epochs, train_size)
    page.locator(START).click()
    page.get_by_text(re.compile(r"epoch \d+/\d+ · step", re.IGNORECASE)).first.wait_for(timeout=RESULT_MS)
    page.get_by_role("link", name="Home").first.click()  # same session: the run goes on, unseen
    time.sleep(expected_s * 1.5 + 5)
    page.get_by_role("link", name="Train").first.click()
    seconds = finish(page)
    page.context.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--train-size", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    print(f"machine: {machine()}")
    watched, unwatched, rates, points = [], [], [], []
    with streamlit_server() as (url, server, _), chromium() as browser:
        for i in range(args.repeats):
            run = watched_run(browser, url, args.epochs, args.train_size, server.pid)
            watched.append(run["seconds"])
            rates.append(run["rate"])
            points.append(run["points"])
            unwatched.append(unwatched_run(browser, url, args.epochs, args.train_size, run["seconds"]))
            print(f"repeat {i + 1}: watched {watched[-1]:.0f} s ({run['rate']:.2f} redraws/s, ", end="")
            print(f"up to {run['points']} points; CPU s server {run['server_cpu']:.1f}, ", end="")
            print(f"browser {run['browser_cpu']:.1f}), unwatched {unwatched[-1]:.0f} s")
    ratio = statistics.median(watched) / statistics.median(unwatched)
    rate = statistics.median(rates)
    print(f"Quick demo, {args.train_size:,} images, {args.epochs} epochs: ", end="")
    print(f"median watched/unwatched {ratio:.3f}, redraws {rate:.1f}/s")
    print(result_line("live curves: watched / unwatched time", f"{ratio:.3f}×", "≤ 1.10×", ratio <= 1.10))
    print(result_line("live curves: redraws seen in the browser", f"{rate:.2f}/s", "≥ 2/s", rate >= 2))
    print(result_line("live curves: per-batch points drawn, most", str(max(points))))


if __name__ == "__main__":
    main()
