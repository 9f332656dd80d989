"""Evaluation on a labelled set: accuracy, loss, confusion matrix, classification report.

The metrics are computed here with numpy from the predicted probabilities, so they
can be checked against a hand count, and the pages and the CLI read the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitlab.pen import benchmark_images
from digitlab.reading import predict_many

DIGITS = tuple(range(10))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Counts with rows = true digit and columns = predicted digit."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def classification_report(cm: np.ndarray) -> list[dict]:
    """Per-digit precision, recall, F1 and support, then macro and weighted averages."""
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    support = cm.sum(axis=1).astype(np.float64)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    rows = [
        {
            "digit": str(d),
            "precision": precision[d],
            "recall": recall[d],
            "f1": f1[d],
            "support": int(support[d]),
        }
        for d in range(len(cm))
    ]
    total = support.sum()
    weights = support / total if total else np.zeros_like(support)
    for name, avg in (("macro avg", np.mean), ("weighted avg", lambda v: float(np.sum(v * weights)))):
        rows.append(
            {
                "digit": name,
                "precision": float(avg(precision)),
                "recall": float(avg(recall)),
                "f1": float(avg(f1)),
                "support": int(total),
            }
        )
    return [{k: (float(v) if isinstance(v, np.floating) else v) for k, v in row.items()} for row in rows]


def most_confused(cm: np.ndarray, top: int = 10) -> list[tuple[int, int, int]]:
    """The `top` off-diagonal cells as (true, predicted, count), largest first, empty cells left out."""
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:top]
    pairs = [(int(i // cm.shape[1]), int(i % cm.shape[1]), int(off.flat[i])) for i in order]
    return [pair for pair in pairs if pair[2] > 0]


def cross_entropy(probs: np.ndarray, labels: np.ndarray) -> float:
    picked = probs[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0))))


@dataclass
class Evaluation:
    """Everything the pages and the CLI show about a model on a labelled set."""

    labels: np.ndarray
    probabilities: np.ndarray
    predictions: np.ndarray
    confusion: np.ndarray
    report: list[dict]
    accuracy: float
    loss: float

    @classmethod
    def from_probabilities(cls, probabilities: np.ndarray, labels: np.ndarray) -> Evaluation:
        labels = np.asarray(labels, dtype=np.int64)
        predictions = probabilities.argmax(axis=1)
        cm = confusion_matrix(labels, predictions)
        return cls(
            labels=labels,
            probabilities=probabilities,
            predictions=predictions,
            confusion=cm,
            report=classification_report(cm),
            accuracy=float(np.mean(predictions == labels)),
            loss=cross_entropy(probabilities, labels),
        )

    @property
    def misclassified(self) -> np.ndarray:
        return np.flatnonzero(self.predictions != self.labels)

    def cell_indices(self, true_digit: int, predicted_digit: int) -> np.ndarray:
        """Indices of the images in one confusion-matrix cell."""
        return np.flatnonzero((self.labels == true_digit) & (self.predictions == predicted_digit))

    def most_confused(self, top: int = 10) -> list[tuple[int, int, int]]:
        return most_confused(self.confusion, top)

    def summary(self) -> dict:
        return {
            "test_accuracy": self.accuracy,
            "test_loss": self.loss,
            "test_images": int(len(self.labels)),
            "confusion": self.confusion.tolist(),
            "report": self.report,
        }

    def report_text(self) -> str:
        lines = [f"{'digit':>12} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}"]
        for row in self.report:
            scores = " ".join(f"{row[key]:9.4f}" for key in ("precision", "recall", "f1"))
            lines.append(f"{row['digit']:>12} {scores} {row['support']:8d}")
        return "\n".join(lines)


def evaluate(classifier, images: np.ndarray, labels: np.ndarray) -> Evaluation:
    """Evaluate a `learn.classifier.Classifier` on uint8 images and integer labels."""
    return Evaluation.from_probabilities(classifier.predict_proba(images), labels)


def evaluate_drawings(classifier) -> Evaluation:
    """The classifier on the 4,338 pen-drawn benchmark-lab digits, read as the Draw page reads them."""
    pen = benchmark_images()
    return Evaluation.from_probabilities(predict_many(classifier, pen.images), pen.labels)


def accuracy_by_group(result: Evaluation, groups: np.ndarray) -> dict[str, float]:
    """Accuracy per group (a lab, say), the groups in order of size, largest first."""
    right = result.predictions == result.labels
    names, counts = np.unique(groups, return_counts=True)
    return {str(n): float(right[groups == n].mean()) for n in names[np.argsort(-counts, kind="stable")]}


def drawings_summary(result: Evaluation) -> dict:
    """What a run's metadata keeps of `evaluate_drawings`: accuracy, count and accuracy per lab."""
    return {
        "pen_accuracy": result.accuracy,
        "pen_images": int(len(result.labels)),
        "pen_by_lab": accuracy_by_group(result, benchmark_images().sources),
    }


def report_in_percent(report: list[dict]) -> list[dict]:
    """evaluation.report with precision, recall and F1 as percentages, for a table with one decimal."""
    scores = ("precision", "recall", "f1")
    return [{key: 100 * value if key in scores else value for key, value in row.items()} for row in report]


def pair_label(true: int, predicted: int, count: int) -> str:
    """'4 → 9: 12 images': a most-confused pair as the class reads it."""
    return f"{true} → {predicted}: {count:,} image{'s' * (count != 1)}"


def selected_cell(event) -> tuple[int, int] | None:
    """(true, predicted) of the clicked confusion-matrix square, from st.plotly_chart's selection."""
    try:
        points = event["selection"]["points"]
        true, predicted = points[0]["customdata"][:2]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return int(true), int(predicted)


def pick_examples(
    labels: np.ndarray, predictions: np.ndarray, count: int = 20, max_wrong: int = 6, seed: int = 0
) -> np.ndarray:
    """Indices of `count` test images to show after a run: up to `max_wrong` mistakes, the rest right.

    Random images alone would show a 97% model making no mistake at all; a few errors teach more.
    """
    rng = np.random.default_rng(seed)
    wrong = np.flatnonzero(labels != predictions)
    right = np.flatnonzero(labels == predictions)
    n_wrong = min(max_wrong, len(wrong), count)
    chosen = np.concatenate(
        [
            rng.choice(wrong, n_wrong, replace=False),
            rng.choice(right, min(count - n_wrong, len(right)), replace=False),
        ]
    ).astype(np.int64)
    return np.sort(chosen)
