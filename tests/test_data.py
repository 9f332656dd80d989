"""Tests for digitlab.data: real MNIST facts, damaged files, CSV parsing, the shared cache."""

import gzip
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from digitlab.data import (
    MNIST_DIR,
    DataError,
    Dataset,
    load_csv,
    load_csv_dataset,
    load_idx,
    load_mnist,
    sample_grid_indices,
    verify_checksums,
)

# Published MNIST facts, independent of this code.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
SMALL_FILE = "t10k-labels-idx1-ubyte.gz"


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """An IDX file written by hand with struct, as the MNIST page describes the format."""
    magic = 0x00000800 + array.ndim if magic is None else magic
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def copy_mnist(directory):
    for path in MNIST_DIR.iterdir():
        shutil.copy(path, directory / path.name)
    return directory


def test_real_mnist_counts_shapes_and_dtypes():
    data = load_mnist()
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert data.y_train.shape == (60000,) and data.y_test.shape == (10000,)
    assert {a.dtype for a in (data.x_train, data.y_train, data.x_test, data.y_test)} == {np.dtype(np.uint8)}
    assert np.bincount(data.y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(data.y_test, minlength=10).tolist() == TEST_COUNTS
    assert data.x_train.max() == 255 and data.x_train.min() == 0
    # MNIST digits are centred by centre of mass in a 20x20 box: the outer 2-pixel frame is almost empty.
    assert data.x_test[:, :2, :].mean() < 1


def test_cache_returns_same_object_and_arrays_are_read_only():
    first = load_mnist()
    assert load_mnist() is first
    assert load_mnist(str(MNIST_DIR)) is first
    for array in (first.x_train, first.y_train, first.x_test, first.y_test):
        assert not array.flags.writeable
    with pytest.raises(ValueError):
        first.x_train[0, 0, 0] = 1
    with pytest.raises(ValueError):
        first.y_test[0] = 3


def test_verify_checksums_lists_the_four_files():
    assert len(verify_checksums(MNIST_DIR)) == 4


def test_one_flipped_byte_fails_the_checksum_naming_the_file(tmp_path):
    copy_mnist(tmp_path)
    target = tmp_path / SMALL_FILE
    raw = bytearray(target.read_bytes())
    raw[100] ^= 0x01
    target.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=SMALL_FILE) as caught:
        load_mnist(tmp_path)
    assert "SHA-256" in str(caught.value) and "\n" not in str(caught.value)


def test_missing_file_is_reported_as_not_found(tmp_path):
    copy_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: not found"):
        load_mnist(tmp_path)
    with pytest.raises(DataError, match="not found"):
        load_idx(tmp_path / "nothing.gz")


def test_truncated_gzip_is_a_data_error(tmp_path):
    raw = (MNIST_DIR / SMALL_FILE).read_bytes()
    path = tmp_path / SMALL_FILE
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match=f"{SMALL_FILE}: gzip data is truncated"):
        load_idx(path)


def test_hand_written_idx_reads_back_raw_and_gzipped(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "raw.idx").write_bytes(idx_bytes(images))
    (tmp_path / "packed.gz").write_bytes(gzip.compress(idx_bytes(images)))
    labels = np.array([7, 0, 9], dtype=np.uint8)
    (tmp_path / "labels.idx").write_bytes(idx_bytes(labels))
    np.testing.assert_array_equal(load_idx(tmp_path / "raw.idx"), images)
    np.testing.assert_array_equal(load_idx(tmp_path / "packed.gz"), images)
    np.testing.assert_array_equal(load_idx(tmp_path / "labels.idx"), labels)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (idx_bytes(np.zeros((2, 3), np.uint8), magic=0x00000802), "magic number 0x00000802"),
        (idx_bytes(np.zeros(3, np.uint8), magic=0x00000D01), "magic number"),
        (idx_bytes(np.zeros((2, 3, 4), np.uint8))[:-1], "need exactly 40"),
        (idx_bytes(np.zeros((2, 3, 4), np.uint8)) + b"\0", "need exactly 40"),
        (struct.pack(">II", 0x803, 2), "header is cut short"),
        (b"\0\0", "too short"),
    ],
)
def test_malformed_idx_is_a_data_error(tmp_path, content, problem):
    path = tmp_path / "bad.idx"
    path.write_bytes(content)
    with pytest.raises(DataError, match=problem) as caught:
        load_idx(path)
    assert "bad.idx" in str(caught.value)


