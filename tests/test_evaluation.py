import numpy as np
import pytest

from digitlab.evaluation import Evaluation, classification_report, confusion_matrix, most_confused


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
