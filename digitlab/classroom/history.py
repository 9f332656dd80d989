"""The runs a browser session has trained, kept light enough to compare, and their exports.

A `RunRecord` holds what the Compare page needs and nothing heavy: the config, the curves (every epoch,
the per-batch curve thinned), the test metrics and the confusion matrix; never the Keras model, which
only the session's active run keeps. A session keeps its last `MAX_RUNS` records in a plain list
inside any mapping (Streamlit's session state in the app, a dict in the tests), so nothing here needs
streamlit or TensorFlow.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import MutableMapping
from dataclasses import dataclass

from digitlab import glossary
from digitlab.config import TrainConfig

MAX_RUNS = 10  # per session: enough for a lesson, small enough to keep in memory for a class
MAX_BATCH_POINTS = 300  # the per-batch curve, thinned: a 60,000-image run has thousands of batches
HISTORY = "run_history"  # session key: the list of RunRecords, oldest first
RECORDED = "run_recorded"  # session key: the TrainingRun last recorded, so it is recorded once
EPOCH_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


@dataclass(frozen=True)
class RunRecord:
    number: int  # 1, 2, 3… in the order the session trained them
    config: TrainConfig
    state: str  # finished, stopped or diverged
    epochs: list[dict]  # one dict per epoch: epoch, progress, loss, accuracy, val_loss, val_accuracy
    batches: list[dict]  # the thinned per-batch curve: progress, loss, accuracy
    accuracy: float  # on the 10,000 test images
    loss: float
    confusion: list[list[int]]  # rows: true digit, columns: predicted digit
    seconds: float
    # The shelf's name for a pretrained model (`digitlab.shelf`), compared beside the runs; None for a run.
    shelf: str | None = None

    @property
    def name(self) -> str:
        """'Run 2 · MLP 784-64-10 relu adam', or 'Shelf · Best MLP': unique within the session."""
        return f"Shelf · {self.shelf}" if self.shelf else f"Run {self.number} · {self.config.label}"

    @property
    def key(self) -> str:
        """Unique within the session, for widget keys: '2' for run 2, 'shelf-best-mlp' for a shelf model."""
        return self.stem.removeprefix("digitlab-") if self.shelf else str(self.number)

    @property
    def stem(self) -> str:
        """For its files and widgets: 'digitlab-mlp-784-64-10-relu-adam-run-2', 'digitlab-shelf-best-mlp'."""
        if self.shelf:
            return re.sub(r"[^a-z0-9]+", "-", f"digitlab shelf {self.shelf}".lower()).strip("-")
        return file_stem(self.config, self.number)


def thin(events: list[dict], max_points: int = MAX_BATCH_POINTS) -> list[dict]:
    """At most `max_points` evenly spread events, the first and the last always kept."""
    if len(events) <= max_points:
        return list(events)
    keep = [i * (len(events) - 1) // (max_points - 1) for i in range(max_points)]
    return [events[i] for i in keep]


def record_of(run, number: int) -> RunRecord | None:
    """The light record of a finished `training.TrainingRun`, or None if it has no test result."""
    result = run.result
    if not run.done or result is None or result.evaluation is None:
        return None
    evaluation = result.evaluation
    epochs = [
        {"epoch": e["epoch"], "progress": e.get("progress"), **{k: e.get(k) for k in EPOCH_KEYS}}
        for e in run.epoch_events
    ]
    batches = [
        {"progress": e["progress"], "loss": e.get("loss"), "accuracy": e.get("accuracy")}
        for e in thin(run.batch_events)
    ]
    return RunRecord(
        number=number,
        config=run.config,
        state=run.state,
        epochs=epochs,
        batches=batches,
        accuracy=float(evaluation.accuracy),
        loss=float(evaluation.loss),
        confusion=[[int(n) for n in row] for row in evaluation.confusion],
        seconds=float(result.seconds),
    )


def record_of_description(description: dict, shelf_name: str) -> RunRecord | None:
    """A pretrained model's record, from the description inside its file (its curves, test metrics and
    training time), to rank and draw beside the session's runs; None if it holds no test result."""
    metrics = description.get("metrics") or {}
    if metrics.get("test_accuracy") is None or metrics.get("confusion") is None:
        return None
    try:
        config = TrainConfig.from_dict(description["config"])
    except (KeyError, TypeError, ValueError):  # ConfigError is a ValueError
        return None
    curves = {key: list(description.get("history", {}).get(key) or []) for key in EPOCH_KEYS}
    epochs = [
        {
            "epoch": epoch,
            "progress": float(epoch),
            **{key: values[epoch - 1] if epoch <= len(values) else None for key, values in curves.items()},
        }
        for epoch in range(1, max(map(len, curves.values())) + 1)
    ]
    return RunRecord(
        number=0,
        config=config,
        state="finished",
        epochs=epochs,
        batches=[],  # a file keeps the curves per epoch only
        accuracy=float(metrics["test_accuracy"]),
        loss=float(metrics.get("test_loss", math.nan)),
        confusion=[[int(n) for n in row] for row in metrics["confusion"]],
        seconds=float((description.get("training") or {}).get("seconds", 0.0)),
        shelf=shelf_name,
    )


