"""How big this machine really is for the server: its cores and free memory, container limits included.

Inside Docker (or any cgroup with limits) `os.cpu_count()` and `/proc/meminfo` describe the host, not
what the server may use: a container given 2 of a host's 64 cores would open 32 training slots, and the
memory warning would promise the host's free memory. So the limits are read where Linux keeps them:
- cores: the CPUs this process may run on (`os.sched_getaffinity`), and the cgroup's CPU quota
  (v2 `cpu.max`, v1 `cpu.cfs_quota_us` over `cpu.cfs_period_us`), whichever is fewer;
- memory: `MemAvailable`, and what the cgroup's limit leaves (v2 `memory.max` minus
  `memory.current`, v1 `memory.limit_in_bytes` minus `memory.usage_in_bytes`), whichever is less.
The process's own cgroup is found in `/proc/self/cgroup`. Anything unreadable counts as no limit.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
MEMINFO = Path("/proc/meminfo")
_NO_LIMIT = 2**60  # cgroup v1 writes "no limit" as a huge number, just under 2**63


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _number(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def cgroup_dirs(controller: str, root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> list[Path]:
    """Where this process's limits for `controller` ("cpu", "memory") may be, the likeliest first."""
    dirs = []
    for line in (_read(proc_cgroup) or "").splitlines():
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        relative = path.lstrip("/")
        if controllers == "":  # v2: one hierarchy for every controller
            dirs.append(root / relative)
        elif controller in controllers.split(","):  # v1: one hierarchy per controller
            dirs.extend(root / name / relative for name in (controller, controllers))
    dirs += [root, root / controller]  # inside a container, its own cgroup is the root
    return [d for i, d in enumerate(dirs) if d not in dirs[:i]]


def cpu_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """The cgroup's CPU quota in cores, or None without one."""
    for folder in cgroup_dirs("cpu", root, proc_cgroup):
        if (v2 := _read(folder / "cpu.max")) is not None:
            quota, _, period = v2.partition(" ")
            if quota != "max" and (q := _number(quota)) and (p := _number(period or "100000")):
                return q / p
            return None
        quota = _number(_read(folder / "cpu.cfs_quota_us"))
        period = _number(_read(folder / "cpu.cfs_period_us"))
        if quota is not None and period:
            return quota / period if quota > 0 else None
    return None


def cpu_cores(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP, affinity=None) -> int:
    """The cores the server may use: its CPU affinity, capped by the cgroup's quota (at least 1)."""
    try:
        cores = len(affinity if affinity is not None else os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    if (limit := cpu_limit(root, proc_cgroup)) is not None:
        cores = min(cores, math.ceil(limit))  # 1.5 cores of quota still run two threads
    return max(1, cores)


def memory_left_in_cgroup(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int | None:
    """Bytes the cgroup's memory limit still leaves, or None without a limit."""
    for folder in cgroup_dirs("memory", root, proc_cgroup):
        if (v2 := _read(folder / "memory.max")) is not None:
            limit, used = _number(v2), _number(_read(folder / "memory.current"))
        else:
            limit = _number(_read(folder / "memory.limit_in_bytes"))
            used = _number(_read(folder / "memory.usage_in_bytes"))
        if limit is not None and limit < _NO_LIMIT:
            return max(0, limit - (used or 0))
        if v2 is not None or limit is not None:
            return None  # found the cgroup, and it sets no limit
    return None


def available_memory_bytes(
    meminfo: Path | str = MEMINFO, root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP
) -> int | None:
    """Memory the server can still use: Linux's MemAvailable, capped by the cgroup's limit; None if
    neither can be read."""
    available = None
    for line in (_read(Path(meminfo)) or "").splitlines():
        if line.startswith("MemAvailable:"):
            available = _number(line.split()[1] if len(line.split()) > 1 else None)
            available = available * 1024 if available is not None else None
    left = memory_left_in_cgroup(root, proc_cgroup)
    known = [value for value in (available, left) if value is not None]
    return min(known) if known else None
