"""Train: choose a network and how it learns, start it, and watch the loss and accuracy live.

Settings sit in the sidebar and in the URL, so a link hands out a setup (`?classroom=1` keeps only the
basic controls). The run trains in a background thread (digitlab.training.TrainingRun) kept in the
browser session, so the curves survive a visit to the Draw page. A fragment polls it every 0.4 s
while it runs; afterwards the results show, the new network becomes the session's model, the run joins
the session's history for the Compare page, and its model, metrics and charts can be downloaded.
"""

import functools

import streamlit as st

from digitlab import charts, config, data, live_charts, runs, session, ui
from digitlab.training import TrainingRun

# Each control's label and help text, by the name session.py gives it.
CONTROLS = {
    "preset": (
        "Start from a preset",
        "Fills in all the settings below.\n\n"
        "- **Quick demo**: a small MLP on 5,000 images, a few seconds.\n"
        "- **Fast 98% (CNN)**: a small convolutional network on all 60,000 images; it passes 98% test "
        "accuracy within its first epoch, about 15 s on two cores, and finishes in about 30 s.\n"
        "- **Tutorial 784-128-64-10** and **784-150-50-10**: the classic tutorials' MLPs, Adam, 5 epochs.\n"
        "- **Best MLP**: two wide layers with dropout, 15 epochs.\n"
        "- **Robust (for drawings)**: the same, trained on warped digits, so it reads drawings better.",
    ),
    "architecture": ("Architecture", "MLP: dense layers only. CNN: small filters scan the image first."),
    "layers": ("Hidden layers", "Layers of units between the pixels and the ten digits."),
    "units": ("Units in layer {}", "More units learn more patterns but train slower."),
    "activation": ("Activation", "The bend each unit applies to its input."),
    "dropout": ("Dropout", "Units switched off at random in each step, so none is relied on too much."),
    "head": ("Output layer", "softmax: probabilities adding up to 1. sigmoid: a yes/no per digit."),
    "optimizer": ("Optimizer", "How the weights change after each batch. adam adapts its step size."),
    "learning_rate": ("Learning rate", "Size of each step downhill. Too large and the loss explodes."),
    "momentum": ("Momentum", "How much of the previous step carries into the next (sgd only)."),
    "epochs": ("Epochs", "How many times the network sees every training image."),
    "batch_size": ("Batch size", "Images per weight update."),
    "train_size": ("Training images", "Fewer train faster; more generalise better."),
    "validation_split": ("Held out for validation", "Never trained on: the dashed validation curve."),
    "normalization": ("Pixel scaling", "[0, 1]: pixels / 255. z-score: minus their mean, over their spread."),
    "labels": ("Labels", "A digit as one number (sparse) or as ten 0/1 values (one-hot)."),
    "augment": ("Augment (rotate, shift, warp)", "Slower, but reads real handwriting better."),
    "data": (
        "Learn from",
        "MNIST: 60,000 digits scanned from paper forms. MNIST + pen-drawn digits: also 11,615 digits that "
        "109 people drew with a pen on a tablet, drawn on the canvas as you draw on the Draw page. Every "
        "run is tested on both kinds: MNIST's test digits, and 4,338 pen-drawn digits by 159 other people.",
    ),
    "seed": ("Random seed", "The same seed and settings train the same network."),
}
CLASSROOM = "train_classroom"  # session key: classroom mode, remembered across page switches


def key(name: str) -> str:
    """The control's widget key, which is also its name in the URL."""
    return f"train_{name}"


def shown_as(name: str):
    return functools.partial(session.label, name)


def settings_from_link() -> None:
    """On a session's first visit: the link's preset, then the link's own values, fill the controls."""
    names = ("preset", *session.CONTROL_NAMES)
    params = {name: st.query_params[key(name)] for name in names if key(name) in st.query_params}
    preset, values, unreadable = session.controls_from_params(params)
    st.session_state[key("preset")] = preset
    for name, value in values.items():
        st.session_state[key(name)] = value
    if unreadable:
        st.toast(f"This link's {', '.join(unreadable)} could not be read: the preset's value is used.")


def apply_preset() -> None:
    """Fill every control from the chosen preset."""
    for name, value in session.controls_from_config(config.PRESETS[st.session_state[key("preset")]]).items():
        st.session_state[key(name)] = value


def choose(widget, name: str, *label_args, **options):
    """One settings widget: its value lives in the URL, survives page switches, is locked during a run."""
    label, help_text = CONTROLS["units" if name.startswith("units_") else name]
    return widget(
        label.format(*label_args),
        key=key(name),
        help=help_text,
        disabled=busy,
        persist_state="session",
        bind="query-params",
        **options,
    )


def pick(name: str, options, *label_args, **extra):
    """A select slider over `options`, plus the current value should a preset use another one."""
    options = session.choices_with(options, st.session_state[key(name)])
    return choose(st.select_slider, name, *label_args, options=options, format_func=shown_as(name), **extra)


