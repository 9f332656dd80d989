"""Streamlit 1.67's own websocket protocol, spoken from Python: a browser tab's session without a browser.

A classroom load test needs many simulated pupils; a headless Chromium per pupil costs this machine more
CPU than the server it measures. A `Session` opens `ws://127.0.0.1:PORT/_stcore/stream` and behaves
like the frontend, as recorded from real Chromium on the Draw and Train pages:

  * it opens a page with one `rerun_script` naming the page by its URL path (`page_name="draw"`), then
    sends every later rerun with the `page_script_hash` of the page shown (from `navigation` messages);
  * it keeps the widget states the way the frontend's WidgetStateManager does: a widget's initial value
    as it mounts, the value the user set after that, triggers (buttons) in one message only, and widgets
    that left the page dropped at the end of the run that removed them; every rerun carries them all;
  * a widget inside an `st.fragment` reruns that fragment (`fragment_id`), as the browser does;
  * an `auto_rerun` message (an `st.fragment(run_every=...)`) starts a timer that sends a rerun with the
    fragment's id and `is_auto_rerun` every interval until a full run, `stop_auto_rerun` or the end;
  * it keeps the large cacheable messages and tells the server their hashes, as the frontend's
    ForwardMsg cache does, and resolves the `ref_hash` messages the server then sends instead;
  * it downloads each new `/media/...` image as its element arrives, once, as the page's <img> would
    (serving them is part of the server's work per prediction); a run's timing does not wait for them.

Widget kinds tracked: slider and select slider, selectbox, radio, checkbox and toggle, number input,
pills and segmented control, file uploader, buttons, and custom components (whose value the caller sets,
e.g. `CanvasDrawing` for streamlit-drawable-canvas). Another kind of widget is left out of the messages,
so the server keeps its last value: the pages this drives (Draw, Train) have no other kind.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import io
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image, ImageDraw
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ContextInfo
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from digitlab.hosting import WORKER_COOKIE, WORKER_HEADER

STREAM = "/_stcore/stream"
FINISHED = ForwardMsg.ScriptFinishedStatus
DONE = (FINISHED.FINISHED_SUCCESSFULLY, FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
MAX_MESSAGE_BYTES = 64 * 2**20  # the largest ForwardMsg accepted (a page of charts is far smaller)
MAX_AUTO_RERUNS = 9000  # an hour of 0.4 s polling: a bound on a timer the server forgets to stop
MEDIA_TIMEOUT_S = 30
KEPT_RUNS = 64  # finished runs kept for callers to look back on


@dataclass
class Run:
    """One script or fragment run as received: its elements, each with the time it arrived."""

    started: float  # time.perf_counter() when its new_session arrived
    fragment_ids: tuple[str, ...]  # empty for a full run
    elements: list[tuple[float, Element]] = field(default_factory=list)
    status: int | None = None  # a ForwardMsg.ScriptFinishedStatus once finished
    finished: float | None = None

    @property
    def done(self) -> bool:
        """Finished, and not cut short by a newer rerun request."""
        return self.status in DONE

    def first(self, test: Callable[[Element], bool]) -> float | None:
        """When the first element passing `test` arrived, or None."""
        return next((at for at, element in self.elements if test(element)), None)

    def widget(self, key: str):
        """The proto of the widget with user key `key` drawn in this run, or None."""
        for _, element in self.elements:
            proto = widget_proto(element)
            if proto is not None and widget_key(proto.id) == key:
                return proto
        return None

    def exceptions(self) -> list[str]:
        return [
            f"{element.exception.type}: {element.exception.message}"[:300]
            for _, element in self.elements
            if element.WhichOneof("type") == "exception"
        ]


@dataclass
class Widget:
    id: str
    kind: str  # the Element oneof name: "slider", "button", "bidi_component", ...
    fragment_id: str  # the fragment it lives in, "" outside any
    proto: object  # its latest element proto (label, disabled, ...)


def widget_proto(element: Element):
    """The element's proto when it is a widget (it has a Streamlit widget id), else None."""
    kind = element.WhichOneof("type")
    proto = getattr(element, kind) if kind else None
    has_id = proto is not None and "id" in type(proto).DESCRIPTOR.fields_by_name
    return proto if has_id and proto.id.startswith("$$ID-") else None


