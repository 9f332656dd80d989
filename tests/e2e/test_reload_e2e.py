"""A reload in Chromium keeps the browser's work; a forged cookie gets nothing (digitlab/app/browser_work.py).

Reload after fine-tuning is in test_inside_e2e.py, at the end of the fine-tuning test.
"""

from playwright.sync_api import expect

from digitlab.app.browser_work import COOKIE
from digitlab.classroom import kept
from tests.e2e.helpers import assert_no_exception, goto, save_screenshot, wait_for_app_idle
from tests.e2e.test_train_e2e import (
    CURVE_POINTS,
    LONG_EPOCHS,
    PROGRESS,
    START,
    STOP,
    curve_points,
    set_epochs,
    wait_for_epochs,
)


def browser_cookie(page):
    cookies = [c for c in page.context.cookies() if c["name"] == COOKIE]
    return cookies[0] if cookies else None


def test_a_reload_mid_run_finds_its_own_run_training_with_its_curves(train_page, base_url, console_errors):
    page = train_page
    goto(page, base_url, "/train")
    cookie = browser_cookie(page)
    assert cookie and kept.well_formed(cookie["value"]), cookie
    assert cookie["sameSite"] == "Strict" and cookie["value"] not in page.url
    set_epochs(page, LONG_EPOCHS)
    page.locator(START).click()
    left_at = wait_for_epochs(page, 0.5)
    points_before = curve_points(page)

    page.reload()
    expect(page.locator(PROGRESS)).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"{LONG_EPOCHS} epochs on 5,000 images")).to_be_visible()
    expect(page.get_by_text("Waiting for a free training slot")).to_have_count(0)
    assert page.locator(STOP).is_enabled(), "the reloaded page does not own its run"
    assert wait_for_epochs(page, left_at + 0.01, timeout_ms=60_000) > left_at  # still training
    page.wait_for_function(f"() => ({CURVE_POINTS})() > {points_before}", polling=100, timeout=30_000)
    assert browser_cookie(page)["value"] == cookie["value"]
    save_screenshot(page, "train-reloaded-mid-run")

    page.locator(STOP).click()
    expect(page.get_by_test_id("stMetric").filter(has_text="Test accuracy")).to_be_visible(timeout=60_000)
    expect(page.locator(START)).to_be_enabled()
    assert_no_exception(page)
    assert console_errors == []


def test_a_forged_cookie_gets_a_fresh_session_and_a_new_token(page, base_url, console_errors):
    forged = kept.new_token()
    page.context.add_cookies([{"name": COOKIE, "value": forged, "url": base_url}])
    goto(page, base_url, "/teach")
    wait_for_app_idle(page)
    expect(page.get_by_text("Your handwriting set is empty.", exact=False)).to_be_visible()
    expect(page.get_by_text("your trained model")).to_have_count(0)
    page.wait_for_function(
        f"() => document.cookie.includes('{COOKIE}=') && !document.cookie.includes('{forged}')",
        timeout=15_000,
    )
    fresh = browser_cookie(page)["value"]
    assert kept.well_formed(fresh) and fresh != forged
    assert_no_exception(page)
    assert console_errors == []
