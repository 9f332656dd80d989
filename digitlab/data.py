"""The handwritten digits digitlab learns from: MNIST from its original IDX files, or MNIST-format CSV.

This module owns reading and checking the data, nothing else: IDX parsing, SHA-256 verification, CSV
parsing and the `Dataset` every other module receives. Pixels stay raw uint8 (ink 255 on 0); the model
normalises. Every problem with a file surfaces as a one-line `DataError` naming the file.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np

PACKAGE_DIR = Path(__file__).resolve().parent


def assets_dir() -> Path:
    """The bundled MNIST files, pen strokes, default model and scripts.

    In a checkout they are the repository's top-level assets/; an installed package carries a copy as
    digitlab/assets (pyproject.toml maps one onto the other), found first.
    """
    packaged = PACKAGE_DIR / "assets"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "assets"


def var_dir() -> Path:
    """Where the server writes by default (the board, caches): var/ of a checkout, else ~/.cache/digitlab."""
    if (PACKAGE_DIR.parent / "pyproject.toml").exists():
        return PACKAGE_DIR.parent / "var"
    return Path.home() / ".cache" / "digitlab"


ASSETS_DIR = assets_dir()
MNIST_DIR = ASSETS_DIR / "mnist"
CHECKSUMS_FILE = "SHA256SUMS"
MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
# IDX magic numbers: two zero bytes, 0x08 (unsigned byte), then the number of dimensions.
IDX_MAGIC_NDIM = {0x00000801: 1, 0x00000803: 3}
IMAGE_SIDE = 28
CSV_COLUMNS = 1 + IMAGE_SIDE * IMAGE_SIDE


class DataError(ValueError):
    """A data file is missing, damaged or malformed; the one-line message names the file and the problem."""


@dataclass(frozen=True, eq=False)
class Dataset:
    # (N, 28, 28) uint8 training images, ink 255 on background 0, exactly as MNIST stores them.
    x_train: np.ndarray = field(repr=False)
    # (N,) uint8 digit labels 0-9.
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    # What the user sees in menus, e.g. "MNIST".
    name: str = "MNIST"

    def __post_init__(self) -> None:
        for images, labels, split in (
            (self.x_train, self.y_train, "train"),
            (self.x_test, self.y_test, "test"),
        ):
            _check_split(images, labels, f"{self.name} {split}")


def _check_split(images: np.ndarray, labels: np.ndarray, source: str) -> None:
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"{source}: images must be (N, 28, 28) uint8, got {images.shape} {images.dtype}")
    if labels.dtype != np.uint8 or labels.shape != (len(images),):
        raise DataError(f"{source}: {len(images)} images but labels of shape {labels.shape} {labels.dtype}")
    if labels.size and labels.max() > 9:
        raise DataError(f"{source}: label {int(labels.max())} is not a digit 0-9")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: not found") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None


def _decompress(raw: bytes, path: Path) -> bytes:
    if raw[:2] != b"\x1f\x8b":  # gzip magic; anything else is taken as a raw IDX file
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DataError(f"{path}: gzip data is truncated (the download stopped early?)") from None
    except (gzip.BadGzipFile, zlib.error) as error:
        raise DataError(f"{path}: gzip data is damaged ({error})") from None


def load_idx(path: str | Path) -> np.ndarray:
    """Read a uint8 IDX file (gzip-compressed or raw) into a read-only array of its declared shape."""
    path = Path(path)
    data = _decompress(_read_bytes(path), path)
    if len(data) < 4:
        raise DataError(f"{path}: too short to be an IDX file ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic not in IDX_MAGIC_NDIM:
        raise DataError(f"{path}: magic number 0x{magic:08x} is not an IDX uint8 label or image file")
    ndim = IDX_MAGIC_NDIM[magic]
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(f"{path}: header is cut short ({len(data)} of {header_size} bytes)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header_size + int(np.prod(shape))
    if len(data) != expected:
        raise DataError(f"{path}: {len(data)} bytes where dimensions {shape} need exactly {expected}")
    # frombuffer over immutable bytes: no copy, and the array is read-only.
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def _read_checksums(directory: Path) -> dict[str, str]:
    sums_path = directory / CHECKSUMS_FILE
    expected = {}
    for number, line in enumerate(_read_bytes(sums_path).decode("utf-8", "replace").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or len(parts[0]) != 64:
            raise DataError(f"{sums_path}: line {number} is not '<sha256>  <file name>'")
        expected[parts[1].lstrip("*")] = parts[0].lower()  # '*' marks binary mode in sha256sum output
    return expected


def verify_checksums(directory: str | Path) -> list[str]:
    """Check every file listed in `directory/SHA256SUMS`; return the names verified, else raise DataError."""
    directory = Path(directory)
    expected = _read_checksums(directory)
    for name, digest in expected.items():
        actual = hashlib.sha256(_read_bytes(directory / name)).hexdigest()
        if actual != digest:
            raise DataError(f"{directory / name}: SHA-256 {actual[:12]}… does not match {digest[:12]}…")
    return sorted(expected)


def _freeze(*arrays: np.ndarray) -> None:
    # Cached data is shared by every browser session, so nobody may write into it.
    for array in arrays:
        array.setflags(write=False)


def load_mnist(directory: str | Path = MNIST_DIR, verify: bool = True) -> Dataset:
    """Load the four original MNIST files (optionally SHA-256 verified); cached, arrays read-only."""
    return _load_mnist_cached(Path(directory).resolve(), verify)


@functools.lru_cache(maxsize=2)
def _load_mnist_cached(directory: Path, verify: bool) -> Dataset:
    for name in MNIST_FILES.values():
        if not (directory / name).is_file():
            raise DataError(f"{directory / name}: not found (copy the original MNIST .gz files there)")
    if verify:
        unlisted = set(MNIST_FILES.values()) - set(verify_checksums(directory))
        if unlisted:
            raise DataError(f"{directory / CHECKSUMS_FILE}: no checksum for {', '.join(sorted(unlisted))}")
    arrays = {key: load_idx(directory / name) for key, name in MNIST_FILES.items()}
    _freeze(*arrays.values())
    return Dataset(**arrays, name="MNIST")


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _row_problem(fields: list[str]) -> str | None:
    """Why one CSV row is not `label, 784 pixels` of integers, or None when it is fine."""
    if len(fields) != CSV_COLUMNS:
        return f"has {len(fields)} columns, expected {CSV_COLUMNS} (label + 784 pixels)"
    for column, text in enumerate(fields, 1):
        if not _is_int(text):
            return f"column {column} holds {text.strip()[:20]!r}, not an integer"
        value = int(text)
        if column == 1 and not 0 <= value <= 9:
            return f"label {value} is not a digit 0-9"
        if not 0 <= value <= 255:
            return f"column {column} holds {value}, outside the pixel range 0-255"
    return None


def _raise_first_bad_row(path: Path, rows: list[str], row_numbers: list[int], fallback: str) -> NoReturn:
    for text, number in zip(rows, row_numbers, strict=True):
        problem = _row_problem(text.split(","))
        if problem:
            raise DataError(f"{path}: row {number} {problem}")
    raise DataError(f"{path}: {fallback}")


def load_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an MNIST-format CSV (label, then 784 pixels per row; header row optional, e.g. Kaggle's).

    Returns images (N, 28, 28) uint8 and labels (N,) uint8. Row numbers in errors count file lines from 1,
    header included, as a text editor shows them.
    """
    path = Path(path)
    try:
        text = _read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (not UTF-8)") from None
    numbered = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    # A header names the label column in words: "label,1x1,...", "label,pixel0,...", "label,0,1,...".
    first_field = numbered[0][1].split(",")[0].strip() if numbered else ""
    if not _is_int(first_field) and any(char.isalpha() for char in first_field):
        header_columns = len(numbered[0][1].split(","))
        if header_columns != CSV_COLUMNS:
            raise DataError(f"{path}: header row has {header_columns} columns, expected {CSV_COLUMNS}")
        numbered = numbered[1:]
    if not numbered:
        raise DataError(f"{path}: no image rows")
    row_numbers, rows = [number for number, _ in numbered], [line for _, line in numbered]
    try:
        table = np.loadtxt(rows, delimiter=",", dtype=np.int16, ndmin=2)  # fast path; C parser
    except ValueError as error:
        _raise_first_bad_row(path, rows, row_numbers, str(error).split(";")[0])
    bad = (table[:, 1:] < 0) | (table[:, 1:] > 255)
    bad_row = np.flatnonzero(bad.any(axis=1) | (table[:, 0] < 0) | (table[:, 0] > 9))
    if bad_row.size:
        _raise_first_bad_row(path, [rows[bad_row[0]]], [row_numbers[bad_row[0]]], "values out of range")
    images = table[:, 1:].astype(np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    return images, table[:, 0].astype(np.uint8)


def load_csv_dataset(train_csv: str | Path, test_csv: str | Path, name: str = "CSV") -> Dataset:
    """A Dataset from two MNIST-format CSV files; arrays read-only like `load_mnist`'s."""
    x_train, y_train = load_csv(train_csv)
    x_test, y_test = load_csv(test_csv)
    _freeze(x_train, y_train, x_test, y_test)
    return Dataset(x_train, y_train, x_test, y_test, name=name)


def sample_grid_indices(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of `per_class` random examples of each digit, all 0s first, then 1s, …; for a preview grid.

    A digit with fewer examples contributes all it has. The same seed gives the same indices.
    """
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    chosen = []
    for digit in range(10):
        candidates = np.flatnonzero(labels == digit)
        picked = rng.choice(candidates, size=min(per_class, candidates.size), replace=False)
        chosen.append(np.sort(picked))
    return np.concatenate(chosen).astype(np.int64)