def write_csv(path, images, labels, header=None):
    rows = [header] if header else []
    rows += [
        ",".join(str(v) for v in [label, *image.ravel()]) for image, label in zip(images, labels, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")


def sample_images(count=5):
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (count, 28, 28), dtype=np.uint8), np.array([3, 0, 9, 5, 1][:count], np.uint8)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29)),
        "label," + ",".join(f"pixel{i}" for i in range(784)),
        "label," + ",".join(str(i) for i in range(784)),
    ],
)
def test_csv_round_trips_with_and_without_header(tmp_path, header):
    images, labels = sample_images()
    write_csv(tmp_path / "digits.csv", images, labels, header)
    got_images, got_labels = load_csv(tmp_path / "digits.csv")
    assert got_images.dtype == np.uint8 and got_labels.dtype == np.uint8
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_csv_dataset_holds_both_files_read_only(tmp_path):
    images, labels = sample_images()
    write_csv(tmp_path / "train.csv", images, labels)
    write_csv(tmp_path / "test.csv", images[:2], labels[:2])
    data = load_csv_dataset(tmp_path / "train.csv", tmp_path / "test.csv", name="mine")
    assert (len(data.x_train), len(data.x_test), data.name) == (5, 2, "mine")
    np.testing.assert_array_equal(data.x_test[1], images[1])
    assert not data.x_train.flags.writeable


def spoil(fields, kind):
    if kind == "columns":
        return fields[:-1]
    if kind == "value":
        return [fields[0], "300", *fields[2:]]
    if kind == "label":
        return ["12", *fields[1:]]
    return [fields[0], "abc", *fields[2:]]


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("columns", "784 columns, expected 785"),
        ("value", "column 2 holds 300"),
        ("label", "label 12"),
        ("text", "column 2 holds 'abc'"),
    ],
)
def test_bad_csv_row_names_the_row(tmp_path, kind, problem):
    images, labels = sample_images()
    write_csv(tmp_path / "digits.csv", images, labels, header="label," + ",".join(["p"] * 784))
    lines = (tmp_path / "digits.csv").read_text().splitlines()
    lines[3] = ",".join(spoil(lines[3].split(","), kind))  # file line 4: header, then image 3
    (tmp_path / "digits.csv").write_text("\n".join(lines))
    with pytest.raises(DataError, match=f"digits.csv: row 4 .*{problem}"):
        load_csv(tmp_path / "digits.csv")


def test_empty_csv_is_a_data_error(tmp_path):
    (tmp_path / "empty.csv").write_text("label," + ",".join(["p"] * 784) + "\n")
    with pytest.raises(DataError, match="no image rows"):
        load_csv(tmp_path / "empty.csv")


def test_dataset_rejects_mismatched_labels():
    images = np.zeros((3, 28, 28), np.uint8)
    with pytest.raises(DataError, match="3 images"):
        Dataset(images, np.zeros(2, np.uint8), images, np.zeros(3, np.uint8), name="x")


def test_sample_grid_indices_picks_per_class_examples_deterministically():
    labels = np.array([d for d in range(10) for _ in range(5)] + [4, 4], dtype=np.uint8)
    labels = labels[np.random.default_rng(0).permutation(labels.size)]
    labels[labels == 7] = 8  # no 7s left: that digit contributes nothing
    indices = sample_grid_indices(labels, per_class=3, seed=42)
    picked = labels[indices].tolist()
    assert picked == [d for d in range(10) if d != 7 for _ in range(3)]
    assert len(set(indices.tolist())) == len(indices)
    np.testing.assert_array_equal(indices, sample_grid_indices(labels, per_class=3, seed=42))
    assert not np.array_equal(indices, sample_grid_indices(labels, per_class=3, seed=43))


def test_assets_are_the_checkouts_top_level_folder():
    from digitlab import data

    assert data.assets_dir() == Path(__file__).resolve().parents[1] / "assets"
    assert (data.assets_dir() / "models" / "default.keras").is_file()


def test_an_installed_package_finds_the_assets_it_carries(tmp_path, monkeypatch):
    from digitlab import data

    package = tmp_path / "site-packages" / "digitlab"
    (package / "assets" / "mnist").mkdir(parents=True)
    monkeypatch.setattr(data, "PACKAGE_DIR", package)
    assert data.assets_dir() == package / "assets"
    assert data.var_dir() == Path.home() / ".cache" / "digitlab"  # no pyproject.toml beside it
