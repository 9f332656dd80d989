"""Every page of the app opens in Chromium with its main content, no Streamlit exception and no
browser error; a screenshot of each is kept in test-artifacts/screenshots/<page>.png.

Each check names something only that page shows (the canvas, the 100 squares of the confusion
matrix, ...), so a page that renders its title and then stops would fail.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS_DIR, VIEWPORT, streamlit_server
from tests.e2e.helpers import assert_no_exception, canvas_locator, goto, save_screenshot, wait_for_app_idle

FIRST_LOAD_MS = 90_000  # a fresh server loads TensorFlow and checks the default model on 10,000 images


def check_home(page: Page) -> None:
    expect(page.get_by_text("Network in use:")).to_be_visible()
    for link in ("Train", "Draw", "Confusion"):  # the page's own links, besides the navigation
        expect(page.get_by_test_id("stPageLink").filter(has_text=link)).to_be_visible()
    join = page.get_by_test_id("stExpander").filter(has_text="Join this class")
    expect(join.get_by_test_id("stImageContainer")).to_have_count(1)  # its QR code, folded away
    expect(page.get_by_test_id("stImageContainer")).to_have_count(21)  # and the 20 training images


def check_train(page: Page) -> None:
    expect(page.locator(".st-key-train_start button")).to_be_enabled()
    expect(page.locator(".st-key-train_stop button")).to_be_disabled()
    expect(page.get_by_test_id("stSidebar").get_by_text("Epochs")).to_be_visible()


def check_draw(page: Page) -> None:
    expect(canvas_locator(page, "canvas")).to_be_visible()
    # The photo's uploader; "Use a model file" has one of its own.
    expect(page.locator(".st-key-draw_upload").get_by_test_id("stFileUploaderDropzoneInput")).to_be_attached()


def check_confusion(page: Page) -> None:
    cells = page.locator(".st-key-cm .js-plotly-plot")
    expect(cells).to_be_visible()
    assert cells.evaluate("gd => gd._fullData[0].customdata.length") == 100


def check_wall(page: Page) -> None:
    expect(page.locator(".st-key-wall_grid")).to_be_attached()
    expect(page.get_by_role("radiogroup", name="Show the class's")).to_be_visible()


PAGES = [
    ("/", "home", "How does a neural network read handwriting?", check_home),
    ("/train", "train", "Train a network", check_train),
    ("/draw", "draw", "Draw a digit", check_draw),
    ("/confusion", "confusion", "Where does the network get confused?", check_confusion),
    ("/wall", "wall", "Class wall", check_wall),
]


@pytest.mark.parametrize("path, name, title, check", PAGES, ids=[name for _, name, _, _ in PAGES])
def test_page_loads_cleanly(page, base_url, console_errors, path, name, title, check):
    goto(page, base_url, path)
    expect(page.locator("h1").first).to_have_text(title, timeout=FIRST_LOAD_MS)
    wait_for_app_idle(page, timeout_ms=FIRST_LOAD_MS)
    check(page)
    assert_no_exception(page)
    assert console_errors == []
    save_screenshot(page, name)


def test_a_link_straight_to_draw_opens_it_in_the_router_on_a_fresh_server(browser, e2e_requirements):
    """A teacher's link to /draw, opened first after the server starts: it must get the app's own
    navigation (app.py's router), not Streamlit's guess of an old-style app from the pages/ folder."""
    with streamlit_server(ARTIFACTS_DIR / "streamlit-server-fresh.log") as url:
        context = browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            goto(page, url, "/draw")
            expect(page.locator("h1").first).to_have_text("Draw a digit", timeout=FIRST_LOAD_MS)
            expect(canvas_locator(page, "canvas")).to_be_visible()
            links = page.get_by_test_id("stTopNavLink")
            expect(links).to_have_count(7)
            names = [text.split()[-1] for text in links.all_inner_texts()]  # after the icon's name
            assert names == ["Home", "Train", "Draw", "Teach", "Confusion", "Compare", "Wall"]
            expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
            expect(page).to_have_title(re.compile("^digitlab"))  # app.py's page config ran
            assert_no_exception(page)
        finally:
            context.close()
