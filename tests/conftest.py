"""Shared fixtures: a tiny slice of MNIST so core tests train in seconds."""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def mnist():
    from digitlab.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def small_mnist(mnist):
    """2,000 training and 500 test images: enough for a model to learn something in a second."""
    from digitlab.data import Dataset

    return Dataset(
        x_train=mnist.x_train[:2000],
        y_train=mnist.y_train[:2000],
        x_test=mnist.x_test[:500],
        y_test=mnist.y_test[:500],
        name="MNIST (first 2,000)",
    )


@pytest.fixture(scope="session")
def tiny_classifier(small_mnist):
    """A model trained for one epoch on the small slice, shared by the tests that only read it."""
    from digitlab.config import TrainConfig
    from digitlab.learn.training import train

    config = TrainConfig(hidden_units=(32,), epochs=1, batch_size=64, train_size=2000, seed=3)
    return train(config, small_mnist).classifier


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def through_the_router(monkeypatch):
    """Every AppTest script run goes through app.py, as on the server (tests/apptest.py)."""
    from digitlab.app import workarounds

    workarounds.settle_pages_guess_in_apptest(monkeypatch)