def widget_key(widget_id: str) -> str:
    """The user key in a widget id `$$ID-<hash>-<key>` ("None" for a widget without one)."""
    return widget_id.split("-", 2)[-1]


def initial_state(kind: str, proto) -> WidgetState | None:
    """The value the frontend reports for a widget as it mounts (or when the server sets it): what the
    recorded Chromium sent on the Draw and Train pages. None for widgets that report nothing until used."""
    state = WidgetState(id=proto.id)
    if kind == "slider":
        indices = proto.value if proto.set_value else proto.default
        if proto.options and proto.set_value and proto.raw_value:  # a select slider reports labels
            state.string_array_value.data.extend(proto.raw_value)
        elif proto.options:
            state.string_array_value.data.extend(proto.options[int(i)] for i in indices)
        else:
            state.double_array_value.data.extend(indices)
    elif kind in ("selectbox", "radio"):
        if proto.set_value:
            state.string_value = proto.raw_value
        elif 0 <= proto.default < len(proto.options):
            state.string_value = proto.options[proto.default]
        else:
            return None
    elif kind == "checkbox":
        state.bool_value = proto.value if proto.set_value else proto.default
    elif kind == "number_input":
        number = proto.value if proto.set_value else proto.default
        if proto.data_type == proto.DataType.INT:
            state.int_value = int(number)
        else:
            state.double_value = number
    elif kind == "button_group":
        chosen = proto.raw_values if proto.set_value else [proto.options[i].content for i in proto.default]
        state.string_array_value.data.extend(chosen)
    elif kind == "file_uploader":
        state.file_uploader_state_value.SetInParent()
    else:  # buttons, download buttons, custom components: nothing until used
        return None
    return state


