"""LiveProgress through the one fit path, on a tiny model and a handful of random samples."""

import threading

import keras
import numpy as np

from digitlab.control import RunControl
from digitlab.learn import callbacks
from digitlab.learn.augment import EpochBatches
from digitlab.learn.fit import fit


def tiny_model(lr=0.01):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def random_data(n=40, batch_size=10):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, n).astype("int32")
    return EpochBatches(x, y, batch_size, seed=0, augment=False)


def validation_data():
    rng = np.random.default_rng(1)
    import tensorflow as tf

    x, y = rng.normal(size=(10, 4)).astype("float32"), rng.integers(0, 3, 10).astype("int32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(10)


def test_emits_events_with_the_batch_counter_and_one_per_epoch():
    events = []
    history, _ = fit(
        tiny_model(), random_data(30), epochs=2, emit=events.append, validation=validation_data()
    )
    batches = [e for e in events if e["kind"] == "batch"]
    epochs = [e for e in events if e["kind"] == "epoch"]
    # 30 samples in batches of 10 → 3 steps per epoch; the first executions are one batch each.
    assert [e["step"] for e in batches][:3] == [1, 2, 3] and batches[-1]["step"] == 6
    assert len(epochs) == 2 and epochs[-1]["epoch"] == 2 and epochs[-1]["val_accuracy"] is not None
    assert batches[-1]["progress"] == 2.0 and batches[0]["progress"] == 1 / 3
    assert all(isinstance(e["loss"], float) and e["images_per_sec"] > 0 for e in batches)
    assert len(history["loss"]) == len(history["val_loss"]) == 2


def test_stop_ends_after_the_current_batch_and_a_partial_epoch_draws_no_epoch_point():
    stop = threading.Event()
    events = []

    def emit(event):
        events.append(event)
        if event["kind"] == "batch" and event["step"] == 3:
            stop.set()

    history, progress = fit(
        tiny_model(), random_data(100), epochs=5, emit=emit, stop_event=stop, validation=validation_data()
    )
    assert [e["step"] for e in events if e["kind"] == "batch"] == [1, 2, 3]
    assert not [e for e in events if e["kind"] == "epoch"] and history == {}
    assert (progress.epoch, progress.batch) == (0, 3)


def test_nan_loss_stops_and_restores_the_last_good_weights():
    model = tiny_model()
    fit(model, random_data(40), epochs=1, emit=lambda e: None)
    good = [w.copy() for w in model.get_weights()]
    bad = random_data(40)
    images = bad.images.numpy()
    images[:] = np.nan  # every batch gives a NaN loss
    bad.images = keras.ops.convert_to_tensor(images)
    events = []
    _, progress = fit(model, bad, epochs=3, emit=events.append)
    assert progress.diverged
    assert len([e for e in events if e["kind"] == "batch"]) == 1
    for before, after in zip(good, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_going_straight_on_runs_many_batches_per_execution():
    events = []
    control = RunControl()
    model = tiny_model()
    _, progress = fit(model, random_data(4000, batch_size=10), epochs=1, emit=events.append, control=control)
    steps = [e["step"] for e in events if e["kind"] == "batch"]
    assert 4 < progress.fast <= callbacks.MAX_STEPS_PER_EXECUTION  # a tiny model: many per execution
    assert steps[-1] == 400 and len(steps) < 400 / 3
    assert model.steps_per_execution == 1  # left as compiled