def slide(name: str, **extra):
    low, high = session.RANGES[name]
    return choose(st.slider, name, min_value=low, max_value=high, **extra)


def chosen_config() -> config.TrainConfig:
    """The config the controls hold now; raises config.ConfigError."""
    return session.config_from_controls({name: st.session_state[key(name)] for name in session.CONTROL_NAMES})


def settings() -> config.TrainConfig | None:
    """The sidebar of settings; the config they describe, or None after showing why it is impossible."""
    st.header("Settings")
    preset = choose(st.selectbox, "preset", options=list(config.PRESETS), on_change=apply_preset)
    try:
        changed = chosen_config() != config.PRESETS[preset]
    except config.ConfigError:
        changed = True
    if changed:
        st.button(
            "Back to the preset's settings",
            icon=":material/settings_backup_restore:",
            type="tertiary",
            on_click=apply_preset,
            disabled=busy,
            key="train_reset",
        )
    advanced = not classroom  # classroom mode: the rest follows the preset
    st.subheader("The network")
    if advanced:
        words = shown_as("architecture")
        choose(st.radio, "architecture", options=config.ARCHITECTURES, format_func=words, horizontal=True)
    layers = slide("layers")
    for i in range(layers):
        pick(f"units_{i}", session.UNIT_CHOICES, i + 1)
    if advanced:
        choose(st.selectbox, "activation", options=config.ACTIVATIONS)
        pick("dropout", (0.0, 0.1, 0.2, 0.3, 0.4, 0.5))
        choose(st.selectbox, "head", options=config.HEADS)
    st.subheader("How it learns")
    if advanced:
        choose(st.selectbox, "optimizer", options=config.OPTIMIZERS)
    pick("learning_rate", session.LEARNING_RATES)
    if advanced and st.session_state[key("optimizer")] == "sgd":
        slide("momentum", step=0.01)
    slide("epochs")
    if advanced:
        pick("batch_size", session.BATCH_SIZES)
    st.subheader("The data")
    choose(st.radio, "data", options=tuple(config.TRAINING_DATA), format_func=shown_as("data"))
    if advanced:
        pick("train_size", session.TRAIN_SIZES)
        pick("validation_split", (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5))
        scaling = shown_as("normalization")
        choose(st.radio, "normalization", options=config.NORMALIZATIONS, format_func=scaling, horizontal=True)
        choose(st.radio, "labels", options=config.LABEL_ENCODINGS, horizontal=True)
        choose(st.toggle, "augment")
        choose(st.number_input, "seed", min_value=0, max_value=2**31 - 1, step=1)
    try:
        return chosen_config()
    except config.ConfigError as error:
        st.error(f"These settings cannot be trained: {error}")
        return None


def share_link() -> None:
    """The link that opens this page with these settings, in a code box with a copy button."""
    values = {name: st.session_state[key(name)] for name in session.CONTROL_NAMES}
    query = session.link_params(st.session_state[key("preset")], values)
    params = {key(name): value for name, value in query.items()} | ({"classroom": "1"} if classroom else {})
    st.markdown("**Copy link to these settings**")
    st.code(session.settings_link(st.context.url or "/train", params), language=None, wrap_lines=True)
    st.caption("It opens this page with the same preset and settings. Add `&classroom=1` for a class.")


def live_view(run: TrainingRun, polling: bool) -> None:
    """Progress bar and curves; polled while the run trains, drawn once more when the page reruns."""
    run.drain_events()
    if run.state == "waiting":
        st.info(session.waiting_message(run.queue_position()), icon=":material/hourglass_top:")
    latest = run.batch_events[-1] if run.batch_events else None
    fraction, text = session.progress_summary(latest, run.state)
    if run.stop_event.is_set() and not run.done:
        text += " · stopping after this batch…"
    st.progress(fraction, text=text)
    if polling:  # light pictures while they change; hover and zoom once the run has ended
        events, epochs = (run.batch_events, run.epoch_events), run.config.epochs
        ui.show_live_pictures(
            [live_charts.live_curves_svg(*events, m, epochs) for m in charts.METRICS], "train_live"
        )
    else:
        for column, metric in zip(st.columns(2), charts.METRICS, strict=True):
            figure = charts.training_curves(run.batch_events, run.epoch_events, metric)
            png = runs.png_config(f"{runs.file_stem(run.config)}-{metric}")
            column.plotly_chart(figure, theme=None, key=f"train_{metric}_curve", config=png)
    if polling and run.done:
        st.rerun()  # once: the whole page shows the results and stops polling


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
    elif run.state == "stopped":
        st.info("Stopped early: the weights learned so far are kept, and tested below.")
    ui.show_two_accuracies(result.classifier, evaluation)
    scores = st.columns(2)
    scores[0].metric("Test loss", f"{evaluation.loss:.3f}", border=True)
    scores[1].metric("Training time", session.format_duration(result.seconds), border=True)
    if ui.active_classifier() is result.classifier:
        st.success("Draw and Confusion now use this network.", icon=":material/check_circle:")
        st.button("Switch back to the default model", on_click=ui.use_default_model, key="train_use_default")
    else:
        st.button(
            "Use this network on Draw and Confusion",
            on_click=ui.set_active,
            args=(result.classifier, evaluation),
            key="train_use_mine",
        )
    st.subheader("What it reads on some test images")
    st.caption(
        "Above each image, the digit it read. Its mistakes are framed in red: read, then the true digit."
    )
    picks = session.pick_examples(evaluation.labels, evaluation.predictions, count=20, max_wrong=6)
    read, truth = evaluation.predictions[picks], evaluation.labels[picks]
    titles = [f"{r}" if r == t else f"{r}, is {t}" for r, t in zip(read, truth, strict=True)]
    grid = charts.image_grid(dataset.x_test[picks], titles, columns=10, wrong=list(read != truth))
    st.plotly_chart(grid, theme=None, width="content", config={"displayModeBar": False})
    st.subheader("Confusion matrix")
    st.caption("Rows: the true digit. Columns: what the network read. The Confusion page shows the images.")
    matrix = charts.confusion_matrix_figure(evaluation.confusion)
    png = runs.png_config(f"{runs.file_stem(run.config)}-confusion")
    st.plotly_chart(matrix, theme=None, width=620, key="train_confusion", config=png)
    ui.show_report(evaluation)
    downloads(run)


