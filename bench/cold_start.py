"""Cold start: how soon each page is usable on a freshly started server, and who imports TensorFlow.

For each of `--runs` fresh servers: the seconds until `/_stcore/health` answers ("server up"), then,
each in a new browser session (Chromium), the first load of `/` (home), `/draw` and `/train`:
from `page.goto` until the page's title shows ("content"), and until the app is connected, no script
runs and nothing is a skeleton for 150 ms (tests/e2e/helpers.wait_for_app_idle), i.e. until every
part of the page is drawn and answers ("interactive", the figure the goal is judged on). Right after home is
interactive, the server's /proc/<pid>/maps tells whether TensorFlow has been loaded.
Goals: home interactive ≤ 3 s after the server is up (median over runs); TensorFlow not loaded by
home or the router.

    python bench/cold_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _browser import chromium, new_page, streamlit_server, tensorflow_loaded, wait_for_app_idle
from _common import machine, result_line

PAGES = ("/", "/draw", "/train")
HOME_GOAL_S = 3.0


def first_load_seconds(browser, url: str) -> tuple[float, float]:
    """Seconds until the page's title shows, and until the whole page is idle."""
    page = new_page(browser)
    started = time.perf_counter()
    page.goto(url)
    page.locator("h1").first.wait_for(timeout=120_000)
    content = time.perf_counter() - started
    wait_for_app_idle(page, timeout_ms=120_000, initial_wait_ms=0)
    seconds = time.perf_counter() - started
    page.context.close()
    return content, seconds


def one_cold_start(browser) -> dict:
    with streamlit_server() as (url, process, up_seconds):
        figures = {"server up": up_seconds}
        for path in PAGES:
            figures[path + " content"], figures[path] = first_load_seconds(browser, url + path)
            if path == "/":
                figures["tensorflow after home"] = tensorflow_loaded(process.pid)
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    print(f"machine: {machine()}")
    columns = [f"{p} content s" for p in PAGES] + [f"{p} idle s" for p in PAGES]
    print(f"{'run':>4} {'server up s':>12} " + " ".join(f"{name:>16}" for name in columns), end="")
    print(f" {'TF after home':>14}")
    runs = []
    with chromium() as browser:
        for i in range(args.runs):
            figures = one_cold_start(browser)
            runs.append(figures)
            loads = " ".join(f"{figures[key]:16.2f}" for key in [f"{p} content" for p in PAGES] + list(PAGES))
            tf = str(figures["tensorflow after home"])
            print(f"{i + 1:>4} {figures['server up']:12.2f} {loads} {tf:>14}")
    keys = ("server up", *PAGES, *(f"{p} content" for p in PAGES))
    median = {key: statistics.median(run[key] for run in runs) for key in keys}
    print("median: " + ", ".join(f"{key} {value:.2f} s" for key, value in median.items()))
    home = median["/"]
    print(result_line("cold start: home interactive", f"{home:.2f} s", f"≤ {HOME_GOAL_S:.0f} s", home <= 3))
    content = median["/ content"]
    print(result_line("cold start: home title shown", f"{content:.2f} s"))
    tf_free = not any(run["tensorflow after home"] for run in runs)
    print(result_line("cold start: TF not loaded by home", str(tf_free), "True", tf_free))
    for path in ("/draw", "/train"):
        print(result_line(f"cold start: first {path} interactive", f"{median[path]:.2f} s"))


if __name__ == "__main__":
    main()
