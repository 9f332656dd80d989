"""Fine-tuning: a copy of a model taught a pupil's own drawings, mixed with MNIST so it keeps MNIST.

Each pass repeats the drawings (augmented differently each time) up to `own_per_epoch` and adds
`mnist_per_own` MNIST images per drawing. It goes through the same `learn.fit` path as training.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np

from digitlab.classroom.handwriting import FINE_TUNED, HandwritingSet
from digitlab.learn.classifier import copy_classifier
from digitlab.learn.fit import fit, score, steps_per_execution_for, training_batches
from digitlab.learn.model import compile_model


@dataclass(frozen=True)
class FineTuneConfig:
    # Passes over the mix; each pass augments the drawings differently.
    epochs: int = 3
    # Your drawings per pass, repeated as needed: ten drawings become many augmented variants.
    own_per_epoch: int = 512
    # MNIST training images per drawing in the mix, so the model keeps what it knew (3: a quarter is yours).
    mnist_per_own: int = 3
    batch_size: int = 64
    # Small steps (training uses 1e-3): the model already reads MNIST well.
    learning_rate: float = 3e-4
    # Rotations, shifts, warps and stroke widths, as in training.
    augment: bool = True
    seed: int = 0


@dataclass
class FineTuneResult:
    classifier: object  # learn.classifier.Classifier, a new one: the original is untouched
    evaluation: object | None  # on the MNIST test set
    history: dict
    seconds: float


def mix(drawings: HandwritingSet, x_mnist: np.ndarray, y_mnist: np.ndarray, config: FineTuneConfig):
    """One pass's images and labels: the drawings repeated to `own_per_epoch`, plus a sample of MNIST."""
    rng = np.random.default_rng(config.seed)
    own = max(config.own_per_epoch, len(drawings))
    repeat = np.resize(rng.permutation(len(drawings)), own)
    sample = rng.choice(len(x_mnist), min(len(x_mnist), own * config.mnist_per_own), replace=False)
    images = np.concatenate([drawings.images[repeat], x_mnist[sample]])
    labels = np.concatenate([drawings.labels[repeat], np.asarray(y_mnist)[sample]])
    return images, labels


def fine_tune(
    classifier,
    drawings: HandwritingSet,
    dataset,
    config: FineTuneConfig | None = None,
    *,
    emit=lambda event: None,
    stop_event=None,
    evaluate_test: bool = True,
) -> FineTuneResult:
    """A copy of `classifier` trained a few passes on the drawings mixed with MNIST; progress via `emit`."""
    if not len(drawings):
        raise ValueError("draw and correct a few digits first: there is nothing to learn from")
    config = config or FineTuneConfig()
    started = time.perf_counter()
    model = keras.models.clone_model(classifier.model)
    model.set_weights(classifier.model.get_weights())
    compile_model(model, classifier.config.replace(optimizer="adam", learning_rate=config.learning_rate))
    images, labels = mix(drawings, dataset.x_train, dataset.y_train, config)
    mixed = training_batches(
        images, labels, classifier.config, config.batch_size, config.seed, config.augment
    )
    tuning = classifier.config.replace(batch_size=config.batch_size, augment=config.augment)
    pace = steps_per_execution_for(tuning, mixed.steps_per_epoch)
    history, _ = fit(
        model, mixed, epochs=config.epochs, emit=emit, stop_event=stop_event, steps_per_execution=pace
    )
    tuned = copy_classifier(classifier, model)
    evaluation, metrics = score(tuned, dataset, evaluate_test)
    seconds = time.perf_counter() - started
    tuned.metadata |= {
        "name": classifier.name.removesuffix(FINE_TUNED) + FINE_TUNED,
        "metrics": metrics,
        "fine_tuned": {"drawings": len(drawings), "images": len(images), "epochs": config.epochs},
    }
    return FineTuneResult(tuned, evaluation, history, seconds)
