"""The Draw page in Chromium: digits drawn with the mouse, the empty and cleared canvas, an uploaded
photo, issue 4's replay of 30 real pen digits (UNIPEN), and the canvas toolbar on a touchscreen.

Strokes are real mouse input on the 280x280 canvas (tests/e2e/helpers.draw_strokes); the expected
digits are the ones drawn, the probability chart is read from Plotly's state in the browser.
"""

import math
import os

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from digitlab.data import load_mnist
from digitlab.strokes import load_unipen, place_on_canvas
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
CANVAS_BARS = ".st-key-canvas_bars .js-plotly-plot"
UPLOAD_BARS = ".st-key-upload_bars .js-plotly-plot"
BAR_HEIGHTS = "gd => Array.from(gd._fullData[0].y)"
UNIPEN_DIGITS = 30
UNIPEN_SEED = 20_240_604
MAX_POINTS_PER_STROKE = 40  # a replayed stroke keeps its shape with 40 points and draws in half the time


def ellipse(cx: float, cy: float, rx: float, ry: float, points: int = 40) -> list[tuple[float, float]]:
    """A closed loop drawn clockwise from the top, as most people write a 0."""
    return [
        (cx + rx * math.sin(2 * math.pi * i / points), cy - ry * math.cos(2 * math.pi * i / points))
        for i in range(points + 1)
    ]


DRAWN = {
    "1": [[(140, 50), (140, 230)]],
    "0": [ellipse(140, 140, 55, 85)],
    "7": [[(85, 60), (195, 60), (120, 230)]],
}


def prediction(page: Page):
    return page.get_by_test_id("stMetric").filter(has_text="Prediction")


def open_draw_page(page: Page, base_url: str):
    goto(page, base_url, "/draw")
    canvas = canvas_locator(page, "canvas")
    expect(canvas).to_be_visible(timeout=FIRST_LOAD_MS)
    return canvas


def clear_with_button(page: Page) -> None:
    page.get_by_role("button", name="Clear").click()
    expect(prediction(page)).to_have_count(0)
    wait_for_app_idle(page)


def expect_invitation_to_draw(page: Page) -> None:
    """No reading at all, and a note asking for a digit."""
    expect(prediction(page)).to_have_count(0)
    expect(page.locator(CANVAS_BARS)).to_have_count(0)
    expect(page.get_by_test_id("stAlert").filter(has_text="draw a digit")).to_be_visible()


def test_drawn_one_zero_and_seven_are_read(page, base_url, console_errors):
    canvas = open_draw_page(page, base_url)
    for digit, strokes in DRAWN.items():
        draw_strokes(page, strokes, canvas)
        expect(prediction(page)).to_be_visible()
        assert metric_value(page, "Prediction") == digit
        bars = page.locator(CANVAS_BARS)
        expect(bars).to_be_visible()
        heights = bars.evaluate(BAR_HEIGHTS)
        assert len(heights) == 10 and abs(sum(heights) - 1) < 1e-3
        assert int(np.argmax(heights)) == int(digit)
        if digit == "7":
            save_screenshot(page, "draw-seven")
        clear_with_button(page)
    assert_no_exception(page)
    assert console_errors == []


def test_empty_canvas_shows_no_prediction_and_clear_brings_that_back(page, base_url, console_errors):
    canvas = open_draw_page(page, base_url)
    expect_invitation_to_draw(page)
    expect(page.get_by_role("button", name="Clear")).to_be_disabled()
    draw_strokes(page, DRAWN["1"], canvas)
    expect(prediction(page)).to_be_visible()
    expect(page.get_by_text("How your drawing becomes 28×28 pixels")).to_be_visible()
    clear_with_button(page)
    expect_invitation_to_draw(page)
    expect(page.get_by_text("How your drawing becomes 28×28 pixels")).to_have_count(0)
    expect(page.get_by_role("button", name="Clear")).to_be_disabled()
    assert_no_exception(page)
    assert console_errors == []


