"""Tightly cropped scans: MNIST test digits cropped to their ink, in both polarities, read by the CLI.

Each test digit is cropped to the box of its ink (so the ink touches all four edges), enlarged 4×
like a scan, saved as a PNG, dark ink on white and light ink on black, and read by
`python -m digitlab predict --json`, exactly as a user would. Prints how many were read, how many
were answered "nothing to read", and the accuracy beside the model's MNIST test accuracy.
Goal: every crop read, accuracy within 0.5 points of MNIST test.

    python bench/tight_crops.py [--n 10000] [--model default]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import machine, result_line
from PIL import Image

from digitlab.data import load_mnist

REPO = Path(__file__).resolve().parent.parent
CROP_LEVEL = 64  # ink is what is brighter than this: the faint anti-aliased rim may be cut off
SCALE = 4


def tight_crop(digit: np.ndarray, dark_on_white: bool) -> Image.Image:
    ink = digit > CROP_LEVEL
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    crop = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    crop = 255 - crop if dark_on_white else crop
    return Image.fromarray(crop).resize((crop.shape[1] * SCALE, crop.shape[0] * SCALE), Image.BICUBIC)


def predict(folder: Path, model: str) -> list[dict]:
    command = [sys.executable, "-m", "digitlab", "predict", model, str(folder), "--json"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"predict failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def mnist_test_accuracy(model: str) -> float:
    command = [sys.executable, "-m", "digitlab", "evaluate", model, "--json"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    return float(json.loads(done.stdout.splitlines()[-1])["test_accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="how many MNIST test digits (default: all)")
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    data = load_mnist()
    labels = {}
    accuracy = {}
    not_read = 0
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, dark in (("dark-on-white", True), ("light-on-dark", False)):
            folder = Path(tmp) / name
            folder.mkdir()
            for i in range(args.n):
                path = folder / f"{i:05d}.png"
                tight_crop(data.x_test[i], dark).save(path)
                labels[str(path)] = int(data.y_test[i])
            answers = predict(folder, args.model)
            blank = [a for a in answers if "error" in a]
            not_read += len(blank)
            right = sum(a.get("digit") == labels[a["file"]] for a in answers)
            accuracy[name] = right / len(answers)
            print(
                f"{name:<14} {len(answers):6d} crops   not read: {len(blank):4d}   "
                f"accuracy {accuracy[name]:.2%}"
            )
            for a in blank[:5]:
                print(f"   e.g. {Path(a['file']).name}: {a['error']}")
    reference = mnist_test_accuracy(args.model)
    worst = min(accuracy.values())
    print(f"MNIST test accuracy of the same model: {reference:.2%}")
    print(
        result_line(
            "tight crops, both polarities: worst accuracy vs MNIST test",
            f"{worst:.2%} vs {reference:.2%} ({(worst - reference) * 100:+.2f} points), {not_read} not read",
            "within 0.5 points, all read",
            reference - worst <= 0.005 and not_read == 0,
        )
    )


if __name__ == "__main__":
    main()
