"""A classroom at once: K students drawing on the Draw page while others train, against a local server.

Starts `streamlit run app.py` on a free 127.0.0.1 port and, for `--duration` seconds:
  * each of `--students` drawers adds a stroke on the canvas every second (three per digit, then
    Clear) and times it until the new 28×28 "what the network sees" image arrives;
  * each of `--trainers` trainers starts the Train page's default preset (Quick demo) shortened to 2
    epochs of batches of 64, as it was before it became a 10 s demo (TRAINER_PATH), and starts it
    again whenever it ends, watching the live view as a student would.
Two kinds of simulated student (`--client`):
  * browser: a headless Chromium context each, timed from mouse-up to the new image on screen (the
    canvas's 200 ms debounce included). Chromium costs this 2-core machine more than the server.
  * protocol: Streamlit's own websocket protocol from Python (bench/_protocol.py), sending the messages
    Chromium sends, for almost no CPU; timed from the drawing sent to the new image received. A real
    pen adds the canvas's 200 ms debounce before sending: the goal is judged with it added.
Prints p50/p95 prediction latency, errors (exceptions shown, predictions not shown within 10 s, lost
connections, browser errors, tracebacks in the server log), the server's resident memory and CPU.
With `--wall N` (protocol students only), two phases of `--duration` each on the same sessions: the
class as above, then the same class with N of its students sending each finished digit to the class
wall and the Wall page open (`--wall-client`: headless Chromium, as on the projector, or a protocol
session); it prints both phases' p95 side by side and how fast a sent drawing reaches the wall
(bench/_wall_load.py, on a wall of its own in a fresh data folder).

    python bench/load.py --client protocol --students 10 --duration 60
    python bench/load.py --client protocol --students 30 --trainers 2 --duration 90
    python bench/load.py --client protocol --students 10 --wall 5 --duration 30

Goal at 30 students with 2 training runs: p95 ≤ 1 s, no error, no session lost; with the wall open too,
and each sent drawing on the wall within 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import _wall_load
from _browser import rss_mib, streamlit_server, workers_server
from _common import machine, percentiles, result_line
from _protocol import CanvasDrawing, Session
from playwright.async_api import TimeoutError as PlaywrightTimeout

from digitlab.hosting import WORKER_ENV

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("DIGITLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
CANVAS = ".st-key-canvas canvas.upper-canvas"
START, STOP = ".st-key-train_start button", ".st-key-train_stop button"
PREDICTION_TIMEOUT_MS = 10_000  # a prediction later than this counts as an error
FIRST_LOAD_MS = 180_000  # the first visit imports TensorFlow and loads the model
STROKES_PER_DIGIT = 3
MAX_TICKS = 700  # a bound on every per-second loop: --duration is at most 600 s
DEBOUNCE_MS = 200  # streamlit-drawable-canvas sends a drawing 200 ms after the pen lifts
# A trainer's page: runs as short as the figures in the README were measured with, so that runs end.
TRAINER_PATH = "/train?train_epochs=2&train_batch_size=64"
# The Draw and Train pages' widgets, by key (pages/draw.py, pages/train.py).
CANVAS_KEY, BRUSH_KEY, START_KEY, STOP_KEY = "canvas", "draw_brush", "train_start", "train_stop"
SEEN_CAPTION = "What the network sees"
# The src of the "what the network sees" image: Streamlit names media by content, so a new drawing
# gives a new src, and the src is set once the browser has the new element.
SEEN = """() => {
  for (const box of document.querySelectorAll('[data-testid="stImage"]'))
    if (box.textContent.includes('What the network sees')) return box.querySelector('img')?.src ?? null;
  return null;
}"""
CHANGED = f"previous => ({SEEN})() !== previous"
CONNECTED = """() => document.querySelector('[data-testid="stApp"]')
  ?.getAttribute('data-test-connection-state') === 'CONNECTED'"""


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lost_sessions: set[int] = field(default_factory=set)
    runs_started: int = 0
    runs_ended: int = 0
    rss_mb: list[float] = field(default_factory=list)
    log_length: int = 0  # bytes of server log written by the end of the load
    log_start: int = 0  # bytes of it written before: their tracebacks belong to an earlier phase
    cores_used: tuple[float, ...] = (0.0, 0.0, 0.0)  # by the server, the browsers, the whole machine
    load_seconds: list[float] = field(default_factory=list)  # page opened → page usable, per student
    server_ms: list[float] = field(default_factory=list)  # rerun request sent → script finished
    replaced_media: int = 0  # images gone when loaded, after a newer run was asked for (not errors)
    cut_short: int = 0  # script runs ended early for a newer rerun request (protocol client)
    unfinished: int = 0  # script runs whose end never came, the next one begun (protocol client)
    added_ms: float = 0.0  # what a pupil waits on top of the measured latency (the protocol's debounce)
    # Behind `digitlab serve --workers N`: each app process's CPU (cores), peak RSS (MiB) and sessions,
    # and the sessions that more than one process answered (which must never happen).
    workers: dict[str, dict] = field(default_factory=dict)
    answered_by_two: list[str] = field(default_factory=list)


def until(end: float):
    """The bound on every loop here: at most MAX_TICKS turns, and none after `end` (time.monotonic())."""
    for _ in range(MAX_TICKS):
        if time.monotonic() >= end:
            return
        yield


def a_stroke(rng: random.Random) -> list[tuple[float, float]]:
    """A line across the middle of the 280×280 canvas, never twice the same."""
    x0, y0 = rng.uniform(60, 220), rng.uniform(40, 90)
    return [(x0, y0), (rng.uniform(60, 220), rng.uniform(190, 240))]


async def draw_stroke(page, box: dict, points) -> None:
    scale = box["width"] / 280
    screen = [(box["x"] + x * scale, box["y"] + y * scale) for x, y in points]
    await page.mouse.move(*screen[0])
    await page.mouse.down()
    for x, y in screen[1:]:
        await page.mouse.move(x, y, steps=6)
    await page.mouse.up()


async def watch_for_trouble(page, student: int, tally: Tally) -> None:
    if not await page.evaluate(CONNECTED):
        tally.lost_sessions.add(student)
    exceptions = await page.locator('[data-testid="stException"]').count()
    if exceptions:
        tally.errors.append(f"student {student}: {exceptions} exception box(es) on {page.url}")


def time_server_runs(websocket, tally: Tally) -> None:
    """Server time of each script run: the browser's rerun request sent → the server's "script
    finished" received, read from Streamlit's own protobuf messages on the page's websocket."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    asked: list[float] = []

    def finished(message) -> bool:
        return message.WhichOneof("type") == "script_finished"

    def sent(payload) -> None:
        if isinstance(payload, bytes) and BackMsg.FromString(payload).WhichOneof("type") == "rerun_script":
            asked.append(time.perf_counter())

    def received(payload) -> None:
        # A request that arrives during a run replaces it: time from the earliest one still unanswered.
        if asked and isinstance(payload, bytes) and finished(ForwardMsg.FromString(payload)):
            tally.server_ms.append(1000 * (time.perf_counter() - asked[0]))
            asked.clear()

    websocket.on("framesent", sent)
    websocket.on("framereceived", received)


