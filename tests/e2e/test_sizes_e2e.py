"""Every page at the three sizes a class uses: a projector (1366×768), a tablet (820×1180, touch) and a
phone (390×844, touch). Each loads cleanly, scrolls only up and down, and leaves a screenshot,
test-artifacts/screenshots/size-<page>-<device>.png, to look at."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_exception, goto, save_screenshot, wait_for_app_idle

DEVICES = {
    "projector": {"viewport": {"width": 1366, "height": 768}},
    "tablet": {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
PAGES = {
    "home": ("/", "How does a neural network read handwriting?"),
    "train": ("/train", "Train a network"),
    "draw": ("/draw", "Draw a digit"),
    "teach": ("/teach", "Teach it your handwriting"),
    "confusion": ("/confusion", "Where does the network get confused?"),
    "compare": ("/compare", "Compare runs"),
    "wall": ("/wall", "Class wall"),
}
WIDEST = """() => Math.max(
  document.documentElement.scrollWidth, document.querySelector('[data-testid=stMain]')?.scrollWidth ?? 0
)"""


CLIPPED = """() => [...document.querySelectorAll('[data-testid=stButtonGroup] [role=radiogroup]')]
  .filter((group) => group.scrollWidth > group.clientWidth + 1)
  .map((group) => group.getAttribute('aria-label'))"""


@pytest.fixture(scope="module", params=list(DEVICES))
def device(request, browser, warm_app):
    context = browser.new_context(**DEVICES[request.param])
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield request.param, page
    context.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_fits_each_screen(device, base_url, name):
    kind, page = device
    path, title = PAGES[name]
    goto(page, base_url, path)
    expect(page.locator("h1").first).to_have_text(title, timeout=90_000)
    wait_for_app_idle(page, timeout_ms=90_000)
    assert_no_exception(page)
    width = DEVICES[kind]["viewport"]["width"]
    assert page.evaluate(WIDEST) <= width, "the page scrolls sideways"
    assert page.evaluate(CLIPPED) == [], "a row of choices is cut off at the screen's edge"
    save_screenshot(page, f"size-{name}-{kind}")
