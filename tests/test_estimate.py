"""digitlab.estimate: a config's parameters, time and memory, against hand counts and measured timings."""

import math
import sys

import pytest

from digitlab import estimate
from digitlab.config import DEFAULT_MODEL_CONFIG, PRESETS, TrainConfig

# Wall times, scoring included, measured on this project's 2-core machine by bench/forecast.py (Keras
# already imported): the built-in pace, before any calibration, is within 2× of them.
MEASURED = [
    (PRESETS["Quick demo"], 10.9),  # 12.0 and 9.7 s, measured for issue 13's 10-second demo
    (PRESETS["Tutorial 784-128-64-10"].replace(train_size=20_000), 5.5),
    # The Fast 98% preset as it was then (32 filters; it has 8 now).
    (
        TrainConfig(
            architecture="cnn", hidden_units=(128,), epochs=2, validation_split=0.0, train_size=10_000
        ),
        9.1,
    ),
]


def test_macs_of_an_mlp_are_its_dense_weights():
    # 784·128 + 128·64 + 64·10, counted by hand.
    assert estimate.macs_per_image(TrainConfig(hidden_units=(128, 64))) == 100_352 + 8_192 + 640


def test_macs_of_the_cnn_count_both_convolutions():
    conv1 = 28 * 28 * (3 * 3 * 1) * 32  # 225,792
    conv2 = 14 * 14 * (3 * 3 * 32) * 64  # 3,612,672 after 2×2 pooling
    dense = 7 * 7 * 64 * 128 + 128 * 10  # flattened 7×7×64 after the second pooling
    assert conv1 + conv2 + dense == 4_241_152
    assert estimate.macs_per_image(TrainConfig(architecture="cnn", hidden_units=(128,))) == 4_241_152


@pytest.mark.parametrize(("config", "seconds"), MEASURED, ids=["quick", "tutorial-20k", "fast-cnn-10k"])
def test_estimate_is_within_a_factor_two_of_measured_runs(config, seconds):
    assert seconds / 2 <= estimate.estimate_seconds(config) <= seconds * 2


def test_estimate_grows_with_epochs_and_images():
    base = TrainConfig(train_size=10_000, epochs=2)
    assert estimate.estimate_seconds(base.replace(epochs=4)) > estimate.estimate_seconds(base)
    assert estimate.estimate_seconds(base.replace(train_size=20_000)) > estimate.estimate_seconds(base)


def test_the_quick_demo_lasts_long_enough_to_watch_the_curves_move():
    # Issue 13: it was over in 1.5 s, before anyone saw a curve move. About 10 s, in many small steps.
    quick = PRESETS["Quick demo"]
    assert 6 <= estimate.estimate_seconds(quick) <= 20
    steps = math.ceil(quick.train_size * (1 - quick.validation_split) / quick.batch_size) * quick.epochs
    assert steps >= 1_000 and quick.epochs >= 10  # a point per epoch on the validation curve, 10 or more
    assert quick.train_size == 5_000  # as the preset's help says


def test_quick_demo_has_no_warning_but_a_full_cnn_has_one():
    assert estimate.long_run_warning(PRESETS["Quick demo"]) is None
    warning = estimate.long_run_warning(DEFAULT_MODEL_CONFIG)  # 12 augmented epochs took 20 minutes here
    assert warning is not None and "min" in warning


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (8.4, "8 s"),
        (59.4, "59 s"),
        (200, "3 min 20 s"),
        (605, "10 min"),
        (900, "15 min"),
        (3900, "1 h 05 min"),
    ],
)
def test_format_duration(seconds, text):
    assert estimate.format_duration(seconds) == text


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(hidden_units=(128, 64)),
        TrainConfig(architecture="cnn", hidden_units=(128,)),
        TrainConfig(architecture="cnn", hidden_units=(128,), batch_norm=True),
    ],
    ids=["mlp", "cnn", "cnn-bn"],
)
def test_the_parameter_count_is_the_models_own(config):
    from digitlab.learn.model import build_model

    assert estimate.parameter_count(config) == build_model(config, {"mean": 0.0, "std": 1.0}).count_params()


def test_a_run_that_may_not_fit_in_memory_is_warned_about():
    small = TrainConfig(hidden_units=(64,), train_size=5_000)
    large = TrainConfig(hidden_units=(1024,) * 5, train_size=60_000, batch_size=1024)
    assert estimate.estimate_memory_bytes(small) < estimate.estimate_memory_bytes(large)
    need = estimate.estimate_memory_bytes(large)
    assert estimate.memory_warning(large, available=None) is None  # unknown: no guess
    assert estimate.memory_warning(large, available=4 * need) is None
    warning = estimate.memory_warning(large, available=need)
    assert warning is not None and "may not fit" in warning
    assert f"{need / 2**20:,.0f} MB" in warning


