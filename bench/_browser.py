"""Shared bits of the browser benchmarks: a Streamlit server on a free port and Debian Chromium.

Same recipe as the e2e suite (tests/e2e/conftest.py), but the server's process is handed back too,
so a benchmark can read its memory, and its log goes to test-artifacts/bench-server.log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.e2e.conftest import CHROMIUM_ARGS, VIEWPORT  # noqa: E402
from tests.e2e.helpers import wait_for_app_idle  # noqa: E402, F401  (re-exported for the benches)

CHROMIUM = os.environ.get("DIGITLAB_CHROMIUM", "/usr/bin/chromium")
SERVER_LOG = REPO_ROOT / "test-artifacts" / "bench-server.log"
START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a live process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants_cpu_seconds(root: int, skip: int) -> float:
    """CPU seconds of every live process under `root` (the browser, say), leaving out `skip`'s tree."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):  # not a process, or it ended meanwhile
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid == skip:
            continue
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
        todo += children.get(pid, [])
    return total


def tensorflow_loaded(pid: int) -> bool:
    """Whether the process has TensorFlow's shared library mapped, i.e. has imported it."""
    return "libtensorflow_framework" in Path(f"/proc/{pid}/maps").read_text()


@contextlib.contextmanager
def streamlit_server(log_path: Path = SERVER_LOG, env: dict[str, str] | None = None):
    """`streamlit run app.py` on a free localhost port, with `env` added to this process's environment;
    yields (url, process, seconds until healthy) and stops the server's process group afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--browser.gatherUsageStats", "false"]
    command += ["--server.fileWatcherType", "none", "--server.address", "127.0.0.1"]
    with _served(command, port, log_path, env, START_TIMEOUT_S, "streamlit") as served:
        yield served


@contextlib.contextmanager
def workers_server(log_path: Path, env: dict[str, str] | None, workers: int):
    """`digitlab serve --workers N` on a free localhost port: N app processes behind HAProxy; yields
    (url, the serve process, seconds until the proxy answered) and stops the whole group afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "digitlab", "serve", "--workers", str(workers), "--port", str(port)]
    command += ["--host", "127.0.0.1"]
    with _served(command, port, log_path, env, 2 * START_TIMEOUT_S, f"serve --workers {workers}") as served:
        yield served


@contextlib.contextmanager
def _served(command: list[str], port: int, log_path: Path, env, timeout_s: float, name: str):
    """Start `command` in a process group of its own, logging to `log_path`; once `port` answers its
    health check, yield (url, process, seconds it took); stop the group afterwards."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        while not healthy(url):
            if process.poll() is not None or time.perf_counter() - started > timeout_s:
                raise RuntimeError(f"{name} did not come up; see {log_path}")
            time.sleep(0.05)
        yield url, process, time.perf_counter() - started
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    """Stop a server and everything it started (its process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def chromium():
    """A headless Chromium browser (Playwright); new_context() gives a fresh Streamlit session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page
