"""The model shelf on the pages, through Streamlit's AppTest: pick a pretrained model, go back to your own.

The options are checked against the descriptions inside the shipped files, formatted here; the model
in use against the session's state and the sentence the page names it with.
"""

import pytest

from digitlab import shelf
from digitlab.app import state
from digitlab.app.shelf_picker import ORIGIN, OWN
from digitlab.learn.classifier import keras_bytes
from tests.apptest import draw, open_page, png_of_a_one, texts
from tests.tiny_models import digitlab_classifier

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("through_the_router")]
KERAS = "application/octet-stream"


def expected_option(entry: shelf.ShelfModel) -> str:
    metrics = shelf.read_description(entry)["metrics"]
    mnist, pen = 100 * metrics["test_accuracy"], 100 * metrics["pen_accuracy"]
    return f"{entry.name} · MNIST {mnist:.1f}% · pen {pen:.1f}%"


def active(at) -> dict | None:
    return at.session_state.get(state.ACTIVE)


def test_every_shelf_model_is_offered_with_both_accuracies():
    at = open_page("draw")
    box = at.selectbox(key="draw_model")
    assert box.options == [expected_option(entry) for entry in shelf.SHELF]
    assert box.value == "default" and active(at) is None  # the default model until one is picked


def test_picking_a_shelf_model_on_draw_makes_it_active_and_the_page_names_it():
    at = open_page("draw")
    at.selectbox(key="draw_model").set_value("best-mlp").run()
    assert not at.exception, at.exception
    chosen = active(at)
    assert chosen["shelf"] == "best-mlp" and chosen["classifier"].config.hidden_units == (1024, 1024)
    metrics = shelf.read_description(shelf.find("best-mlp"))["metrics"]
    assert f"**Best MLP** ({ORIGIN}: {100 * metrics['test_accuracy']:.1f}% of MNIST's test digits" in texts(
        at.caption
    )
    assert shelf.find("best-mlp").description in texts(at.caption)
    draw(at, png_of_a_one())
    assert not at.exception, at.exception
    assert [m.value for m in at.metric if m.label == "Prediction"] == ["1"]

    at.switch_page("pages/confusion.py").run()  # the same model, named the same, on Confusion
    assert not at.exception, at.exception
    assert at.selectbox(key="confusion_model").value == "best-mlp"
    assert "**Best MLP** (" in texts(at.caption)
    assert active(at)["evaluation"].accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-4)

    at.selectbox(key="confusion_model").set_value("default").run()
    assert active(at) is None  # back to the default model


def test_your_own_network_stays_a_choice_beside_the_shelf(mnist):
    at = open_page("draw")
    data = keras_bytes(digitlab_classifier(mnist, name="my reader"))
    at.file_uploader(key="draw_model_file").set_value(("mine.keras", data, KERAS)).run()
    box = at.selectbox(key="draw_model")
    assert box.value == OWN and box.options[-1] == "Your trained network (my reader) · MNIST 81.2%"
    box.set_value("tutorial-mlp").run()
    assert active(at)["shelf"] == "tutorial-mlp"
    assert at.selectbox(key="draw_model").options[-1].startswith("Your trained network (my reader)")
    at.selectbox(key="draw_model").set_value(OWN).run()
    assert active(at)["classifier"].name == "my reader" and active(at)["shelf"] is None
    assert "**my reader** (the model file you uploaded" in texts(at.caption)


def test_shelf_models_can_be_compared_beside_the_runs():
    at = open_page("compare")
    assert "No run trained in this session yet" in texts(at.info)
    at.multiselect(key="compare_shelf").set_value(["best-mlp", "tutorial-mlp"]).run()
    assert not at.exception, at.exception
    table = at.table[0].value
    assert list(table["Run"]) == ["shelf", "shelf"]
    mnist_figures = [
        shelf.read_description(shelf.find(k))["metrics"]["test_accuracy"]
        for k in ("best-mlp", "tutorial-mlp")
    ]
    assert list(table["Test accuracy"]) == [f"{100 * a:.2f}%" for a in sorted(mnist_figures, reverse=True)]
    assert "**Shelf · Best MLP**" in texts(at.markdown)
    matrices = {chart.key for chart in at.get("plotly_chart")} - {"compare_loss", "compare_accuracy"}
    shown = ("best-mlp", "tutorial-mlp-784-128-64-10")  # each matrix keyed by its model's name
    assert matrices == {f"compare_confusion_shelf-{name}" for name in shown}
