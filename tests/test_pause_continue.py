"""Pause, step and continue a real training run, the learning-rate schedules, weight decay and filters."""

import math
import time

import keras
import numpy as np
import pytest

from digitlab.classroom.runs import TrainingRun
from digitlab.config import ConfigError, TrainConfig, rate_at
from digitlab.control import RunControl
from digitlab.learn.continuing import can_continue, continue_training
from digitlab.learn.training import train


def wait_until(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


def last_step(run: TrainingRun) -> int:
    """Batches done by the run's latest event; 0 before its first."""
    run.drain_events()
    return run.batch_events[-1]["step"] if run.batch_events else 0


def test_pause_step_and_resume_a_background_run(small_mnist):
    config = TrainConfig(hidden_units=(16,), epochs=3, batch_size=50, train_size=1000, validation_split=0.0)
    run = TrainingRun(config, small_mnist, train=train)
    run.control.pause()  # paused before it starts: it waits before its first batch
    run.start()
    wait_until(lambda: run.paused)
    time.sleep(0.2)
    assert run.drain_events() == [] and run.state == "running"
    run.control.step_batch()
    wait_until(lambda: run.paused and last_step(run) == 1)
    weights = [w.copy() for w in run.control.model.get_weights()]
    for expected in (2, 3):
        run.control.step_batch()
        wait_until(lambda e=expected: run.paused and last_step(run) == e)
    assert not np.array_equal(weights[0], run.control.model.get_weights()[0])  # a step trains
    run.control.step_epoch()  # to the end of epoch 1 (20 batches) and its epoch event
    wait_until(lambda: run.paused and last_step(run) and run.epoch_events)
    assert last_step(run) == 20 and run.epoch_events[-1]["epoch"] == 1
    run.control.resume()
    run.join(60)
    assert run.state == "finished", run.error
    assert last_step(run) == 60
    assert run.result.epochs_done == 3


def test_pause_time_is_not_training_time(small_mnist):
    config = TrainConfig(hidden_units=(8,), epochs=1, batch_size=100, train_size=500, validation_split=0.0)
    run = TrainingRun(config, small_mnist, train=train)
    run.control.pause()
    began = time.perf_counter()
    run.start()
    wait_until(lambda: run.paused)
    time.sleep(1.5)
    run.control.resume()
    run.join(60)
    wall = time.perf_counter() - began
    assert run.result.seconds < wall - 1.4  # the 1.5 s paused are not training time
    assert last_step(run) == 5 and run.batch_events[-1]["elapsed"] < wall - 1.4


def test_a_run_paused_past_its_limit_stops_and_keeps_its_weights(small_mnist):
    config = TrainConfig(hidden_units=(8,), epochs=5, batch_size=100, train_size=1000)
    run = TrainingRun(config, small_mnist, train=train)
    run.control.pause_limit = 0.3
    run.control.pause()
    run.start()
    run.join(60)
    assert run.state == "stopped" and run.control.timed_out
    assert run.result.classifier.metadata["training"]["paused_too_long"]


def test_continue_goes_on_from_where_the_run_ended(small_mnist):
    config = TrainConfig(hidden_units=(16,), epochs=2, batch_size=100, train_size=1000, lr_schedule="step")
    first_events, more_events = [], []
    first = train(config, small_mnist, emit=first_events.append)
    more = continue_training(first.classifier, 2, small_mnist, emit=more_events.append)
    assert more.classifier.config.epochs == 4 and more.epochs_done == 4
    assert more.history["loss"][:2] == first.history["loss"]
    assert len(more.history["val_accuracy"]) == 4
    assert [e["epoch"] for e in more_events if e["kind"] == "epoch"] == [3, 4]
    batches = [e for e in more_events if e["kind"] == "batch"]
    assert batches[0]["step"] > 18 and batches[-1]["step"] == 36  # 9 batches an epoch, counted on
    assert batches[0]["epochs"] == 4
    assert more.classifier.model.optimizer.iterations.numpy() == 36
    assert more.seconds > first.seconds


def test_a_run_stopped_mid_epoch_goes_on_from_that_very_batch_and_keeps_its_schedule(small_mnist):
    config = TrainConfig(
        hidden_units=(16,),
        epochs=10,
        batch_size=20,
        train_size=1000,
        validation_split=0.1,
        lr_schedule="cosine",
    )
    control, events = RunControl(), []

    def emit(event):
        events.append(event)
        if event["kind"] == "batch" and event["step"] > 50:  # in epoch 2 (45 batches an epoch)
            control.stop()

    first = train(config, small_mnist, emit=emit, control=control)
    stopped_at = events[-1]["step"]
    assert first.epochs_done == 1 and 50 < stopped_at < 90
    assert [e["epoch"] for e in events if e["kind"] == "epoch"] == [1]  # no point for the epoch it left
    more_events = []
    more = continue_training(first.classifier, 1, small_mnist, emit=more_events.append)
    assert more.epochs_done == 2 and more.classifier.config.epochs == 2
    assert more.classifier.model.optimizer.iterations.numpy() == 90  # the rest of epoch 2, no more
    assert [e["epoch"] for e in more_events if e["kind"] == "epoch"] == [2]
    # The rate goes on along the 10 planned epochs' cosine, not to the end of a 2-epoch one.
    rate = float(more.classifier.model.optimizer.learning_rate.numpy())
    assert rate == pytest.approx(rate_at(config, 90, 450), rel=1e-4) and rate > 0.5 * config.learning_rate


def test_an_ensemble_cannot_continue(small_mnist):
    config = TrainConfig(hidden_units=(8,), epochs=1, train_size=500, members=2)
    result = train(config, small_mnist, evaluate_test=False)
    assert "ensemble" in can_continue(result.classifier)
    with pytest.raises(ConfigError):
        continue_training(result.classifier, 1, small_mnist)


class ReadRate(keras.callbacks.Callback):
    """The optimizer's learning rate at the start of each epoch, read back from the optimizer."""

    def __init__(self):
        super().__init__()
        self.rates = []

    def on_train_batch_begin(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) % 10 == 0:  # an epoch's first batch (10 a epoch)
            self.rates.append(float(self.model.optimizer.learning_rate.numpy()))


@pytest.mark.parametrize("schedule", ["constant", "step", "cosine"])
def test_the_optimizer_follows_the_schedule_formula(small_mnist, schedule):
    epochs, steps = 8, 10  # 1,000 images, batches of 100
    config = TrainConfig(
        hidden_units=(8,),
        epochs=epochs,
        batch_size=100,
        train_size=1000,
        validation_split=0.0,
        learning_rate=0.01,
        lr_schedule=schedule,
    )
    reader = ReadRate()
    events = []
    train(config, small_mnist, emit=events.append, extra_callbacks=[reader], evaluate_test=False)
    total = epochs * steps
    # The formulas, written out here on their own: the first batch of epoch e is batch e * 10.
    if schedule == "constant":
        expected = [0.01] * epochs
    elif schedule == "step":
        expected = [
            0.01 if e * steps < total / 2 else 0.001 if e * steps < 0.75 * total else 1e-4
            for e in range(epochs)
        ]
    else:
        expected = [
            0.01 * (0.01 + 0.99 * (1 + math.cos(math.pi * e * steps / total)) / 2) for e in range(epochs)
        ]
    np.testing.assert_allclose(reader.rates, expected, rtol=1e-5)
    # The live chart draws the optimizer's rate after each event's batch: the formula's at that step.
    drawn = [(e["step"], e["learning_rate"]) for e in events if e["kind"] == "batch"]
    np.testing.assert_allclose(
        [r for _, r in drawn], [rate_at(config, s, total) for s, _ in drawn], rtol=1e-5
    )
    assert rate_at(config, 0, total) == pytest.approx(0.01)


def test_weight_decay_and_filters_shape_the_network(small_mnist):
    from digitlab.estimate import parameter_count
    from digitlab.learn.model import build_model

    norm = {"kind": "unit", "mean": 0.0, "std": 1.0}
    config = TrainConfig(architecture="cnn", filters=8, hidden_units=(16,), weight_decay=1e-3)
    model = build_model(config, norm)
    assert [layer.filters for layer in model.layers if hasattr(layer, "filters")] == [8, 16]
    assert model.count_params() == parameter_count(config)
    assert config.label.startswith("CNN 8c-16c-16-10")
    assert len(model.losses) == 4  # two convolutions and two Dense layers pay their L2 penalty
    assert not build_model(config.replace(weight_decay=0.0), norm).losses
    with pytest.raises(ConfigError, match="filters"):
        TrainConfig(filters=12)
    with pytest.raises(ConfigError, match="weight decay"):
        TrainConfig(weight_decay=0.5)
