"""The Train page's run: its live progress and curves, then its results and downloads.

The run trains in a background thread (`classroom.runs.TrainingRun`); `live_view` drains its events
and is polled by the page's fragment while it trains. Widgets only: the numbers come from the run.
"""

from __future__ import annotations

import functools

import streamlit as st

from digitlab import charts, curve_charts, data, estimate, events, glossary, image_charts, live_charts
from digitlab.app import state, widgets
from digitlab.app.look_inside import show_weights
from digitlab.classroom import history as runs
from digitlab.classroom.runs import TrainingRun
from digitlab.evaluation import pick_examples
from digitlab.learn.classifier import Classifier, keras_bytes
from digitlab.learn.continuing import can_continue

MORE_EPOCHS = 5  # what "Train on" offers first
# The step buttons of a paused run: label, icon, key, its RunControl method, help.
STEPS = (
    (
        "Step 1 batch",
        ":material/skip_next:",
        "train_step_batch",
        "step_batch",
        "Trains on one more batch of images, then pauses again.",
    ),
    (
        "Step 1 epoch",
        ":material/fast_forward:",
        "train_step_epoch",
        "step_epoch",
        "Trains to the end of this epoch and its validation, then pauses again.",
    ),
)


def run_controls(run: TrainingRun | None, container) -> None:
    """Pause or Resume, and the two Step buttons, beside Start and Stop while a run trains."""
    busy = run is not None and not run.done
    paused = busy and run.control.paused
    if paused:
        container.button(
            "Resume", icon=":material/play_arrow:", key="train_resume", on_click=run.control.resume
        )
    else:
        container.button(
            "Pause",
            icon=":material/pause:",
            key="train_pause",
            disabled=not busy,
            on_click=run.control.pause if busy else None,
            help="Waits after the current batch; the curves and the network stay as they are.",
        )
    for label, icon, key, command, help_text in STEPS:
        container.button(
            label,
            icon=icon,
            key=key,
            disabled=not paused,
            on_click=getattr(run.control, command) if paused else None,
            help=help_text,
        )


def live_view(run: TrainingRun, polling: bool) -> None:
    """Progress bar and curves; polled while the run trains, drawn once more when the page reruns."""
    run.drain_events()
    if run.state == "waiting":
        st.info(events.waiting_message(run.queue_position()), icon=":material/hourglass_top:")
    latest = run.batch_events[-1] if run.batch_events else None
    fraction, text = events.progress_summary(latest, "paused" if run.paused else run.state)
    if not run.done and fraction >= 1:  # the last batch has run: it is being scored
        text += " · checking it on the test images…"
    elif run.stop_event.is_set() and not run.done:
        text += " · stopping, then checking it on the test images…"
    st.progress(fraction, text=text)
    if run.paused:
        paused_panel(run, latest)
    show_rate = run.config.lr_schedule != "constant"
    if polling:  # light pictures while they change; hover and zoom once the run has ended
        sent, epochs = (run.batch_events, run.epoch_events), run.config.epochs
        widgets.show_live_pictures(
            [
                live_charts.live_curves_svg(*sent, m, epochs, show_rate=show_rate)
                for m in curve_charts.METRICS
            ],
            "train_live",
        )
    else:
        for column, metric in zip(st.columns(2), curve_charts.METRICS, strict=True):
            figure = curve_charts.training_curves(
                run.batch_events, run.epoch_events, metric, show_rate=show_rate
            )
            png = runs.png_config(f"{runs.file_stem(run.config)}-{metric}")
            column.plotly_chart(figure, theme=None, key=f"train_{metric}_curve", config=png)
    if polling and run.done:
        st.rerun()  # once: the whole page shows the results and stops polling


def paused_panel(run: TrainingRun, latest) -> None:
    """What a paused run says, and the button that lets Draw read with the network as it is now."""
    st.info(events.paused_message(latest, run.control.seconds_left()), icon=":material/pause_circle:")
    row = st.container(horizontal=True, vertical_alignment="center")
    tried = state.tried_paused_step(run)
    row.button(
        "Try it on Draw" if tried is None else "Try it now instead",
        icon=":material/draw:",
        key="train_try_paused",
        disabled=latest is None or tried == latest["step"],
        on_click=state.try_paused_model,
        args=(run,),
    )
    if tried is not None:
        row.page_link(
            "pages/draw.py",
            label=f"Draw reads with it as it was after batch {tried:,}: open Draw",
            icon=":material/arrow_forward:",
        )
    section = st.expander(
        "Look inside it now: the first layer's weights",
        icon=":material/grid_view:",
        key="train_paused_inside",
        on_change="rerun",
    )
    if section.open and run.control.model is not None:  # closed: nothing drawn while it polls
        with section:
            st.caption("Step it and watch the weights change: each step nudges every one of them a little.")
            show_weights(Classifier(model=run.control.model, config=run.config.replace(members=1)))


def train_on(run: TrainingRun, dataset: data.Dataset) -> None:
    """Continue a finished run for more epochs, its curves going on from where they ended."""
    done = run.result.epochs_done
    reason = can_continue(run.result.classifier) or (
        "It has trained the most epochs a run may have." if done >= 200 else None
    )
    row = st.container(horizontal=True, vertical_alignment="bottom")
    more = row.number_input(
        "More epochs",
        min_value=1,
        max_value=max(1, 200 - done),
        value=min(MORE_EPOCHS, max(1, 200 - done)),
        key="train_more_epochs",
        disabled=reason is not None,
        width=160,
        help=glossary.explain("epoch"),
    )
    if row.button(
        "Train on",
        icon=":material/redo:",
        key="train_on",
        disabled=reason is not None,
        help=reason or "Trains this network more with the same settings; its curves go on from here.",
    ):
        state.continue_training(run, int(more), dataset)
        st.rerun()


