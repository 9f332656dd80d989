"""digitlab.learn.neighbours: the sample, embeddings by hand, the nearest by a brute-force numpy search."""

import subprocess
import sys

import numpy as np
import pytest

from digitlab.config import TrainConfig
from digitlab.learn import neighbours
from digitlab.learn.model import members_of


def hidden_by_hand(network, images, norm):
    """relu(normalised pixels @ W + b) of a one-hidden-layer MLP, from its weights in numpy."""
    weights, bias = network.get_layer("hidden1").get_weights()
    pixels = (images.reshape(len(images), -1) / 255.0 - norm["mean"]) / norm["std"]
    return np.maximum(pixels @ weights + bias, 0)


def brute_force(embeddings, query, labels, k, digit=None):
    """Indices of the k rows nearest to `query` by cosine distance, each row compared, nearest first."""
    distances = np.array(
        [1 - row @ query / (np.linalg.norm(row) * np.linalg.norm(query)) for row in embeddings]
    )
    if digit is not None:
        distances[labels != digit] = np.inf
    order = np.argsort(distances, kind="stable")[:k]
    return order, distances[order]


@pytest.fixture(scope="module")
def tiny_sample_embeddings(tiny_classifier):
    sample = neighbours.training_sample()
    norm = tiny_classifier.metadata["normalization"]
    return hidden_by_hand(tiny_classifier.model, sample.images, norm)


def test_the_sample_is_fixed_and_balanced(mnist):
    sample = neighbours.training_sample()
    assert len(sample.indices) == 6000 and np.all(np.diff(sample.indices) > 0)  # distinct, in order
    assert np.bincount(sample.labels, minlength=10).tolist() == [600] * 10
    np.testing.assert_array_equal(sample.images, mnist.x_train[sample.indices])
    np.testing.assert_array_equal(sample.labels, mnist.y_train[sample.indices])
    again = neighbours.balanced_indices(mnist.y_train, 600, neighbours.SAMPLE_SEED)
    np.testing.assert_array_equal(again, sample.indices)  # the same images on every server, every run
    assert not np.array_equal(neighbours.balanced_indices(mnist.y_train, 600, 1), sample.indices)


def test_too_few_images_of_a_digit_is_a_clear_error():
    with pytest.raises(ValueError, match="only 3 training images of 9"):
        neighbours.balanced_indices(np.repeat(np.arange(10), [5] * 9 + [3]), 4, 0)


def test_embeddings_are_the_first_networks_hidden_layer_after_its_own_normalisation(small_mnist):
    # zscore, not the default pixels / 255, and two networks: the first one's layer must be read.
    config = TrainConfig(hidden_units=(16,), epochs=1, train_size=500, normalization="zscore", members=2)
    from digitlab.learn.training import train

    classifier = train(config, small_mnist, evaluate_test=False).classifier
    norm = classifier.metadata["normalization"]
    assert norm["kind"] == "zscore" and norm["mean"] > 0.05
    images = small_mnist.x_test[:20]
    first, second = members_of(classifier.model)
    embedded = neighbours.embed(classifier, images)
    np.testing.assert_allclose(embedded, hidden_by_hand(first, images, norm), rtol=1e-4, atol=1e-4)
    assert not np.allclose(embedded, hidden_by_hand(second, images, norm), atol=1e-2)


def test_nearest_matches_a_brute_force_search(tiny_classifier, tiny_sample_embeddings, small_mnist):
    sample = neighbours.training_sample()
    for image in small_mnist.x_test[:5]:
        query = hidden_by_hand(tiny_classifier.model, image[None], tiny_classifier.metadata["normalization"])[
            0
        ]
        found = neighbours.nearest(tiny_classifier, image, k=8)
        order, distances = brute_force(tiny_sample_embeddings, query, sample.labels, 8)
        np.testing.assert_array_equal(found.indices, order)
        np.testing.assert_allclose(found.distances, distances, atol=1e-5)
        np.testing.assert_array_equal(found.labels, sample.labels[order])
        np.testing.assert_array_equal(found.images, sample.images[order])


def test_the_digit_filter_searches_only_that_digit(tiny_classifier, tiny_sample_embeddings, small_mnist):
    sample = neighbours.training_sample()
    image = small_mnist.x_test[0]  # a 7
    query = hidden_by_hand(tiny_classifier.model, image[None], tiny_classifier.metadata["normalization"])[0]
    for digit in (1, 7, 9):
        found = neighbours.nearest(tiny_classifier, image, k=8, digit=digit)
        order, _ = brute_force(tiny_sample_embeddings, query, sample.labels, 8, digit=digit)
        assert found.labels.tolist() == [digit] * 8
        np.testing.assert_array_equal(found.indices, order)
    anywhere = neighbours.nearest(tiny_classifier, image, k=8)
    assert anywhere.distances[0] <= found.distances[0]


def test_a_training_image_is_its_own_nearest_for_the_default_cnn(mnist):
    from digitlab.learn.classifier import load_classifier

    classifier = load_classifier()
    sample = neighbours.training_sample()
    for i in (0, 2999, 5999):
        found = neighbours.nearest(classifier, sample.images[i], k=8)
        assert found.indices[0] == i and found.distances[0] == pytest.approx(0, abs=1e-5)
        assert np.all(np.diff(found.distances) >= 0)
    # The ten digits of the test set's start: most of each one's neighbours share its label.
    agree = [
        (neighbours.nearest(classifier, image).labels == label).mean()
        for image, label in zip(mnist.x_test[:10], mnist.y_test[:10], strict=True)
    ]
    assert np.mean(agree) > 0.9
    assert neighbours.sample_directions(classifier) is neighbours.sample_directions(classifier)  # kept


def test_bad_input_is_a_clear_error(tiny_classifier):
    with pytest.raises(ValueError, match="28×28"):
        neighbours.nearest(tiny_classifier, np.zeros((28, 27)))
    with pytest.raises(ValueError, match="digit"):
        neighbours.nearest(tiny_classifier, np.zeros((28, 28)), digit=10)
    with pytest.raises(ValueError, match="k must"):
        neighbours.nearest(tiny_classifier, np.zeros((28, 28)), k=0)
    with pytest.raises(ValueError, match="28×28"):
        neighbours.embed(tiny_classifier, np.zeros((28, 28)))


def test_the_draw_page_can_import_it_before_tensorflow():
    code = "import sys, digitlab.learn.neighbours; print(*sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert not {"tensorflow", "keras"} & set(loaded)
