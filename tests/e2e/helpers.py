"""Browser helpers for the e2e tests: navigate, wait for Streamlit to settle, draw, click a chart point.

Selectors are the ones Streamlit 1.67 and streamlit-drawable-canvas 0.13 render (see /work/notes/research.md):
the canvas is a Components-v2 element in an open shadow root (Playwright CSS pierces it), fabric.js draws
into `canvas.lower-canvas` and listens on `canvas.upper-canvas`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from playwright.sync_api import Locator, Page

APP = '[data-testid="stApp"]'
EXCEPTION = '[data-testid="stException"]'
CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.upper-canvas'
PLOTLY = ".js-plotly-plot"
# The canvas sends its drawing 200 ms after mouse-up (debounced), so a wait that starts sooner
# could see the app idle before the rerun has even been requested.
CANVAS_DEBOUNCE_MS = 200
# Until the canvas is hovered, its invisible toolbar (`.dc-toolbar{opacity:0; top:-1rem}`) covers the
# top ~30 px of the canvas's right half and swallows a press there; on hover it slides up after a
# 0.1 s delay plus a 0.1 s transition. A mouse user's pointer crosses the canvas before pressing.
TOOLBAR_SLIDE_MS = 250

_IDLE_PREDICATE = """(settleMs) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const busy = !app
    || app.getAttribute('data-test-connection-state') !== 'CONNECTED'
    || app.getAttribute('data-test-script-state') !== 'notRunning'
    || document.querySelector('[data-testid="stSkeleton"]') !== null
    || document.querySelector('[data-testid="stStatusWidgetRunningIcon"]') !== null;
  const now = performance.now();
  if (busy) { window.__digitlabIdleSince = null; return false; }
  if (window.__digitlabIdleSince == null) window.__digitlabIdleSince = now;
  return now - window.__digitlabIdleSince >= settleMs;
}"""

_PLOTLY_POSITION = """(gd, [x, y, xName, yName]) => {
  const layout = gd._fullLayout;
  const xa = layout[xName], ya = layout[yName];
  if (!xa || !ya) return {error: `no axes ${xName}/${yName}`};
  // d2p on a category axis silently ADDS an unknown category, so look categories up instead.
  const toPixel = (axis, value) => {
    if (axis.type === 'category') {
      let index = axis._categories.indexOf(value);
      if (index < 0) index = axis._categories.map(String).indexOf(String(value));
      return index < 0 ? NaN : axis.l2p(index);
    }
    return axis.d2p(value);
  };
  const svg = gd.querySelector('.main-svg').getBoundingClientRect();
  const px = toPixel(xa, x), py = toPixel(ya, y);
  const inside = px >= 0 && px <= xa._length && py >= 0 && py <= ya._length;
  return {x: svg.left + xa._offset + px, y: svg.top + ya._offset + py, inside};
}"""


def wait_for_app_idle(
    page: Page,
    *,
    timeout_ms: float = 30_000,
    settle_ms: float = 150,
    initial_wait_ms: float = CANVAS_DEBOUNCE_MS + 50,
) -> None:
    """Wait until the app is connected, no script or fragment is running, and no skeleton is shown,
    and has stayed so for `settle_ms`. `initial_wait_ms` lets a debounced widget request its rerun first.

    On a page with an `st.fragment(run_every=...)` this returns in a gap between two fragment runs;
    assert on the content you expect (Playwright `expect`) rather than on idleness alone.
    """
    if initial_wait_ms:
        page.wait_for_timeout(initial_wait_ms)
    page.evaluate("() => { window.__digitlabIdleSince = null; }")
    page.wait_for_function(_IDLE_PREDICATE, arg=settle_ms, polling=25, timeout=timeout_ms)


def assert_no_exception(page: Page) -> None:
    """Fail with the app's own traceback text if the page shows any `st.exception` box."""
    boxes = page.locator(EXCEPTION)
    count = boxes.count()
    if count:
        texts = [boxes.nth(i).inner_text()[:1500] for i in range(count)]
        raise AssertionError(f"{count} Streamlit exception(s) on {page.url}:\n" + "\n---\n".join(texts))


def goto(page: Page, base_url: str, path: str = "/") -> Page:
    """Open `path` (e.g. "/", "/train", "train?units=64"), wait for the run to finish, and fail if
    Streamlit answered with its "Page not found" dialog instead of the page."""
    page.goto(base_url.rstrip("/") + "/" + path.lstrip("/"))
    page.locator(APP).wait_for(state="attached")
    wait_for_app_idle(page, initial_wait_ms=0)
    not_found = page.get_by_role("dialog").filter(has_text="Page not found")
    if not_found.count():
        raise AssertionError(f"Streamlit says 'Page not found' for {path!r} (landed on {page.url})")
    return page


