"""The model shelf: every shipped model is there, loads, reads digits and holds the scores it is shown with.

The figures are checked against independent counts: the file sizes on disk, the numbers stored in the
weights file (h5py), the layers Keras loads, and a fresh pass over MNIST's test set by `model.predict`.
"""

import shlex
from pathlib import Path

import numpy as np
import pytest

from digitlab import shelf
from digitlab.cli import make_parser
from digitlab.commands import build_config
from digitlab.config import TrainConfig
from tests.tiny_models import stored_numbers

MODELS = Path(__file__).resolve().parents[1] / "assets" / "models"
ENTRIES = {entry.key: entry for entry in shelf.SHELF}


@pytest.fixture(scope="module")
def loaded():
    from digitlab.learn.classifier import load_classifier

    return {key: load_classifier(entry.path) for key, entry in ENTRIES.items()}


def test_the_shelf_holds_the_four_promised_models():
    assert set(ENTRIES) == {"default", "best-mlp", "tutorial-mlp", "cnn-mnist-only"}
    assert len({entry.name for entry in shelf.SHELF}) == len(shelf.SHELF)
    assert shelf.find("best-mlp").name == "Best MLP"
    with pytest.raises(KeyError):
        shelf.find("nothing")


@pytest.mark.parametrize("key", ENTRIES)
def test_every_model_file_exists_and_describes_both_accuracies(key):
    entry = ENTRIES[key]
    assert entry.path.parent == MODELS and entry.path.is_file()
    description = shelf.read_description(entry)
    metrics = description["metrics"]
    assert 0.9 < metrics["test_accuracy"] <= 1 and metrics["test_images"] == 10_000
    assert 0.5 < metrics["pen_accuracy"] <= 1 and metrics["pen_images"] == 4_338
    assert np.array(metrics["confusion"]).sum() == 10_000


@pytest.mark.parametrize("key", ENTRIES)
def test_every_model_loads_and_reads_28_by_28_pixels_into_10_digits(key, loaded, mnist):
    model = loaded[key].model
    assert tuple(model.input_shape) == (None, 28, 28) and tuple(model.output_shape) == (None, 10)
    probabilities = loaded[key].predict_proba(mnist.x_test[:8])
    assert probabilities.shape == (8, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("key", ENTRIES)
def test_each_command_rebuilds_the_model_stored_in_its_file(key):
    # The README's one command per model: parsed as the CLI parses it, it gives the stored settings.
    entry = ENTRIES[key]
    words = shlex.split(entry.command)
    assert words[:4] == ["python", "-m", "digitlab", "train"]
    args = make_parser().parse_args(words[3:])
    assert Path(args.out).with_suffix(".keras") == Path("assets/models") / entry.file
    stored = TrainConfig.from_dict(shelf.read_description(entry)["config"])
    assert build_config(args) == stored


@pytest.mark.parametrize("key", [key for key in ENTRIES if key != "default"])
def test_shelf_models_are_saved_without_the_optimizer_state(key):
    assert set(stored_numbers(ENTRIES[key].path)) == {"layers"}


def test_all_shipped_models_together_stay_within_25_mb():
    total = sum(path.stat().st_size for path in MODELS.iterdir() if path.is_file())
    assert total <= 25_000_000
    assert shelf.total_megabytes() == pytest.approx(total / 1e6)


def test_the_best_mlp_is_an_mlp_at_99_2_percent_and_its_figure_reproduces(loaded, mnist):
    classifier = loaded["best-mlp"]
    assert classifier.config.architecture == "mlp"
    kinds = {type(layer).__name__ for layer in classifier.model.layers}
    assert kinds <= {"InputLayer", "Rescaling", "Flatten", "Dense", "Dropout"}, kinds
    stored = shelf.read_description(shelf.find("best-mlp"))["metrics"]["test_accuracy"]
    assert stored >= 0.992
    # A fresh pass over the 10,000 test digits, counted here rather than by digitlab.evaluation.
    outputs = classifier.model.predict(mnist.x_test.astype(np.float32), batch_size=1000, verbose=0)
    right = int((outputs.argmax(axis=1) == mnist.y_test).sum())
    assert abs(right - round(stored * 10_000)) <= 1  # float round-off may flip one near-tie at most
    assert right >= 9_920


def test_an_option_shows_the_name_and_both_accuracies():
    description = {"metrics": {"test_accuracy": 0.99215, "pen_accuracy": 0.9012}}
    assert shelf.option_label("Best MLP", description) == "Best MLP · MNIST 99.2% · pen 90.1%"
    assert shelf.option_label("Mine", {"metrics": {"test_accuracy": 0.8}}) == "Mine · MNIST 80.0%"
    assert shelf.option_label("Paused", {}) == "Paused · MNIST not measured"
    assert shelf.accuracies({"metrics": {"test_accuracy": 0.5}}) == (0.5, None)
