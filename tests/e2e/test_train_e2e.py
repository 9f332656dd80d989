"""The Train page in Chromium: live curves during a run, Stop, and a run that survives a page switch.

The curves are read from Plotly's own state in the browser (`gd._fullData`): the number of points
of the "Training, each batch" trace of the loss chart. A recorder in the page samples it every 50 ms,
so no redraw between two of the test's own polls goes unseen, however busy the machine.

A training run outlives its browser tab (it is a server thread), and the server trains one run at a
time, so every test here stops its run before it ends, pass or fail (`train_page`).
"""

import dataclasses
import re

from playwright.sync_api import Page, expect

from digitlab import estimate
from digitlab.config import PRESETS
from tests.e2e.helpers import (
    assert_no_exception,
    canvas_locator,
    draw_strokes,
    goto,
    metric_value,
    save_screenshot,
    wait_for_app_idle,
)

START = ".st-key-train_start button"
STOP = ".st-key-train_stop button"
PROGRESS = '[data-testid="stProgress"]'
RUN_MS = 180_000  # generous: the first run on a fresh server imports TensorFlow first
POSITION = re.compile(r"epoch (\d+)/(\d+) · step (\d+)/(\d+)", re.IGNORECASE)
LONG_EPOCHS = 50  # the slider's maximum: a run that is surely still going when the test acts
# The Quick demo as it was, 2 epochs of 71 batches, over in seconds: the Quick demo itself now trains for
# about 10 s (issue 13), which a test that only needs a finished run has no reason to wait for.
SHORT_RUN = "/train?train_epochs=2&train_batch_size=64"

# Points in the per-batch loss curve: the live picture's while the run trains, then the Plotly trace's;
# -1 while neither is on the page.
CURVE_POINTS = """() => {
  const live = document.querySelector('.st-key-train_live svg[data-metric=loss]');
  if (live) return Number(live.dataset.batchPoints);
  const gd = document.querySelector('.st-key-train_loss_curve .js-plotly-plot');
  if (!gd || !gd._fullData) return -1;
  const trace = gd._fullData.find(t => t.name === 'Training, each batch');
  return trace ? trace.x.length : 0;
}"""
RECORD_CURVE = f"""() => {{
  const points = {CURVE_POINTS};
  window.__curveStates = [];
  window.__curveRecorder = setInterval(() => {{
    const n = points();
    const states = window.__curveStates;
    if (n >= 0 && states[states.length - 1] !== n) states.push(n);
  }}, 50);
}}"""


def progress_text(page: Page) -> str:
    return page.locator(PROGRESS).inner_text().strip()


def epochs_done(text: str) -> float:
    """'Epoch 3/50 · step 20/71 · ETA 9 s' -> 2.28 epochs trained; 0 before the first batch."""
    match = POSITION.search(text)
    if not match:
        return 0.0
    epoch, _, step, steps = map(int, match.groups())
    return epoch - 1 + step / steps


def curve_points(page: Page) -> int:
    return page.evaluate(CURVE_POINTS)


def set_epochs(page: Page, epochs: int) -> None:
    """Move the sidebar's Epochs slider with the keyboard, as a user can."""
    slider = page.get_by_test_id("stSidebar").get_by_test_id("stSlider").filter(has_text="Epochs")
    thumb = slider.get_by_role("slider")
    thumb.focus()
    # Start from the top end, as a user going for many epochs would: each press is a rerun, and
    # 49 of them on a loaded machine outlast any sensible wait.
    thumb.press("End")
    value = slider.get_by_test_id("stSliderThumbValue")
    highest = int(value.inner_text())
    if epochs > highest // 2:
        presses, key = highest - epochs, "ArrowLeft"
    else:
        thumb.press("Home")
        presses, key = epochs - int(value.inner_text()), "ArrowRight"
    for _ in range(presses):
        thumb.press(key)
    wait_for_app_idle(page, timeout_ms=90_000)
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text(str(epochs))


