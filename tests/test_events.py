"""digitlab.events: the progress line a student reads, from hand-written events."""

import pytest

from digitlab import events


def batch_event(epoch, batch, steps, epochs, elapsed):
    return {
        "epoch": epoch,
        "batch": batch,
        "steps_per_epoch": steps,
        "epochs": epochs,
        "progress": epoch - 1 + batch / steps,
        "step": (epoch - 1) * steps + batch,
        "elapsed": elapsed,
    }


def test_progress_line_with_eta():
    # 1 + 120/352 epochs of 5 done in 60 s: 26.8% done, so 60 · 0.732 / 0.268 = 164 s to go.
    fraction, text = events.progress_summary(batch_event(2, 120, 352, 5, 60.0))
    assert fraction == pytest.approx((1 + 120 / 352) / 5)
    assert text == "Epoch 2/5 · step 120/352 · ETA 2 min 44 s"


def test_no_eta_from_the_very_first_batches():
    _, text = events.progress_summary(batch_event(1, 1, 352, 5, 0.5))
    assert text == "Epoch 1/5 · step 1/352"


def test_progress_before_the_first_batch_and_after_the_end():
    assert events.progress_summary(None) == (
        0.0,
        "Getting ready: loading TensorFlow and building the network…",
    )
    assert events.progress_summary(None, "stopped") == (0.0, "Stopped before the first batch")
    assert "slot" in events.progress_summary(None, "waiting")[1]
    assert events.progress_summary(batch_event(2, 71, 71, 2, 8.0), "finished") == (
        1.0,
        "Done: 2 epochs, 142 steps",
    )
    fraction, text = events.progress_summary(batch_event(1, 30, 71, 2, 3.0), "stopped")
    assert (fraction, text) == (pytest.approx(30 / 71 / 2), "Stopped at epoch 1/2 · step 30/71")


def test_a_waiting_student_reads_their_place_in_line():
    assert "You are next in line;" in events.waiting_message(1)
    assert "You are number 3 in line;" in events.waiting_message(3)
    assert "You are in line;" in events.waiting_message(None)
