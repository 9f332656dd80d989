"""The class wall under load, for `bench/load.py --wall N`: two phases, senders, the Wall page watched.

Phase one is load.py's protocol class as it is. Phase two runs the same sessions for the same time, with
N of the students sending every finished digit to the class wall and the Wall page open. A sender does
what a pupil does in Chromium, one rerun each: picks the digit meant on the segmented control, types a
nickname, presses "Send to the class wall". Each send has a nickname of its own (`pupil3-7`), so its
tile on the wall is known. The wall (`--wall-client`) is a headless Chromium page on /wall, as on the
projector, or a protocol session that follows the page's 1 s fragment timer.

Timed from the Send press sent (and from its "On the class wall" line received) to the drawing's tile
first shown: in Chromium, a new `figure.wall-tile` in the grid component's shadow root, looked for
every 20 ms; over the protocol, the grid component's data arriving with that tile. A send not shown
within 10 s is counted as not seen. The server gets a fresh data folder (an empty board.sqlite3, the
pen-digit cache linked from the real one), so the load never posts on a real class's wall and every
run starts from an empty wall.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import load  # run as a script, load.py is __main__ and this loads it again as `load`: constants only
from _common import machine, percentiles, result_line
from _protocol import Session, widget_key, widget_proto

MEANT_KEY, NICKNAME_KEY, SEND_KEY, GRID_KEY = "wall_meant", "wall_nickname", "wall_send_button", "wall_grid"
ACKNOWLEDGED = "On the class wall"  # the line under a drawing just put on the wall (app/wall_send.py)
SEEN_WITHIN_S = 10.0
GOAL_MS = 2000  # app/wall_views.py: the issue asks for a new drawing on the wall within 2 s
LOOK_EVERY_S = 0.25  # how often the driver collects what the wall page noted
MAX_LOOKS = 20_000  # a bound on the watcher's loop: at least LOOK_EVERY_S each but over the protocol
# In the wall page: note each new tile of the grid (a component, inside a shadow root) as it appears,
# with its nickname and the time (ms since the epoch, the same clock as time.time()).
WATCH_TILES = f"""() => {{
  const seen = new Set();
  window.__wallTiles = [];
  setInterval(() => {{
    const box = document.querySelector('.st-key-{GRID_KEY}');
    if (!box) return;
    const hosts = [...box.querySelectorAll('*')].filter((el) => el.shadowRoot);
    const now = performance.timeOrigin + performance.now();
    for (const root of [box, ...hosts.map((el) => el.shadowRoot)])
      for (const tile of root.querySelectorAll('figure.wall-tile'))
        if (!seen.has(tile.dataset.id)) {{
          seen.add(tile.dataset.id);
          window.__wallTiles.push([tile.querySelector('.nickname')?.textContent ?? '', now]);
        }}
  }}, 20);
}}"""
NEW_TILES = "n => window.__wallTiles.slice(n)"


@dataclass
class WallTally:
    client: str
    pressed: dict[str, float] = field(default_factory=dict)  # nickname → Send sent (perf_counter)
    acknowledged: dict[str, float] = field(default_factory=dict)  # nickname → its line received
    shown: dict[str, float] = field(default_factory=dict)  # nickname → its tile first on the wall
    errors: list[str] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)  # the Wall page's runs, rerun sent → finished
    load_seconds: float = 0.0  # the Wall page opened → its grid there
    sending: int = 0  # sends under way

    def settled(self, now: float) -> bool:
        """No send under way, and each on the wall or pressed SEEN_WITHIN_S ago."""
        waiting = [at for nick, at in self.pressed.items() if nick not in self.shown]
        return not self.sending and all(now > at + SEEN_WITHIN_S for at in waiting)

    def in_time(self) -> set[str]:
        """The sends shown on the wall within SEEN_WITHIN_S of their press."""
        return {
            nick for nick, at in self.pressed.items() if self.shown.get(nick, at + 1e9) - at <= SEEN_WITHIN_S
        }

    def delays_ms(self, since: dict[str, float]) -> list[float]:
        return [1000 * (self.shown[nick] - since[nick]) for nick in self.in_time() if nick in since]


def add_arguments(parser) -> None:
    parser.add_argument(
        "--wall",
        type=int,
        default=0,
        metavar="N",
        help="also a phase with N of the students sending each digit to the class wall, the Wall page open",
    )
    parser.add_argument(
        "--wall-client",
        choices=("browser", "protocol"),
        default="browser",
        help="the Wall page in headless Chromium (as on the projector) or a protocol session",
    )


@contextlib.contextmanager
def own_data_dir():
    """A fresh DIGITLAB_DATA_DIR for the server, its pen-digit cache linked from the one in use."""
    from digitlab.data import var_dir

    with tempfile.TemporaryDirectory(prefix="digitlab-load-wall-") as folder:
        cache = Path(os.environ.get("DIGITLAB_DATA_DIR") or var_dir()) / "cache"
        if cache.is_dir():
            (Path(folder) / "cache").symlink_to(cache.resolve(), target_is_directory=True)
        yield {"DIGITLAB_DATA_DIR": folder}


async def settle(session: Session, sent: float):
    answer = load.answers(session.widget(SEND_KEY))  # the send panel's fragment: the canvas's
    run = await session.wait_for(answer, sent, load.PREDICTION_TIMEOUT_MS / 1000)
    if run is None:
        raise TimeoutError("no answer within 10 s")
    return run


def acknowledges(element) -> bool:
    return element.WhichOneof("type") == "alert" and element.alert.body.startswith(ACKNOWLEDGED)


def sender(student: int, wall: WallTally):
    """The `after_digit` of a student who sends each finished digit to the wall."""
    rng, numbers = random.Random(f"meant{student}"), itertools.count(1)

    async def send(session: Session) -> None:
        nickname = f"pupil{student}-{next(numbers)}"
        wall.sending += 1
        try:
            meant = {"data": [str(rng.randrange(10))]}
            sent = await session.set_value(session.widget(MEANT_KEY), string_array_value=meant)
            await settle(session, sent)  # Chromium: a rerun for the digit picked, one for the nickname
            sent = await session.set_value(session.widget(NICKNAME_KEY), string_value=nickname)
            await settle(session, sent)
            button = session.widget(SEND_KEY)
            if button.proto.disabled:
                raise LookupError("Send is still disabled with the digit meant picked")
            wall.pressed[nickname] = await session.press(button)
            run = await settle(session, wall.pressed[nickname])
        except (LookupError, TimeoutError) as error:
            wall.errors.append(f"student {student} ({nickname}): {error}")
            return
        finally:
            wall.sending -= 1
        if (acknowledged := run.first(acknowledges)) is None:
            wall.errors.append(f"student {student} ({nickname}): no “{ACKNOWLEDGED}” line after Send")
        else:
            wall.acknowledged[nickname] = acknowledged

    return send


async def watching(wall: WallTally, end: float, look) -> None:
    """Call `look` until the phase ends and every send is on the wall (or SEEN_WITHIN_S went by)."""
    try:
        for _ in range(MAX_LOOKS):
            now = time.monotonic()
            if now >= end and (wall.settled(time.perf_counter()) or now > end + 2 * SEEN_WITHIN_S):
                return
            await look()
    except Exception as error:  # a broken wall is a result to report, not a reason to stop the class
        wall.errors.append(f"wall: {type(error).__name__}: {str(error)[:200]}")


@contextlib.asynccontextmanager
async def chromium_wall(url: str, wall: WallTally):
    """The Wall page in headless Chromium; yields the phase's `watch`."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=load.CHROMIUM, args=load.CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
            page.on("pageerror", lambda error: wall.errors.append(f"wall: browser error {error}"))
            page.on("websocket", lambda websocket: load.time_server_runs(websocket, wall))
            started = time.perf_counter()
            await page.goto(f"{url}/wall")
            await page.locator(f".st-key-{GRID_KEY}").wait_for(state="attached", timeout=load.FIRST_LOAD_MS)
            wall.load_seconds = time.perf_counter() - started
            await page.evaluate(WATCH_TILES)
            offset, noted = time.time() - time.perf_counter(), [0]

            async def look() -> None:
                tiles = await page.evaluate(NEW_TILES, noted[0])
                noted[0] += len(tiles)
                for nickname, epoch_ms in tiles:
                    wall.shown.setdefault(nickname, epoch_ms / 1000 - offset)
                if not await page.evaluate(load.CONNECTED):
                    raise ConnectionError("the Wall page lost its connection")
                if await page.locator('[data-testid="stException"]').count():
                    raise RuntimeError("an exception box on the Wall page")
                await asyncio.sleep(LOOK_EVERY_S)

            yield lambda end: watching(wall, end, look)
        finally:
            await browser.close()


