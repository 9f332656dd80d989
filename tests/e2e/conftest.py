"""End-to-end fixtures: one Streamlit server per session, Debian Chromium, and a fresh page per test.

The server runs `app.py` from the repository root (or the script named by env DIGITLAB_APP) on a free
port. Without /usr/bin/chromium (or env DIGITLAB_CHROMIUM) the whole suite is skipped, unless
DIGITLAB_REQUIRE_E2E=1, which turns the skip into a failure so CI cannot pass by silently skipping.
A failing test leaves `test-artifacts/screenshots/<test>.png` (and `<test>.console.txt` when the
browser logged errors); the server log is `test-artifacts/streamlit-server.log`.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from . import helpers

REPO_ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"
SCREENSHOT_DIR = ARTIFACTS_DIR / "screenshots"
SERVER_LOG = ARTIFACTS_DIR / "streamlit-server.log"
# The servers started here and the tests that read the class board back share the suite's own board,
# never the real one in var/.
os.environ.setdefault("DIGITLAB_DATA_DIR", str(ARTIFACTS_DIR / "data"))
os.environ.setdefault("DIGITLAB_TEACHER_CODE", "e2e-teacher")  # the class wall's round controls
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
SERVER_START_TIMEOUT_S = 60
# The app is offline-only, and test_offline_e2e.py fails on any request that leaves the app's origin.
# Failed outside requests are still kept out of the console-error check, so that one test names them.
OFFLINE_NOISE = re.compile(r"ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED")
# Opened at /train, the frontend first probes /train/_stcore/health and /train/_stcore/host-config in
# case the app is served under a path prefix; those two 404s are expected on every non-root page.
PREFIX_PROBE = re.compile(r"/[^/?#]+/_stcore/(health|host-config)$")

REPORTS_KEY = pytest.StashKey[dict]()
CONSOLE_KEY = pytest.StashKey[list]()


def _requires_e2e() -> bool:
    return os.environ.get("DIGITLAB_REQUIRE_E2E", "") == "1"


def _chromium_path() -> Path:
    return Path(os.environ.get("DIGITLAB_CHROMIUM", "/usr/bin/chromium"))


def _app_path() -> Path:
    return Path(os.environ.get("DIGITLAB_APP", REPO_ROOT / "app.py")).resolve()


def _missing_requirement() -> str | None:
    """Why the browser suite cannot run here, or None when it can."""
    if not _chromium_path().is_file():
        return f"Chromium not found at {_chromium_path()} (set DIGITLAB_CHROMIUM or install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    if not _app_path().is_file():
        return f"app script not found at {_app_path()} (set DIGITLAB_APP)"
    return None


def pytest_collection_modifyitems(config, items):
    """Mark every browser test so `-m "not e2e"` deselects the suite."""
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so fixtures can tell, at teardown, that the test failed."""
    report = yield
    item.stash.setdefault(REPORTS_KEY, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def e2e_requirements():
    reason = _missing_requirement()
    if reason is None:
        return
    if _requires_e2e():
        pytest.fail(f"DIGITLAB_REQUIRE_E2E=1 but the e2e suite cannot run: {reason}", pytrace=False)
    pytest.skip(f"e2e suite skipped: {reason}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_is_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except OSError:
        return False


def _log_tail(lines: int = 40) -> str:
    if not SERVER_LOG.exists():
        return "(no server log)"
    return "\n".join(SERVER_LOG.read_text(errors="replace").splitlines()[-lines:])


def _stop_server(process: subprocess.Popen) -> None:
    """Stop the whole process group: streamlit may have started helpers of its own."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_until_healthy(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not _server_is_healthy(url):
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with code {process.returncode}:\n{_log_tail()}", pytrace=False)
        if time.monotonic() > deadline:
            _stop_server(process)
            pytest.fail(
                f"streamlit not healthy after {SERVER_START_TIMEOUT_S}s:\n{_log_tail()}", pytrace=False
            )
        time.sleep(0.2)


@contextlib.contextmanager
def streamlit_server(log_path: Path = SERVER_LOG):
    """Run `streamlit run <app>` on a free port for the duration; yields its URL, e.g. http://localhost:41234."""
    app = _app_path()
    port = _free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true"]
    command += ["--server.port", str(port), "--browser.gatherUsageStats", "false"]
    command += ["--server.fileWatcherType", "none"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        # The app's own folder is the repo root for the real app; for DIGITLAB_APP it keeps the
        # script's relative imports working.
        process = subprocess.Popen(
            command, cwd=app.parent, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://localhost:{port}"
    try:
        _wait_until_healthy(process, url)
        yield url
    finally:
        _stop_server(process)


@pytest.fixture(scope="session")
def base_url(e2e_requirements):
    """The app, served once for the whole suite."""
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser(e2e_requirements):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(_chromium_path()), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def warm_app(browser, base_url):
    """Open the default page once, so the first test does not also wait for TensorFlow's import."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(base_url + "/")
    helpers.wait_for_app_idle(page, timeout_ms=60_000)
    context.close()
    return base_url


def _is_app_error(message_text: str, url: str, base_url: str) -> bool:
    if url.startswith(base_url):
        return not ("404" in message_text and PREFIX_PROBE.search(url))
    return not OFFLINE_NOISE.search(message_text)


def _record_console(page, base_url: str, errors: list[str]) -> None:
    def on_console(message):
        url = message.location.get("url", "") if message.location else ""
        if message.type == "error" and _is_app_error(message.text, url, base_url):
            errors.append(f"console.error: {message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))


def _artifact_name(nodeid_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid_name).strip("_")[:150]


def _save_failure_artifacts(page, name: str, errors: list[str]) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)
    except Exception as error:  # a crashed page must not hide the test's own failure
        print(f"could not save screenshot for {name}: {error}")
    if errors:
        (SCREENSHOT_DIR / f"{name}.console.txt").write_text("\n".join(errors) + "\n")


def _test_failed(item) -> bool:
    reports = item.stash.get(REPORTS_KEY, {})
    return any(report.failed for report in reports.values())


@pytest.fixture
def page(request, browser, warm_app):
    """A new browser context (so a new Streamlit session) at 1280x900; console errors are recorded."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    context = browser.new_context(viewport=VIEWPORT)
    new_page = context.new_page()
    new_page.set_default_timeout(30_000)
    errors: list[str] = []
    request.node.stash[CONSOLE_KEY] = errors
    _record_console(new_page, warm_app, errors)
    yield new_page
    if _test_failed(request.node):
        _save_failure_artifacts(new_page, _artifact_name(request.node.name), errors)
    context.close()


@pytest.fixture
def console_errors(request, page) -> list[str]:
    """The browser errors logged so far by this test's page (live list): `assert not console_errors`."""
    return request.node.stash[CONSOLE_KEY]


@pytest.fixture
def train_page(page):
    """The page; at the end, a run still training is stopped so it does not hold the server's slot."""
    from playwright.sync_api import expect

    yield page
    try:
        stop = page.locator(".st-key-train_stop button")
        if stop.count() and stop.is_enabled():
            stop.click()
            expect(page.locator(".st-key-train_start button")).to_be_enabled(timeout=60_000)
    except Exception as error:  # the test's own failure matters more than this clean-up
        print(f"could not stop the training run: {error}")
