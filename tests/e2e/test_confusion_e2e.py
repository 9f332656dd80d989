"""The Confusion page in Chromium: a real mouse click on a square of the matrix shows its test images."""

import re

from playwright.sync_api import expect

from tests.e2e.helpers import (
    assert_no_exception,
    click_plotly_point,
    goto,
    save_screenshot,
    wait_for_app_idle,
)

FIRST_LOAD_MS = 90_000  # the first visit may still be evaluating the default model on 10,000 images
MATRIX = ".st-key-cm .js-plotly-plot"
PER_PAGE = 24  # pages/confusion.py shows this many images of one square at a time

# The busiest square off the diagonal, read from the chart's own data: [x, y, count].
BUSIEST_ERROR = """gd => {
  const trace = gd._fullData[0];
  let best = null;
  trace.customdata.forEach((cell, i) => {
    const [truth, predicted, count] = cell;
    if (truth !== predicted && (best === null || count > best[2])) {
      best = [trace.x[i], trace.y[i], count, truth, predicted];
    }
  });
  return best;
}"""


def test_clicking_an_off_diagonal_square_shows_its_images(page, base_url, console_errors):
    goto(page, base_url, "/confusion")
    matrix = page.locator(MATRIX)
    expect(matrix).to_be_visible(timeout=FIRST_LOAD_MS)
    expect(page.get_by_text("Click a square to see its images.")).to_be_visible()
    x, y, count, truth, predicted = matrix.evaluate(BUSIEST_ERROR)
    assert truth != predicted and count > 0

    click_plotly_point(page, page.locator(".st-key-cm"), x, y)

    heading = page.get_by_role("heading", name=re.compile(rf"^{truth}s read as {predicted}: "))
    expect(heading).to_be_visible()
    assert heading.inner_text().endswith(f"{count:,} image{'s' * (count != 1)}")
    images = page.get_by_test_id("stImageContainer")
    expect(images).to_have_count(min(count, PER_PAGE))
    expect(page.get_by_test_id("stImageCaption")).to_have_count(min(count, PER_PAGE))
    # Every caption names the network's guesses, and the first guess is the square's column.
    first_caption = page.get_by_test_id("stImageCaption").first.inner_text()
    assert first_caption.startswith(f"{predicted}"), first_caption
    expect(page.get_by_text("Click a square to see its images.")).to_have_count(0)
    assert_no_exception(page)
    assert console_errors == []
    save_screenshot(page, "confusion-cell")


def test_on_a_tablet_a_big_square_pages_through_its_images_in_a_grid_below_the_matrix(
    page, base_url, console_errors
):
    """Issue 13: at 820 px the images of a square squeezed into one 130 px column beside the matrix."""
    page.set_viewport_size({"width": 820, "height": 1180})
    goto(page, base_url, "/confusion")
    matrix = page.locator(MATRIX)
    expect(matrix).to_be_visible(timeout=FIRST_LOAD_MS)
    click_plotly_point(page, page.locator(".st-key-cm"), 1, 1)  # the 1s read right: about 1,100 images
    heading = page.get_by_role("heading", name=re.compile(r"^1s read right: "))
    expect(heading).to_be_visible()
    total = int(re.search(r"([\d,]+) images", heading.inner_text()).group(1).replace(",", ""))
    images = page.get_by_test_id("stImageContainer")
    expect(images).to_have_count(PER_PAGE)
    boxes = [images.nth(i).bounding_box() for i in range(PER_PAGE)]
    assert min(box["y"] for box in boxes) > matrix.bounding_box()["y"] + matrix.bounding_box()["height"] - 1
    per_row = sum(1 for box in boxes if abs(box["y"] - boxes[0]["y"]) < 2)
    assert per_row >= 4, f"{per_row} images a row"
    expect(page.get_by_text(f"Images 1–24 of {total:,}.", exact=False)).to_be_visible()
    expect(page.locator(".st-key-confusion_previous button")).to_be_disabled()
    page.locator(".st-key-confusion_next button").click()
    expect(page.get_by_text(f"Images 25–48 of {total:,}.", exact=False)).to_be_visible()
    expect(page.locator(".st-key-confusion_previous button")).to_be_enabled()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    save_screenshot(page, "confusion-tablet-pages")
    assert_no_exception(page)
    assert console_errors == []


# Every moment, after a page switch, at which the sidebar is on screen while Confusion's title is shown.
RECORD_SIDEBAR = """() => {
  window.__sidebarSeen = [];
  const check = () => {
    const sidebar = document.querySelector('[data-testid=stSidebar]');
    const title = document.querySelector('h1')?.innerText ?? '';
    if (sidebar && sidebar.getBoundingClientRect().width > 0 && title.includes('confused')) {
      window.__sidebarSeen.push(Math.round(performance.now()));
    }
  };
  new MutationObserver(check).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def test_after_train_confusion_opens_without_an_empty_sidebar(page, base_url, console_errors):
    """Issue 13: Train's sidebar latched the panel open, so Confusion showed an empty sidebar for its
    whole first run (until a click reran it)."""
    page.set_viewport_size({"width": 1366, "height": 768})
    goto(page, base_url, "/train")
    expect(page.get_by_test_id("stSidebar").get_by_text("Settings", exact=True)).to_be_visible(
        timeout=FIRST_LOAD_MS
    )
    page.evaluate(RECORD_SIDEBAR)
    page.locator('a[data-testid="stTopNavLink"][href$="/confusion"]').click()
    expect(page.locator(MATRIX)).to_be_visible(timeout=FIRST_LOAD_MS)
    wait_for_app_idle(page)
    assert page.evaluate("() => window.__sidebarSeen.length") == 0, "an empty sidebar showed on Confusion"
    assert not page.get_by_test_id("stSidebar").is_visible()
    save_screenshot(page, "confusion-after-train")
    assert_no_exception(page)
    assert console_errors == []
