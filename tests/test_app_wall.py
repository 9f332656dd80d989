"""The class wall in AppTest: a drawing sent from Draw reaches the Wall page, its matrix and its rounds.

Run through app.py (the router), as a browser would, each test with a class wall of its own.
"""

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from digitlab.classroom import wall
from digitlab.preprocess import open_image, preprocess_steps
from tests.apptest import draw, open_page, png_of_a_one, texts

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("through_the_router")]
CODE = "owl-42"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DIGITLAB_TEACHER_CODE", raising=False)
    return tmp_path


def send_a_one(at: AppTest, meant: int = 1, nickname: str = "") -> AppTest:
    at.button_group(key="wall_meant").set_value(meant).run()
    at.text_input(key="wall_nickname").set_value(nickname).run()
    return at.button(key="wall_send_button").click().run()


def grid_tiles(at: AppTest, key: str = "wall_grid") -> list[dict]:
    """The tiles the Wall page handed its grid component."""
    for node in at.get("bidi_component"):
        if node.proto.id and key in node.proto.id:
            return json.loads(node.proto.json)["tiles"]
    raise AssertionError(f"no grid {key!r} on the page")


def test_a_drawing_sent_from_draw_is_on_the_wall_and_in_its_matrix():
    at = open_page("draw")
    draw(at, png_of_a_one())
    assert at.button(key="wall_send_button").disabled  # the digit meant comes first
    send_a_one(at, meant=7, nickname="Ada")
    assert not at.exception, at.exception
    assert "On the class wall: your 7, read as a 1." in texts(at.success)
    at.button(key="wall_send_button").click().run()
    assert "on the wall already" in texts(at.info)
    (sent,) = wall.drawings()
    assert (sent.meant, sent.read, sent.nickname) == (7, 1, "Ada") and sent.mnist is not None

    at.switch_page("pages/wall.py").run()
    assert not at.exception, at.exception
    (tile,) = grid_tiles(at)
    assert (tile["meant"], tile["read"], tile["right"], tile["nickname"]) == (7, 1, False, "Ada")
    assert tile["src"].startswith("data:image/png;base64,")
    assert at.metric[0].value == "0.0%"
    mix_ups = at.button_group(key="wall_mix_ups")
    assert mix_ups.options == ["7 → 1: 1 drawing"]
    mix_ups.set_value(mix_ups.options[0]).run()
    assert "7s read as 1: 1 drawing" in texts(at.subheader)
    assert [t["id"] for t in grid_tiles(at, "wall_cell_grid")] == [sent.id]
    at.button(key="wall_cell_close").click().run()
    assert "Click a square to see the drawings behind it." in texts(at.info)
    assert at.button_group(key="wall_mix_ups").value is None


def test_the_digit_meant_and_the_nickname_outlive_a_cleared_canvas():
    at = open_page("draw")
    draw(at, png_of_a_one())
    send_a_one(at, meant=3, nickname="Bo")
    blank = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    buffer = io.BytesIO()
    blank.save(buffer, format="PNG")
    draw(at, buffer.getvalue())  # Clear: nothing to read, so no send panel
    assert not at.get("button_group") or "wall_meant" not in [b.key for b in at.button_group]
    draw(at, png_of_a_one())
    assert at.button_group(key="wall_meant").value == 3
    assert at.text_input(key="wall_nickname").value == "Bo"


def test_the_filter_shows_one_digit_and_rereading_changes_the_verdicts():
    one = preprocess_steps(open_image(png_of_a_one())).centred
    for meant in (1, 4):  # a 1 each time, whatever was meant, read as meant when sent
        wall.send(one, meant, np.eye(10)[meant], b"thumbnail of %d" % meant)
    at = open_page("wall")
    assert {t["meant"] for t in grid_tiles(at)} == {1, 4}
    at.button_group(key="wall_filter").set_value(4).run()
    assert [t["meant"] for t in grid_tiles(at)] == [4]
    at.button_group(key="wall_filter").set_value("All").run()
    assert at.metric[0].value == "100.0%"
    at.selectbox(key="wall_read_with").set_value("default").run()  # the default model reads a 1 in both
    assert not at.exception, at.exception
    tiles = {t["meant"]: t for t in grid_tiles(at)}
    assert tiles[1]["right"] and not tiles[4]["right"] and tiles[4]["read"] == 1
    assert [m.value for m in at.metric][:1] == ["100.0%"] and "50.0%" in [m.value for m in at.metric]


def test_without_the_teacher_code_nobody_runs_a_round(monkeypatch):
    at = open_page("wall")
    assert "No teacher code is set on this server" in texts(at.caption)
    assert not [b for b in at.button if b.label == "Start the round"]
    monkeypatch.setenv("DIGITLAB_TEACHER_CODE", CODE)
    at.run()
    at.text_input(key="wall_code_entered").set_value("owl-43")
    next(b for b in at.button if b.label == "Unlock the round controls").click().run()
    assert "That is not the teacher code." in texts(at.error)
    assert wall.current_round() is None


def test_the_teacher_starts_a_round_every_draw_page_shows_it_and_clears_the_wall(monkeypatch):
    monkeypatch.setenv("DIGITLAB_TEACHER_CODE", CODE)
    teacher = open_page("wall")
    teacher.text_input(key="wall_code_entered").set_value(CODE)
    next(b for b in teacher.button if b.label == "Unlock the round controls").click().run()
    teacher.button_group(key="wall_round_digit").set_value(4)
    next(b for b in teacher.button if b.label == "Start the round").click().run()
    assert "Round started: “Everyone draw a 4”" in texts(teacher.success)

    student = open_page("draw")
    assert "Everyone draw a 4" in " ".join(h.proto.body for h in student.get("html"))
    draw(student, png_of_a_one())
    assert student.button_group(key="wall_meant").value == 4  # the round's digit, already picked
    student.button(key="wall_send_button").click().run()
    assert wall.drawings()[0].round == wall.current_round().id

    teacher.run()
    assert "Everyone draw a 4" in " ".join(h.proto.body for h in teacher.get("html"))
    assert [d.proto.label for d in teacher.get("download_button")] == ["Download for Teach (.zip)"]
    next(b for b in teacher.button if b.label == "Yes, clear the wall").click().run()
    assert wall.drawings() == []
    assert not teacher.exception, teacher.exception


def test_the_download_is_the_teach_format():
    pixels = np.full((28, 28), 7, np.uint8)
    wall.send(pixels, 3, np.eye(10)[3], b"\x89PNG thumbnail")
    archive = zipfile.ZipFile(io.BytesIO(wall.to_zip(wall.drawings())))
    assert archive.read("labels.csv").decode().splitlines() == ["file,label", "digits/0001.png,3"]