async def open_page(browser, url: str, path: str, who: str, ready, tally: Tally):
    """A new browser session on `path`; records how long the page took to show `ready`."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.on("pageerror", lambda error: tally.errors.append(f"{who}: browser error {error}"))
    page.on("websocket", lambda websocket: time_server_runs(websocket, tally))
    started = time.perf_counter()
    await page.goto(f"{url}{path}")
    await page.locator(ready).first.wait_for(state="visible", timeout=FIRST_LOAD_MS)
    tally.load_seconds.append(time.perf_counter() - started)
    return context, page


async def drawer(page, student: int, end: float, tally: Tally) -> None:
    """A stroke every second, three to a digit; the time from mouse-up to the new prediction."""
    rng = random.Random(student)
    canvas = page.locator(CANVAS)
    strokes = 0
    for _ in until(end):
        tick = time.monotonic()
        if strokes == STROKES_PER_DIGIT:
            await page.get_by_role("button", name="Clear").click(timeout=PREDICTION_TIMEOUT_MS)
            await page.wait_for_function(f"() => ({SEEN})() === null", timeout=PREDICTION_TIMEOUT_MS)
            strokes = 0
        await canvas.scroll_into_view_if_needed()
        box = await canvas.bounding_box()
        previous = await page.evaluate(SEEN)
        await draw_stroke(page, box, a_stroke(rng))
        released = time.perf_counter()
        strokes += 1
        try:
            await page.wait_for_function(CHANGED, arg=previous, polling=20, timeout=PREDICTION_TIMEOUT_MS)
            tally.latencies_ms.append(1000 * (time.perf_counter() - released))
        except PlaywrightTimeout:
            tally.errors.append(f"student {student}: no new prediction within 10 s")
            strokes = STROKES_PER_DIGIT  # start a fresh digit
        await watch_for_trouble(page, student, tally)
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))


async def trainer(page, student: int, end: float, tally: Tally) -> None:
    """Start the default preset, watch it train, start again when it ends; stop the last one at the end."""
    start, stop = page.locator(START), page.locator(STOP)
    for _ in until(end):
        await start.click(timeout=PREDICTION_TIMEOUT_MS)
        tally.runs_started += 1
        await page.wait_for_function(
            f"() => !document.querySelector('{STOP}')?.disabled", timeout=PREDICTION_TIMEOUT_MS
        )
        for _ in until(end):
            if not await stop.is_enabled():
                break
            await watch_for_trouble(page, student, tally)
            await asyncio.sleep(1)
        if not await stop.is_enabled():
            tally.runs_ended += 1
            await start.wait_for(state="visible", timeout=PREDICTION_TIMEOUT_MS)
    if await stop.is_enabled():  # leave no run behind on the server (unless it ends meanwhile)
        with contextlib.suppress(PlaywrightTimeout):
            await stop.click(timeout=PREDICTION_TIMEOUT_MS)


async def guarded(who: str, work, tally: Tally) -> None:
    """Run one student's part; a broken student is a result to report, not a reason to stop the others."""
    try:
        await work
    except Exception as error:
        tally.errors.append(f"{who}: {type(error).__name__}: {str(error)[:200]}")


