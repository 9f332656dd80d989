"""Offline for real: no page of the app asks anything of a host other than the app's own server.

A classroom may have no internet at all. Every request the browser makes while each page loads, and
while a digit is drawn and read, must go to the app's own origin (or be a data: or blob: URL the page
made itself). Streamlit's material-symbol page icons were fetched from fonts.gstatic.com as the
favicon: app.py now gives a file instead.
"""

from playwright.sync_api import expect

from tests.e2e.helpers import canvas_locator, draw_strokes, goto, wait_for_app_idle
from tests.e2e.test_draw_e2e import DRAWN

PAGES = ("/", "/train", "/draw", "/teach", "/confusion", "/compare", "/wall")
LOCAL_SCHEMES = ("data:", "blob:")


def test_no_page_asks_for_anything_outside_the_app(page, base_url):
    outside: list[str] = []

    def check(request):
        if not request.url.startswith((base_url, *LOCAL_SCHEMES)):
            outside.append(f"{page.url} → {request.url}")

    page.on("request", check)
    for path in PAGES:
        goto(page, base_url, path)
        wait_for_app_idle(page, timeout_ms=90_000)
        if path == "/draw":
            expect(canvas_locator(page, "canvas")).to_be_visible(timeout=90_000)
            draw_strokes(page, DRAWN["1"], canvas_locator(page, "canvas"))
            expect(page.get_by_text("What the network sees")).to_be_visible()
    assert outside == []