def wait_for_epochs(page: Page, at_least: float, timeout_ms: float = RUN_MS) -> float:
    """Poll the progress bar until `at_least` epochs are trained; the number reached."""
    page.wait_for_function(
        """([selector, minimum]) => {
             const bar = document.querySelector(selector);
             const m = bar && bar.innerText.match(/epoch (\\d+)\\/(\\d+) · step (\\d+)\\/(\\d+)/i);
             return m && (m[1] - 1 + m[3] / m[4]) >= minimum;
           }""",
        arg=[PROGRESS, at_least],
        polling=100,
        timeout=timeout_ms,
    )
    return epochs_done(progress_text(page))


def percent(text: str) -> float:
    return float(text.strip().rstrip("%"))


def test_quick_demo_curve_updates_live_then_results_show(train_page, base_url, console_errors):
    page = train_page
    goto(page, base_url, SHORT_RUN)
    expect(page.get_by_role("combobox", name="Start from a preset")).to_have_value("Quick demo")
    page.evaluate(RECORD_CURVE)
    page.locator(START).click()
    accuracy = page.get_by_test_id("stMetric").filter(has_text="Test accuracy")
    expect(accuracy).to_be_visible(timeout=RUN_MS)
    states = page.evaluate("() => { clearInterval(window.__curveRecorder); return window.__curveStates; }")
    print(f"loss curve points, each distinct state seen: {states}")
    expect(page.locator(PROGRESS)).to_contain_text("Done: 2 epochs")
    total_steps = int(re.search(r"([\d,]+) steps", progress_text(page)).group(1).replace(",", ""))
    # The short run: 5,000 images, 10 % held out, batches of 64 -> 71 steps per epoch, 2 epochs.
    assert total_steps == 2 * 71
    assert len(set(states)) >= 3, f"the curve was drawn in only {len(set(states))} states: {states}"
    assert states == sorted(states), f"the curve lost points during the run: {states}"
    assert any(0 < n < total_steps for n in states), f"no partial curve was ever shown: {states}"
    # A point per execution of batches, at least 20 an epoch, the last at the run's last batch.
    assert states[-1] == curve_points(page) >= 2 * 20
    assert page.evaluate(CURVE_X, True) == 2.0
    assert 50 < percent(metric_value(page, "Test accuracy")) <= 100
    expect(page.get_by_text("Draw and Confusion now use this network.")).to_be_visible()
    wait_for_app_idle(page)
    assert_no_exception(page)
    assert console_errors == []
    save_screenshot(page, "train-results")


def test_stop_ends_the_run_and_keeps_the_weights(train_page, base_url, console_errors):
    page = train_page
    goto(page, base_url, "/train")
    set_epochs(page, LONG_EPOCHS)
    page.locator(START).click()
    expect(page.get_by_text(f"{LONG_EPOCHS} epochs on 5,000 images")).to_be_visible()
    wait_for_epochs(page, 1.0)  # one whole epoch: weights well past their random start
    page.locator(STOP).click()
    expect(page.get_by_text("Stopped early: the weights learned so far are kept")).to_be_visible(
        timeout=60_000
    )
    stopped_at = progress_text(page)
    assert stopped_at.startswith("Stopped at epoch"), stopped_at
    assert 1.0 <= epochs_done(stopped_at) < LONG_EPOCHS
    # An untrained network reads 10 % right; one epoch of 4,500 images, about 85-90 %.
    assert percent(metric_value(page, "Test accuracy")) > 50
    assert curve_points(page) >= 20  # at least 20 points an epoch
    expect(page.get_by_text("Draw and Confusion now use this network.")).to_be_visible()
    expect(page.locator(START)).to_be_enabled()
    expect(page.locator(STOP)).to_be_disabled()
    assert_no_exception(page)
    assert console_errors == []


