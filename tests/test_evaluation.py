import numpy as np
import pytest

from digitlab.evaluation import (
    Evaluation,
    classification_report,
    confusion_matrix,
    most_confused,
    pair_label,
    pick_examples,
    report_in_percent,
    selected_cell,
)


def test_confusion_matrix_matches_a_hand_count():
    y_true = [0, 0, 1, 1, 1, 2, 2, 9]
    y_pred = [0, 1, 1, 1, 2, 2, 2, 4]
    cm = confusion_matrix(y_true, y_pred)
    assert cm[0, 0] == 1 and cm[0, 1] == 1
    assert cm[1, 1] == 2 and cm[1, 2] == 1
    assert cm[2, 2] == 2 and cm[9, 4] == 1
    assert cm.sum() == 8


def test_report_matches_a_hand_count():
    # digit 1: predicted 3 times (1 wrong) → precision 2/3; 3 true ones, 2 found → recall 2/3.
    y_true = [0, 0, 1, 1, 1, 2, 2, 9]
    y_pred = [0, 1, 1, 1, 2, 2, 2, 4]
    rows = {row["digit"]: row for row in classification_report(confusion_matrix(y_true, y_pred))}
    assert rows["1"]["precision"] == pytest.approx(2 / 3)
    assert rows["1"]["recall"] == pytest.approx(2 / 3)
    assert rows["2"]["precision"] == pytest.approx(2 / 3)
    assert rows["2"]["recall"] == pytest.approx(1.0)
    assert rows["2"]["f1"] == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))
    assert rows["0"]["precision"] == pytest.approx(1.0) and rows["0"]["recall"] == pytest.approx(0.5)
    assert rows["9"]["recall"] == 0.0 and rows["9"]["support"] == 1
    assert rows["3"]["support"] == 0 and rows["3"]["f1"] == 0.0
    assert rows["weighted avg"]["support"] == 8
    # Weighted recall is plain accuracy: 5 right out of 8.
    assert rows["weighted avg"]["recall"] == pytest.approx(5 / 8)


def test_most_confused_lists_off_diagonal_cells_largest_first():
    cm = np.zeros((10, 10), dtype=int)
    np.fill_diagonal(cm, 50)
    cm[4, 9], cm[7, 2], cm[3, 5] = 6, 9, 1
    assert most_confused(cm, top=10) == [(7, 2, 9), (4, 9, 6), (3, 5, 1)]


def test_evaluation_from_probabilities():
    labels = np.array([3, 3, 8])
    probs = np.full((3, 10), 0.05)
    probs[0, 3], probs[1, 5], probs[2, 8] = 0.55, 0.55, 0.55
    result = Evaluation.from_probabilities(probs, labels)
    assert result.accuracy == pytest.approx(2 / 3)
    assert list(result.misclassified) == [1]
    assert list(result.cell_indices(3, 5)) == [1]
    assert result.loss == pytest.approx(-(np.log(0.55) * 2 + np.log(0.05)) / 3)
    assert result.summary()["confusion"][3][5] == 1


def test_pair_label():
    assert pair_label(4, 9, 12) == "4 → 9: 12 images"
    assert pair_label(4, 9, 1) == "4 → 9: 1 image"


def test_selected_cell_reads_the_clicked_square():
    # The shape st.plotly_chart returns for a click on a confusion_matrix_figure square.
    event = {
        "selection": {"points": [{"x": 9, "y": 4, "customdata": [4, 9, 6, 0.006]}], "point_indices": [49]}
    }
    assert selected_cell(event) == (4, 9)
    assert selected_cell({"selection": {"points": []}}) is None
    assert selected_cell(None) is None


def test_examples_mix_a_few_mistakes_with_right_answers():
    labels = np.arange(30) % 10
    predictions = labels.copy()
    predictions[[3, 17, 25]] = 0  # three mistakes (label 0 at index 0, 10, 20 stay right)
    picks = pick_examples(labels, predictions, count=20, max_wrong=6)
    assert len(picks) == len(set(picks)) == 20
    assert list(picks) == sorted(picks)
    assert {3, 17, 25} <= set(picks)
    predictions[:10] = (labels[:10] + 1) % 10  # now 12 mistakes: only 6 are shown
    picks = pick_examples(labels, predictions, count=20, max_wrong=6)
    assert int(np.sum(labels[picks] != predictions[picks])) == 6
    assert np.array_equal(picks, pick_examples(labels, predictions, count=20, max_wrong=6))


def test_report_in_percent_scales_only_the_scores():
    row = {"digit": "4", "precision": 0.5, "recall": 0.25, "f1": 1 / 3, "support": 982}
    (scaled,) = report_in_percent([row])
    assert scaled == {
        "digit": "4",
        "precision": 50.0,
        "recall": 25.0,
        "f1": pytest.approx(33.333, abs=1e-3),
        "support": 982,
    }