def shows_prediction(element) -> bool:
    """The 28×28 image the network read: it comes with every new prediction (pages/draw.py)."""
    return element.WhichOneof("type") == "imgs" and any(SEEN_CAPTION in i.caption for i in element.imgs.imgs)


def start_enabled(run) -> bool:
    """A full run that drew the Train page's Start button enabled: no run of this session trains."""
    start = run.widget(START_KEY)
    return run.done and not run.fragment_ids and start is not None and not start.disabled


async def open_session(url: str, path: str, ready_key: str, tally: Tally) -> Session:
    """A new session on `path` over the protocol; records how long until the widget `ready_key` shows."""
    session = Session(url, path)
    started = time.perf_counter()
    await session.open(FIRST_LOAD_MS / 1000)
    session.widget(ready_key)  # raises LookupError when the page lacks it
    tally.load_seconds.append(time.perf_counter() - started)
    return session


def answers(widget):
    """A test of finished runs: a full run or one of `widget`'s fragment. Another fragment's timer can
    run in between (the Draw page's round banner, every 3 s): its run is not the answer. Its request
    can also end the answer as FINISHED_EARLY_FOR_RERUN once its elements are out, and a browser
    shows what arrived: such a run still answers (the caller looks for the element it expects)."""
    return lambda run: not run.fragment_ids or widget.fragment_id in run.fragment_ids


async def protocol_stroke(session: Session, drawing: CanvasDrawing, points) -> float | None:
    """Add a stroke and send the drawing as the canvas does; the seconds until the new prediction
    arrived, or None when the answer had none (or none came within 10 s)."""
    drawing.add(points)
    canvas = session.widget(CANVAS_KEY)
    sent = await session.set_json(canvas, drawing.state_json())
    run = await session.wait_for(answers(canvas), sent, PREDICTION_TIMEOUT_MS / 1000)
    seen = run.first(shows_prediction) if run else None
    return None if seen is None else seen - sent


async def protocol_clear(session: Session, drawing: CanvasDrawing) -> None:
    """Clear, as Chromium does: the page's Clear resets the canvas in the browser, which sends its
    empty drawing."""
    drawing.clear()
    canvas = session.widget(CANVAS_KEY)
    sent = await session.set_json(canvas, drawing.state_json())
    if await session.wait_for(answers(canvas), sent, PREDICTION_TIMEOUT_MS / 1000) is None:
        raise TimeoutError("the cleared canvas got no answer within 10 s")