def add(history: list[RunRecord], record: RunRecord, limit: int = MAX_RUNS) -> None:
    """Append `record`, dropping the oldest runs beyond `limit`."""
    history.append(record)
    del history[: max(0, len(history) - limit)]


def record_finished(state: MutableMapping, run) -> RunRecord | None:
    """Keep `run` in the session's history once it has ended; the new record, or None.

    Every page that may be open when a run ends calls this, so the run is kept wherever the user is.
    """
    if run is None or not run.done or state.get(RECORDED) is run:
        return None
    state[RECORDED] = run
    history = state.setdefault(HISTORY, [])
    record = record_of(run, number=history[-1].number + 1 if history else 1)
    if record is not None:
        add(history, record)
    return record


def by_accuracy(records: list[RunRecord]) -> list[RunRecord]:
    """Best test accuracy first; equal scores keep the order they were trained in."""
    return sorted(records, key=lambda record: -record.accuracy)


def summary(config: TrainConfig) -> str:
    """'MLP 784-64-10 relu adam · lr 0.001 · 2 epochs · 5,000 images': a run's settings in one line."""
    extras = [f"lr {config.learning_rate:g}", f"{config.epochs} epochs", f"{config.train_size:,} images"]
    if config.dropout:
        extras.append(f"dropout {config.dropout:.0%}")
    if config.augment:
        extras.append("augmented")
    return " · ".join([config.label, *extras])


def epochs_trained(record: RunRecord) -> str:
    """'2', or '0.24' for a run stopped a quarter into its first epoch: how far it really got."""
    done = max(
        [len(record.epochs), *(b["progress"] for b in record.batches if b.get("progress") is not None)]
    )
    return f"{done:.0f}" if abs(done - round(done)) < 0.005 else f"{done:.2f}"


def table_rows(records: list[RunRecord]) -> list[dict]:
    """The Compare table as the class reads it: one row per run, best test accuracy first."""
    return [
        {
            "Run": record.number if record.shelf is None else "shelf",
            "Network": glossary.friendly_name(record.config.label),
            "Technical name": record.config.label,
            "Epochs": epochs_trained(record),
            "Learning rate": f"{record.config.learning_rate:g}",
            "Training images": f"{record.config.train_size:,}",
            "Test accuracy": f"{record.accuracy:.2%}",
            "Test loss": f"{record.loss:.3f}",
            "Time": f"{record.seconds:.0f} s",
            "Ended": record.state,
        }
        for record in by_accuracy(records)
    ]


# Exports: the files a student downloads after a run.


def file_stem(config: TrainConfig, number: int | None = None) -> str:
    """'digitlab-mlp-784-64-10-relu-adam-run-2': plain ASCII letters, digits and dashes only."""
    text = f"digitlab {config.label}" + (f" run {number}" if number is not None else "")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def metrics_json(config: TrainConfig, history: dict, evaluation, seconds: float, state: str) -> str:
    """The run's settings, per-epoch curves and test metrics as one JSON document."""
    finite = {key: [v if math.isfinite(v) else None for v in values] for key, values in history.items()}
    document = {
        "config": config.to_dict(),
        "state": state,
        "seconds": round(seconds, 2),
        "history": finite,  # a diverged run's NaN becomes null: strict JSON has no NaN
        **evaluation.summary(),
    }
    return json.dumps(document, indent=1)


def metrics_csv(history: dict, evaluation) -> str:
    """One row per epoch (training and validation loss and accuracy), then the test result."""
    columns = [key for key in EPOCH_KEYS if key in history]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch", *columns])
    for i in range(len(history.get("loss", []))):
        writer.writerow([i + 1, *(history[key][i] for key in columns)])
    test = {"loss": evaluation.loss, "accuracy": evaluation.accuracy}
    writer.writerow(["test", *(test.get(key, "") for key in columns)])
    return out.getvalue()


def png_config(file_name: str) -> dict:
    """A Plotly chart config whose toolbar holds only Plotly's own "Download plot as PNG" button.

    The browser draws the PNG itself: server-side export (kaleido) needs Chrome and the internet.
    """
    return {
        "displayModeBar": True,
        "modeBarButtons": [["toImage"]],
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": file_name, "scale": 2},
    }