def downloads(run: TrainingRun) -> None:
    """The trained model, and the run's metrics as CSV and JSON, to keep or hand in."""
    result, stem = run.result, runs.file_stem(run.config)
    st.subheader("Take it with you")
    st.caption(
        "The charts above download as PNG from the camera button at their top right. The model opens "
        "in Keras: `keras.saving.load_model(path)`."
    )
    metrics = (run.config, result.history, result.evaluation, result.seconds, run.state)
    row = st.container(horizontal=True)
    row.download_button(
        "Model (.keras)",
        data=functools.partial(runs.keras_bytes, result.classifier),
        file_name=f"{stem}.keras",
        mime="application/octet-stream",
        icon=":material/download:",
        on_click="ignore",
        key="train_download_model",
    )
    row.download_button(
        "Metrics (.csv)",
        data=runs.metrics_csv(result.history, result.evaluation),
        file_name=f"{stem}-metrics.csv",
        mime="text/csv",
        icon=":material/table:",
        on_click="ignore",
        key="train_download_csv",
    )
    row.download_button(
        "Metrics (.json)",
        data=runs.metrics_json(*metrics),
        file_name=f"{stem}-metrics.json",
        mime="application/json",
        icon=":material/data_object:",
        on_click="ignore",
        key="train_download_json",
    )


ui.through_router()
st.title("Train a network")
dataset = ui.require_dataset()
run = ui.current_run()
busy = run is not None and not run.done
runs.record_finished(st.session_state, run)  # for the Compare page
if key("preset") not in st.session_state:
    settings_from_link()
classroom = st.session_state[CLASSROOM] = session.classroom_mode(
    st.query_params.get("classroom"), st.session_state.get(CLASSROOM, False)
)
with st.sidebar:
    if classroom:
        st.info(
            "Classroom mode: only the basic settings are shown; the others follow the preset.",
            icon=":material/school:",
        )
    train_config = settings()
    share_link()

st.caption("Pick the settings in the sidebar, press Start and watch the network learn.")
controls = st.container(horizontal=True, vertical_alignment="center")
if controls.button(
    "Start training",
    type="primary",
    icon=":material/play_arrow:",
    key="train_start",
    disabled=busy or train_config is None,
):
    ui.start_training(train_config, dataset)
    st.rerun()  # lock the settings and start polling
if controls.button("Stop", icon=":material/stop:", key="train_stop", disabled=not busy):
    run.stop()
free_memory = session.available_memory_bytes()
if train_config is not None and (warning := session.memory_warning(train_config, free_memory)):
    controls.warning(warning, icon=":material/memory:")
if train_config is not None and (warning := session.long_run_warning(train_config)):
    controls.warning(warning, icon=":material/schedule:")
elif train_config is not None:
    controls.caption(f"Takes about {session.format_duration(session.estimate_seconds(train_config))}.")

if run is None:
    st.info("No network trained yet in this session. The Quick demo preset takes about ten seconds.")
else:
    learnt_from = config.TRAINING_DATA[run.config.data]
    size = f"{run.config.train_size:,} images ({learnt_from})"
    st.markdown(f"**{run.config.label}** · {run.config.epochs} epochs on {size}")
    st.fragment(live_view, run_every=0.4 if busy else None)(run, polling=busy)
    if run.done:
        results(run, dataset)

with st.expander("Preview the training images"):
    picks = data.sample_grid_indices(dataset.y_train, per_class=3, seed=1)
    preview = charts.image_grid(dataset.x_train[picks], [str(y) for y in dataset.y_train[picks]], columns=10)
    st.plotly_chart(preview, theme=None, width="content", config={"displayModeBar": False})
