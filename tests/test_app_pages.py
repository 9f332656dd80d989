"""Every page through Streamlit's AppTest: it runs without an exception and shows what the class needs.

The app is run through app.py (the router), as a browser would. Training uses 500 images and one epoch,
so the whole file stays around a minute on a busy two-core machine; most of that is importing
TensorFlow and checking the default model on the 10,000 test images once.
"""

import base64
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitlab import modelfile
from digitlab.app import state
from tests.apptest import APP, draw, open_page, png_of_a_one, small_run, texts, train_until_done

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("through_the_router")]


# Home


def test_home_page_introduces_each_page_and_the_model():
    at = open_page()
    assert at.title[0].value == "How does a neural network read handwriting?"
    assert [link.proto.label for link in at.get("page_link")] == [
        "Train",
        "Draw",
        "Teach",
        "Confusion",
        "Compare",
        "Wall",
    ]
    metadata = json.loads((ROOT / "assets" / "models" / "default.json").read_text())
    assert f"{metadata['metrics']['test_accuracy']:.1%}" in texts(at.info)  # the default model's score
    qr_code, sample = at.image  # Join this class's QR code; the sample of training images: 20 tiles
    assert [img.caption for img in sample.proto.imgs] == [str(d) for d in range(10) for _ in range(2)]
    assert [img.caption for img in qr_code.proto.imgs] == ["Point a tablet's camera here"]


def test_home_page_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({APP!r}, default_timeout=60).run()\n"
        "assert not at.exception, at.exception\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.split()[-2:] == ["False", "False"], out.stderr[-2000:]


# Train


def test_train_page_shows_settings_and_buttons():
    at = open_page("train")
    assert at.title[0].value == "Train a network"
    assert at.selectbox(key="train_preset").value == "Quick demo"
    assert at.button(key="train_start").disabled is False
    assert at.button(key="train_stop").disabled is True
    for idle in ("train_pause", "train_step_batch", "train_step_epoch"):
        assert at.button(key=idle).disabled is True  # nothing to pause before a run
    assert not at.warning  # the quick demo is quick: no long-run warning


def test_cnn_filters_weight_decay_and_schedules_are_settings():
    at = open_page("train")
    at.radio(key="train_architecture").set_value("cnn").run()
    at.select_slider(key="train_filters").set_value(16).run()
    at.select_slider(key="train_weight_decay").set_value(1e-4).run()
    at.radio(key="train_lr_schedule").set_value("step").run()
    assert not at.error, texts(at.error)
    link = texts(at.code)  # the share link carries them
    assert all(part in link for part in ("filters=16", "weight_decay=0.0001", "lr_schedule=step")), link


def test_a_finished_run_trains_on_and_its_history_grows():
    at = small_run(open_page("train"))
    train_until_done(at)
    # Issue 13: the captions name the colours drawn: mistakes framed in vermillion (#D55E00), an orange.
    grid = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if not c.key)  # the sample
    assert {shape["line"]["color"] for shape in grid["layout"].get("shapes", [])} <= {"#D55E00"}
    assert "Its mistakes are framed in orange, their label in it too" in texts(at.caption)
    assert "blue squares right, orange ones mistakes" in texts(at.caption)
    first = at.session_state[state.RUN]
    assert at.button(key="train_on").disabled is False
    at.number_input(key="train_more_epochs").set_value(1).run()
    at.button(key="train_on").click().run()
    run = at.session_state[state.RUN]
    run.join(120)
    at.run()
    assert run is not first and not at.error, texts(at.error)
    assert run.result.epochs_done == first.result.epochs_done + 1
    assert len(run.epoch_events) == len(first.epoch_events) + 1
    assert at.session_state[state.ACTIVE]["classifier"] is run.result.classifier


def test_a_preset_fills_the_controls_and_warns_when_slow():
    at = open_page("train")
    at.selectbox(key="train_preset").select("Best MLP").run()
    assert [at.select_slider(key=f"train_units_{i}").value for i in range(2)] == [512, 256]
    assert at.select_slider(key="train_dropout").value == 0.2
    assert at.slider(key="train_epochs").value == 15
    assert not at.warning and "on this server" in texts(at.caption)  # about a minute and a half: no warning
    at.selectbox(key="train_preset").select("Robust (for drawings)").run()
    at.slider(key="train_epochs").set_value(50).run()  # minutes, whatever this server measured
    assert "would take about" in texts(at.warning)


def test_changed_settings_can_go_back_to_the_preset():
    at = open_page("train")
    assert "train_reset" not in [button.key for button in at.button]
    at.slider(key="train_epochs").set_value(7).run()
    at.button(key="train_reset").click().run()
    assert at.slider(key="train_epochs").value == 15  # the Quick demo's
    assert "train_reset" not in [button.key for button in at.button]


def test_training_shows_results_and_makes_the_model_active():
    at = small_run(open_page("train"))
    train_until_done(at)
    assert not at.error, texts(at.error)
    accuracy = next(m for m in at.metric if m.label == "MNIST test accuracy")
    assert accuracy.value.endswith("%") and "vs the default model" in accuracy.delta
    # Beside it, the same network on pen-drawn digits by writers no network here learnt from.
    drawn = next(m for m in at.metric if m.label == "Pen-drawn digits, unseen writers")
    assert drawn.value.endswith("%") and "vs the default model" in drawn.delta
    recorded = at.session_state[state.ACTIVE]["classifier"].metadata["metrics"]["pen_accuracy"]
    assert drawn.value == f"{recorded:.1%}"
    assert at.dataframe  # the per-digit report
    assert "now use this network" in texts(at.success)
    active = at.session_state[state.ACTIVE]["classifier"]
    assert active.name.startswith("MLP 784-64-10")
    at.switch_page("pages/draw.py").run()
    assert "your trained model" in texts(at.caption)