def test_the_servers_free_memory_is_read_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16384000 kB\nMemFree:         1000 kB\nMemAvailable:    2048000 kB\n")
    assert estimate.available_memory_bytes(str(meminfo)) == 2048000 * 1024
    meminfo.write_text("MemTotal:       16384000 kB\n")  # an old kernel without MemAvailable
    assert estimate.available_memory_bytes(str(meminfo)) is None
    assert estimate.available_memory_bytes(str(tmp_path / "missing")) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/meminfo is Linux's")
def test_the_servers_free_memory_is_read_on_linux():
    free = estimate.available_memory_bytes()
    with open("/proc/meminfo") as lines:
        total = int(next(line for line in lines if line.startswith("MemTotal:")).split()[1]) * 1024
    assert free is not None and 0 < free <= total


def test_an_ensemble_takes_as_long_as_its_networks_one_after_another():
    one = TrainConfig(hidden_units=(64,), train_size=5_000)
    three = one.replace(members=3)
    assert estimate.training_seconds(three) == pytest.approx(3 * estimate.training_seconds(one))
    assert estimate.estimate_seconds(three) > estimate.estimate_seconds(one) * 2


def test_a_calibration_learns_each_architectures_pace_from_finished_runs():
    calibration = estimate.Calibration()
    mlp, cnn = TrainConfig(hidden_units=(64,), train_size=5_000), TrainConfig(architecture="cnn")
    built_in = calibration.forecast(cnn)
    work = estimate.training_seconds(cnn) - estimate.STARTUP_SECONDS
    calibration.record(cnn, estimate.STARTUP_SECONDS + work / 2)  # its batches went twice as fast here
    assert calibration.correction(cnn) == pytest.approx(0.5) and calibration.correction(mlp) == 1.0
    assert calibration.forecast(cnn) < built_in * 0.6
    calibration.record(cnn, estimate.STARTUP_SECONDS + work)  # the next run moves it halfway back
    assert calibration.correction(cnn) == pytest.approx(0.75)
    calibration.record(cnn, 1e6)  # one absurd run cannot wreck the forecast
    assert calibration.correction(cnn) == estimate.Calibration.LIMITS[1]
    tiny = TrainConfig(hidden_units=(64,), train_size=500, epochs=1)
    calibration.record(tiny, 0.01)
    assert calibration.correction(tiny) == 1.0  # a run of a few batches is mostly its start: ignored
    big = mlp.replace(train_size=60_000, epochs=5)
    twin = calibration.copy()
    twin.record(big, estimate.training_seconds(big) * 2)
    assert twin.correction(mlp) > 1.5 and calibration.correction(mlp) == 1.0  # a copy learns alone


def test_the_start_up_measurement_finds_this_machines_batch_and_start(monkeypatch):
    """Issue 13: the forecast read 10-14× too long. `calibrate` on a machine whose batches and starts are
    known (real runs against it: `python bench/forecast.py`, within 1.5×; a timed test here was noise)."""
    from digitlab.learn import calibration as measuring

    machine = {"mlp": (0.007, 1.0), "cnn": (0.025, 2.5)}  # seconds a batch, seconds to start: not the pace's

    def trains(config, dataset, emit=lambda event: None):
        batch, start = machine[config.architecture]
        steps = math.ceil(config.train_size / config.batch_size) * config.epochs
        for step in range(4, steps + 1, 4):  # executions of 4 batches, one twice as slow as the others
            emit(
                {"kind": "batch", "step": step, "elapsed": step * batch + batch * 4 * (step > 3 * steps // 4)}
            )
        return start + steps * batch

    monkeypatch.setattr(measuring, "training_seconds", trains)
    calibration = estimate.Calibration()
    measuring.calibrate(calibration, dataset=None)
    runs = [
        PRESETS["Tutorial 784-128-64-10"].replace(train_size=20_000, epochs=3),
        PRESETS["Fast 98% (CNN)"].replace(train_size=10_000),
    ]
    for config in runs:
        config = config.replace(validation_split=0.0, data="mnist")
        forecast = estimate.training_seconds(
            config, calibration.pace, calibration.correction(config), calibration.startup(config)
        )
        assert forecast == pytest.approx(trains(config, None), rel=0.03)
        assert forecast != pytest.approx(estimate.training_seconds(config), rel=0.2)  # the pace alone was off


def test_a_batchs_time_is_the_median_execution_of_a_runs_second_half():
    from digitlab.learn.calibration import batch_seconds

    events = [{"step": s, "elapsed": 5.0 + 0.01 * s} for s in range(10, 210, 10)]  # 5 s of tracing first
    events[15]["elapsed"] += 0.5  # one execution held up by a neighbour
    assert batch_seconds(events) == pytest.approx(0.01)
    assert batch_seconds(events[:1]) is None and batch_seconds([]) is None


def test_the_start_up_measurement_gives_way_to_a_waiting_run(small_mnist):
    from digitlab.learn import calibration as measuring

    calibration = estimate.Calibration()
    measuring.calibrate(calibration, small_mnist, go_on=lambda: False)
    assert not calibration.measured and calibration.correction(TrainConfig()) == 1.0