def test_an_uploaded_png_is_read(page, base_url, console_errors, tmp_path):
    dataset = load_mnist()
    index = 18  # the 19th test image, a 3 (any clear MNIST digit would do)
    label = int(dataset.y_test[index])
    photo = Image.fromarray(255 - dataset.x_test[index]).resize((200, 200), Image.BILINEAR)  # black on white
    path = tmp_path / "digit.png"
    photo.save(path)
    open_draw_page(page, base_url)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)
    expect(prediction(page)).to_be_visible()
    wait_for_app_idle(page)
    assert metric_value(page, "Prediction") == str(label)
    heights = page.locator(UPLOAD_BARS).evaluate(BAR_HEIGHTS)
    assert int(np.argmax(heights)) == label
    assert_no_exception(page)
    assert console_errors == []


def thin(stroke):
    keep = np.unique(np.linspace(0, len(stroke) - 1, min(len(stroke), MAX_POINTS_PER_STROKE)).round())
    return [stroke[int(i)] for i in keep]


def unipen_sample():
    """30 UNIPEN digits, the same every run, each placed on the canvas as a person would draw it."""
    try:
        samples = load_unipen()
    except (OSError, ValueError) as error:
        if os.environ.get("DIGITLAB_REQUIRE_E2E") == "1":
            raise
        pytest.skip(f"UNIPEN digits not available: {error}")
    rng = np.random.default_rng(UNIPEN_SEED)
    chosen = [samples[i] for i in rng.choice(len(samples), UNIPEN_DIGITS, replace=False)]
    return [(s.label, [thin(stroke) for stroke in place_on_canvas(s.strokes, rng)]) for s in chosen]


def test_replayed_unipen_digits_are_read_in_the_browser(page, base_url, console_errors):
    digits = unipen_sample()
    canvas = open_draw_page(page, base_url)
    brush = page.get_by_test_id("stSlider").filter(has_text="Brush size").get_by_test_id("stSliderThumbValue")
    expect(brush).to_have_text("18")  # place_on_canvas sizes digits for the default brush
    reset = page.get_by_role("button", name="Reset canvas & history")
    results = []
    for label, strokes in digits:
        draw_strokes(page, strokes, canvas, steps=1, pause_ms=20)
        expect(prediction(page)).to_be_visible(timeout=20_000)
        results.append((label, metric_value(page, "Prediction")))
        reset.click()  # the canvas's own reset: one rerun, where the page's Clear reloads the canvas
        expect(prediction(page)).to_have_count(0)
    right = sum(read == str(label) for label, read in results)
    wrong = [f"{label} read as {read}" for label, read in results if read != str(label)]
    print(f"UNIPEN replayed in Chromium: {right}/{len(results)} read right; wrong: {wrong or 'none'}")
    assert right >= 0.9 * UNIPEN_DIGITS
    assert_no_exception(page)
    assert console_errors == []


def test_a_touch_stroke_from_the_top_right_corner_is_drawn(browser, warm_app):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, has_touch=True)
    try:
        page = context.new_page()
        canvas = open_draw_page(page, warm_app)
        box = canvas.bounding_box()
        touch = context.new_cdp_session(page)

        def stroke(x: float, y_top: float) -> None:
            points = [{"x": box["x"] + x, "y": box["y"] + y_top + 15 * i} for i in range(13)]
            touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points[:1]})
            for point in points[1:]:
                touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
            touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

        stroke(60, 40)  # the left half works: the control that this finger reaches the canvas at all
        expect(prediction(page)).to_be_visible()
        page.get_by_role("button", name="Clear").click()
        expect(prediction(page)).to_have_count(0)
        wait_for_app_idle(page)
        stroke(220, 12)  # a 1 started 12 px below the canvas's top edge, right of centre
        expect(prediction(page)).to_be_visible(timeout=5_000)
    finally:
        context.close()
