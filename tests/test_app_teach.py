"""The Draw page's "look inside" views, "Why did it read mine wrong?" and "It's actually a …", and the Teach
page, through AppTest.

Run through app.py (the router), as a browser would; the Teach page must be in its navigation.
"""

import base64
import io
import json
import threading
import time
import zipfile

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from digitlab.app import resources, state
from digitlab.classroom import handwriting
from tests.apptest import draw, open_page, png_of_a_one, texts

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("through_the_router")]


def draw_a_one(at: AppTest) -> AppTest:
    at = draw(at, png_of_a_one())
    assert not at.exception, at.exception
    return at


def charts_keys(at: AppTest) -> list[str]:
    return [chart.key for chart in at.get("plotly_chart")]


def test_look_inside_is_closed_until_a_view_is_picked():
    at = draw_a_one(open_page("draw"))
    assert at.segmented_control(key="draw_inside").value is None
    assert charts_keys(at) == ["canvas_bars"]


def test_each_inside_view_shows_the_default_cnn():
    at = draw_a_one(open_page("draw"))
    at.segmented_control(key="draw_inside").set_value("weights").run()
    assert "inside_weights" in charts_keys(at) and "32 filters of 3×3" in texts(at.caption)
    at.segmented_control(key="draw_inside").set_value("layers").run()
    assert {"inside_conv1", "inside_conv2", "inside_hidden1"} <= set(charts_keys(at))
    at.segmented_control(key="draw_inside").set_value("saliency").run()
    assert not at.exception
    assert any("towards a 1" in image.proto.imgs[0].caption for image in at.image)
    at.toggle(key="draw_saliency_times_input").set_value(True).run()
    assert "ink pushed it towards 1" in texts(at.caption)


def chart_spec(at: AppTest, key: str) -> dict:
    return json.loads(next(chart for chart in at.get("plotly_chart") if chart.key == key).proto.spec)


def test_why_it_read_mine_is_closed_and_computes_nothing_until_opened():
    at = draw_a_one(open_page("draw"))
    assert "Why did it read mine wrong?" in [expander.label for expander in at.expander]
    assert at.session_state["draw_why"] is False
    assert "draw_neighbours" not in charts_keys(at) and "draw_meant" not in at.session_state


def test_why_it_read_mine_shows_the_nearest_training_images():
    at = draw_a_one(open_page("draw"))
    at.session_state["draw_why"] = True  # as a click on the expander does
    at.run()
    assert not at.exception, at.exception
    # The digit meant starts at the network's second choice, read here off the probability bars.
    probabilities = chart_spec(at, "canvas_bars")["data"][0]["y"]  # plotly's typed array
    second = int(np.argsort(np.frombuffer(base64.b64decode(probabilities["bdata"]), "f8"))[-2])
    assert at.button_group(key="draw_meant").value == second != 1
    notes = [note["text"] for note in chart_spec(at, "draw_neighbours")["layout"]["annotations"]]
    assert notes[16:] == ["<b>Most alike to the network</b>", f"<b>Nearest {second}s it learnt from</b>"]
    assert notes[8:16] == [str(second)] * 8
    assert notes[:8].count("<b>1</b>") >= 6  # a clear 1: the training images most alike are 1s, framed
    assert "most alike **to the network**, not to us" in texts(at.caption)
    assert "images most alike to the first network" in texts(at.caption)  # the default is an ensemble
    at.button_group(key="draw_meant").set_value(7).run()
    notes = [note["text"] for note in chart_spec(at, "draw_neighbours")["layout"]["annotations"]]
    assert notes[8:] == ["7"] * 8 + ["<b>Most alike to the network</b>", "<b>Nearest 7s it learnt from</b>"]


def test_a_correction_is_saved_to_the_handwriting_set():
    at = draw_a_one(open_page("draw"))
    at.button_group(key="draw_correction").set_value(7).run()
    assert not at.exception, at.exception
    drawings = at.session_state[handwriting.SESSION_KEY]
    assert drawings.labels.tolist() == [7]
    assert drawings.images[0].shape == (28, 28) and drawings.images[0].max() == 255
    assert Image.open(io.BytesIO(drawings.drawings[0].canvas_png)).size == (280, 280)
    assert "Saved as a 7: 1 drawing in your handwriting set" in texts(at.caption)
    assert at.button_group(key="draw_correction").value is None  # ready for the next drawing


def test_teach_page_invites_corrections_when_the_set_is_empty():
    at = open_page("teach")
    assert at.title[0].value == "Teach it your handwriting"
    assert "Your handwriting set is empty" in texts(at.info)
    assert at.get("download_button")[0].proto.disabled


def teach_with(drawings: handwriting.HandwritingSet) -> AppTest:
    at = open_page("teach")
    at.session_state[handwriting.SESSION_KEY] = drawings
    return at.run()


