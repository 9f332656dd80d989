"""LiveProgress on a tiny model and a handful of random samples, as Keras tests its own callbacks."""

import threading

import keras
import numpy as np

from digitlab.learn.callbacks import LiveProgress


def tiny_model(lr=0.01):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def random_data(n=40):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, n)


def test_emits_one_event_per_batch_and_per_epoch():
    x, y = random_data(40)
    events = []
    tiny_model().fit(
        x,
        y,
        batch_size=10,
        epochs=2,
        verbose=0,
        validation_split=0.25,
        callbacks=[LiveProgress(events.append, batch_size=10)],
    )
    batches = [e for e in events if e["kind"] == "batch"]
    epochs = [e for e in events if e["kind"] == "epoch"]
    # 30 training samples in batches of 10 → 3 steps per epoch.
    assert len(batches) == 6 and len(epochs) == 2
    assert [e["step"] for e in batches] == [1, 2, 3, 4, 5, 6]
    assert batches[-1]["progress"] == 2.0 and batches[0]["progress"] == 1 / 3
    assert all(isinstance(e["loss"], float) and e["images_per_sec"] > 0 for e in batches)
    assert epochs[-1]["val_accuracy"] is not None and epochs[-1]["epoch"] == 2


def test_stop_request_ends_after_the_current_batch():
    x, y = random_data(100)
    stop = threading.Event()
    events = []

    def emit(event):
        events.append(event)
        if event["kind"] == "batch" and event["step"] == 3:
            stop.set()

    model = tiny_model()
    progress = LiveProgress(emit, stop)
    history = model.fit(x, y, batch_size=10, epochs=5, verbose=0, callbacks=[progress])
    assert [e["step"] for e in events if e["kind"] == "batch"] == [1, 2, 3]
    assert len(history.history["loss"]) == 1


def test_nan_loss_stops_and_restores_the_last_good_weights():
    x, y = random_data(40)
    model = tiny_model()
    progress = LiveProgress(lambda e: None, batch_size=10)
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[progress])
    good = [w.copy() for w in model.get_weights()]

    x_bad = x.copy()
    x_bad[15] = np.nan  # the second batch produces a NaN loss
    events = []
    progress = LiveProgress(events.append, batch_size=10)
    model.fit(x_bad, y, batch_size=10, epochs=3, verbose=0, shuffle=False, callbacks=[progress])
    assert progress.diverged
    assert len([e for e in events if e["kind"] == "batch"]) == 2
    # The weights at the start of this fit were the last good ones (the first batch's update is
    # not yet snapshotted), and no NaN survives.
    for before, after in zip(good, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


class StopAtStep(keras.callbacks.Callback):
    """Sets `stop` as step `step` (1-based) begins, as the Stop button would from the page."""

    def __init__(self, stop: threading.Event, step: int):
        super().__init__()
        self.stop, self.step, self.seen = stop, step, 0

    def on_train_batch_begin(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.step:
            self.stop.set()


def test_batch_events_are_thinned_in_time_but_keep_epoch_ends_and_the_stop():
    x, y = random_data(30)
    events = []
    stop = threading.Event()
    # An hour between events: only the first batch, each epoch's last one and the one it stops on.
    progress = LiveProgress(events.append, stop, batch_size=10, min_interval=3600)
    tiny_model().fit(x, y, batch_size=10, epochs=3, verbose=0, callbacks=[StopAtStep(stop, 5), progress])
    batches = [e for e in events if e["kind"] == "batch"]
    assert [e["step"] for e in batches] == [1, 3, 5]  # 3 steps an epoch; stopped during step 5
    assert [e["kind"] for e in events].count("epoch") == 2
