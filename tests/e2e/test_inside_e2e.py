"""The Draw page's "Look inside" views, "Why did it read mine wrong?" and "It's actually a …" in Chromium,
with real mouse strokes.

A 7 is drawn; each view (first-layer weights, hidden layers, saliency) opens and shows its charts or
image, a screenshot of each is kept, then the drawing is saved to the handwriting set as a 1. Another 7
opens "Why did it read mine wrong?" and picks the digit meant.
"""

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    assert_no_exception,
    canvas_locator,
    draw_strokes,
    goto,
    metric_value,
    save_screenshot,
    wait_for_app_idle,
)

FIRST_LOAD_MS = 90_000  # the first visit loads TensorFlow and the default model
SEVEN = [[(85, 60), (195, 60), (120, 230)]]
PLOT = ".js-plotly-plot"


def open_view(page: Page, name: str) -> None:
    page.locator(".st-key-draw_inside button").filter(has_text=name).click()
    wait_for_app_idle(page)


def draw_a_seven(page, base_url) -> None:
    """Open Draw and draw a 7 with the mouse; returns once its prediction shows."""
    goto(page, base_url, "/draw")
    canvas = canvas_locator(page, "canvas")
    expect(canvas).to_be_visible(timeout=FIRST_LOAD_MS)
    draw_strokes(page, SEVEN, canvas)
    expect(page.get_by_test_id("stMetric").filter(has_text="Prediction")).to_be_visible()


def test_look_inside_a_drawn_seven_and_correct_it(page, base_url, console_errors):
    draw_a_seven(page, base_url)
    assert metric_value(page, "Prediction") == "7"
    expect(page.locator(f".st-key-inside_weights {PLOT}")).to_have_count(0)  # closed until picked

    open_view(page, "First layer's weights")
    weights = page.locator(f".st-key-inside_weights {PLOT}")
    expect(weights).to_be_visible()
    assert weights.evaluate("gd => gd._fullData[0].type") == "heatmap"
    expect(page.get_by_text("32 filters of 3×3 pixels", exact=False)).to_be_visible()
    weights.scroll_into_view_if_needed()
    save_screenshot(page, "inside-weights")

    open_view(page, "Hidden layers")
    for layer in ("conv1", "conv2", "hidden1"):
        expect(page.locator(f".st-key-inside_{layer} {PLOT}")).to_be_visible()
    units = page.locator(f".st-key-inside_hidden1 {PLOT}").evaluate(
        "gd => gd._fullData[0].z.reduce((n, row) => n + row.length, 0)"
    )
    assert units == 128
    page.locator(f".st-key-inside_conv1 {PLOT}").scroll_into_view_if_needed()
    save_screenshot(page, "inside-layers")

    open_view(page, "Saliency")
    overlay = page.get_by_test_id("stImage").filter(has_text="Which pixels pushed it towards a 7")
    expect(overlay).to_be_visible()
    overlay.scroll_into_view_if_needed()
    save_screenshot(page, "inside-saliency")

    page.locator(".st-key-draw_correction").get_by_role("radio", name="1", exact=True).click()
    expect(page.get_by_text("Saved as a 1: 1 drawing in your handwriting set")).to_be_visible()
    save_screenshot(page, "inside-corrected")
    assert_no_exception(page)
    assert console_errors == []


def test_corrections_reach_teach_and_fine_tuning_and_survive_a_reload(page, base_url, console_errors):
    draw_a_seven(page, base_url)
    pills = page.locator(".st-key-draw_correction")
    for count in (1, 2, 3):  # a writer whose 7s should read as 1s, three times
        pills.get_by_role("radio", name="1", exact=True).click()
        expect(page.get_by_text(f"Saved as a 1: {count} drawing")).to_be_visible()
    page.get_by_test_id("stTopNavLink").filter(has_text="Teach").click()  # same session: the set is kept
    expect(page.get_by_role("heading", name="Teach it your handwriting")).to_be_visible()
    wait_for_app_idle(page)
    assert metric_value(page, "On your handwriting") == "0.0%"
    expect(page.locator(f".st-key-teach_grid {PLOT}")).to_be_visible()
    save_screenshot(page, "teach")
    page.get_by_role("button", name="Fine-tune").click()
    expect(page.get_by_text("Fine-tuned in")).to_be_visible(timeout=120_000)
    wait_for_app_idle(page)
    expect(page.get_by_text("your trained model")).to_be_visible()
    save_screenshot(page, "teach-fine-tuned")
    score = metric_value(page, "On your handwriting")

    page.reload()  # a tablet reloads the tab: the fine-tuned network and the drawings are still there
    expect(page.get_by_role("heading", name="Teach it your handwriting")).to_be_visible()
    wait_for_app_idle(page)
    expect(page.get_by_text("your trained model")).to_be_visible()
    expect(page.locator(f".st-key-teach_grid {PLOT}")).to_be_visible()
    assert metric_value(page, "On your handwriting") == score  # the same drawings, the same network
    save_screenshot(page, "teach-fine-tuned-reloaded")
    assert_no_exception(page)
    assert console_errors == []


def annotations(chart) -> list[str]:
    return chart.evaluate("gd => gd.layout.annotations.map(note => note.text)")


def test_why_it_read_mine_shows_the_nearest_neighbours(page, base_url, console_errors):
    draw_a_seven(page, base_url)
    neighbours = page.locator(f".st-key-draw_neighbours {PLOT}")
    expect(neighbours).to_have_count(0)  # closed: nothing computed for a stroke
    page.locator(".st-key-draw_why summary").click()
    expect(neighbours).to_be_visible(timeout=30_000)  # the first opening embeds the sample
    wait_for_app_idle(page)
    probabilities = page.locator(f".st-key-canvas_bars {PLOT}").evaluate(
        "gd => Array.from(gd._fullData[0].y)"
    )
    second = sorted(range(10), key=lambda digit: probabilities[digit])[-2]  # the default digit meant
    notes = annotations(neighbours)
    assert notes[16:] == ["<b>Most alike to the network</b>", f"<b>Nearest {second}s it learnt from</b>"]
    assert notes[:8].count("<b>7</b>") >= 6  # a clear 7: most alike to the network are 7s, framed
    expect(page.get_by_text("most alike to the first network", exact=False)).to_be_visible()

    page.locator(".st-key-draw_meant button").filter(has_text=re.compile("^1$")).click()
    wait_for_app_idle(page)
    expect(page.get_by_text("the closest 1s", exact=False)).to_be_visible()
    assert annotations(neighbours)[8:] == ["1"] * 8 + [
        "<b>Most alike to the network</b>",
        "<b>Nearest 1s it learnt from</b>",
    ]
    neighbours.scroll_into_view_if_needed()
    save_screenshot(page, "inside-neighbours")
    assert_no_exception(page)
    assert console_errors == []
