import threading
import time

import numpy as np
import pytest

from digitlab.classroom.runs import TrainingRun
from digitlab.classroom.slots import TrainingSlots
from digitlab.config import TrainConfig
from digitlab.learn.training import split_data, train


def test_split_uses_the_requested_number_of_images(small_mnist):
    config = TrainConfig(train_size=1000, validation_split=0.2)
    x_train, y_train, x_val, y_val = split_data(config, small_mnist)
    assert len(x_train) == 800 and len(x_val) == 200
    assert len(y_train) == 800 and len(y_val) == 200


def test_a_short_run_learns_and_reports(small_mnist):
    config = TrainConfig(hidden_units=(32,), epochs=2, batch_size=64, train_size=2000, seed=1)
    events = []
    result = train(config, small_mnist, emit=events.append)
    # Chance is 10 %; 2,000 images for 2 epochs reach far more.
    assert result.evaluation.accuracy > 0.75
    assert len(result.history["loss"]) == 2
    steps_per_epoch = int(np.ceil(1800 / 64))
    batch_events = [e for e in events if e["kind"] == "batch"]
    steps = [e["step"] for e in batch_events]
    # One event per execution of batches, each epoch's last batch always among them.
    assert steps == sorted(set(steps)) and steps[-1] == 2 * steps_per_epoch
    assert {steps_per_epoch, 2 * steps_per_epoch} <= set(steps)
    assert all(e["batch"] == e["step"] - (e["epoch"] - 1) * steps_per_epoch for e in batch_events)
    assert result.classifier.metadata["metrics"]["test_accuracy"] == pytest.approx(result.evaluation.accuracy)


def test_same_config_and_seed_give_the_same_weights(small_mnist):
    config = TrainConfig(
        hidden_units=(16,), epochs=1, batch_size=100, train_size=500, dropout=0.2, augment=True, seed=5
    )
    first = train(config, small_mnist, evaluate_test=False).classifier.model.get_weights()
    second = train(config, small_mnist, evaluate_test=False).classifier.model.get_weights()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    other = train(config.replace(seed=6), small_mnist, evaluate_test=False).classifier.model.get_weights()
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("head, labels", [("softmax", "onehot"), ("sigmoid", "sparse"), ("linear", "sparse")])
def test_every_head_reports_probabilities(small_mnist, head, labels):
    config = TrainConfig(hidden_units=(16,), epochs=1, train_size=500, head=head, labels=labels)
    result = train(config, small_mnist)
    probs = result.evaluation.probabilities
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()


def test_zscore_uses_the_training_mean_and_std(small_mnist):
    config = TrainConfig(
        hidden_units=(8,), epochs=1, train_size=1000, validation_split=0.0, normalization="zscore"
    )
    result = train(config, small_mnist, evaluate_test=False)
    norm = result.classifier.metadata["normalization"]
    x_train = split_data(config, small_mnist)[0] / 255.0
    assert norm["mean"] == pytest.approx(x_train.mean()) and norm["std"] == pytest.approx(x_train.std())


def test_a_diverging_learning_rate_stops_with_finite_weights(small_mnist):
    config = TrainConfig(
        hidden_units=(64,), epochs=3, train_size=2000, optimizer="sgd", learning_rate=10.0, momentum=0.99
    )
    result = train(config, small_mnist)
    assert result.diverged
    assert all(np.isfinite(w).all() for w in result.classifier.model.get_weights())


def test_a_background_run_can_be_stopped_and_keeps_its_weights(small_mnist):
    config = TrainConfig(hidden_units=(32,), epochs=50, batch_size=32, train_size=2000)
    run = TrainingRun(config, small_mnist, train=train)
    run.start()
    deadline = time.monotonic() + 60
    while len(run.batch_events) < 20 and time.monotonic() < deadline:
        run.drain_events()
        time.sleep(0.05)
    run.stop()
    run.join(timeout=60)
    run.drain_events()
    assert run.state == "stopped"
    assert run.result.epochs_done < 50
    # Kept weights are trained ones: well above the 10 % of chance after 20+ batches.
    assert run.result.evaluation.accuracy > 0.2


def test_a_waiting_run_takes_a_slot_only_when_one_is_free(small_mnist):
    slots = TrainingSlots(1)
    assert slots.acquire("another run", threading.Event())
    config = TrainConfig(hidden_units=(8,), epochs=1, train_size=200)
    run = TrainingRun(config, small_mnist, train=train, slots=slots)
    run.start()
    time.sleep(0.5)
    assert run.state == "waiting" and run.queue_position() == 1
    slots.release()
    run.join(timeout=60)
    assert run.state == "finished"


def test_an_ensemble_averages_its_networks_and_round_trips(small_mnist, tmp_path):
    from digitlab.learn.classifier import load_classifier, save_classifier
    from digitlab.learn.model import members_of

    config = TrainConfig(hidden_units=(16,), epochs=1, train_size=1000, members=2, seed=7)
    result = train(config, small_mnist)
    members = members_of(result.classifier.model)
    assert len(members) == 2 and config.label.endswith("×2")
    images = small_mnist.x_test[:50].astype(np.float32)
    # The mean of each network's own probabilities, computed outside the ensemble.
    expected = np.mean([member.predict(images, verbose=0) for member in members], axis=0)
    np.testing.assert_allclose(result.classifier.predict_proba(small_mnist.x_test[:50]), expected, atol=1e-5)
    single = train(config.replace(members=1), small_mnist, evaluate_test=False).classifier.model
    np.testing.assert_array_equal(members[0].get_weights()[0], single.get_weights()[0])  # seed, then seed + 1
    assert not np.array_equal(members[1].get_weights()[0], single.get_weights()[0])
    loaded = load_classifier(save_classifier(result.classifier, tmp_path / "ensemble"))
    np.testing.assert_allclose(loaded.predict_proba(small_mnist.x_test[:50]), expected, atol=1e-5)
    assert loaded.config.members == 2


def test_an_ensemble_can_be_looked_inside(small_mnist):
    from digitlab.learn import inside

    config = TrainConfig(hidden_units=(16,), epochs=1, train_size=500, members=2, seed=8)
    classifier = train(config, small_mnist, evaluate_test=False).classifier
    view = inside.look_inside(classifier, small_mnist.x_test[0])
    assert [layer.name for layer in view.layers] == ["hidden1"] and view.gradient.shape == (28, 28)
    assert inside.first_layer_weights(classifier)[1].shape == (784, 16)
