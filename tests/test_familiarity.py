"""The reading says when a drawing is unlike every digit: scribbles made through the canvas renderer.

The scribbles (tests/scribbles.py) are drawn here, never learnt from; the detector is fitted on known
digits only. The accuracy checks read MNIST test[:5000] and all 4,338 benchmark-lab drawings (the
canvas path): a sample of MNIST, to keep the file near a minute on two busy cores.
"""

import numpy as np
import pytest

from digitlab import pen, reading
from digitlab.learn import familiarity
from tests.scribbles import NOT_DIGITS, scribbles

PER_KIND = 12
MAX_ACCURACY_COST = 0.002  # 0.2 points of accuracy, flagged images counted wrong


@pytest.fixture(scope="module")
def default():
    from digitlab.learn.classifier import load_classifier

    classifier = load_classifier(None)
    return classifier, familiarity.judge(classifier)


def test_most_non_digit_scribbles_are_flagged(default):
    classifier, judge = default
    flagged = {}
    for kind in NOT_DIGITS:
        found = [reading.read_image(classifier, c, judge=judge) for c in scribbles(kind, PER_KIND, seed=7)]
        flagged[kind] = np.mean([r.not_a_digit_message is not None for r in found])
    print("flagged per kind:", {kind: f"{share:.0%}" for kind, share in flagged.items()})
    assert np.mean(list(flagged.values())) >= 0.5, flagged
    # The kinds it measurably catches (bench/not_a_digit.py): dashes, crosses, H, W, hatching.
    for kind in ("dash", "cross", "letter H", "letter W", "hatching"):
        assert flagged[kind] >= 0.7, flagged


def test_circles_still_read_0_and_are_not_flagged(default):
    classifier, judge = default
    for canvas in scribbles("circle", PER_KIND, seed=7):
        answer = reading.read_image(classifier, canvas, judge=judge)
        assert answer.digit == 0 and answer.looks_like_a_digit, answer.strangeness


def flagged_right(classifier, images, labels) -> tuple[float, float]:
    """(accuracy, share both right and flagged): the accuracy lost if flagged images count as wrong."""
    right = reading.predict_many(classifier, images).argmax(axis=1) == labels
    fitted = familiarity.familiarity_for(classifier)
    flagged = fitted.strangeness(familiarity.features(classifier, images), images) > 1
    return right.mean(), (right & flagged).mean()


def test_accuracy_on_digits_moves_by_at_most_0_2_points(default, mnist):
    classifier, _ = default
    bench = pen.benchmark_images()
    for images, labels in ((mnist.x_test[:5000], mnist.y_test[:5000]), (bench.images, bench.labels)):
        accuracy, lost = flagged_right(classifier, images, labels)
        print(f"accuracy {accuracy:.2%}, lost to flags {lost:.2%}")
        assert accuracy > 0.95 and lost <= MAX_ACCURACY_COST


def test_the_distance_is_mahalanobis_to_the_nearest_digit_cloud(tiny_classifier, small_mnist):
    images, labels = small_mnist.x_train[:1000], small_mnist.y_train[:1000]
    fitted = familiarity.fit(tiny_classifier, images, labels, small_mnist.x_test[:200])
    hidden = familiarity.features(tiny_classifier, images).astype(np.float64)
    means = np.stack([hidden[labels == d].mean(0) for d in range(10)])
    covariance = np.cov((hidden - means[labels]).T, bias=True)
    covariance += familiarity.SHRINKAGE * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
    inverse = np.linalg.inv(covariance)
    probe = familiarity.features(tiny_classifier, small_mnist.x_test[:5]).astype(np.float64)
    expected = [min(np.sqrt((x - m) @ inverse @ (x - m)) for m in means) for x in probe]
    got = fitted.distances(probe, small_mnist.x_test[:5])[:, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-3)
    # pixels: the mean of the 8 smallest Euclidean distances to the fit images, 0-1 pixels
    x = small_mnist.x_test[:5].reshape(5, -1) / 255.0
    reference = images.reshape(len(images), -1) / 255.0
    pixel = [np.sort(np.linalg.norm(reference - row, axis=1))[:8].mean() for row in x]
    np.testing.assert_allclose(fitted.distances(probe, small_mnist.x_test[:5])[:, 1], pixel, rtol=1e-3)
    # each of the three thresholds flags about 1 - QUANTILE of the held-out images: at most one of 200
    held = fitted.strangeness(
        familiarity.features(tiny_classifier, small_mnist.x_test[:200]), small_mnist.x_test[:200]
    )
    assert (held > 1).sum() <= 3


