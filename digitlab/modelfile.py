"""Model files without TensorFlow: where they are, their JSON description, safe names and writes.

A model on disk is a Keras `.keras` file plus a JSON file beside it holding the config, normalisation,
history, metrics and library versions. This module reads and checks that JSON (the home page shows a
model's name and accuracy without loading TensorFlow) and writes files atomically; `learn.classifier`
loads and saves the Keras part. Every failure becomes a `ModelFileError` a person can act on.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from digitlab.data import assets_dir

FORMAT = "digitlab-model"
FORMAT_VERSION = 1
DEFAULT_MODEL_PATH = assets_dir() / "models" / "default.keras"
# Bytes of UTF-8, well under the 255 that Linux, macOS and Windows allow, leaving room for a suffix.
MAX_FILENAME_BYTES = 120
# Names Windows refuses for a file whatever its extension: a student downloads to Windows too.
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"{port}{i}" for port in ("COM", "LPT") for i in range(10))}


class ModelFileError(ValueError):
    """A model file is missing, corrupt, foreign or incompatible."""


def safe_filename(name: str, fallback: str = "untitled") -> str:
    """A name typed by a user made safe as one file name: no folders, no hidden or reserved names.

    Letters and digits of any script, '-', '_' and '.' are kept; any other run of characters
    (slashes, NUL and other control characters, spaces, quotes) becomes one '_'. Leading dots,
    dashes and underscores go, so the result never climbs out of its folder ('..'), hides itself or
    reads as a command-line option.
    """
    name = unicodedata.normalize("NFKC", str(name))  # full-width '／' and '．' become '/' and '.'
    name = re.sub(r"[^\w.-]+|_+", "_", name, flags=re.UNICODE).lstrip("._-").rstrip("._ ")
    name = name.encode()[:MAX_FILENAME_BYTES].decode(errors="ignore").rstrip("._ ")
    if name.split(".")[0].upper() in WINDOWS_RESERVED:
        name = f"_{name}"
    return name or fallback


def metadata_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; a saved model is meant to be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def resolve_model_path(path: str | Path | None) -> Path:
    if path is None or str(path) == "default":
        return DEFAULT_MODEL_PATH
    path = Path(path)
    if path.suffix == ".json":
        path = path.with_suffix(".keras")
    if path.suffix != ".keras" and path.with_name(path.name + ".keras").exists():
        path = path.with_name(path.name + ".keras")
    return path


def read_metadata(path: Path) -> dict:
    meta_file = metadata_path(path)
    if not meta_file.exists():
        raise ModelFileError(f"{meta_file.name}: metadata file not found next to {path.name}")
    try:
        metadata = json.loads(meta_file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{meta_file.name}: metadata is not valid JSON ({exc})") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{meta_file.name}: not a digitlab model description")
    if metadata.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(
            f"{meta_file.name}: made by a newer digitlab (format {metadata['format_version']})"
        )
    return metadata