async def protocol_drawer(
    session: Session, student: int, end: float, tally: Tally, seed: str = "", after_digit=None
) -> None:
    """A stroke every second, three to a digit; the time from sending it to the new prediction. With
    `after_digit` (a coroutine function of the session), it is awaited in the second after each digit."""
    rng = random.Random(f"{seed}{student}" if seed else student)
    brush = session.states[session.widget(BRUSH_KEY).id].double_array_value.data[0]
    drawing = CanvasDrawing(stroke_width=brush)
    failed = False
    for _ in until(end):
        tick = time.monotonic()
        if failed or len(drawing.strokes) == STROKES_PER_DIGIT:  # after a failure: a fresh digit
            await protocol_clear(session, drawing)
        seconds = await protocol_stroke(session, drawing, a_stroke(rng))
        failed = seconds is None
        if failed:
            tally.errors.append(
                f"student {student}: no new prediction (none within 10 s, or its run ended without it)"
            )
        else:
            tally.latencies_ms.append(1000 * seconds)
            if after_digit is not None and len(drawing.strokes) == STROKES_PER_DIGIT:
                await after_digit(session)
                tick += 1.0  # it takes the pupil that second: the next stroke comes a second later
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))


async def protocol_trainer(session: Session, student: int, end: float, tally: Tally) -> None:
    """Press Start, let the live view poll (the session's auto-rerun timer) until the results show,
    press Start again; at the end, Stop a run still training."""
    for _ in until(end):
        sent = await session.press(session.widget(START_KEY))
        busy = await session.wait_for(lambda run: run.done and not start_enabled(run), sent, 10)
        if busy is None:
            raise TimeoutError("Start did not start a run within 10 s")
        tally.runs_started += 1
        if await session.wait_for(start_enabled, busy.finished, end - time.monotonic()) is None:
            break
        tally.runs_ended += 1
    if not session.widget(STOP_KEY).proto.disabled:  # leave no run behind on the server
        sent = await session.press(session.widget(STOP_KEY))
        await session.wait_for(start_enabled, sent, 30)


async def protocol_warm_up(url: str, workers: int = 1) -> None:
    """One visit and one drawing first, so the measured time is not TensorFlow's import and tracing;
    one per worker at once behind `serve --workers N`, which HAProxy spreads one to a process."""

    async def visit() -> set[str]:
        session = Session(url, "/draw")
        try:
            await session.open(FIRST_LOAD_MS / 1000)
            if await protocol_stroke(session, CanvasDrawing(), a_stroke(random.Random(-1))) is None:
                raise RuntimeError("the warm-up drawing got no prediction")
            return session.workers
        finally:
            await session.close()

    warmed = set().union(*await asyncio.gather(*(visit() for _ in range(workers))))
    if workers > 1 and len(warmed) < workers:
        print(f"warm-up reached only {sorted(warmed)} of {workers} workers")


async def drive_protocol(url: str, pid: int, log_path: Path, args) -> Tally:
    """The same class as `drive`, each student a `Session` speaking Streamlit's websocket protocol."""
    tally = Tally(added_ms=DEBOUNCE_MS)
    roles, sessions = await protocol_class(url, args, tally)
    try:
        await protocol_phase(roles, sessions, pid, log_path, args, tally)
    finally:
        for session in sessions:
            await session.close()
    return tally


async def protocol_class(url: str, args, tally: Tally) -> tuple[list[tuple], list[Session]]:
    """Warm up, then open every trainer's and student's session (at most 4 loading at once)."""
    await protocol_warm_up(url, args.workers)
    loading = asyncio.Semaphore(4)
    roles = [("trainer", TRAINER_PATH, START_KEY)] * args.trainers + [
        ("student", "/draw", CANVAS_KEY)
    ] * args.students

    async def arrive(path, ready_key):
        async with loading:
            return await open_session(url, path, ready_key, tally)

    sessions = await asyncio.wait_for(
        asyncio.gather(*(arrive(path, ready_key) for _, path, ready_key in roles)),
        timeout=60 + 15 * len(roles),
    )
    return roles, sessions