def canvas_locator(page: Page, key: str | None = None) -> Locator:
    """The drawing surface of the st_canvas, the one with `key=` when given (Streamlit puts the widget
    key in a `st-key-<key>` class on the element container)."""
    if key is None:
        return page.locator(CANVAS)
    return page.locator(f".st-key-{key} canvas.upper-canvas")


def _canvas_geometry(canvas: Locator) -> tuple[float, float, float, float]:
    """Screen origin and screen-pixels-per-canvas-pixel of the canvas, after scrolling it into view."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    if box is None:
        raise AssertionError("the canvas is not displayed")
    width, height = canvas.evaluate("c => [c.width, c.height]")
    return box["x"], box["y"], box["width"] / width, box["height"] / height


def _check_inside(point: Sequence[float], canvas: Locator) -> None:
    width, height = canvas.evaluate("c => [c.width, c.height]")
    x, y = point
    if not (0 <= x < width and 0 <= y < height):
        raise ValueError(f"stroke point {point} is outside the {width}x{height} canvas")


def draw_strokes(
    page: Page,
    strokes: Sequence[Sequence[Sequence[float]]],
    canvas: Locator | None = None,
    *,
    steps: int = 4,
    pause_ms: float = 60,
    wait: bool = True,
    hover: bool = True,
) -> None:
    """Replay strokes as real mouse input: each stroke is a list of (x, y) canvas pixels, pressed at
    the first point, dragged through the rest (`steps` mouse moves per segment), released at the last.
    A one-point stroke becomes a dot. With `hover` the pointer first rests on the canvas, as a mouse
    user's does, so the canvas's toolbar has moved out of the way. With `wait`, returns once the app
    has rerun with the drawing."""
    canvas = canvas if canvas is not None else canvas_locator(page)
    for stroke in strokes:
        for point in stroke:
            _check_inside(point, canvas)
    left, top, scale_x, scale_y = _canvas_geometry(canvas)

    def to_screen(point: Sequence[float]) -> tuple[float, float]:
        return left + point[0] * scale_x, top + point[1] * scale_y

    if hover:
        width, height = canvas.evaluate("c => [c.width, c.height]")
        page.mouse.move(*to_screen((width / 2, height / 2)))
        page.wait_for_timeout(TOOLBAR_SLIDE_MS)

    for stroke in strokes:
        if not stroke:
            continue
        points = [to_screen(p) for p in stroke]
        if len(points) == 1:  # fabric needs some movement to record a path
            points.append((points[0][0] + 1, points[0][1] + 1))
        page.mouse.move(*points[0])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x, y, steps=steps)
        page.mouse.up()
        page.wait_for_timeout(pause_ms)
    if wait:
        wait_for_app_idle(page)


def plotly_point_position(
    chart: Locator, x_value, y_value, *, axes: tuple[str, str] = ("xaxis", "yaxis")
) -> tuple[float, float]:
    """Screen position of data point (x_value, y_value) in the Plotly chart inside `chart`, from
    Plotly's own axis transforms (`_fullLayout.<axis>.d2p` plus the axis offset)."""
    plot = chart.locator(PLOTLY).first
    plot.scroll_into_view_if_needed()
    where = plot.evaluate(_PLOTLY_POSITION, [x_value, y_value, *axes])
    if "error" in where:
        raise AssertionError(where["error"])
    if not where["inside"]:
        raise AssertionError(f"point ({x_value!r}, {y_value!r}) is outside the plotted area")
    return where["x"], where["y"]


def click_plotly_point(
    page: Page,
    chart: Locator,
    x_value,
    y_value,
    *,
    axes: tuple[str, str] = ("xaxis", "yaxis"),
    wait: bool = True,
) -> None:
    """Click the marker at data coordinates (x_value, y_value) with the real mouse; with
    `on_select="rerun"` this selects the point and reruns the app (waited for when `wait`)."""
    x, y = plotly_point_position(chart, x_value, y_value, axes=axes)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    if wait:
        wait_for_app_idle(page)


def metric_value(page: Page, label: str) -> str:
    """The displayed value of the `st.metric` whose label contains `label`."""
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def save_screenshot(page: Page, name: str) -> Path:
    """Keep a picture of the page as it is now in test-artifacts/screenshots/<name>.png."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