def results(run: TrainingRun, dataset: data.Dataset) -> None:
    """What the finished run learned: score, a sample of its answers, the per-digit report."""
    if run.state == "failed":
        st.error(f"Training failed: {run.error}")
        return
    if run.result is None:
        st.info("Stopped before training began.")
        return
    result, evaluation = run.result, run.result.evaluation
    if run.state == "diverged":
        st.error(
            "The loss exploded, so training stopped. The learning rate is too high for this network: "
            "every step overshoots the valley it should walk down into. The last good weights were "
            "kept. Try a learning rate ten times smaller.",
            icon=":material/error:",
        )
    elif run.state == "stopped" and run.control.timed_out:
        limit = estimate.format_duration(run.control.pause_limit)
        st.info(
            f"Paused for more than {limit}, so the run stopped by itself to free its training slot for "
            "others. The weights learned so far are kept, and tested below; Train on goes on from them.",
            icon=":material/timer_off:",
        )
    elif run.state == "stopped":
        st.info("Stopped early: the weights learned so far are kept, and tested below.")
    widgets.show_two_accuracies(result.classifier, evaluation)
    train_on(run, dataset)
    scores = st.columns(2)
    scores[0].metric("Test loss", f"{evaluation.loss:.3f}", border=True, help=glossary.explain("test loss"))
    scores[1].metric(
        "Training time",
        estimate.format_duration(result.seconds),
        border=True,
        help="How long it took to learn, on this server.",
    )
    if state.active_classifier() is result.classifier:
        st.success("Draw and Confusion now use this network.", icon=":material/check_circle:")
        st.button(
            "Switch back to the default model",
            on_click=state.use_default_model,
            key="train_use_default",
            help="Draw and Confusion read with the ready-made default network again.",
        )
    else:
        st.button(
            "Use this network on Draw and Confusion",
            on_click=state.set_active,
            args=(result.classifier, evaluation),
            key="train_use_mine",
            help="Draw and Confusion then read with the network you have just trained.",
        )
    st.subheader("What it reads on some test images")
    st.caption(
        "Above each image, the digit it read. Its mistakes are framed in "
        f"{image_charts.MISTAKE_COLOUR_NAME}, their label in it too: read, then the true digit."
    )
    picks = pick_examples(evaluation.labels, evaluation.predictions, count=20, max_wrong=6)
    read, truth = evaluation.predictions[picks], evaluation.labels[picks]
    titles = [f"{r}" if r == t else f"{r}, is {t}" for r, t in zip(read, truth, strict=True)]
    grid = image_charts.image_grid(dataset.x_test[picks], titles, columns=10, wrong=list(read != truth))
    st.plotly_chart(grid, theme=None, width="content", config={"displayModeBar": False})
    st.subheader("Confusion matrix")
    st.caption(
        f"Rows: the true digit. Columns: what the network read: {charts.colour_name(charts.RIGHT_COLOUR)} "
        f"squares right, {charts.colour_name(charts.MISTAKE_COLOUR)} ones mistakes. The Confusion page "
        "shows the images."
    )
    matrix = charts.confusion_matrix_figure(evaluation.confusion)
    png = runs.png_config(f"{runs.file_stem(run.config)}-confusion")
    st.plotly_chart(matrix, theme=None, width=620, key="train_confusion", config=png)
    widgets.show_report(evaluation)
    downloads(run)


def downloads(run: TrainingRun) -> None:
    """The trained model, and the run's metrics as CSV and JSON, to keep or hand in."""
    result, stem = run.result, runs.file_stem(run.config)
    st.subheader("Take it with you")
    st.caption(
        "The charts above download as PNG from the camera button at their top right. The model is one "
        "file, its settings and scores inside: Draw's “Use a model file” takes it back, "
        "`python -m digitlab evaluate FILE.keras` tests it, and Keras opens it "
        "(`keras.saving.load_model(path)`)."
    )
    metrics = (run.config, result.history, result.evaluation, result.seconds, run.state)
    row = st.container(horizontal=True)
    row.download_button(
        "Model (.keras)",
        data=functools.partial(keras_bytes, result.classifier),
        file_name=f"{stem}.keras",
        mime="application/octet-stream",
        icon=":material/download:",
        on_click="ignore",
        key="train_download_model",
        help="The trained network in one file: keep it, hand it in, or load it again on Draw.",
    )
    row.download_button(
        "Metrics (.csv)",
        data=runs.metrics_csv(result.history, result.evaluation),
        file_name=f"{stem}-metrics.csv",
        mime="text/csv",
        icon=":material/table:",
        on_click="ignore",
        key="train_download_csv",
        help="Its loss and accuracy after every epoch, then on the test digits, for a spreadsheet.",
    )
    row.download_button(
        "Metrics (.json)",
        data=runs.metrics_json(*metrics),
        file_name=f"{stem}-metrics.json",
        mime="application/json",
        icon=":material/data_object:",
        on_click="ignore",
        key="train_download_json",
        help="Its settings, its curves and its scores in one file, for a program to read.",
    )