@contextlib.asynccontextmanager
async def protocol_wall(url: str, wall: WallTally):
    """The Wall page as a protocol session (its fragment timer polls); yields the phase's `watch`."""
    session = Session(url, "/wall")
    try:
        started = time.perf_counter()
        await session.open(load.FIRST_LOAD_MS / 1000)
        session.widget(GRID_KEY)
        wall.load_seconds, last = time.perf_counter() - started, [started]

        async def look() -> None:
            run = await session.wait_for(lambda run: run.started > last[0], last[0], LOOK_EVERY_S)
            if run is None:
                return
            last[0] = run.started
            for at, element in run.elements:
                proto = widget_proto(element)
                if proto is not None and widget_key(proto.id) == GRID_KEY:
                    for tile in json.loads(proto.json)["tiles"]:
                        wall.shown.setdefault(tile["nickname"], at)

        yield lambda end: watching(wall, end, look)
    finally:
        wall.errors += [f"wall: {problem}" for problem in session.problems]
        wall.server_ms += session.server_ms
        if session.lost:
            wall.errors.append("wall: connection lost")
        await session.close()


async def drive_phases(url: str, pid: int, log_path: Path, args):
    """The class without the wall, then with it, on the same sessions; (without, with, WallTally)."""
    without, with_wall = load.Tally(added_ms=load.DEBOUNCE_MS), load.Tally(added_ms=load.DEBOUNCE_MS)
    wall = WallTally(args.wall_client)
    roles, sessions = await load.protocol_class(url, args, without)
    students = [i for i, (role, _, _) in enumerate(roles) if role == "student"][: args.wall]
    try:
        await load.protocol_phase(roles, sessions, pid, log_path, args, without)
        with_wall.log_start = without.log_length
        opened = chromium_wall if args.wall_client == "browser" else protocol_wall
        async with opened(url, wall) as watch:
            senders = {i: sender(i, wall) for i in students}
            await load.protocol_phase(roles, sessions, pid, log_path, args, with_wall, "wall", senders, watch)
    finally:
        for session in sessions:
            await session.close()
    return without, with_wall, wall