def nav_link(page: Page, url_path: str):
    """The app's navigation link to a page (in the top bar or the sidebar, wherever the router puts it)."""
    return page.locator(
        f'a[data-testid="stTopNavLink"][href$="/{url_path}"], '
        f'a[data-testid="stSidebarNavLink"][href$="/{url_path}"]'
    )


def test_a_run_keeps_going_during_a_visit_to_draw(train_page, base_url, console_errors):
    page = train_page
    goto(page, base_url, "/train")
    set_epochs(page, LONG_EPOCHS)
    page.locator(START).click()
    left_at = wait_for_epochs(page, 0.5)
    points_before = curve_points(page)
    page.evaluate("() => { window.__samePage = true; }")  # gone if the browser reloads

    nav_link(page, "draw").click()
    expect(page).to_have_url(re.compile(r"/draw$"))
    canvas = canvas_locator(page, "canvas")
    expect(canvas).to_be_visible()
    draw_strokes(page, [[(140, 50), (140, 230)]], canvas)  # the Draw page answers while it trains
    expect(page.get_by_test_id("stMetric").filter(has_text="Prediction")).to_be_visible()
    assert metric_value(page, "Prediction") == "1"

    nav_link(page, "train").click()
    expect(page).to_have_url(re.compile(r"/train(\?|$)"))
    expect(page.locator(PROGRESS)).to_be_visible()
    assert page.evaluate("() => window.__samePage === true"), "switching pages reloaded the browser tab"
    expect(page.get_by_text(f"{LONG_EPOCHS} epochs on 5,000 images")).to_be_visible()
    back_at = wait_for_epochs(page, left_at + 0.01, timeout_ms=60_000)
    assert back_at > left_at
    assert page.locator(STOP).is_enabled(), "the run ended during the visit, yet 50 epochs take minutes"
    page.wait_for_function(f"() => ({CURVE_POINTS})() > {points_before}", polling=100, timeout=30_000)

    page.locator(STOP).click()
    expect(page.get_by_test_id("stMetric").filter(has_text="Test accuracy")).to_be_visible(timeout=60_000)
    assert_no_exception(page)
    assert console_errors == []


CURVE_X = """(end) => {
  const gd = document.querySelector('.st-key-train_loss_curve .js-plotly-plot');
  const trace = gd._fullData.find(t => t.name === 'Training, each batch');
  return end ? trace.x[trace.x.length - 1] : trace.x[0];
}"""


def curve_start(page: Page) -> float:
    """Epochs at the first point of the finished run's per-batch loss curve."""
    return page.evaluate(CURVE_X, False)


def curve_end(page: Page) -> float:
    return page.evaluate(CURVE_X, True)


PAUSED_AT = re.compile(r"Paused at epoch (\d+)/\d+ · step (\d+)/(\d+)")


def paused_step(page: Page) -> int:
    """Batches trained when the progress bar says 'Paused at epoch 2/50 · step 5/71': 76."""
    expect(page.locator(PROGRESS)).to_contain_text("Paused at epoch", timeout=30_000)
    epoch, step, steps = map(int, PAUSED_AT.search(progress_text(page)).groups())
    return (epoch - 1) * steps + step


