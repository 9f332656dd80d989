"""What each `digitlab` command does; `digitlab.cli` parses the command line and calls one of these.

Commands return an exit code (see `digitlab.cli`). The ones that need a network import
`digitlab.learn` when they run, so `digitlab --help` and `digitlab board` never load TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from digitlab import events, hosting
from digitlab.classroom import board, wall
from digitlab.config import DEFAULT_MODEL_CONFIG, PRESETS, ConfigError, TrainConfig
from digitlab.data import PACKAGE_DIR, load_csv_dataset, load_mnist
from digitlab.evaluation import drawings_summary, evaluate, evaluate_drawings
from digitlab.preprocess import ImageError, NothingToRead, open_image
from digitlab.reading import read_image

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_LOAD = 0, 1, 2, 3
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
APP = PACKAGE_DIR.parent / "app.py"  # the Streamlit router, at the top of a checkout


def _preset_key(name: str) -> str:
    lowered = {key.lower(): key for key in PRESETS}
    return lowered.get(name.lower(), name)


def build_config(args: argparse.Namespace) -> TrainConfig:
    """The preset (or the shipped default's config), then any options given on the command line."""
    if args.config:
        base = TrainConfig.from_json(Path(args.config).read_text())
    elif args.preset == "default":
        base = DEFAULT_MODEL_CONFIG
    else:
        base = PRESETS[_preset_key(args.preset)]
    changes = {
        "architecture": args.arch,
        "hidden_units": tuple(int(u) for u in args.hidden.split(",")) if args.hidden else None,
        "activation": args.activation,
        "dropout": args.dropout,
        "head": args.head,
        "optimizer": args.optimizer,
        "learning_rate": args.lr,
        "lr_schedule": args.lr_schedule,
        "weight_decay": args.weight_decay,
        "filters": args.filters,
        "momentum": args.momentum,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "validation_split": args.val_split,
        "train_size": args.train_size,
        "normalization": args.normalization,
        "labels": args.labels,
        "augment": args.augment,
        "batch_norm": args.batch_norm,
        "data": args.data,
        "members": args.members,
        "seed": args.seed,
    }
    return base.replace(**{key: value for key, value in changes.items() if value is not None})


class ProgressBar:
    """A one-line text progress bar with epoch, step, ETA and the running loss."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width = stream, width
        self.last_draw = 0.0

    def __call__(self, event: events.ProgressEvent) -> None:
        if event["kind"] == "epoch":
            val = event.get("val_accuracy")
            val_text = f"  val_acc {val:.4f}" if val is not None else ""
            self.stream.write(
                f"\repoch {event['epoch']}/{event['epochs']}  loss {event['loss']:.4f}  "
                f"acc {event['accuracy']:.4f}{val_text}  {event['elapsed']:.0f}s".ljust(100)
                + "\n"
            )
            return
        now = time.monotonic()
        if now - self.last_draw < 0.2 and event["batch"] != event["steps_per_epoch"]:
            return
        self.last_draw = now
        total_steps = event["steps_per_epoch"] * event["epochs"]
        done = event["step"] / total_steps
        eta = event["elapsed"] * (1 - done) / max(done, 1e-9)
        filled = int(self.width * done)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(
            f"\r[{bar}] epoch {event['epoch']}/{event['epochs']} "
            f"step {event['batch']}/{event['steps_per_epoch']}  loss {event['loss']:.4f}  ETA {eta:4.0f}s"
        )
        self.stream.flush()


def load_dataset(args: argparse.Namespace):
    if args.csv_train or args.csv_test:
        if not (args.csv_train and args.csv_test):
            raise ConfigError("give both --csv-train and --csv-test")
        return load_csv_dataset(args.csv_train, args.csv_test, name="csv")
    return load_mnist()


def cmd_train(args: argparse.Namespace) -> int:
    # Keras and TensorFlow only now: `--help` and `board` answer at once, and TF_CPP_MIN_LOG_LEVEL is set.
    from digitlab.learn.classifier import save_classifier
    from digitlab.learn.training import train

    config = build_config(args)
    dataset = load_dataset(args)
    print(
        f"training {config.label} on {config.train_size} MNIST images"
        f"{' and pen-drawn digits' if config.data == 'mnist+pen' else ''} for {config.epochs} epochs"
        f"{f', {config.members} networks one after another' if config.members > 1 else ''}",
        file=sys.stderr,
    )
    result = train(config, dataset, emit=ProgressBar())
    if result.diverged:
        print("the loss became NaN or infinite; kept the last good weights", file=sys.stderr)
    # The .json: a copy to read.
    path = save_classifier(result.classifier, args.out, sidecar=True, include_optimizer=args.optimizer_state)
    metrics = result.classifier.metadata["metrics"]
    print(
        f"MNIST test accuracy {metrics['test_accuracy']:.2%}   pen-drawn digits of unseen writers "
        f"{metrics['pen_accuracy']:.2%}  ({result.seconds:.0f}s)  saved {path}"
    )
    return EXIT_OK


def cmd_ensemble(args: argparse.Namespace) -> int:
    from digitlab.learn.classifier import load_classifier, save_classifier
    from digitlab.learn.training import ensemble_of

    classifier = ensemble_of([load_classifier(path) for path in args.models], load_mnist())
    path = save_classifier(classifier, args.out, sidecar=True)
    metrics = classifier.metadata["metrics"]
    print(
        f"{classifier.name}: MNIST test accuracy {metrics['test_accuracy']:.2%}   pen-drawn digits of "
        f"unseen writers {metrics['pen_accuracy']:.2%}  saved {path}"
    )
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from digitlab.learn.classifier import load_classifier  # TensorFlow only now (see cmd_train)

    classifier = load_classifier(args.model)
    dataset = load_mnist()
    result = evaluate(classifier, dataset.x_test, dataset.y_test)
    drawings = drawings_summary(evaluate_drawings(classifier))
    if args.json:
        print(json.dumps({"model": str(args.model or "default"), **result.summary(), **drawings}))
        return EXIT_OK
    print(f"model: {classifier.name}")
    print(
        f"MNIST test accuracy: {result.accuracy:.2%} on {len(result.labels)} images   loss: {result.loss:.4f}"
    )
    print(
        f"pen-drawn digits of unseen writers: {drawings['pen_accuracy']:.2%} on {drawings['pen_images']:,} "
        "drawings from the UNIPEN benchmark labs, read through the Draw page's canvas path"
    )
    print("  per lab: " + ", ".join(f"{lab} {acc:.1%}" for lab, acc in drawings["pen_by_lab"].items()))
    print(result.report_text())
    pairs = ", ".join(f"{t}→{p} ({n})" for t, p, n in result.most_confused(5))
    print(f"most confused (true→predicted): {pairs}")
    return EXIT_OK


def expand_images(paths: list[str]) -> list[Path]:
    """Files as given; folders become their image files, sorted."""
    files = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            )
        else:
            files.append(path)
    return files


def split_model_and_images(args: argparse.Namespace) -> tuple[str | None, list[str]]:
    # `predict MODEL IMAGE...` and `predict IMAGE...` both work: a first argument that names a
    # model (.keras or "default") is the model.
    items = list(args.items)
    model = args.model
    if model is None and items and (items[0] == "default" or items[0].endswith(".keras")):
        model = items.pop(0)
    return model, items


def cmd_predict(args: argparse.Namespace) -> int:
    from digitlab.learn import familiarity
    from digitlab.learn.classifier import load_classifier  # TensorFlow only now (see cmd_train)

    model, items = split_model_and_images(args)
    if not items:
        print("error: give at least one image file or folder", file=sys.stderr)
        return EXIT_USAGE
    classifier = load_classifier(model)
    judge = familiarity.judge(classifier)  # the first time for a model: seconds, fitted on known digits
    failures = 0
    for path in expand_images(items):
        try:
            answer = read_image(classifier, open_image(path), judge=judge)
        except (ImageError, NothingToRead, OSError) as exc:
            failures += 1
            message = str(exc) or type(exc).__name__
            if args.json:
                print(json.dumps({"file": str(path), "error": message}))
            else:
                print(f"{path}: error: {message}")
            continue
        probs, digit, warning = answer.probabilities, answer.digit, answer.not_a_digit_message
        if args.json:
            found = {"file": str(path), "digit": digit, "probabilities": [round(float(p), 6) for p in probs]}
            found["looks_like_a_digit"] = answer.looks_like_a_digit
            if warning:
                found["message"] = warning
            print(json.dumps(found))
        else:
            print(f"{path}: {digit} ({probs[digit]:.1%})" + (f": {warning}" if warning else ""))
    return EXIT_SOME_FAILED if failures else EXIT_OK


def cmd_board(args: argparse.Namespace) -> int:
    if args.action == "clear":
        removed = board.clear()
        print(f"cleared the class board: {removed} entr{'y' if removed == 1 else 'ies'} removed")
        return EXIT_OK
    found = board.entries(limit=args.limit)
    if args.json:
        for entry in found:
            fields = ("nickname", "accuracy", "summary", "created")
            print(json.dumps({key: getattr(entry, key) for key in fields}))
        return EXIT_OK
    if not found:
        print(f"the class board is empty ({board.board_path()})")
    for rank, entry in enumerate(found, 1):
        print(f"{rank:3d}. {entry.accuracy:6.2%}  {entry.nickname:<{board.MAX_NICKNAME}}  {entry.summary}")
    return EXIT_OK


def cmd_wall(args: argparse.Namespace) -> int:
    if args.action == "clear":
        removed = wall.clear()
        ended = wall.end_round()
        print(f"cleared the class wall: {removed} drawing{'s' * (removed != 1)} removed", end="")
        print(", its round ended" if ended else "")
        return EXIT_OK
    drawings = wall.drawings()
    if args.action == "export":
        Path(args.out).write_bytes(wall.to_zip(drawings))
        print(f"{args.out}: {len(drawings)} drawing{'s' * (len(drawings) != 1)} with labels.csv")
        return EXIT_OK
    reading = wall.class_reading(drawings)
    if reading is None:
        print(f"the class wall is empty ({board.board_path()})")
        return EXIT_OK
    print(f"{len(drawings)} drawings, {reading.accuracy:.1%} read as meant")
    for meant, read, count in reading.mix_ups:
        print(f"  {meant} read as {read}: {count}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """`streamlit run app.py` with any further options, from a checkout (app.py and pages/ live there);
    with `--workers N`, N of them behind HAProxy on one port (`digitlab.hosting`)."""
    if not APP.exists():
        print(
            f"error: {APP} not found: `digitlab serve` runs the app from a checkout of digitlab",
            file=sys.stderr,
        )
        return EXIT_LOAD
    if args.workers == 1:
        command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(args.port)]
        command += ["--server.address", args.host, *args.streamlit_args]
        return subprocess.call(command, cwd=APP.parent, env=os.environ | {"PYTHONPATH": str(APP.parent)})
    try:
        hosting.serve(APP, args.host, args.port, args.workers, args.streamlit_args)
    except hosting.HostingError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_LOAD
    return EXIT_OK