def spread(samples_ms: list[float]) -> str:
    p = percentiles(samples_ms)
    return f"p50 {p['p50']:.0f} ms, p95 {p['p95']:.0f} ms, max {max(samples_ms):.0f} ms"


def report(args, result, log_path: Path) -> None:
    without, with_wall, wall = result
    print(f"machine: {machine()}")
    print(f"{args.students} students drawing, {args.trainers} training, {args.duration} s a phase (protocol)")
    print("— phase 1: without the class wall")
    p95_without = load.summary(args, without, log_path)
    where = "headless Chromium" if wall.client == "browser" else "a protocol session"
    print(f"— phase 2: {args.wall} of the students sending each digit, the Wall page open in {where}")
    clients = "protocol clients and the wall's Chromium" if wall.client == "browser" else ""
    p95_with = load.summary(args, with_wall, log_path, clients)
    print(f"— the class wall: its page ready after {wall.load_seconds:.1f} s")
    if wall.server_ms:
        print(f"its runs (rerun sent → script finished), {len(wall.server_ms)}: {spread(wall.server_ms)}")
    shown, unseen = wall.delays_ms(wall.pressed), sorted(wall.pressed.keys() - wall.in_time())
    print(
        f"sends: {len(wall.pressed)} pressed, {len(wall.acknowledged)} acknowledged, {len(unseen)} not seen"
    )
    if shown:
        print(f"Send pressed → tile on the wall, {len(shown)} drawings: {spread(shown)}")
    if after_line := wall.delays_ms(wall.acknowledged):
        print(f"“{ACKNOWLEDGED}” received → tile on the wall: {spread(after_line)}")
    print(f"wall errors: {len(wall.errors)}")
    for error in (wall.errors + [f"not on the wall within 10 s: {nick}" for nick in unseen])[:15]:
        print(f"  {error}")
    errors, lost = [len(t.errors) for t in result[:2]], [len(t.lost_sessions) for t in result[:2]]
    value = (
        f"p95 {p95_without:.0f} ms without the wall, {p95_with:.0f} ms with it "
        f"(×{p95_with / p95_without:.2f}); errors {errors[0]} / {errors[1]}, lost {lost[0]} / {lost[1]}"
    )
    met = max(p95_without, p95_with) <= 1000 and not any(errors + lost)
    figure = f"load ± class wall, {args.students} students + {args.trainers} training (protocol)"
    print(result_line(figure, value, "p95 ≤ 1 s in both, 0 errors", met))
    value = (
        f"{spread(shown) if shown else 'none shown'}; {len(unseen)} of {len(wall.pressed)} not seen in 10 s"
    )
    met = bool(shown) and max(shown) <= GOAL_MS and not unseen and not wall.errors
    figure = f"class wall update (Send → tile), {args.wall} of {args.students} sending, wall in {wall.client}"
    print(result_line(figure, f"{value}, {len(wall.errors)} errors", "each within 2 s, 0 unseen", met))