def test_pause_step_try_it_then_train_on(train_page, base_url, console_errors):
    page = train_page
    goto(page, base_url, "/train")
    set_epochs(page, LONG_EPOCHS)
    page.locator(START).click()
    wait_for_epochs(page, 0.3)
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_text("It keeps its training slot for")).to_be_visible(timeout=30_000)
    before = paused_step(page)
    page.wait_for_timeout(1000)
    assert paused_step(page) == before, "a paused run went on training"
    step_batch = page.get_by_role("button", name="Step 1 batch")
    for expected in (before + 1, before + 2):
        step_batch.click()
        page.wait_for_function(
            """([selector, wanted]) => {
                 const text = document.querySelector(selector).innerText;
                 const m = text.match(/Paused at epoch (\\d+)\\/\\d+ · step (\\d+)\\/(\\d+)/);
                 return m && (m[1] - 1) * m[3] + Number(m[2]) >= wanted;
               }""",
            arg=[PROGRESS, expected],
            polling=100,
            timeout=30_000,
        )
        assert paused_step(page) == expected, "Step must train exactly one batch"
    page.get_by_text("Look inside it now").click()
    weights = page.locator(".st-key-inside_weights .js-plotly-plot")
    expect(weights).to_be_visible(timeout=30_000)
    save_screenshot(page, "train-paused")
    page.get_by_role("button", name="Try it on Draw").click()
    expect(page.get_by_text(f"Draw reads with it as it was after batch {before + 2:,}")).to_be_visible()
    page.get_by_role("button", name="Resume", exact=True).click()
    expect(page.locator(PROGRESS)).not_to_contain_text("Paused", timeout=30_000)
    wait_for_app_idle(page)
    page.locator(STOP).click()
    expect(page.get_by_text("Stopped early: the weights learned so far are kept")).to_be_visible(
        timeout=60_000
    )
    stopped_at = curve_end(page)
    # Stopped inside epoch E: E - 1 whole epochs done; one more finishes epoch E from the very batch.
    epoch, step, steps = map(
        int, re.search(r"Stopped at epoch (\d+)/\d+ · step (\d+)/(\d+)", progress_text(page)).groups()
    )
    epochs_before = epoch if step == steps else epoch - 1
    more = page.get_by_role("spinbutton", name="More epochs")
    more.fill("1")
    more.press("Tab")
    wait_for_app_idle(page)
    expect(more).to_have_value("1")
    page.get_by_role("button", name="Train on").click()
    expect(page.locator(PROGRESS)).to_contain_text(f"Done: {epochs_before + 1} epochs", timeout=RUN_MS)
    page.wait_for_selector(".st-key-train_loss_curve .js-plotly-plot")
    # The loss curve starts where the first run's did and goes on past where it stopped.
    assert curve_start(page) < 0.05 and curve_end(page) == epochs_before + 1 > stopped_at
    expect(page.get_by_text("Draw and Confusion now use this network.")).to_be_visible()
    save_screenshot(page, "train-continued")
    assert_no_exception(page)
    assert console_errors == []


def test_a_scheduled_learning_rate_is_drawn_on_the_loss_chart(train_page, base_url, console_errors):
    page = train_page
    goto(page, base_url, "/train?train_lr_schedule=step&train_weight_decay=0.0001&train_epochs=3")
    expect(page.get_by_text("Weight decay (L2)")).to_be_visible()
    page.locator(START).click()
    expect(page.locator(PROGRESS)).to_contain_text("Done: 3 epochs", timeout=RUN_MS)
    page.wait_for_selector(".st-key-train_loss_curve .js-plotly-plot")
    rates = page.evaluate(
        """() => {
             const gd = document.querySelector('.st-key-train_loss_curve .js-plotly-plot');
             const trace = gd._fullData.find(t => t.name.startsWith('Learning rate'));
             return trace ? Array.from(trace.y) : null;
           }"""
    )
    # Step decay over 3 epochs: 0.001, then a tenth from half-way, a hundredth from three quarters.
    assert rates and abs(max(rates) - 1e-3) < 1e-9 and abs(min(rates) - 1e-5) < 1e-9
    save_screenshot(page, "train-schedule")
    assert_no_exception(page)
    assert console_errors == []


def assert_in_view(what, height: int = 768) -> None:
    """`what` lies wholly on a screen `height` px tall. Its box is looked for up to 10 s: now and then the
    live pictures are briefly not laid out (seen on a loaded CI machine, mid-run), which is not what
    this checks; where they stay while shown is."""
    box = None
    for _ in range(50):
        if (box := what.bounding_box()) is not None:
            break
        what.page.wait_for_timeout(200)
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (what, box)