async def protocol_phase(
    roles, sessions, pid: int, log_path: Path, args, tally: Tally, seed: str = "", senders=None, watch=None
) -> None:
    """`args.duration` seconds of load on open sessions, into `tally`. For the class wall (_wall_load):
    `seed` for strokes unlike an earlier phase's, `senders` {role index: the student's after_digit} and
    `watch`, a coroutine function of the phase's end that runs beside the students."""
    senders = senders or {}
    before = [
        (len(s.problems), len(s.server_ms), len(s.replaced_media), s.cut_short, s.unfinished)
        for s in sessions
    ]
    end = time.monotonic() + args.duration
    tasks = [
        guarded(
            f"{role} {i}",
            protocol_trainer(session, i, end, tally)
            if role == "trainer"
            else protocol_drawer(session, i, end, tally, seed, senders.get(i)),
            tally,
        )
        for i, ((role, _, _), session) in enumerate(zip(roles, sessions, strict=True))
    ]
    tasks.append(sample_server(pid, end, log_path, tally))
    if watch is not None:
        tasks.append(watch(end))
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.duration + 60)
    finally:
        for i, ((role, _, _), session) in enumerate(zip(roles, sessions, strict=True)):
            problems, runs, replaced, cut, unfinished = before[i]
            for worker in session.workers:
                tally.workers.setdefault(worker, {}).setdefault("sessions", set()).add(i)
            if len(session.workers) > 1 and f"{role} {i}" not in tally.answered_by_two:
                tally.answered_by_two.append(f"{role} {i}")
            if session.lost:
                tally.lost_sessions.add(i)
            tally.errors += [f"{role} {i}: {problem}" for problem in session.problems[problems:]]
            tally.server_ms += session.server_ms[runs:]
            tally.replaced_media += len(session.replaced_media[replaced:])
            tally.cut_short += session.cut_short - cut
            tally.unfinished += session.unfinished - unfinished


