"""digitlab.learn.inside: activations and gradients checked against numpy, saliency on the ink, figures."""

import numpy as np
import pytest

from digitlab import inside_charts
from digitlab.learn import inside


@pytest.fixture(scope="module")
def default_classifier():
    from digitlab.learn.classifier import load_classifier

    return load_classifier()


def mlp_by_hand(classifier, image, target):
    """The tiny MLP's hidden layer and its digit's score gradient, from its weights in numpy."""
    w1, b1 = classifier.model.get_layer("hidden1").get_weights()
    w2, _ = classifier.model.get_layer("digits").get_weights()
    pre = (image.reshape(-1) / 255.0) @ w1 + b1  # normalisation "unit": pixels / 255
    active = pre > 0
    gradient = (w1[:, active] @ w2[active, target]) / 255.0
    return np.maximum(pre, 0), gradient.reshape(28, 28)


def test_mlp_activations_and_gradient_match_a_hand_computation(tiny_classifier, small_mnist):
    image = small_mnist.x_test[0]
    view = inside.look_inside(tiny_classifier, image, target=3)
    hidden, gradient = mlp_by_hand(tiny_classifier, image, 3)
    assert [(layer.name, layer.kind) for layer in view.layers] == [("hidden1", "dense")]
    np.testing.assert_allclose(view.layers[0].values, hidden, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(view.gradient, gradient, rtol=1e-3, atol=1e-7)
    assert view.target == 3
    np.testing.assert_allclose(view.probabilities, tiny_classifier.predict_proba(image), atol=1e-5)


def test_the_target_defaults_to_the_likeliest_digit(tiny_classifier, small_mnist):
    for image in small_mnist.x_test[:5]:
        view = inside.look_inside(tiny_classifier, image)
        assert view.target == int(np.argmax(tiny_classifier.predict_proba(image)))


def test_cnn_layers_and_first_filters(default_classifier, mnist):
    view = inside.look_inside(default_classifier, mnist.x_test[0])
    shapes = [(layer.name, layer.kind, layer.values.shape) for layer in view.layers]
    assert shapes == [
        ("conv1", "conv", (28, 28, 32)),
        ("conv2", "conv", (14, 14, 64)),
        ("hidden1", "dense", (128,)),
    ]
    assert view.target == mnist.y_test[0] and view.gradient.shape == (28, 28)
    kind, weights = inside.first_layer_weights(default_classifier)
    assert kind == "conv" and weights.shape == (3, 3, 1, 32)


def test_mlp_first_layer_weights_are_the_dense_kernel(tiny_classifier):
    kind, weights = inside.first_layer_weights(tiny_classifier)
    assert kind == "dense"
    np.testing.assert_array_equal(weights, tiny_classifier.model.get_layer("hidden1").get_weights()[0])


def test_saliency_is_stronger_on_the_ink_than_on_the_empty_border(default_classifier, mnist):
    border = np.ones((28, 28), bool)
    border[4:-4, 4:-4] = False
    ratios = []
    for image in mnist.x_test[:20]:
        salience = np.abs(inside.saliency(inside.look_inside(default_classifier, image), image))
        assert salience.max() == pytest.approx(1.0)
        ratios.append(salience[image > 128].mean() / salience[border].mean())
    assert np.median(ratios) > 2


def test_gradient_times_input_is_zero_off_the_ink(tiny_classifier, small_mnist):
    image = small_mnist.x_test[1]
    salience = inside.saliency(inside.look_inside(tiny_classifier, image), image, times_input=True)
    assert np.all(salience[image == 0] == 0) and np.abs(salience).max() == pytest.approx(1.0)


def test_overlay_tints_by_sign_over_the_dimmed_input():
    image = np.zeros((28, 28), np.uint8)
    image[10, 10] = 255
    salience = np.zeros((28, 28))
    salience[0, 0], salience[0, 1] = 1.0, -1.0
    overlay = inside.saliency_overlay(image, salience, side=56)
    assert overlay.shape == (56, 56, 3) and overlay.dtype == np.uint8
    assert tuple(overlay[0, 0]) == tuple(inside.TOWARDS) and tuple(overlay[0, 2]) == tuple(inside.AGAINST)
    assert tuple(overlay[20, 20]) == (89, 89, 89)  # 255 × 0.35, untinted


def test_bad_input_is_a_clear_error(tiny_classifier):
    with pytest.raises(ValueError, match="28×28"):
        inside.look_inside(tiny_classifier, np.zeros((28, 27)))
    with pytest.raises(ValueError, match="digit"):
        inside.look_inside(tiny_classifier, np.zeros((28, 28)), target=10)


def test_montage_places_tiles_in_rows_with_empty_gutters():
    tiles = np.arange(3 * 2 * 2, dtype=np.float32).reshape(3, 2, 2)
    canvas = inside_charts.montage(tiles, columns=2)
    assert canvas.shape == (5, 5)
    np.testing.assert_array_equal(canvas[3:5, 0:2], tiles[2])
    np.testing.assert_array_equal(canvas[0:2, 3:5], tiles[1])
    assert np.isnan(canvas[2]).all() and np.isnan(canvas[3:, 3:]).all()


def test_figures_hold_every_value_once():
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 3, 1, 32))
    z = np.asarray(inside_charts.filters_grid(kernel).data[0].z, dtype=float)
    assert np.isfinite(z).sum() == kernel.size and np.nansum(z) == pytest.approx(kernel.sum(), rel=1e-4)
    maps = rng.random((14, 14, 64))
    z = np.asarray(inside_charts.feature_maps(maps, max_maps=32).data[0].z, dtype=float)
    assert np.isfinite(z).sum() == 14 * 14 * 32
    units = rng.random(128)
    z = np.asarray(inside_charts.units_grid(units).data[0].z, dtype=float)
    assert z.shape == (8, 16) and np.nansum(z) == pytest.approx(units.sum(), rel=1e-5)
    with pytest.raises(ValueError):
        inside_charts.filters_grid(np.zeros((784, 10)))


def test_a_network_without_a_dense_output_is_refused_with_a_reason():
    import keras
    import pytest

    from digitlab.config import TrainConfig
    from digitlab.learn import inside
    from digitlab.learn.classifier import Classifier

    inputs = keras.Input((28, 28))
    x = keras.layers.Reshape((28, 28, 1))(inputs)
    x = keras.layers.Conv2D(10, 28)(x)  # a 28×28 convolution: ten scores, no Dense layer at all
    outputs = keras.layers.Softmax()(keras.layers.Flatten()(x))
    foreign = Classifier(keras.Model(inputs, outputs), TrainConfig(architecture="cnn"), {})
    with pytest.raises(ValueError, match="Dense layer"):
        inside.look_inside(foreign, np.zeros((28, 28), np.uint8))
