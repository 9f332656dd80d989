"""The command line: `digitlab train | ensemble | evaluate | predict | board | wall | serve`, or
`python -m digitlab`.

Exit codes: 0 success, 1 some inputs could not be read (predict), 2 bad usage or
settings, 3 a model or data file could not be loaded. Errors are one line on stderr,
never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys

from digitlab import commands
from digitlab import config as c
from digitlab.commands import EXIT_LOAD, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE  # noqa: F401  (the codes)
from digitlab.config import PRESETS, ConfigError
from digitlab.data import DataError
from digitlab.modelfile import ModelFileError

PRESET_CHOICES = ["default", *PRESETS]
OUT_FILES = "PATH.keras, complete in itself, and PATH.json, a readable copy of its description"


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def add_train_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help=f"where to save the model ({OUT_FILES})")
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
        "--lr-schedule",
        choices=c.LR_SCHEDULES,
        help="constant; step (a tenth from half-way, a hundredth from 3/4); or cosine decay over the run",
    )
    parser.add_argument("--weight-decay", type=float, help=f"L2 weight decay, 0-{c.MAX_WEIGHT_DECAY}")
    parser.add_argument(
        "--filters", type=int, choices=c.FILTER_CHOICES, help="CNN: filters of the first convolution"
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
    parser.add_argument(
        "--optimizer-state",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the optimizer's state in the .keras file, for Keras code that trains it on (digitlab "
        "never reads it back); --no-optimizer-state saves the network alone, a third of the size with adam",
    )
    parser.add_argument("--csv-train", help="train on an MNIST-format CSV instead of the bundled MNIST")
    parser.add_argument("--csv-test", help="the matching test CSV")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="digitlab", description="Train, evaluate and use MNIST models.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = sub.add_parser(
        "train", help="train a model and save it", description="Train a model and save it."
    )
    add_train_options(train)
    train.set_defaults(run=commands.cmd_train)
    ensemble = sub.add_parser(
        "ensemble",
        help="average networks trained with one config and seeds seed, seed + 1, ... into one model",
        description="Make the model `train --members N` would make from N runs already trained "
        "(same settings, seeds seed, seed + 1, ...), without training again.",
    )
    ensemble.add_argument("models", nargs="+", help="the .keras files, in seed order")
    ensemble.add_argument("--out", required=True, help=f"where to save it ({OUT_FILES})")
    ensemble.set_defaults(run=commands.cmd_ensemble)
    evaluate = sub.add_parser("evaluate", help="accuracy and classification report on the MNIST test set")
    evaluate.add_argument("model", nargs="?", help="a .keras model file (default: the shipped model)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=commands.cmd_evaluate)
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
    predict.set_defaults(run=commands.cmd_predict)
    board = sub.add_parser(
        "board",
        help="list or clear the class board",
        description="The class board of published runs (DIGITLAB_DATA_DIR/board.sqlite3): "
        "list it, best first, or clear it for a new class.",
    )
    board.add_argument("action", choices=("list", "clear"))
    board.add_argument("--limit", type=int, default=100, help="list at most this many entries")
    board.add_argument("--json", action="store_true", help="list one JSON object per line")
    board.set_defaults(run=commands.cmd_board)
    wall = sub.add_parser(
        "wall",
        help="summarise, clear or export the class wall",
        description="The class wall of drawings students sent (DIGITLAB_DATA_DIR/board.sqlite3): "
        "how the network read them, clear it for a new class, or export it as the zip the Teach page "
        "imports (PNGs and labels.csv).",
    )
    wall.add_argument("action", choices=("list", "clear", "export"))
    wall.add_argument("--out", default="class-wall.zip", help="export: the zip to write")
    wall.set_defaults(run=commands.cmd_wall)
    serve = sub.add_parser(
        "serve",
        help="start the app (streamlit run app.py), or several processes of it behind HAProxy",
        description="Start the Streamlit app; any further options go to `streamlit run`. With --workers N, "
        "N app processes listen on the next N ports of 127.0.0.1 and HAProxy serves them on --port, each "
        "browser kept on one process; they share the data folder, the class board and the training slots.",
    )
    serve.add_argument("--workers", type=int, default=1, help="app processes (default 1; about 1 per core)")
    serve.add_argument("--port", type=int, default=8501, help="the port students open (default 8501)")
    serve.add_argument("--host", default="0.0.0.0", help="the address to listen on (default: all)")
    serve.add_argument("streamlit_args", nargs=argparse.REMAINDER, help="e.g. --server.port 8502")
    serve.set_defaults(run=commands.cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    _quiet_tensorflow()
    args = make_parser().parse_args(argv)
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
