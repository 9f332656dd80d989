"""UNIPEN replay: placement on the canvas, y flip, rendering, and loading the stroke file."""

import gzip
import json

import numpy as np
import pytest

from digitlab import strokes
from digitlab.strokes import load_unipen, place_on_canvas, render_strokes

# A "7" in tablet units, y pointing up: a bar along the top, then a long stroke down-left.
SEVEN = [[(100, 900), (500, 900), (250, 100)]]


def extent(placed):
    points = np.concatenate([np.asarray(s) for s in placed])
    return points.min(0), points.max(0)


@pytest.mark.parametrize("seed", range(20))
def test_digit_is_50_to_80_percent_of_the_canvas_tall_and_inside_it(seed):
    (left, top), (right, bottom) = extent(place_on_canvas(SEVEN, np.random.default_rng(seed)))
    assert 0.5 * 280 - 1e-9 <= bottom - top <= 0.8 * 280 + 1e-9
    assert min(left, top) >= 0 and max(right, bottom) <= 280
    # Roughly centred: the box's centre within 8 % of the canvas (22.4 px) of the middle.
    assert abs((left + right) / 2 - 140) <= 22.4 + 1e-9 and abs((top + bottom) / 2 - 140) <= 22.4 + 1e-9


def test_aspect_ratio_is_kept():
    (left, top), (right, bottom) = extent(place_on_canvas(SEVEN, np.random.default_rng(3)))
    assert (right - left) / (bottom - top) == pytest.approx(400 / 800)


def test_wide_digit_is_capped_to_fit():
    dash_like = [[(0, 0), (3000, 0), (3000, 600)]]  # five times wider than tall
    (left, top), (right, bottom) = extent(place_on_canvas(dash_like, np.random.default_rng(0)))
    assert right - left == pytest.approx(0.8 * 280)
    assert (right - left) / (bottom - top) == pytest.approx(5)


def test_y_is_flipped_so_up_on_the_tablet_is_up_on_screen():
    upward = [[(0, 0), (0, 100)], [(50, 0)]]  # pen moves up; a dot level with the stroke's start
    line, dot = place_on_canvas(upward, np.random.default_rng(0))
    assert line[1][1] < line[0][1]  # screen y shrinks going up
    assert dot[0][1] == pytest.approx(line[0][1])


def test_placement_is_pure_and_seeded():
    first = place_on_canvas(SEVEN, np.random.default_rng(7))
    again = place_on_canvas(SEVEN, np.random.default_rng(7))
    assert first == again and isinstance(first[0][0][0], float)


def test_rendering_puts_ink_along_the_segment_with_round_caps():
    image = render_strokes([[(60.0, 140.0), (220.0, 140.0)]], brush=18)
    assert image.mode == "RGBA" and image.size == (280, 280)
    pixels = np.asarray(image)
    assert (pixels[..., 3] == 255).all()  # opaque black background, like the canvas's image data
    ink = pixels[..., 0]
    assert (ink[140, 60:221] == 255).all()  # along the segment
    assert ink[140 - 6, 100] == 255 and ink[140 - 12, 100] == 0  # 18 px wide: 9 either side
    assert ink[140, 60 - 6] == 255 and ink[140, 60 - 12] == 0  # round cap past the end point
    assert ink[140 - 6, 60 - 6] == 255 and ink[140 - 8, 60 - 8] == 0  # round, not square (8*sqrt2 > 9)


def test_rendering_is_anti_aliased():
    ink = np.asarray(render_strokes([[(50.0, 50.0), (230.0, 200.0)]]))[..., 0]
    edge = (ink > 0) & (ink < 255)
    assert edge.sum() > 2 * 150  # a soft pixel or more along both edges of the slanted stroke


def test_single_point_stroke_is_a_dot_the_size_of_the_brush():
    ink = np.asarray(render_strokes([[(140.0, 140.0)]], brush=20))[..., 0]
    covered = ink.astype(float).sum() / 255
    assert covered == pytest.approx(np.pi * 10**2, rel=0.05)


def test_load_unipen_reads_the_file_named_by_the_environment(tmp_path, monkeypatch):
    items = [
        {"label": 3, "writer": "w1", "source": "abc", "strokes": [[[0, 0], [5, 9]], []]},
        {"label": 0, "writer": "w2", "source": "xyz", "strokes": [[[1, 2]]]},
    ]
    path = tmp_path / "digits.json.gz"
    with gzip.open(path, "wt") as file:
        json.dump(items, file)
    monkeypatch.setenv("DIGITLAB_UNIPEN", str(path))
    samples = load_unipen()
    assert [(s.label, s.source, s.writer) for s in samples] == [(3, "abc", "w1"), (0, "xyz", "w2")]
    assert samples[0].strokes == [[[0, 0], [5, 9]]]  # the empty stroke is dropped


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_unipen(tmp_path / "nowhere.json.gz")


@pytest.mark.skipif(not strokes.UNIPEN_PATH.exists(), reason="UNIPEN data is not beside the repo")
def test_real_file_has_the_counts_its_readme_gives():
    samples = load_unipen(strokes.UNIPEN_PATH)
    counts = np.bincount([s.label for s in samples], minlength=10)
    assert counts.tolist() == [1646, 1748, 1653, 1591, 1626, 1522, 1518, 1546, 1558, 1545]