def mirrored_mnist(count: int) -> handwriting.HandwritingSet:
    from digitlab.data import load_mnist

    mnist = load_mnist()
    drawings = handwriting.HandwritingSet()
    for image, label in zip(mnist.x_test[:count], mnist.y_test[:count], strict=True):
        drawings.add(image[:, ::-1], label)
    return drawings


def test_teach_page_compares_your_handwriting_with_mnist():
    drawings = mirrored_mnist(30)
    at = teach_with(drawings)
    assert not at.exception, at.exception
    metrics = {metric.label: metric for metric in at.metric}
    mnist = resources.get_default_evaluation().accuracy
    assert metrics["On the MNIST test set"].value == f"{mnist:.1%}"
    own = handwriting.evaluate_on(resources.get_default_classifier(), drawings).accuracy
    assert metrics["On your handwriting"].value == f"{own:.1%}"
    assert charts_keys(at) == ["teach_grid"]


def test_a_wrong_label_is_fixed_or_the_drawing_taken_out_and_forgetting_asks_first():
    from digitlab.data import load_mnist

    mnist = load_mnist()
    drawings = handwriting.HandwritingSet()
    drawings.add(mnist.x_test[0], int(mnist.y_test[0]))  # a 7, labelled right
    drawings.add(mnist.x_test[1], 5)  # a 2, a slip of the finger: labelled 5
    drawings.add(mnist.x_test[2], int(mnist.y_test[2]))
    at = teach_with(drawings)
    picked = at.selectbox(key="teach_picked")
    assert picked.value == 1  # the misread one comes first
    assert picked.format_func(1) == "No. 2: a 5, read as 2"
    label = next(b for b in at.button_group if b.key.startswith("teach_label_1_"))
    label.set_value(2).run()
    assert list(drawings.labels) == [7, 2, 1] and "No. 2 is a 2 now." in texts(at.success)
    assert at.button(key="teach_fine_tune").proto.help == ""  # no "needs 3" tooltip over a live button
    at.button(key="teach_remove").click().run()
    assert len(drawings) == 2 and list(drawings.labels) == [7, 1]
    assert at.button(key="teach_fine_tune").proto.help == "Needs at least 3 drawings."
    # "Forget them…" only asks; its "Yes" forgets.
    assert len(drawings) == 2
    at.button(key="teach_clear").click().run()
    assert len(drawings) == 0


def test_a_bad_zip_is_a_message_and_a_good_one_is_imported():
    at = open_page("teach")
    at.file_uploader(key="teach_import").upload("x.zip", b"not a zip", "application/zip").run()
    assert "cannot be imported" in texts(at.error)
    data = handwriting.to_zip(mirrored_mnist(4))
    at.file_uploader(key="teach_import").upload("mine.zip", data, "application/zip").run()
    assert "Imported 4 drawings" in texts(at.success)
    assert len(at.session_state[handwriting.SESSION_KEY]) == 4
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "labels.csv" in archive.namelist()


def test_fine_tuning_makes_a_new_active_model():
    at = teach_with(mirrored_mnist(20))
    at.button(key="teach_fine_tune").click().run(timeout=300)
    assert not at.exception, at.exception
    assert "Fine-tuned in" in texts(at.success) and "Draw and Confusion now use" in texts(at.success)
    active = at.session_state[state.ACTIVE]
    assert active["classifier"].name.endswith("+ your handwriting")
    assert active["evaluation"].accuracy > 0.95  # MNIST is not forgotten
    assert "your trained model" in texts(at.caption)
    np.testing.assert_array_equal(at.session_state[handwriting.SESSION_KEY].labels[:3], [7, 2, 1])


def hold_every_slot() -> list:
    slots, now = resources.training_slots(), threading.Event()
    now.set()
    return [slots.acquire(object(), now) for _ in range(slots.size)]


def test_fine_tuning_waits_for_a_slot_that_gives_way_and_says_busy_when_none_does():
    slots = resources.training_slots()
    at = teach_with(mirrored_mnist(20))
    assert all(hold_every_slot())
    try:
        at.button(key="teach_fine_tune").click().run(timeout=60)
        assert "The server is busy training other networks" in texts(at.warning)
    finally:
        for _ in range(slots.size):
            slots.release()

    assert all(hold_every_slot())  # held, as the server's own timing holds one, until someone waits

    def give_way():
        while not slots.anyone_waiting():
            time.sleep(0.05)
        for _ in range(slots.size):
            slots.release()

    threading.Thread(target=give_way, daemon=True).start()
    at.button(key="teach_fine_tune").click().run(timeout=300)
    assert not at.exception, at.exception
    assert "Fine-tuned in" in texts(at.success), texts(at.warning)
