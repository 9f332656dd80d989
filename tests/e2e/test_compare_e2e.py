"""Compare, the class board and shared settings links in Chromium.

One session trains a shortened Quick demo (an MLP, 2 epochs) and a one-epoch CNN, then compares them
and publishes one; other sessions open /train links with settings and in classroom mode.
"""

import re
import time
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from digitlab.classroom import board
from tests.e2e.helpers import assert_no_exception, goto, save_screenshot, wait_for_app_idle

START = ".st-key-train_start button"
STOP = ".st-key-train_stop button"
ACCURACY = '[data-testid="stMetric"]:has-text("Test accuracy")'
RUN_MS = 240_000  # a CNN epoch on 4,500 images, on a busy two-core machine
SIDEBAR = '[data-testid="stSidebar"]'

# The traces of the Plotly chart in the element keyed `key`, as [name, number of points].
TRACES = """(key) => {
  const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  return gd && gd._fullData ? gd._fullData.map(t => [t.name, t.x.length]) : null;
}"""


def train(page: Page) -> None:
    page.locator(START).click()
    expect(page.locator(STOP)).to_be_enabled()
    expect(page.locator(START)).to_be_enabled(timeout=RUN_MS)
    expect(page.locator(ACCURACY)).to_be_visible()
    wait_for_app_idle(page)


def set_epochs_to_one(page: Page) -> None:
    slider = page.locator(SIDEBAR).get_by_test_id("stSlider").filter(has_text="Epochs")
    thumb = slider.get_by_role("slider")
    thumb.focus()
    thumb.press("Home")
    wait_for_app_idle(page)
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text("1")


def percent_cells(page: Page, table) -> list[float]:
    return [float(text.rstrip("%")) for text in table.locator("td").all_inner_texts() if text.endswith("%")]


def test_an_mlp_and_a_cnn_are_compared_and_one_is_published(train_page, base_url, console_errors):
    page = train_page
    goto(page, base_url, "/train?train_epochs=2&train_batch_size=64")  # the Quick demo trains for 10 s
    train(page)
    save_screenshot(page, "train-exports")
    expect(page.get_by_test_id("stDownloadButton")).to_have_count(3)
    with page.expect_download(timeout=60_000) as model_file:
        page.get_by_role("button", name="Model (.keras)").click()
    assert model_file.value.suggested_filename == "digitlab-mlp-784-64-10-relu-adam.keras"
    assert zipfile.is_zipfile(model_file.value.path())
    with page.expect_download() as csv_file:
        page.get_by_role("button", name="Metrics (.csv)").click()
    rows = Path(csv_file.value.path()).read_text().splitlines()
    assert rows[0] == "epoch,loss,accuracy,val_loss,val_accuracy" and rows[-1].startswith("test,")
    page.locator(SIDEBAR).get_by_text("CNN", exact=True).click()
    set_epochs_to_one(page)
    train(page)

    page.locator('a[data-testid="stTopNavLink"][href$="/compare"]').click()
    expect(page).to_have_url(re.compile(r"/compare$"))
    table = page.get_by_test_id("stTable")
    expect(table.locator("tbody tr")).to_have_count(2)
    rows = table.locator("tbody tr").all_inner_texts()
    assert "CNN" in rows[0] + rows[1] and "MLP" in rows[0] + rows[1], rows
    accuracies = percent_cells(page, table)
    assert len(accuracies) == 2 and accuracies == sorted(accuracies, reverse=True), accuracies
    for metric in ("loss", "accuracy"):
        page.wait_for_function(f"() => ({TRACES})('compare_{metric}')?.length === 2", timeout=15_000)
        traces = page.evaluate(TRACES, f"compare_{metric}")
        friendly = sorted(name.split(" · ")[1][:5] for name, _ in traces)  # the friendly names (glossary)
        assert friendly == ["Shape", "Simpl"], traces
        assert sorted(points for _, points in traces) == [1, 2], traces  # one point per epoch
    expect(page.locator('[class*="st-key-compare_confusion_"] .js-plotly-plot')).to_have_count(2)
    expect(page.locator(".st-key-compare_loss .modebar-btn")).to_have_count(1)  # only "Download as PNG"
    save_screenshot(page, "compare-runs")

    nickname = f"e2e {int(time.time()) % 100000}"
    page.get_by_label("Nickname").fill(nickname)
    page.get_by_role("button", name="Publish to the class board").click()
    expect(page.get_by_text("Published to the class board.")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()  # cells are drawn on a canvas: read the file
    published = [entry for entry in board.entries() if entry.nickname == nickname]
    assert len(published) == 1 and published[0].summary.startswith(("MLP", "CNN")), published
    wait_for_app_idle(page)
    assert_no_exception(page)
    assert console_errors == []
    save_screenshot(page, "compare-board")


def test_a_link_opens_train_with_its_preset_and_settings(page, base_url, console_errors):
    goto(page, base_url, "/train?train_preset=Best+MLP&train_epochs=3&train_dropout=10%25")
    expect(page.get_by_role("combobox", name="Start from a preset")).to_have_value("Best MLP")
    sidebar = page.locator(SIDEBAR)
    epochs = sidebar.get_by_test_id("stSlider").filter(has_text="Epochs")
    expect(epochs.get_by_test_id("stSliderThumbValue")).to_have_text("3")
    units = sidebar.get_by_test_id("stSlider").filter(has_text="Units in layer 1")
    expect(units.get_by_test_id("stSliderThumbValue")).to_have_text("512")
    dropout = sidebar.get_by_test_id("stSlider").filter(has_text="Dropout")
    expect(dropout.get_by_test_id("stSliderThumbValue")).to_have_text("10%")
    page.set_viewport_size({"width": 1366, "height": 768})  # a classroom laptop
    share = page.get_by_role("button", name="Share these settings")
    box = share.bounding_box()  # at the top of the page, not under the sidebar's 17 controls
    assert box is not None and box["y"] + box["height"] <= 768 and box["x"] > 300, box
    assert page.evaluate("window.scrollY") == 0
    share.click()
    code = page.get_by_test_id("stPopoverBody").get_by_test_id("stCode")
    expect(code).to_be_visible()
    assert code.bounding_box()["y"] + code.bounding_box()["height"] <= 768  # seen without scrolling
    link = code.inner_text()
    assert "train_preset=Best+MLP" in link and "train_epochs=3" in link and "train_dropout=10%25" in link
    assert link.startswith(base_url + "/train?"), link
    assert sidebar.get_by_test_id("stCode").count() == 0
    assert_no_exception(page)
    assert console_errors == []
    save_screenshot(page, "train-from-link")


def test_classroom_mode_hides_the_advanced_controls(page, base_url, console_errors):
    goto(page, base_url, "/train?classroom=1&train_preset=Tutorial+784-128-64-10")
    sidebar = page.locator(SIDEBAR)
    expect(sidebar.get_by_text("Classroom mode")).to_be_visible()
    labels = sidebar.get_by_test_id("stWidgetLabel").all_inner_texts()
    for kept in ("Start from a preset", "Hidden layers", "Units in layer 1", "Learning rate", "Epochs"):
        assert any(kept in label for label in labels), (kept, labels)
    for hidden in ("Architecture", "Activation", "Dropout", "Optimizer", "Batch size", "Random seed"):
        assert not any(hidden in label for label in labels), (hidden, labels)
    expect(page.locator(START)).to_be_enabled()
    assert_no_exception(page)
    assert console_errors == []
    save_screenshot(page, "train-classroom")
