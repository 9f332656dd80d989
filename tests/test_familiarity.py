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