class Session:
    """One browser tab on `base_url` + `path`: a Streamlit session of its own, driven from asyncio."""

    def __init__(self, base_url: str, path: str = "/"):
        host = urllib.parse.urlsplit(base_url).hostname
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError(f"the load client only talks to this machine, not {host!r}")
        self.base_url = base_url.rstrip("/")
        address = urllib.parse.urlsplit(f"{self.base_url}/{path.lstrip('/')}")
        self.page_name = address.path.strip("/")
        self.query_string = address.query
        self.context = ContextInfo(
            timezone="UTC", locale="en-US", url=f"{self.base_url}{address.path}", color_scheme="light"
        )
        self.page_script_hash = ""
        self.widgets: dict[str, Widget] = {}
        self.states: dict[str, WidgetState] = {}  # what every rerun reports, in mount order
        self.runs: collections.deque[Run] = collections.deque(maxlen=KEPT_RUNS)
        self.problems: list[str] = []  # exceptions shown, page not found, script errors
        self.server_ms: list[float] = []  # each rerun request → the script finished message
        # Images that were gone (404) when their download was answered, after this session had already
        # asked for a newer run: Streamlit drops a replaced image, and a browser shows the newer one.
        self.replaced_media: list[str] = []
        self.cut_short = 0  # runs that ended FINISHED_EARLY_FOR_RERUN (what had arrived stays shown)
        self.unfinished = 0  # runs whose end never came: the next run began first (see _new_run)
        self.reruns_sent = 0
        self.lost = False
        self.workers: set[str] = set()  # the server processes that answered it: one, or none named
        self.cookie = ""  # HAProxy's sticky cookie, sent with every later request
        self._run: Run | None = None
        self._seen: set[str] = set()  # widget ids drawn by the current run
        self._asked: list[float] = []  # rerun requests not yet answered by a script_finished
        self._cache: dict[str, tuple[ForwardMsg, int]] = {}  # hash → (message, run count when last used)
        self._max_age = 2
        self._run_count = 0
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id → (interval, timer)
        self._fetched: set[str] = set()  # media already downloaded: the page's image cache
        self._downloads: set[asyncio.Task] = set()
        self._changed = asyncio.Event()
        self._socket = None
        self._reader: asyncio.Task | None = None
        self._closing = False

    async def open(self, timeout: float) -> Run:
        """Connect and load the page; returns its first complete run. Raises TimeoutError."""
        stream = self.base_url.replace("http", "ws", 1) + STREAM
        self._socket = await connect(
            stream,
            subprotocols=["streamlit"],
            origin=self.base_url,
            max_size=MAX_MESSAGE_BYTES,
            open_timeout=timeout,
        )
        self._answered_by(self._socket.response.headers)
        self._reader = asyncio.create_task(self._read())
        sent = await self.rerun(page_name=self.page_name)
        run = await self.wait_for(lambda run: run.status == FINISHED.FINISHED_SUCCESSFULLY, sent, timeout)
        if run is None:
            raise TimeoutError(f"{self.context.url} did not finish loading within {timeout:.0f} s")
        return run

    async def close(self) -> None:
        self._closing = True
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        await asyncio.gather(*self._downloads)
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            await self._reader

    def widget(self, key: str | None = None, label: str | None = None) -> Widget:
        """The widget on the page with user key `key`, or else the one labelled `label`."""
        for widget in self.widgets.values():
            if widget_key(widget.id) == key or (
                key is None and getattr(widget.proto, "label", None) == label
            ):
                return widget
        raise LookupError(f"no widget {key or label!r} on {self.context.url}")

    async def rerun(
        self, *, fragment_id: str = "", triggers=(), auto: bool = False, page_name: str = ""
    ) -> float:
        """Send a rerun request with every widget's state (plus `triggers`); returns when it was sent."""
        if self.lost:
            raise ConnectionError(f"{self.context.url}: connection lost")
        message = BackMsg()
        request = message.rerun_script
        request.query_string = self.query_string
        request.page_script_hash = self.page_script_hash
        request.page_name = page_name
        request.fragment_id = fragment_id
        request.is_auto_rerun = auto
        request.widget_states.widgets.extend(self.states.values())
        request.widget_states.widgets.extend(triggers)
        request.cached_message_hashes.extend(self._cache)
        request.context_info.CopyFrom(self.context)
        sent = time.perf_counter()
        self._asked.append(sent)
        self.reruns_sent += 1
        try:
            await self._socket.send(message.SerializeToString())
        except ConnectionClosed as error:
            self._lose()
            raise ConnectionError(f"{self.context.url}: connection lost") from error
        return sent

    async def press(self, widget: Widget) -> float:
        """Click a button: its trigger in this one message, in the button's fragment."""
        return await self.rerun(
            fragment_id=widget.fragment_id, triggers=[WidgetState(id=widget.id, trigger_value=True)]
        )

    async def set_json(self, widget: Widget, value: str) -> float:
        """A custom component reports a new value (e.g. a drawing): kept, and sent in its fragment."""
        self.states[widget.id] = WidgetState(id=widget.id, json_value=value)
        return await self.rerun(fragment_id=widget.fragment_id)

    async def set_value(self, widget: Widget, **value) -> float:
        """The user changes a widget, e.g. `string_array_value={"data": ["7"]}` (a segmented control's
        option) or `string_value="Ada"` (a text input, committed): kept, and sent in its fragment."""
        self.states[widget.id] = WidgetState(id=widget.id, **value)
        return await self.rerun(fragment_id=widget.fragment_id)

    async def wait_for(self, test: Callable[[Run], bool], after: float, timeout: float) -> Run | None:
        """The first finished run that started after `after` and passes `test`; None after `timeout`
        seconds. Raises ConnectionError when the connection drops meanwhile."""
        deadline = time.perf_counter() + timeout
        while True:
            self._changed.clear()
            for run in self.runs:
                if run.started >= after and test(run):
                    return run
            if self.lost:
                raise ConnectionError(f"{self.context.url}: connection lost")
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return None

    async def _read(self) -> None:
        try:
            async for payload in self._socket:
                if isinstance(payload, bytes):
                    self._handle(ForwardMsg.FromString(payload), time.perf_counter())
        except ConnectionClosed:
            pass
        finally:
            if not self._closing:
                self._lose()

    def _lose(self) -> None:
        self.lost = True
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._changed.set()

    def _handle(self, message: ForwardMsg, now: float) -> None:
        if message.HasField("ref_hash"):
            if message.ref_hash not in self._cache:
                self.problems.append(
                    f"the server referred to a message this client never had: {message.ref_hash}"
                )
                return
            message = self._from_cache(message)
        elif message.metadata.cacheable and message.hash:
            self._cache[message.hash] = (message, self._run_count)
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self._new_run(message, now)
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element" and self._run:
            self._new_element(message.delta.new_element, message.delta.fragment_id, now)
        elif kind == "navigation":  # with st.navigation, the page shown is named here, not in new_session
            self.page_script_hash = message.navigation.page_script_hash
        elif kind == "auto_rerun":
            self._start_timer(message.auto_rerun.fragment_id, message.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in message.stop_auto_rerun.fragment_ids:
                self._stop_timer(fragment_id)
        elif kind == "script_finished":
            self._finish_run(message.script_finished, now)
        elif kind == "page_not_found":
            self.problems.append(f"page not found: {message.page_not_found.page_name!r}")
        elif kind == "session_event" and message.session_event.HasField("script_compilation_exception"):
            self.problems.append(
                f"script error: {message.session_event.script_compilation_exception.message}"
            )

    def _download_media(self, paths: list[str]) -> None:
        """Start loading the images an element shows, each once, as the browser's <img> does on render."""
        for path in paths:
            if path.startswith("/media/") and path not in self._fetched:
                self._fetched.add(path)
                download = asyncio.create_task(self._get(path))
                self._downloads.add(download)
                download.add_done_callback(self._downloads.discard)

    async def _get(self, path: str) -> None:
        """One HTTP/1.1 GET on a connection of its own (a browser would reuse a few: a little less work)."""
        address = urllib.parse.urlsplit(self.base_url)
        reruns_before = self.reruns_sent
        try:
            async with asyncio.timeout(MEDIA_TIMEOUT_S):
                reader, writer = await asyncio.open_connection(address.hostname, address.port)
                try:
                    cookie = f"Cookie: {self.cookie}\r\n" if self.cookie else ""
                    request = (
                        f"GET {path} HTTP/1.1\r\nHost: {address.netloc}\r\n{cookie}Connection: close\r\n\r\n"
                    )
                    writer.write(request.encode())
                    status = (await reader.readline()).decode().strip()
                    rest = (
                        await reader.read()
                    )  # headers and body, to the end: the server closes the connection
                    head = rest.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
                    self._answered_by(dict(line.split(": ", 1) for line in head if ": " in line))
                finally:
                    writer.close()
        except (OSError, TimeoutError) as error:
            status = f"failed: {type(error).__name__}: {error}"
        if status.split()[1:2] == ["404"] and self.reruns_sent > reruns_before:
            self.replaced_media.append(path)
        elif status.split()[1:2] != ["200"]:
            self.problems.append(f"{path}: {status}")

    def _answered_by(self, headers) -> None:
        """Note the worker that answered (behind `digitlab serve --workers N`), and keep the cookie that
        HAProxy sets to keep this session on it, as a browser would."""
        lower = {name.lower(): value for name, value in headers.items()}
        if WORKER_HEADER.lower() in lower:
            self.workers.add(lower[WORKER_HEADER.lower()])
        cookie = lower.get("set-cookie", "")
        if cookie.startswith(f"{WORKER_COOKIE}="):
            self.cookie = cookie.split(";", 1)[0]

    def _from_cache(self, reference: ForwardMsg) -> ForwardMsg:
        """The cached message a `ref_hash` stands for, with the reference's metadata (where it goes)."""
        cached, _ = self._cache[reference.ref_hash]
        message = ForwardMsg()
        message.CopyFrom(cached)
        message.metadata.CopyFrom(reference.metadata)
        self._cache[reference.ref_hash] = (cached, self._run_count)
        return message

    def _new_run(self, message: ForwardMsg, now: float) -> None:
        if self._run is not None:
            # No script_finished, and maybe not all its elements. Streamlit 1.67 (runtime/app_session.py):
            # a rerun request that comes after a run's ScriptRunner stopped, while that run's last events
            # wait on the event loop, starts a new ScriptRunner, and the old one's events are ignored.
            # The frontend gets the same; it keeps what arrived.
            run, self._run = self._run, None
            run.status, run.finished = FINISHED.FINISHED_EARLY_FOR_RERUN, now
            self.unfinished += 1
            self.problems += run.exceptions()
            self.runs.append(run)
            self._changed.set()
        session = message.new_session
        self.page_script_hash = session.page_script_hash
        if session.HasField("config"):
            self._max_age = session.config.max_cached_message_age or self._max_age
        fragment_ids = tuple(message.metadata.run.fragment_ids)
        if not fragment_ids:  # a full run: the frontend drops every timer; the run sets its own again
            for fragment_id in list(self._timers):
                self._stop_timer(fragment_id)
        self._run = Run(started=now, fragment_ids=fragment_ids)
        self._seen = set()

    def _new_element(self, element: Element, fragment_id: str, now: float) -> None:
        self._run.elements.append((now, element))
        if element.WhichOneof("type") == "imgs":
            self._download_media([image.url for image in element.imgs.imgs])
        proto = widget_proto(element)
        if proto is None:
            return
        kind = element.WhichOneof("type")
        self.widgets[proto.id] = Widget(proto.id, kind, fragment_id, proto)
        self._seen.add(proto.id)
        if proto.id not in self.states or getattr(proto, "set_value", False):
            state = initial_state(kind, proto)
            if state is not None:
                self.states[proto.id] = state

    def _finish_run(self, finished, now: float) -> None:
        if self._asked:  # a request made during a run replaces it: time from the earliest unanswered
            self.server_ms.append(1000 * (now - self._asked[0]))
            self._asked.clear()
        run, self._run = self._run, None
        if run is None:
            return
        run.status, run.finished = finished, now
        self.cut_short += finished == FINISHED.FINISHED_EARLY_FOR_RERUN
        if run.done:
            self._drop_unseen_widgets(run.fragment_ids)
            self._age_cache(run.fragment_ids)
        self.problems += run.exceptions()
        self.runs.append(run)
        self._changed.set()

    def _drop_unseen_widgets(self, fragment_ids: tuple[str, ...]) -> None:
        """Forget widgets the run could have drawn but did not: all after a full run, the fragment's after
        a fragment run (the frontend's removeInactive)."""
        for widget in list(self.widgets.values()):
            redrawn = not fragment_ids or widget.fragment_id in fragment_ids
            if redrawn and widget.id not in self._seen:
                del self.widgets[widget.id]
                self.states.pop(widget.id, None)

    def _age_cache(self, fragment_ids: tuple[str, ...]) -> None:
        """Forget cached messages not used for `max_cached_message_age` runs (the frontend's rule; a
        fragment run ages only that fragment's messages)."""
        self._run_count += 1
        for key, (message, used) in list(self._cache.items()):
            mine = not fragment_ids or message.delta.fragment_id in fragment_ids
            if mine and self._run_count - used > self._max_age:
                del self._cache[key]

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        if not fragment_id or self._timers.get(fragment_id, (None,))[0] == interval:
            return
        self._stop_timer(fragment_id)
        self._timers[fragment_id] = (interval, asyncio.create_task(self._poll(fragment_id, interval)))

    def _stop_timer(self, fragment_id: str) -> None:
        interval_and_timer = self._timers.pop(fragment_id, None)
        if interval_and_timer is not None:
            interval_and_timer[1].cancel()

    async def _poll(self, fragment_id: str, interval: float) -> None:
        """The frontend's setInterval for an `st.fragment(run_every=...)`: it does not wait for answers."""
        for _ in range(MAX_AUTO_RERUNS):
            await asyncio.sleep(interval)
            try:
                await self.rerun(fragment_id=fragment_id, auto=True)
            except ConnectionError:
                return


# streamlit-drawable-canvas 0.13 sends fabric.js's JSON of the drawing plus the canvas as a PNG data URL;
# every path object carries these fields (recorded from Chromium), then its geometry.
FABRIC_VERSION = "7.4.0"
FABRIC_PATH = {
    "lockMovementX": False, "lockMovementY": False, "lockRotation": False, "lockScalingX": False,
    "lockScalingY": False, "lockSkewingX": False, "lockSkewingY": False, "lockScalingFlip": False,
    "type": "Path", "version": FABRIC_VERSION, "originX": "center", "originY": "center",
}  # fmt: skip
FABRIC_STYLE = {
    "fill": None, "strokeDashArray": None, "strokeLineCap": "round", "strokeDashOffset": 0,
    "strokeLineJoin": "round", "strokeUniform": False, "strokeMiterLimit": 10, "scaleX": 1, "scaleY": 1,
    "angle": 0, "flipX": False, "flipY": False, "opacity": 1, "shadow": None, "visible": True,
    "backgroundColor": "", "fillRule": "nonzero", "paintFirst": "fill",
    "globalCompositeOperation": "source-over", "skewX": 0, "skewY": 0,
}  # fmt: skip


@dataclass
class CanvasDrawing:
    """What a freedraw st_canvas holds, in the shape its component reports it: each stroke a polyline."""

    width: int = 280
    height: int = 280
    stroke_width: float = 18
    stroke_color: str = "#FFFFFF"
    background_color: str = "#000000"
    strokes: list[list[tuple[float, float]]] = field(default_factory=list)

    def add(self, points: list[tuple[float, float]]) -> None:
        if len(points) < 2:
            raise ValueError("a stroke needs at least two points")
        self.strokes.append([(float(x), float(y)) for x, y in points])

    def clear(self) -> None:
        self.strokes.clear()

    def state_json(self) -> str:
        """The component's value after the last stroke: `{"drawing": {"raw": fabric JSON, "data": PNG}}`."""
        raw = {"version": FABRIC_VERSION, "objects": [self._path(s) for s in self.strokes]}
        raw["background"] = self.background_color
        return json.dumps({"drawing": {"raw": raw, "data": self._png_data_url()}}, separators=(",", ":"))

    def _path(self, points: list[tuple[float, float]]) -> dict:
        xs, ys = [x for x, _ in points], [y for _, y in points]
        geometry = {
            "left": (min(xs) + max(xs)) / 2,
            "top": (min(ys) + max(ys)) / 2,
            "width": max(xs) - min(xs),
            "height": max(ys) - min(ys),
            "stroke": self.stroke_color,
            "strokeWidth": self.stroke_width,
        }
        path = [["M", *points[0]]] + [["L", *point] for point in points[1:]]
        return {**FABRIC_PATH, **geometry, **FABRIC_STYLE, "path": path}

    def _png_data_url(self) -> str:
        """The canvas as the browser's `toDataURL("image/png")`: the background, then round-capped lines."""
        image = Image.new("RGBA", (self.width, self.height), self.background_color)
        pen = ImageDraw.Draw(image)
        radius = self.stroke_width / 2
        for points in self.strokes:
            pen.line(points, fill=self.stroke_color, width=round(self.stroke_width), joint="curve")
            for x, y in (points[0], points[-1]):
                pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=self.stroke_color)
        encoded = io.BytesIO()
        image.save(encoded, format="PNG")
        return "data:image/png;base64," + base64.b64encode(encoded.getvalue()).decode()