def process_times() -> dict[int, tuple[int, float]]:
    """Parent and CPU seconds (user + system, all threads) of every process on the machine."""
    ticks, found = os.sysconf("SC_CLK_TCK"), {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            found[int(stat.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    return found


def descendants(root: int, times: dict[int, tuple[int, float]]) -> set[int]:
    """`root` and every process below it, from `process_times()`."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in times.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo += children.get(pid, [])
    return found


def worker_processes(server_pid: int) -> dict[str, int]:
    """The app processes under `digitlab serve --workers N`, by worker name (their DIGITLAB_WORKER)."""
    found = {}
    for pid in descendants(server_pid, process_times()):
        with contextlib.suppress(OSError):
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            names = [
                v.split(b"=", 1)[1].decode() for v in environ if v.startswith(WORKER_ENV.encode() + b"=")
            ]
            if names and b"streamlit" in cmdline:
                found[names[0]] = pid
    return found


def cpu_seconds(server_pid: int) -> tuple[float, float, float]:
    """CPU seconds used so far by the server, by the simulated students, and by the whole machine. The
    students are this process and every descendant of it outside the server (browser and driver)."""
    times = process_times()
    server = descendants(server_pid, times)
    students = descendants(os.getpid(), times) - server
    machine_ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = (sum(machine_ticks) - machine_ticks[3] - machine_ticks[4]) / os.sysconf("SC_CLK_TCK")
    return (
        sum(times[pid][1] for pid in server if pid in times),
        sum(times[pid][1] for pid in students if pid in times),
        busy,
    )


async def sample_server(pid: int, end: float, log_path: Path, tally: Tally) -> None:
    """Memory every second; CPU and the log's length over the whole load; each worker's too."""
    workers = worker_processes(pid)
    started, cpu_before, times = time.monotonic(), cpu_seconds(pid), process_times()
    worker_cpu = {name: times[wpid][1] for name, wpid in workers.items() if wpid in times}
    for _ in until(end):
        rss = {name: rss_mib(wpid) for name, wpid in workers.items()}
        tally.rss_mb.append(sum(rss.values()) if workers else rss_mib(pid))
        for name, mib in rss.items():
            figures = tally.workers.setdefault(name, {})
            figures["rss_mib"] = max(figures.get("rss_mib", 0.0), mib)
        await asyncio.sleep(1)
    seconds, times = time.monotonic() - started, process_times()
    used = (after - before for after, before in zip(cpu_seconds(pid), cpu_before, strict=True))
    tally.cores_used = tuple(cpu / seconds for cpu in used)
    for name, before in worker_cpu.items():
        tally.workers.setdefault(name, {})["cores"] = (times[workers[name]][1] - before) / seconds
    tally.log_length = log_path.stat().st_size


async def warm_up(browser, url: str) -> None:
    """One visit and one drawing first, so the measured time is not TensorFlow's import and tracing."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{url}/draw")
    canvas = page.locator(CANVAS)
    await canvas.wait_for(state="visible", timeout=FIRST_LOAD_MS)
    await draw_stroke(page, await canvas.bounding_box(), a_stroke(random.Random(-1)))
    await page.wait_for_function(f"() => ({SEEN})() !== null", timeout=FIRST_LOAD_MS)
    await context.close()


async def drive(url: str, pid: int, log_path: Path, args) -> Tally:
    """Open every student's page (at most 4 loading at once, as a class trickles in), then load."""
    from playwright.async_api import async_playwright

    tally = Tally()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await warm_up(browser, url)
            loading = asyncio.Semaphore(4)
            roles = [("trainer", TRAINER_PATH, START)] * args.trainers + [
                ("student", "/draw", CANVAS)
            ] * args.students

            async def arrive(role, path, ready, i):
                async with loading:
                    return await open_page(browser, url, path, f"{role} {i}", ready, tally)

            opened = await asyncio.wait_for(
                asyncio.gather(*(arrive(*role, i) for i, role in enumerate(roles))),
                timeout=60 + 15 * len(roles),
            )
            end = time.monotonic() + args.duration
            tasks = [
                guarded(f"{role} {i}", (trainer if role == "trainer" else drawer)(page, i, end, tally), tally)
                for i, ((role, _, _), (_, page)) in enumerate(zip(roles, opened, strict=True))
            ]
            tasks.append(sample_server(pid, end, log_path, tally))
            # Bounded: every loop ends at `end`; this catches a student stuck in a wait.
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.duration + 60)
            for context, _ in opened:
                await context.close()
        finally:
            await browser.close()
    return tally


def server_tracebacks(log_path: Path, length: int) -> list[str]:
    """The exception line that closes each traceback in the first `length` bytes of the server's log.

    Only the log written while the students worked counts: closing 30 browser contexts at the end
    makes Streamlit's websocket endpoint log its own disconnect errors."""
    with log_path.open("rb") as log:
        lines = log.read(length).decode(errors="replace").splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            found.append(next((x for x in lines[i + 1 :] if x and not x[0].isspace()), line))
    return found


def report(args, tally: Tally, log_path: Path) -> None:
    print(f"machine: {machine()}")
    print(f"{args.students} students drawing, {args.trainers} training, {args.duration} s ({args.client})")
    if args.workers > 1:
        print(
            f"server: {args.workers} app processes behind HAProxy (digitlab serve --workers {args.workers})"
        )
    p95 = summary(args, tally, log_path)
    met = p95 <= 1000 and not tally.errors and not tally.lost_sessions
    value = f"p95 {p95:.0f} ms, {len(tally.errors)} errors, {len(tally.lost_sessions)} lost"
    print(
        result_line(
            f"load, {args.students} students + {args.trainers} training ({args.client})",
            value,
            "p95 ≤ 1 s, 0 errors",
            met,
        )
    )


def summary(args, tally: Tally, log_path: Path, clients: str = "") -> float:
    """Print one load's figures (its server tracebacks added to its errors); its p95 as a pupil sees it."""
    tracebacks = server_tracebacks(log_path, tally.log_length)[
        len(server_tracebacks(log_path, tally.log_start)) :
    ]
    tally.errors += [f"server: {line.strip()}" for line in tracebacks]
    pupil_ms = [ms + tally.added_ms for ms in tally.latencies_ms]  # what a pupil waits
    if tally.latencies_ms:
        p = percentiles(tally.latencies_ms)
        timed = "mouse-up → new prediction shown"
        if tally.added_ms:
            timed = "server round trip: drawing sent → new prediction received"
        print(
            f"prediction latency ({timed}), {len(tally.latencies_ms)} strokes: "
            f"p50 {p['p50']:.0f} ms, p95 {p['p95']:.0f} ms, max {max(tally.latencies_ms):.0f} ms"
        )
    if tally.latencies_ms and tally.added_ms:
        p = percentiles(pupil_ms)
        print(
            f"as a pupil sees it, plus the canvas's {tally.added_ms:.0f} ms debounce before sending: "
            f"p50 {p['p50']:.0f} ms, p95 {p['p95']:.0f} ms (the goal is judged on this)"
        )
    if tally.server_ms:
        p = percentiles(tally.server_ms)
        print(
            f"server time per script run (rerun sent → script finished, all pages), {len(tally.server_ms)} "
            f"runs: p50 {p['p50']:.0f} ms, p95 {p['p95']:.0f} ms"
        )
    if tally.load_seconds:
        p = percentiles(tally.load_seconds)
        print(f"page ready after opening: p50 {p['p50']:.1f} s, max {max(tally.load_seconds):.1f} s")
    print(f"training runs: {tally.runs_started} started, {tally.runs_ended} ended")
    if tally.rss_mb:
        print(f"server RSS: start {tally.rss_mb[0]:.0f} MiB, peak {max(tally.rss_mb):.0f} MiB")
    server, students, everything = tally.cores_used
    clients = clients or ("browsers and driver" if args.client == "browser" else "protocol clients")
    print(
        f"cores busy on average: server {server:.2f}, simulated students ({clients}) {students:.2f}, "
        f"whole machine {everything:.2f} of {os.cpu_count()}"
    )
    if tally.latencies_ms:  # what a class costs the server, whatever the clients cost this machine
        per_stroke = 1000 * server * args.duration / len(tally.latencies_ms)
        print(f"server CPU per stroke (training included): {per_stroke:.0f} ms")
    if args.client == "protocol":
        print(
            f"images already replaced by a newer drawing when their download was answered: "
            f"{tally.replaced_media} (not errors: a browser shows the newer one)"
        )
        print(
            f"script runs ended early for a newer rerun request: {tally.cut_short}, never ended (the next "
            f"begun first, some elements maybe lost): {tally.unfinished}, of {len(tally.server_ms)} timed"
        )
    for name in sorted(tally.workers):
        figures = tally.workers[name]
        print(
            f"  {name}: {len(figures.get('sessions', ()))} sessions, {figures.get('cores', 0.0):.2f} cores, "
            f"peak RSS {figures.get('rss_mib', 0.0):.0f} MiB"
        )
    if tally.workers:
        print(f"sessions answered by more than one process: {len(tally.answered_by_two)}")
        tally.errors += [f"{who}: answered by more than one process" for who in tally.answered_by_two]
    print(f"sessions lost: {len(tally.lost_sessions)}; errors: {len(tally.errors)}")
    for error in tally.errors[:15]:
        print(f"  {error}")
    return percentiles(pupil_ms)["p95"] if pupil_ms else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10, help="students drawing (1-60)")
    parser.add_argument("--trainers", type=int, default=2, help="students training meanwhile (0-10)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load after warm-up (5-600)")
    parser.add_argument("--slots", type=int, default=None, help="DIGITLAB_TRAINING_SLOTS for the server")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="app processes behind HAProxy (`digitlab serve --workers N`); 1: one `streamlit run`",
    )
    parser.add_argument(
        "--client",
        choices=("browser", "protocol"),
        default="browser",
        help="a headless Chromium per student, or Streamlit's websocket protocol from Python",
    )
    _wall_load.add_arguments(parser)
    args = parser.parse_args()
    args.students = min(max(args.students, 1), 60)
    args.trainers = min(max(args.trainers, 0), 10)
    args.duration = min(max(args.duration, 5), 600)
    args.wall = min(max(args.wall, 0), args.students)
    if args.wall and args.client != "protocol":
        parser.error("--wall needs --client protocol: its senders are protocol students")
    log_path = Path(tempfile.gettempdir()) / f"digitlab-load-{os.getpid()}.log"
    env = {"DIGITLAB_TRAINING_SLOTS": str(args.slots)} if args.slots else {}
    with contextlib.ExitStack() as stack:
        if args.wall:  # a wall of its own: the load never posts on a real class's wall
            env |= stack.enter_context(_wall_load.own_data_dir())
        started = (
            workers_server(log_path, env, args.workers)
            if args.workers > 1
            else streamlit_server(log_path, env)
        )
        url, server, _ = stack.enter_context(started)
        load = _wall_load.drive_phases if args.wall else drive if args.client == "browser" else drive_protocol
        tally = asyncio.run(load(url, server.pid, log_path, args))
    (_wall_load.report if args.wall else report)(args, tally, log_path)
    print(f"server log: {log_path}")


if __name__ == "__main__":
    main()
