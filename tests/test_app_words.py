"""Words for a 14-year-old, through AppTest: every Train control explains itself on hover, every page
names the model in words with its technical name on hover, and the share box is where a teacher looks.
"""

import json
from pathlib import Path

import pytest

from tests.apptest import draw, open_page, png_of_a_one, small_run, texts, train_until_done

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NAME = json.loads((ROOT / "assets" / "models" / "default.json").read_text())["name"]
WIDGETS = ("selectbox", "slider", "select_slider", "radio", "toggle", "number_input", "button")
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("through_the_router")]


def widgets(at):
    return [widget for kind in WIDGETS for widget in getattr(at, kind)]


def in_order(node, found=None) -> list:
    """Every element and block under `node`, depth first, in the order the page shows them."""
    found = [] if found is None else found
    found.append(node)
    for _, child in sorted(getattr(node, "children", {}).items()):
        in_order(child, found)
    return found


def test_every_train_control_and_button_has_help():
    at = open_page("train")
    at.radio(key="train_architecture").set_value("cnn").run()  # shows the filters and batch norm
    at.selectbox(key="train_optimizer").set_value("sgd").run()  # shows the momentum
    at.slider(key="train_epochs").set_value(7).run()  # shows "Back to the preset's settings"
    shown = {widget.key for widget in widgets(at)}
    assert {"train_filters", "train_batch_norm", "train_momentum", "train_reset", "train_start"} <= shown
    # Start and Stop say what they do, beside the caption "press Start and watch the network learn"; a
    # button with help is drawn twice (with and without its tooltip), which the browser tests' locators
    # of these two would find twice.
    plain = {"train_start", "train_stop"}
    missing = [
        widget.key for widget in widgets(at) if widget.key not in plain and not widget.proto.help.strip()
    ]
    assert not missing, missing


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("train_labels", ["sparse", "one-hot", "0 0 0 0 0 0 0 1 0 0"]),
        ("train_normalization", ["z-score", "average one is 0"]),
        ("train_head", ["softmax", "sigmoid", "linear", "add up to 100%"]),
        ("train_seed", ["same seed", "random starting weights"]),
        ("train_activation", ["relu", "tanh", "negative ones into 0"]),
    ],
)
def test_a_train_control_explains_its_jargon_in_plain_words(key, words):
    at = open_page("train")
    widget = next(widget for widget in widgets(at) if widget.key == key)
    for word in words:
        assert word in widget.proto.help, (key, word)


def test_the_share_box_is_at_the_top_of_train_not_under_the_settings():
    at = open_page("train")
    assert not at.sidebar.code  # it used to end the sidebar, under 17 controls
    order = in_order(at.main)
    popover = next(i for i, node in enumerate(order) if getattr(node, "type", None) == "popover")
    start = next(i for i, node in enumerate(order) if getattr(node, "key", None) == "train_start")
    code = next(i for i, node in enumerate(order) if getattr(node, "type", None) == "code")
    assert popover < code < start  # in the "Share these settings" box, above Start
    assert order[popover].proto.popover.label == "Share these settings"
    assert order[code].value.startswith("/train?train_preset=Quick+demo")


def test_every_page_names_the_default_model_in_words_with_its_technical_name_on_hover():
    at = open_page("draw")
    reading_with = next(caption for caption in at.caption if caption.value.startswith("Reading with"))
    assert "**Shape-spotting network (CNN), 2 averaged**" in reading_with.value
    assert DEFAULT_NAME not in texts(at.caption)
    assert reading_with.proto.help.startswith(f"Technical name: {DEFAULT_NAME}")
    assert f"Technical name: {DEFAULT_NAME}" in at.selectbox(key="draw_model").proto.help
    for page, start in (("confusion", "**Shape-spotting"), ("teach", "Using **Shape-spotting")):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, at.exception
        label = next(caption for caption in at.caption if caption.value.startswith(start))
        assert label.proto.help.startswith(f"Technical name: {DEFAULT_NAME}"), page


def test_a_trained_network_is_named_in_words_and_its_results_explained():
    at = small_run(open_page("train"))
    train_until_done(at)
    assert not at.error, texts(at.error)
    heading = next(md for md in at.markdown if "epochs on" in md.value)
    assert heading.value.startswith("**Simple network, 1 hidden layer: 64 units** · 1 epochs")
    assert heading.proto.help.startswith("Technical name: MLP 784-64-10 relu adam")
    loss = next(metric for metric in at.metric if metric.label == "Test loss")
    assert "never learnt from" in loss.proto.help
    report = texts(at.caption)
    assert "macro avg: the plain average" in report and "weighted avg: the average where" in report
    at.switch_page("pages/draw.py").run()
    label = next(caption for caption in at.caption if caption.value.startswith("Reading with"))
    assert "**Simple network, 1 hidden layer: 64 units** (your trained model" in label.value
    assert label.proto.help.startswith("Technical name: MLP 784-64-10 relu adam")
    own = "Your trained network (Simple network, 1 hidden layer: 64 units) · MNIST "
    assert any(option.startswith(own) for option in at.selectbox(key="draw_model").options)


def test_look_inside_names_its_layers_in_words():
    at = draw(open_page("draw"), png_of_a_one())
    at.segmented_control(key="draw_inside").set_value("layers").run()
    assert not at.exception, at.exception
    conv1 = next(md for md in at.markdown if md.value.startswith("**Filter layer 1 (conv1)**"))
    assert "32 feature maps" in conv1.value and "bright where the filter found its shape" in conv1.proto.help
    hidden = next(md for md in at.markdown if md.value.startswith("**Hidden layer 1 (hidden1)**"))
    assert "tiny calculator" in hidden.proto.help
