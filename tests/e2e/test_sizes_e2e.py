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


# Home's sample of training images: each tile's box and its digit label's box, in page pixels (the QR code
# folded away in "Join this class" left out).
SAMPLE_BOXES = """() => [...document.querySelectorAll('[data-testid=stImageContainer]')]
  .filter((tile) => !tile.closest('[data-testid=stExpander]')).map((tile) => {
  const image = tile.querySelector('img').getBoundingClientRect();
  const label = tile.querySelector('[data-testid=stImageCaption]');
  const box = label ? label.getBoundingClientRect() : null;
  return {image: [image.left, image.top, image.right, image.bottom],
          label: box && [box.left, box.top, box.right, box.bottom], text: label ? label.innerText : null};
})"""


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_home_sample_labels_never_overlap_an_image(device, base_url):
    """Issue 13: on a phone the Plotly grid shrank its images but not its labels, so row 2's labels
    ran into row 1's images. Each of the 20 digits has its label, clear of every image."""
    kind, page = device
    goto(page, base_url, "/")
    expect(page.get_by_test_id("stImageContainer")).to_have_count(21, timeout=90_000)  # with the QR code
    page.get_by_test_id("stImageContainer").last.scroll_into_view_if_needed()
    tiles = page.evaluate(SAMPLE_BOXES)
    assert [tile["text"] for tile in tiles] == [str(d) for d in range(10) for _ in range(2)]
    for tile in tiles:
        assert tile["label"][1] >= tile["image"][3] - 0.5, f"{tile} : a label above or over its image"
        crossed = [other["text"] for other in tiles if overlaps(tile["label"], other["image"])]
        assert crossed == [], f"the label {tile['text']} overlaps the images of {crossed} ({kind})"
    assert page.evaluate(WIDEST) <= DEVICES[kind]["viewport"]["width"], "the sample scrolls sideways"
    save_screenshot(page, f"home-sample-{kind}")