def test_a_diverging_learning_rate_explains_itself():
    at = small_run(open_page("train"), learning_rate=10.0)
    train_until_done(at)
    message = texts(at.error)
    assert "learning rate is too high" in message and "last good weights were kept" in message
    assert state.ACTIVE not in at.session_state  # the default model stays in use


# Draw


def test_draw_page_invites_a_drawing_and_predicts_nothing_yet():
    at = open_page("draw")
    assert at.title[0].value == "Draw a digit"
    assert "Draw a digit in the black square" in texts(at.info)
    assert not at.metric and not at.get("plotly_chart")


def test_a_drawing_on_the_canvas_is_read():
    at = draw(open_page("draw"), png_of_a_one())
    assert not at.exception
    assert at.metric[0].label == "Prediction" and at.metric[0].value == "1"
    assert len(at.get("plotly_chart")) == 1  # the ten probabilities
    assert len(at.image) == 5  # what the network saw, and the four preprocessing steps


def test_an_empty_canvas_asks_for_a_drawing():
    at = open_page("draw")
    blank = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    buffer = io.BytesIO()
    blank.save(buffer, format="PNG")
    data = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    at.session_state["canvas"] = {"drawing": {"raw": {"objects": []}, "data": data}}
    at.run()
    assert "Nothing to read yet" in texts(at.info)
    assert not at.metric


def test_an_uploaded_photo_is_read_like_a_drawing():
    at = open_page("draw")
    at.file_uploader(key="draw_upload").upload("one.png", png_of_a_one(), "image/png").run()
    assert not at.exception
    assert [m.value for m in at.metric if m.label == "Prediction"] == ["1"]


def test_a_big_photo_says_its_own_size_though_read_smaller():
    photo = Image.new("RGB", (1200, 900), "white")
    ImageDraw.Draw(photo).line([(600, 150), (600, 750)], fill="black", width=60)
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG")
    at = open_page("draw")
    at.file_uploader(key="draw_upload").upload("one.jpg", buffer.getvalue(), "image/jpeg").run()
    assert not at.exception, at.exception
    captions = [image.proto.imgs[0].caption for image in at.image]
    assert any("1200×900 pixels, read at 600×450" in caption for caption in captions), captions


def test_a_broken_upload_is_an_error_message_not_a_crash():
    at = open_page("draw")
    at.file_uploader(key="draw_upload").upload("digit.png", b"\x89PNG not really", "image/png").run()
    assert not at.exception
    assert "cannot be read" in texts(at.error)
    assert at.get("bidi_component")  # the canvas is still there


# Confusion


def drawn_colours(spec: dict) -> tuple[str, str]:
    """The confusion matrix's strongest right and wrong cell colours, as '#RRGGBB'."""
    cells = spec["data"][0]
    counts = [cell[2] for cell in cells["customdata"]]
    right = max((i for i in range(100) if i // 10 == i % 10), key=counts.__getitem__)
    wrong = max((i for i in range(100) if i // 10 != i % 10), key=counts.__getitem__)
    rgb = [tuple(map(int, cells["marker"]["color"][i][4:-1].split(","))) for i in (right, wrong)]
    return tuple("#{:02X}{:02X}{:02X}".format(*colour) for colour in rgb)


def test_confusion_page_shows_the_matrix_and_a_hint():
    at = open_page("confusion")
    assert at.title[0].value == "Where does the network get confused?"
    assert [chart.key for chart in at.get("plotly_chart")] == ["cm"]
    # Issue 13: the words name the colours drawn. The strongest cells are the full colours.
    assert drawn_colours(json.loads(at.get("plotly_chart")[0].proto.spec)) == ("#0072B2", "#D55E00")
    assert "The blue diagonal is what it got right; orange squares are its mistakes." in texts(at.caption)
    assert "Click a square" in texts(at.info)
    assert at.dataframe and at.button_group  # the report and the most confused pairs


def test_clicking_a_square_shows_its_images():
    at = open_page("confusion")
    # The default model's busiest off-diagonal square, from the confusion matrix kept with it.
    confusion = np.array(modelfile.read_metadata(modelfile.DEFAULT_MODEL_PATH)["metrics"]["confusion"])
    np.fill_diagonal(confusion, 0)
    true, read = map(int, np.unravel_index(confusion.argmax(), confusion.shape))
    count, index = int(confusion[true, read]), true * 10 + read
    point = {"x": read, "y": true, "point_index": index, "customdata": [true, read, count, count / 1000]}
    selection = {"points": [point], "point_indices": [index], "box": [], "lasso": []}
    at.session_state["cm"] = {"selection": selection}
    at.run()
    assert not at.exception
    assert f"{true}s read as {read}" in texts(at.subheader)
    # The images, each with its guess.
    assert len(at.image) == 1 and f"{read}: " in at.image[0].proto.imgs[0].caption


def test_a_most_confused_pair_shows_its_images():
    at = open_page("confusion")
    pairs = at.button_group(key="confusion_pairs")
    label = pairs.options[0]  # e.g. "1 → 7: 6 images"
    pairs.set_value(label).run()
    true, predicted = label.split(":")[0].split(" → ")
    assert f"{true}s read as {predicted}" in texts(at.subheader)