def test_the_box_shape_is_width_over_height_of_the_ink():
    images = np.zeros((3, 28, 28), np.uint8)
    images[0, 13:15, 4:24] = 255  # a dash: 20 wide, 2 tall
    images[1, 4:24, 13:16] = 255  # a 1: 3 wide, 20 tall
    images[1, 0, 0] = familiarity.INK_LEVEL - 1  # too faint to count
    np.testing.assert_allclose(familiarity.box_shape(images), [10.0, 3 / 20, 1.0])


def two_networks(dataset, combine: str = "average"):
    """Two nearest-mean readers (tests/tiny_models.py) whose answers and hidden layers differ, averaged as
    `model.average_members` does, or combined by another layer."""
    import keras

    from digitlab.learn.classifier import Classifier
    from digitlab.learn.model import average_members
    from tests.tiny_models import digitlab_classifier

    first, second = digitlab_classifier(dataset), digitlab_classifier(dataset)
    kernel, bias = second.model.get_layer("digits").get_weights()
    second.model.get_layer("hidden1").set_weights(
        [0.5 * np.eye(784, dtype=np.float32), np.zeros(784, np.float32)]
    )
    second.model.get_layer("digits").set_weights([2 * kernel, bias + np.eye(10, dtype=np.float32)[3]])
    if combine == "average":
        model = average_members([first.model, second.model])
    else:
        first.model.name, second.model.name = "member1", "member2"
        inputs = keras.Input(shape=(28, 28))
        model = keras.Model(inputs, keras.layers.Maximum()([first.model(inputs), second.model(inputs)]))
    return Classifier(model, first.config), kernel, bias


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def test_one_pass_gives_the_probabilities_and_the_hidden_layer(small_mnist):
    # Independent reference, by numpy: the first network's hidden layer is the pixels in 0-1, the
    # second's half of them; each scores x·m_c − |m_c|²/2, the second 1 more for a 3; averaged.
    classifier, kernel, bias = two_networks(small_mnist)
    images = small_mnist.x_test[:3]
    pixels = images.reshape(3, -1).astype(np.float64) / 255.0
    probabilities, hidden = familiarity.predict_with_features(classifier, images)
    np.testing.assert_allclose(hidden, np.concatenate([pixels, pixels / 2], axis=1), atol=1e-6)
    expected = softmax(pixels @ kernel + bias + 0.5 * np.eye(10)[3])
    np.testing.assert_allclose(probabilities, expected, rtol=1e-4, atol=1e-7)
    # the same numbers as the two passes it replaces
    np.testing.assert_array_equal(probabilities, classifier.predict_proba(images))
    np.testing.assert_array_equal(hidden, familiarity.features(classifier, images))


def test_the_judge_reads_in_one_pass_as_in_two(small_mnist):
    images, labels = small_mnist.x_train[:500], small_mnist.y_train[:500]
    for combine in ("average", "maximum"):  # a combination not known: two passes, the same answer
        classifier, _, _ = two_networks(small_mnist, combine)
        judge = familiarity.Judge(
            classifier, familiarity.fit(classifier, images, labels, small_mnist.x_test[:100])
        )
        views = reading.views(small_mnist.x_test[7])
        probabilities, strangeness = judge.read(views, judged=0)
        np.testing.assert_array_equal(probabilities, classifier.predict_proba(views))
        np.testing.assert_allclose(strangeness, judge(views[0]), rtol=1e-5)
    with pytest.raises(ValueError, match="average"):
        familiarity.predict_with_features(classifier, views)
