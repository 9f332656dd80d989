"""Made for fingers, in Chromium with touch events (820×1180, a tablet): one tap selects a confusion
square, and every control a student taps is at least 44 px, or answers a finger 44 px wide.

The sizes and the tap are digitlab/app/workarounds.py's item 9 (assets/touch.css and touch.js); these
tests fail when Streamlit's test ids or Plotly's pointer handling change under them.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import canvas_locator, draw_strokes, goto, plotly_point_position, wait_for_app_idle
from tests.e2e.test_draw_e2e import DRAWN

TABLET = {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
MIN_PX = 44
FIRST_LOAD_MS = 90_000
# Every control a finger may tap; inputs inside a select or a slider are part of the larger target
# measured instead, and the skip link is off screen until a keyboard focuses it.
TARGETS = """(minPx) => {
  const selector = [
    'button', 'a[href]', '[role="radio"]', '[role="tab"]', 'summary', '[data-baseweb="select"] > div',
    '[data-testid="stSlider"] div:has(> div > input[type="range"])',
    '[data-testid="stCheckbox"] label',
  ].join(',');
  const neighbours = selector + ', [data-testid="stSlider"] [role="group"] > div';  // a slider's track
  const inSelect = (el) => el.closest('[data-testid="stSelectbox"]') && el.tagName === 'BUTTON';  // its arrow
  const skip = (el) => inSelect(el) || el.matches('[data-testid="stSkipToContent"]');
  // A probe answers when it lands on the control, or on a neighbouring control right beside it: two
  // targets closer than 44 px share the space between them, and a finger there gets one of them.
  const answers = (el, x, y) => {
    const hit = document.elementFromPoint(x, y);
    return hit && (hit === el || el.contains(hit) || hit.closest(neighbours) !== null);
  };
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (r.width < 2 || r.height < 2 || style.visibility === 'hidden' || skip(el)) continue;
    if (el.__measured || r.top < 0 || r.bottom > innerHeight || r.left < 0 || r.right > innerWidth) continue;
    if (r.width >= minPx && r.height >= minPx) continue;
    const cx = r.left + r.width / 2, cy = r.top + r.height / 2, reach = minPx / 2 - 2;
    if (!answers(el, cx, cy)) continue;  // hidden, as in a closed expander
    el.__measured = true;  // measured once, on the first screen that shows all of it
    const within = (v, end) => Math.min(Math.max(v, 0), end - 1);
    const clamp = ([x, y]) => [within(x, innerWidth), within(y, innerHeight)];
    const around = [[cx - reach, cy], [cx + reach, cy], [cx, cy - reach], [cx, cy + reach]];
    const probes = [[cx, cy], ...around.map(clamp)];  // a finger cannot land beyond the screen's edge
    const missed = probes.filter(([x, y]) => !answers(el, x, y));
    if (!missed.length) continue;  // a larger invisible hit area
    const name = el.getAttribute('aria-label') || el.innerText || el.dataset.testid || el.tagName;
    const named = (hit) => (hit ? hit.dataset.testid || `${hit.tagName}.${hit.className}` : 'none');
    const where = missed.map(([x, y]) => named(document.elementFromPoint(x, y))).join(', ');
    small.push(`${name.trim().slice(0, 40)} (${Math.round(r.width)}×${Math.round(r.height)} px; ${where})`);
  }
  return small;
}"""


@pytest.fixture
def tablet(browser, warm_app):
    context = browser.new_context(**TABLET)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


SCROLLERS = '[data-testid="stMain"], [data-testid="stSidebarContent"]'


def small_targets(page) -> list[str]:
    """Every target under 44 px, screen by screen: elementFromPoint only sees what is on the screen,
    and the page and the sidebar scroll apart, so both move together in overlapping steps."""
    found: list[str] = []
    height = page.evaluate(
        f"() => Math.max(...[...document.querySelectorAll('{SCROLLERS}')].map(e => e.scrollHeight))"
    )
    for top in range(0, max(height, 1), 500):
        page.evaluate(f"(y) => document.querySelectorAll('{SCROLLERS}').forEach(e => e.scrollTo(0, y))", top)
        page.wait_for_timeout(150)
        found += [item for item in page.evaluate(TARGETS, MIN_PX) if item not in found]
    return found


def test_one_tap_selects_a_confusion_square(tablet, base_url):
    goto(tablet, base_url, "/confusion")
    matrix = tablet.locator(".st-key-cm")
    expect(matrix.locator(".js-plotly-plot")).to_be_visible(timeout=FIRST_LOAD_MS)
    x, y = plotly_point_position(matrix, 7, 2)
    tablet.touchscreen.tap(x, y)
    expect(tablet.get_by_role("heading", name=re.compile(r"^2s read as 7: "))).to_be_visible()


@pytest.mark.parametrize("path", ["/", "/train", "/draw", "/confusion", "/wall"])
def test_every_control_is_a_44_px_target_on_a_touch_screen(tablet, base_url, path):
    goto(tablet, base_url, path)
    wait_for_app_idle(tablet, timeout_ms=FIRST_LOAD_MS)
    if path == "/draw":  # the reading's controls too: pills, the wall's digits, Send
        canvas = canvas_locator(tablet, "canvas")
        expect(canvas).to_be_visible(timeout=FIRST_LOAD_MS)
        draw_strokes(tablet, DRAWN["1"], canvas, hover=False)
        expect(tablet.locator(".st-key-wall_meant")).to_be_visible()
    small = small_targets(tablet)
    assert small == [], "\n".join(small)


def test_the_phone_menu_closes_once_a_page_is_chosen(browser, warm_app):
    context = browser.new_context(**PHONE)
    phone = context.new_page()
    try:
        goto(phone, warm_app, "/")
        sidebar = phone.locator('[data-testid="stSidebar"]')
        expect(sidebar).to_have_attribute("data-collapsed", "true")
        phone.locator('[data-testid="stExpandSidebarButton"]').first.tap()
        expect(sidebar).to_have_attribute("data-collapsed", "false")
        phone.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Draw").tap()
        expect(phone.locator("h1").first).to_have_text("Draw a digit", timeout=FIRST_LOAD_MS)
        expect(sidebar).to_have_attribute("data-collapsed", "true")
    finally:
        context.close()
