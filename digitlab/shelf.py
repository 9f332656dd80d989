"""The model shelf: pretrained networks a class picks at once instead of waiting minutes for a run.

Each entry names a file in `assets/models/`, says in one line what it shows, and gives the one command
that rebuilds it (README, "The model shelf"). Its scores, MNIST's test digits and the pen-drawn digits
of unseen writers, are read from the description inside the file (`modelfile.read_metadata`), so
listing the shelf needs no TensorFlow; `learn.classifier.load_classifier` loads the network itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from digitlab import modelfile
from digitlab.data import assets_dir

MODELS_DIR = assets_dir() / "models"
# Every shipped model together, the default included: the package and the repository stay light.
MAX_TOTAL_MB = 25


@dataclass(frozen=True)
class ShelfModel:
    key: str  # a short stable id (widget values, tests)
    name: str  # what the pages call it
    file: str  # in assets/models/
    description: str  # one line: what it is and what it shows
    command: str  # the one command that rebuilds the file

    @property
    def path(self) -> Path:
        return MODELS_DIR / self.file


DEFAULT = ShelfModel(
    "default",
    "Default CNN",
    "default.keras",
    "Two small CNNs averaged, learnt from MNIST and pen-drawn digits, warped: it reads drawings best.",
    "python -m digitlab train --preset default --out assets/models/default",
)
SHELF: tuple[ShelfModel, ...] = (
    DEFAULT,
    ShelfModel(
        "best-mlp",
        "Best MLP",
        "best_mlp.keras",
        "Dense layers only (784-1024-1024-10, no convolutions), 60 epochs on warped MNIST digits: "
        "as far as an MLP goes here.",
        'python -m digitlab train --preset "Best MLP" --hidden 1024,1024 --dropout 0.2 --augment '
        "--lr-schedule cosine --epochs 60 --no-optimizer-state --out assets/models/best_mlp",
    ),
    ShelfModel(
        "tutorial-mlp",
        "Tutorial MLP 784-128-64-10",
        "tutorial_mlp.keras",
        "The classic notebooks' network: Adam, 5 epochs, batch 32, MNIST as it is, seconds to train.",
        'python -m digitlab train --preset "Tutorial 784-128-64-10" --no-optimizer-state '
        "--out assets/models/tutorial_mlp",
    ),
    ShelfModel(
        "cnn-mnist-only",
        "CNN, MNIST only",
        "cnn_mnist_only.keras",
        "One of the default's CNNs, learnt from MNIST alone, no pen-drawn digits: what the drawings taught.",
        "python -m digitlab train --preset default --data mnist --members 1 --no-optimizer-state "
        "--out assets/models/cnn_mnist_only",
    ),
)


def find(key: str) -> ShelfModel:
    for entry in SHELF:
        if entry.key == key:
            return entry
    raise KeyError(f"no model {key!r} on the shelf")


def read_description(entry: ShelfModel) -> dict:
    """The description inside the entry's file (a `modelfile.ModelFileError` if it is missing or bad)."""
    return modelfile.read_metadata(entry.path)


def accuracies(description: dict) -> tuple[float | None, float | None]:
    """(MNIST test accuracy, pen-drawn accuracy) a description holds; None for one not measured."""
    metrics = description.get("metrics") or {}
    return metrics.get("test_accuracy"), metrics.get("pen_accuracy")


def option_label(name: str, description: dict) -> str:
    """'Best MLP · MNIST 99.2% · pen 90.1%': a model's name with the accuracies its description holds."""
    mnist, pen = accuracies(description)
    parts = [name]
    parts.append(f"MNIST {mnist:.1%}" if mnist is not None else "MNIST not measured")
    if pen is not None:
        parts.append(f"pen {pen:.1%}")
    return " · ".join(parts)


def total_megabytes(folder: Path = MODELS_DIR) -> float:
    """Every file in the models folder together, in MB (10⁶ bytes)."""
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file()) / 1e6
