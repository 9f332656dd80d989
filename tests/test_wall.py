"""digitlab.classroom.wall: the class wall's store, its rounds and the class's own confusion matrix."""

import threading

import numpy as np
import pytest

from digitlab.classroom import handwriting, wall


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path / "data"))


def drawing(seed: int, read: int = 3):
    """A distinct 28×28 input, its thumbnail and probabilities that read `read`."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[seed % 200 : seed % 200 + 60, 100:120, :3] = 255
    probs = np.full(10, 0.01)
    probs[read] = 0.91
    return pixels, probs, wall.thumbnail(canvas)


def test_a_sent_drawing_keeps_what_the_wall_shows():
    pixels, probs, thumb = drawing(1, read=3)
    sent = wall.send(pixels, 8, probs, thumb, nickname="  Ada  ", model="CNN 32", mnist=0.99)
    assert sent.new
    (shown,) = wall.drawings()
    assert (shown.meant, shown.read, shown.nickname, shown.model, shown.mnist) == (
        8,
        3,
        "Ada",
        "CNN 32",
        0.99,
    )
    assert not shown.right
    np.testing.assert_array_equal(shown.pixels, pixels)
    assert shown.thumbnail == thumb and thumb.startswith(b"\x89PNG")
    assert shown.probabilities[3] == pytest.approx(0.91)


def test_the_thumbnail_is_small_grey_and_shows_the_ink():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[100:180, 130:150] = 255  # a white stroke; the rest transparent, i.e. the black background
    import io

    from PIL import Image

    picture = Image.open(io.BytesIO(wall.thumbnail(canvas)))
    assert picture.size == (wall.THUMBNAIL_PX, wall.THUMBNAIL_PX) and picture.mode == "L"
    grey = np.asarray(picture)
    assert grey[48, 48] > 200 and grey[5, 5] == 0
    with pytest.raises(wall.WallError):
        wall.thumbnail(np.zeros((3, 4, 5, 6)))


def test_sending_the_same_drawing_twice_does_nothing():
    pixels, probs, thumb = drawing(2)
    first = wall.send(pixels, 3, probs, thumb)
    again = wall.send(pixels, 3, probs, thumb, nickname="Bo")
    assert first.new and not again.new and again.id == first.id
    assert len(wall.drawings()) == 1


def test_bad_input_is_refused_with_a_message():
    pixels, probs, thumb = drawing(3)
    with pytest.raises(wall.WallError, match="0 to 9"):
        wall.send(pixels, 10, probs, thumb)
    with pytest.raises(wall.WallError, match="0 to 9"):
        wall.send(pixels, True, probs, thumb)
    with pytest.raises(wall.WallError, match="28×28"):
        wall.send(np.zeros((28, 27)), 1, probs, thumb)
    with pytest.raises(wall.WallError, match="ten probabilities"):
        wall.send(pixels, 1, probs[:9], thumb)
    with pytest.raises(wall.WallError, match="at most 24"):
        wall.send(pixels, 1, probs, thumb, nickname="x" * 25)
    assert wall.drawings() == []


def test_thirty_students_sending_at_once_lose_and_duplicate_nothing():
    students = [drawing(seed, read=seed % 10) for seed in range(30)]
    start = threading.Barrier(30)
    results, errors = [], []

    def student(index):
        pixels, probs, thumb = students[index]
        try:
            start.wait()
            results.append(wall.send(pixels, index % 10, probs, thumb, nickname=f"s{index}"))
            results.append(wall.send(pixels, index % 10, probs, thumb, nickname=f"s{index}"))  # a double tap
        except Exception as error:  # noqa: BLE001 - any failure is the test's finding
            errors.append(error)

    threads = [threading.Thread(target=student, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(result.new for result in results) == 30
    shown = wall.drawings()
    assert sorted(d.nickname for d in shown) == sorted(f"s{i}" for i in range(30))
    assert len({d.id for d in shown}) == 30
    assert all(d.right for d in shown)


def test_the_wall_keeps_only_the_newest(monkeypatch):
    monkeypatch.setattr(wall, "MAX_DRAWINGS", 3)
    for seed in range(5):
        pixels, probs, thumb = drawing(seed)
        wall.send(pixels, seed, probs, thumb, nickname=f"n{seed}")
    assert [d.nickname for d in wall.drawings()] == ["n4", "n3", "n2"]


def test_filtering_by_the_digit_meant_and_clearing():
    for seed in range(6):
        pixels, probs, thumb = drawing(seed)
        wall.send(pixels, seed % 2, probs, thumb)
    assert [d.meant for d in wall.drawings(meant=1)] == [1, 1, 1]
    before = wall.version()
    assert wall.clear() == 6
    assert wall.drawings() == [] and wall.version() != before


def test_rounds_open_one_at_a_time_and_tag_their_drawings():
    assert wall.current_round() is None
    with pytest.raises(wall.WallError, match="prompt"):
        wall.start_round("  ")
    with pytest.raises(wall.WallError, match="at most"):
        wall.start_round("x" * (wall.MAX_PROMPT + 1))
    first = wall.start_round("", digit=4)
    assert first.prompt == "Everyone draw a 4" and wall.current_round() == first
    pixels, probs, thumb = drawing(1)
    wall.send(pixels, 4, probs, thumb)
    second = wall.start_round("Draw a 7 the way you write it\x07", digit=7)
    assert second.prompt == "Draw a 7 the way you write it" and wall.current_round().id == second.id
    assert wall.drawings()[0].round == first.id
    version = wall.version()
    assert wall.end_round() and wall.current_round() is None and not wall.end_round()
    assert wall.version() != version


def test_the_class_reading_counts_the_meant_digit_against_the_reading():
    assert wall.class_reading([]) is None
    for seed, (meant, read) in enumerate([(7, 7), (7, 1), (7, 1), (4, 9), (4, 4)]):
        pixels, probs, thumb = drawing(seed, read=read)
        wall.send(pixels, meant, probs, thumb)
    shown = wall.drawings()
    reading = wall.class_reading(shown)
    assert reading.accuracy == pytest.approx(2 / 5)
    assert reading.evaluation.confusion[7, 1] == 2 and reading.evaluation.confusion[4, 9] == 1
    assert reading.mix_ups[0] == (7, 1, 2)
    every_one_right = np.eye(10)[[d.meant for d in shown]]  # another model, re-reading the same drawings
    assert wall.class_reading(shown, every_one_right).accuracy == 1.0
    assert wall.images(shown).shape == (5, 28, 28)


def test_the_download_is_a_set_the_teach_page_imports():
    for seed in range(4):
        pixels, probs, thumb = drawing(seed)
        wall.send(pixels, seed + 2, probs, thumb)
    shown = wall.drawings()
    imported = handwriting.from_zip(wall.to_zip(shown))
    assert list(imported.labels) == [2, 3, 4, 5]  # oldest first, as sent
    np.testing.assert_array_equal(imported.images[0], shown[-1].pixels)
