"""Several app processes behind HAProxy on one port: `digitlab serve --workers N`.

Streamlit keeps a browser session in the process that opened it, so a class bigger than one process
runs as replicas behind a reverse proxy with sticky sessions. HAProxy (Debian's `haproxy` package)
hands a new browser to the worker with the fewest connections and sets a cookie naming it; every later
request of that browser (the page, `/_stcore/stream`'s websocket, `/media`, uploads) carries the cookie
and reaches the same worker. Each response says which worker answered (header `X-Digitlab-Worker`),
which the load bench uses to check that no session was ever answered by two.

The workers share the data folder: the class board and wall were already one SQLite file, and the
training slots join them there (`classroom.slots.SharedTrainingSlots`, env DIGITLAB_SHARED_SLOTS=1).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HAPROXY_PLACES = ("haproxy", "/usr/sbin/haproxy", "/usr/local/sbin/haproxy")
WORKER_HEADER = "X-Digitlab-Worker"
WORKER_COOKIE = "DIGITLAB_WORKER"
WORKER_ENV = "DIGITLAB_WORKER"  # each worker's name, for its log lines and the load bench
HEALTH = "/_stcore/health"
START_TIMEOUT_S = 120  # a worker imports streamlit and the app; on a loaded 2-core machine, slowly
MAX_WORKERS = 32


class HostingError(Exception):
    """The proxy is missing, a port is taken, or a worker would not start: one line for the teacher."""


@dataclass(frozen=True)
class Worker:
    name: str
    port: int


def workers_for(port: int, count: int) -> list[Worker]:
    """Workers w1..wN on the ports after the proxy's: 8501 -> 8502, 8503, ..."""
    if not 1 <= count <= MAX_WORKERS:
        raise HostingError(f"--workers must be between 1 and {MAX_WORKERS}, not {count}")
    return [Worker(f"w{i}", port + i) for i in range(1, count + 1)]


def haproxy_config(host: str, port: int, workers: list[Worker]) -> str:
    """HAProxy's configuration: one front door, cookie-sticky sessions, websockets kept open for a
    lesson, workers checked on Streamlit's health endpoint."""
    servers = "\n".join(
        f"    server {w.name} 127.0.0.1:{w.port} check cookie {w.name} inter 2s fall 3 rise 1"
        for w in workers
    )
    return f"""# Written by `digitlab serve --workers {len(workers)}`; regenerated at every start.
global
    maxconn 4096

defaults
    mode http
    option http-server-close
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    timeout http-request 30s

frontend digitlab
    bind {host}:{port}
    default_backend workers

backend workers
    balance leastconn
    cookie {WORKER_COOKIE} insert indirect nocache httponly attr "SameSite=Lax"
    option httpchk GET {HEALTH}
    http-response set-header {WORKER_HEADER} %[srv_name]
{servers}
"""


def find_haproxy() -> str:
    for place in HAPROXY_PLACES:
        found = shutil.which(place)
        if found:
            return found
    raise HostingError(
        "--workers needs HAProxy, which is not installed: `sudo apt-get install haproxy` "
        "(or run one process: `digitlab serve` without --workers)"
    )


def is_healthy(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH}", timeout=timeout) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Host:
    """The workers and the proxy, started together and stopped together."""

    def __init__(self, app: Path, host: str, port: int, count: int, streamlit_args=(), environ=None):
        self.app, self.host, self.port = app, host, port
        self.workers = workers_for(port, count)
        self.streamlit_args = list(streamlit_args)
        self.environ = dict(os.environ if environ is None else environ)
        self.processes: dict[str, subprocess.Popen] = {}
        self._folder = tempfile.TemporaryDirectory(prefix="digitlab-serve-")

    def start(self) -> None:
        haproxy = find_haproxy()
        config = Path(self._folder.name) / "haproxy.cfg"
        config.write_text(haproxy_config(self.host, self.port, self.workers))
        checked = subprocess.run([haproxy, "-c", "-q", "-f", str(config)], capture_output=True, text=True)
        if checked.returncode:
            raise HostingError(f"HAProxy refused its configuration: {checked.stderr.strip()[:500]}")
        for worker in self.workers:
            self.processes[worker.name] = subprocess.Popen(
                self._worker_command(worker), cwd=self.app.parent, env=self._worker_env(worker)
            )
        self._wait_for_workers()
        self.processes["haproxy"] = subprocess.Popen([haproxy, "-db", "-f", str(config)])
        time.sleep(0.5)
        if self.processes["haproxy"].poll() is not None:
            raise HostingError(f"HAProxy could not listen on {self.host}:{self.port} (is the port taken?)")

    def _worker_command(self, worker: Worker) -> list[str]:
        return [
            sys.executable, "-m", "streamlit", "run", str(self.app),
            "--server.address", "127.0.0.1", "--server.port", str(worker.port), "--server.headless", "true",
            *self.streamlit_args,
        ]  # fmt: skip

    def _worker_env(self, worker: Worker) -> dict[str, str]:
        return self.environ | {
            "PYTHONPATH": str(self.app.parent),
            "DIGITLAB_SHARED_SLOTS": "1",
            WORKER_ENV: worker.name,
        }

    def _wait_for_workers(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        waiting = list(self.workers)
        while waiting:
            self.check_alive()
            waiting = [worker for worker in waiting if not is_healthy(worker.port)]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(f"{w.name} (port {w.port})" for w in waiting)
                raise HostingError(f"these workers did not start within {START_TIMEOUT_S} s: {names}")
            time.sleep(0.3)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise HostingError(f"{name} stopped (exit code {process.returncode}); stopping the others")

    def serve_forever(self, poll: float = 1.0) -> None:
        while True:
            self.check_alive()
            time.sleep(poll)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self._folder.cleanup()


def serve(app: Path, host: str, port: int, count: int, streamlit_args=()) -> None:
    """Start the workers and the proxy, serve until Ctrl+C or SIGTERM (`docker stop`, systemd) or a
    process dies, and stop them all; HostingError says why it could not go on."""
    hosted = None
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        hosted = Host(app, host, port, count, streamlit_args)
        hosted.start()
        print(f"digitlab: {count} workers behind HAProxy on http://{host}:{port}", flush=True)
        hosted.serve_forever()
    finally:
        if hosted is not None:
            hosted.stop()
        signal.signal(signal.SIGTERM, previous)
