"""Shared bits of the benchmarks: the machine description and percentile formatting."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def percentiles(samples_ms, ps=(50, 95, 99)) -> dict:
    values = np.asarray(samples_ms, dtype=np.float64)
    return {f"p{p}": float(np.percentile(values, p)) for p in ps}


RESULT_PREFIX = "RESULT |"


def result_line(figure: str, value: str, goal: str = "(reported)", met: bool | None = None) -> str:
    """One summary line per figure; bench/run_all.py collects these into its table. No goal: met is None."""
    verdict = "-" if met is None else "met" if met else "NOT met"
    return f"{RESULT_PREFIX} {figure} | {value} | {goal} | {verdict}"
