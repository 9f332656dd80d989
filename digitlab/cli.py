"""The command line: `python -m digitlab train | evaluate | predict | board`.

Exit codes: 0 success, 1 some inputs could not be read (predict), 2 bad usage or
settings, 3 a model or data file could not be loaded. Errors are one line on stderr,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

from digitlab.config import DEFAULT_MODEL_CONFIG, PRESETS, ConfigError, TrainConfig

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_LOAD = 0, 1, 2, 3
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
PRESET_CHOICES = ["default", *PRESETS]


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


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

    def __call__(self, event: dict) -> None:
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
    from digitlab.data import load_csv_dataset, load_mnist

    if args.csv_train or args.csv_test:
        if not (args.csv_train and args.csv_test):
            raise ConfigError("give both --csv-train and --csv-test")
        return load_csv_dataset(args.csv_train, args.csv_test, name="csv")
    return load_mnist()


def cmd_train(args: argparse.Namespace) -> int:
    from digitlab.storage import save_classifier
    from digitlab.training import train

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
    path = save_classifier(result.classifier, args.out)
    metrics = result.classifier.metadata["metrics"]
    print(
        f"MNIST test accuracy {metrics['test_accuracy']:.2%}   pen-drawn digits of unseen writers "
        f"{metrics['pen_accuracy']:.2%}  ({result.seconds:.0f}s)  saved {path}"
    )
    return EXIT_OK


def cmd_ensemble(args: argparse.Namespace) -> int:
    from digitlab.data import load_mnist
    from digitlab.storage import load_classifier, save_classifier
    from digitlab.training import ensemble_of

    classifier = ensemble_of([load_classifier(path) for path in args.models], load_mnist())
    path = save_classifier(classifier, args.out)
    metrics = classifier.metadata["metrics"]
    print(
        f"{classifier.name}: MNIST test accuracy {metrics['test_accuracy']:.2%}   pen-drawn digits of "
        f"unseen writers {metrics['pen_accuracy']:.2%}  saved {path}"
    )
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from digitlab.data import load_mnist
    from digitlab.evaluation import drawings_summary, evaluate, evaluate_drawings
    from digitlab.storage import load_classifier

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
    from digitlab.preprocess import ImageError, NothingToRead, open_image
    from digitlab.reading import read_image
    from digitlab.storage import load_classifier

    model, items = split_model_and_images(args)
    if not items:
        print("error: give at least one image file or folder", file=sys.stderr)
        return EXIT_USAGE
    classifier = load_classifier(model)
    failures = 0
    for path in expand_images(items):
        try:
            probs = read_image(classifier, open_image(path)).probabilities
        except (ImageError, NothingToRead, OSError) as exc:
            failures += 1
            message = str(exc) or type(exc).__name__
            if args.json:
                print(json.dumps({"file": str(path), "error": message}))
            else:
                print(f"{path}: error: {message}")
            continue
        digit = int(probs.argmax())
        if args.json:
            print(
                json.dumps(
                    {"file": str(path), "digit": digit, "probabilities": [round(float(p), 6) for p in probs]}
                )
            )
        else:
            print(f"{path}: {digit} ({probs[digit]:.1%})")
    return EXIT_SOME_FAILED if failures else EXIT_OK


def cmd_board(args: argparse.Namespace) -> int:
    from digitlab import board

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


def add_train_options(parser: argparse.ArgumentParser) -> None:
    from digitlab import config as c

    parser.add_argument("--out", required=True, help="where to save the model (PATH.keras and PATH.json)")
    parser.add_argument(
        "--preset",
        default="Quick demo",
        choices=PRESET_CHOICES,
        metavar="NAME",
        # argparse formats help with %, and a preset name may hold one ("Fast 98% (CNN)").
        help=f"starting settings: {', '.join(PRESET_CHOICES).replace('%', '%%')} (default: Quick demo)",
    )
    parser.add_argument("--config", help="a JSON file of settings (TrainConfig) instead of a preset")
    parser.add_argument("--arch", choices=c.ARCHITECTURES, help="mlp or cnn")
    parser.add_argument("--hidden", help="units per hidden layer, e.g. 128,64 (1-5 layers of 8-1024)")
    parser.add_argument("--activation", choices=c.ACTIVATIONS)
    parser.add_argument("--dropout", type=float, help="dropout after each hidden layer, 0-0.9")
    parser.add_argument("--head", choices=c.HEADS, help="output layer: softmax, sigmoid or linear")
    parser.add_argument("--optimizer", choices=c.OPTIMIZERS)
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument(
        "--lr-schedule", choices=c.LR_SCHEDULES, help="constant, or cosine decay over the run"
    )
    parser.add_argument("--momentum", type=float, help="SGD momentum")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--val-split", type=float, help="share of training images held out for validation")
    parser.add_argument("--train-size", type=int, help="how many training images to use")
    parser.add_argument("--normalization", choices=c.NORMALIZATIONS, help="unit ([0,1]) or zscore")
    parser.add_argument("--labels", choices=c.LABEL_ENCODINGS, help="sparse or onehot targets")
    parser.add_argument(
        "--batch-norm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="CNN: batch normalisation after each convolution",
    )
    parser.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="augment the training images (rotation, shift, scale, elastic, thickness)",
    )
    parser.add_argument(
        "--data",
        choices=tuple(c.TRAINING_DATA),
        help="mnist, or mnist+pen: MNIST plus the pen-drawn digits of the UNIPEN training labs",
    )
    parser.add_argument(
        "--members", type=int, help=f"networks to train and average, 1-{c.MAX_MEMBERS} (an ensemble)"
    )
    parser.add_argument("--seed", type=int)
    parser.add_argument("--csv-train", help="train on an MNIST-format CSV instead of the bundled MNIST")
    parser.add_argument("--csv-test", help="the matching test CSV")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m digitlab", description="Train, evaluate and use MNIST models."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = sub.add_parser(
        "train", help="train a model and save it", description="Train a model and save it."
    )
    add_train_options(train)
    train.set_defaults(run=cmd_train)
    ensemble = sub.add_parser(
        "ensemble",
        help="average networks trained with one config and seeds seed, seed + 1, ... into one model",
        description="Make the model `train --members N` would make from N runs already trained "
        "(same settings, seeds seed, seed + 1, ...), without training again.",
    )
    ensemble.add_argument("models", nargs="+", help="the .keras files, in seed order")
    ensemble.add_argument("--out", required=True, help="where to save it (PATH.keras and PATH.json)")
    ensemble.set_defaults(run=cmd_ensemble)
    evaluate = sub.add_parser("evaluate", help="accuracy and classification report on the MNIST test set")
    evaluate.add_argument("model", nargs="?", help="a .keras model file (default: the shipped model)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=cmd_evaluate)
    predict = sub.add_parser(
        "predict",
        help="read digits from image files",
        description="Read the digit in each PNG/JPEG file (any size, either polarity). "
        "Usage: predict [MODEL] IMAGE_OR_FOLDER...",
    )
    predict.add_argument(
        "items", nargs="*", metavar="[MODEL] IMAGE", help="optional model, then images or folders"
    )
    predict.add_argument("--model", help="a .keras model file, or 'default'")
    predict.add_argument(
        "--json", action="store_true", help='one JSON object per line: {"file", "digit", "probabilities"}'
    )
    predict.set_defaults(run=cmd_predict)
    board = sub.add_parser(
        "board",
        help="list or clear the class board",
        description="The class board of published runs (DIGITLAB_DATA_DIR/board.sqlite3): "
        "list it, best first, or clear it for a new class.",
    )
    board.add_argument("action", choices=("list", "clear"))
    board.add_argument("--limit", type=int, default=100, help="list at most this many entries")
    board.add_argument("--json", action="store_true", help="list one JSON object per line")
    board.set_defaults(run=cmd_board)
    return parser


def main(argv: list[str] | None = None) -> int:
    _quiet_tensorflow()
    args = make_parser().parse_args(argv)
    from digitlab.data import DataError
    from digitlab.storage import ModelFileError

    try:
        return args.run(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ModelFileError, DataError, OSError, sqlite3.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOAD
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
