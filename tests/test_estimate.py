"""digitlab.estimate: a config's parameters, time and memory, against hand counts and measured timings."""

import sys

import pytest

from digitlab import estimate
from digitlab.config import DEFAULT_MODEL_CONFIG, PRESETS, TrainConfig

# Wall times measured on this 2-core machine (Keras already imported), see MACS_PER_SECOND's comment.
MEASURED = [
    (PRESETS["Quick demo"], 3.5),
    (PRESETS["Best MLP"].replace(train_size=10_000, epochs=1), 6.2),
    (TrainConfig(architecture="cnn", hidden_units=(128,), train_size=3_000, epochs=1), 18.4),
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


@pytest.mark.parametrize(("config", "seconds"), MEASURED, ids=["quick", "best-mlp-10k", "cnn-3k"])
def test_estimate_is_within_a_factor_two_of_measured_runs(config, seconds):
    assert seconds / 2 <= estimate.estimate_seconds(config) <= seconds * 2


def test_estimate_grows_with_epochs_and_images():
    base = TrainConfig(train_size=10_000, epochs=2)
    assert estimate.estimate_seconds(base.replace(epochs=4)) > estimate.estimate_seconds(base)
    assert estimate.estimate_seconds(base.replace(train_size=20_000)) > estimate.estimate_seconds(base)


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
    startup = estimate.STARTUP_SECONDS
    assert estimate.estimate_seconds(three) - startup == pytest.approx(
        3 * (estimate.estimate_seconds(one) - startup)
    )
