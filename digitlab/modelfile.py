"""Model files without TensorFlow: where they are, their JSON description, safe names and writes.

A model is one Keras `.keras` file (a zip archive) holding digitlab's description of it, the config,
normalisation, history, metrics and library versions, as one more entry, `digitlab.json`, beside
the entries Keras writes. Keras 3.15's loader reads only its own entries, safe mode included. Models
saved before that keep the description in a JSON file beside the `.keras` (`<name>.json`), and still
load. Should a model have both, the description inside it wins: it always travels with its weights,
while a file beside it may be left over from an older model of the same name.

This module reads and checks that description (the home page shows a model's name and accuracy
without loading TensorFlow), puts it into an archive and writes files atomically; `learn.classifier`
loads and saves the Keras part. Every failure becomes a `ModelFileError` a person can act on.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from typing import BinaryIO

from digitlab.data import assets_dir

FORMAT = "digitlab-model"
FORMAT_VERSION = 1
DEFAULT_MODEL_PATH = assets_dir() / "models" / "default.keras"
EMBEDDED_NAME = "digitlab.json"  # the description's entry inside a .keras archive
# A description is a few kB (the default model's: 9 kB); a larger entry is not one digitlab wrote.
MAX_DESCRIPTION_BYTES = 2_000_000
# An uploaded model file. The default model is 3.5 MB and a Best MLP from Train about 6 MB (its optimizer's
# state is saved too); only networks of several 1024-unit layers, or ensembles of them, are larger.
MAX_UPLOAD_MB = 50
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024  # megabytes as Streamlit's file_uploader counts them
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
    """The description inside the `.keras` archive at `path`, else the one in `<name>.json` beside it."""
    if zipfile.is_zipfile(path) and (metadata := embedded_metadata(path, path.name)) is not None:
        return metadata
    meta_file = metadata_path(path)
    if not meta_file.exists():
        raise ModelFileError(
            f"{path.name} holds no digitlab description, and there is no {meta_file.name} beside it"
        )
    try:
        text = meta_file.read_text()
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{meta_file.name}: metadata is not valid JSON ({exc})") from exc
    return checked_metadata(text, meta_file.name)


def embedded_metadata(archive: Path | BinaryIO, label: str) -> dict | None:
    """The description inside a `.keras` archive (a path or an open binary file); None if it has none."""
    try:
        with zipfile.ZipFile(archive) as opened:
            try:
                entry = opened.getinfo(EMBEDDED_NAME)
            except KeyError:
                return None
            if entry.file_size > MAX_DESCRIPTION_BYTES:
                raise ModelFileError(f"{label}: its {EMBEDDED_NAME} is too large for a digitlab description")
            text = opened.read(entry)  # at most the size checked above: zipfile stops there
    # zipfile's errors for a damaged archive, an encrypted entry or an unknown compression method.
    except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError) as exc:
        raise ModelFileError(f"{label}: not a Keras .keras file (corrupt or another format)") from exc
    return checked_metadata(text, f"{label} ({EMBEDDED_NAME})")


def checked_metadata(text: str | bytes, label: str) -> dict:
    """The description in `text`, checked to be digitlab's and of a format this version reads."""
    try:
        metadata = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{label}: metadata is not valid JSON ({exc})") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{label}: not a digitlab model description")
    version = metadata.get("format_version", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{label}: made by a newer digitlab (format {version})")
    return metadata


def embed_metadata(archive: Path, text: str) -> None:
    """Add the description to the `.keras` archive Keras has just written (before it is renamed)."""
    with zipfile.ZipFile(archive, "a", compression=zipfile.ZIP_DEFLATED) as opened:
        if EMBEDDED_NAME in opened.namelist():
            raise ValueError(f"{archive.name} already holds a {EMBEDDED_NAME}")
        opened.writestr(EMBEDDED_NAME, text)
