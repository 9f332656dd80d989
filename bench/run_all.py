"""Every benchmark of issue #7 in one command, ending with one table: figure, goal, met or not.

Runs each bench script in its own process, one after another (they share the machine's cores, so
never at once), echoes its output, and collects the `RESULT | figure | value | goal | verdict`
lines they print (bench/_common.result_line). A script that fails or runs past its time limit
shows up in the table as such. `--quick` runs smaller versions, about ten minutes in all; the
browser benches still take their full 30 strokes.

    python bench/run_all.py [--quick] [--only cold_start,memory]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from _common import RESULT_PREFIX, machine

BENCH_DIR = Path(__file__).resolve().parent
# script: (full arguments, quick arguments, time limit in seconds)
BENCHES = {
    "training_overhead": ([], ["--train-size", "10000", "--repeats", "2"], 900),
    "time_to_98": ([], ["--presets", "Fast 98% (CNN)"], 600),
    "chart_cost": ([], ["--repeats", "5"], 300),
    "live_curves": ([], ["--repeats", "1"], 900),
    "predict_latency": ([], ["--n", "100"], 300),
    "stroke_latency": ([], [], 300),
    "cold_start": ([], ["--runs", "1"], 600),
    "memory": ([], ["--sessions", "4"], 900),
}


def run_bench(name: str, args: list[str], limit: int) -> list[list[str]]:
    """Run one script, echo what it prints, return its result rows."""
    print(f"\n=== {name} {' '.join(args)}", flush=True)
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, str(BENCH_DIR / f"{name}.py"), *args],
            cwd=BENCH_DIR,
            capture_output=True,
            text=True,
            timeout=limit,
        )
    except subprocess.TimeoutExpired:
        return [[name, f"stopped after {limit} s", "", "NOT met"]]
    print(done.stdout, end="")
    print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    rows = [
        [part.strip() for part in line.removeprefix(RESULT_PREFIX).split("|")]
        for line in done.stdout.splitlines()
        if line.startswith(RESULT_PREFIX)
    ]
    if done.returncode != 0 or not rows:
        print(done.stderr[-3000:])
        rows.append([name, f"failed (exit code {done.returncode})", "", "NOT met"])
    return rows


def print_table(rows: list[list[str]]) -> None:
    header = ["figure", "measured", "goal", "met"]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    line = "-+-".join("-" * w for w in widths)
    print(line)
    for row in [header, *rows]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if row is header:
            print(line)
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller runs, about ten minutes in all")
    parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated bench names")
    args = parser.parse_args()
    names = args.only.split(",")
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        parser.error(f"unknown bench(es) {', '.join(unknown)}; choose from {', '.join(BENCHES)}")

    started = time.perf_counter()
    rows = []
    for name in names:
        full, quick, limit = BENCHES[name]
        rows += run_bench(name, quick if args.quick else full, limit)
    kind = "quick" if args.quick else "full"
    print(f"\nmachine: {machine()}; {kind} run, {time.perf_counter() - started:.0f} s")
    print_table(rows)


if __name__ == "__main__":
    main()