def assert_run_in_view(page: Page, pictures) -> None:
    """Start, Stop, the progress bar and both live curves all lie on a 1366×768 screen."""
    for what in (
        page.locator(START),
        page.locator(STOP),
        page.locator(PROGRESS),
        pictures.nth(0),
        pictures.nth(1),
    ):
        assert_in_view(what)


def test_at_the_projector_the_buttons_the_bar_and_both_curves_stay_in_view(train_page, base_url):
    """1366×768: a slow preset's warning shows before the run; while it trains the warning makes way,
    and Start, Stop, the progress bar and both curves are all on screen (issue 13: they were cut off)."""
    page = train_page
    page.set_viewport_size({"width": 1366, "height": 768})
    # Minutes on any server: a forecast's correction is at most 5× faster than the built-in pace, and
    # this run is long enough to warn even then (checked below, so a faster preset cannot void the test).
    slow = dataclasses.replace(PRESETS["Fast 98% (CNN)"], filters=32, epochs=50, batch_size=32)
    fastest = estimate.estimate_seconds(slow, correction=estimate.Calibration.LIMITS[0], startup=0.0)
    assert fastest > estimate.LONG_RUN_SECONDS, f"{fastest:.0f} s would not warn on a fast server"
    goto(
        page,
        base_url,
        "/train?train_preset=Fast+98%25+%28CNN%29&train_filters=32&train_batch_size=32&train_epochs=50",
    )
    expect(page.get_by_text("This run would take about")).to_be_visible(timeout=RUN_MS)
    page.locator(START).click()
    pictures = page.locator(".digitlab-svg-pictures svg")
    expect(pictures).to_have_count(2, timeout=RUN_MS)
    expect(page.get_by_text("This run would take about")).to_have_count(0)
    expect(page.locator(PROGRESS)).to_contain_text("step", timeout=RUN_MS)  # learning, not loading
    page.wait_for_timeout(1500)  # a few redraws
    save_screenshot(page, "train-projector-during")
    assert_run_in_view(page, pictures)


def test_the_quick_demo_learns_visibly_for_seconds_with_everything_in_view_at_the_projector(
    train_page, base_url, console_errors
):
    """Issue 13: the Quick demo was over in 1.5 s, before anyone saw a curve move. Now its curves are
    redrawn many times while it trains, and at 1366×768 Start, Stop, the progress bar and both curves
    stay on screen while it does. How long it trains is a machine's speed, so it is printed here and
    measured by `python bench/forecast.py` (4.4-10.7 s on this project's 2 cores), not asserted."""
    page = train_page
    page.set_viewport_size({"width": 1366, "height": 768})
    goto(page, base_url, "/train")
    expect(page.get_by_role("combobox", name="Start from a preset")).to_have_value("Quick demo")
    page.evaluate(RECORD_CURVE)
    page.locator(START).click()
    pictures = page.locator(".digitlab-svg-pictures svg")
    expect(pictures).to_have_count(2, timeout=RUN_MS)  # the live curves: the first batches are drawn
    learning_from = page.evaluate("() => performance.now()")
    page.wait_for_timeout(2000)  # mid-run
    save_screenshot(page, "train-projector-quick-demo")
    assert_run_in_view(page, pictures)
    expect(page.locator(PROGRESS)).to_contain_text("Done: 15 epochs", timeout=RUN_MS)
    learnt_for = (page.evaluate("() => performance.now()") - learning_from) / 1000
    states = page.evaluate("() => { clearInterval(window.__curveRecorder); return window.__curveStates; }")
    print(f"the curves moved for {learnt_for:.1f} s, in {len(set(states))} states")
    assert len(set(states)) >= 8, f"the curve was drawn in only {len(set(states))} states"
    assert percent(metric_value(page, "Test accuracy")) > 85
    assert_no_exception(page)
    assert console_errors == []
