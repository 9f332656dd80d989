"""The app in real Chromium: every page loads cleanly, and mouse strokes on the canvas are read."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_exception, canvas_locator, draw_strokes, goto, metric_value


@pytest.mark.parametrize(
    "path, title", [("/", "handwriting"), ("/train", "Train"), ("/draw", "Draw"), ("/confusion", "confused")]
)
def test_every_page_loads_without_an_exception(page, base_url, path, title):
    goto(page, base_url, path)
    assert_no_exception(page)
    if title:
        expect(page.locator("h1").first).to_contain_text(title, timeout=60_000)


def test_mouse_strokes_are_read_after_each_stroke(page, base_url):
    goto(page, base_url, "/draw")
    canvas = canvas_locator(page)
    expect(canvas).to_be_visible(timeout=60_000)
    # The empty canvas shows no prediction.
    assert page.locator('[data-testid="stMetric"]').count() == 0
    draw_strokes(page, [[(140, 50 + 6 * i) for i in range(31)]], canvas)
    expect(page.locator('[data-testid="stMetric"]').first).to_be_visible(timeout=60_000)
    assert metric_value(page, "Prediction") == "1"
    assert_no_exception(page)
