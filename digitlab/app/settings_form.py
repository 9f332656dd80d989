"""The Train page's settings form: every control, its label and help, the preset and the shared link.

The values live in `st.session_state` and in the URL (widget `bind="query-params"`); `app.settings`
turns them into a `TrainConfig` and a link. A run in progress locks the form (`busy`), and classroom
mode shows only the basic controls.
"""

from __future__ import annotations

import functools

import streamlit as st

from digitlab import config, glossary
from digitlab.app import settings

# Each control's label and help text, by the name settings.py gives it; the words are the glossary's.
CONTROLS = {
    "preset": (
        "Start from a preset",
        glossary.explain("preset") + "\n\n"
        "- **Quick demo**: a small simple network (MLP) on 5,000 images, about 10 s of curves to watch.\n"
        "- **Fast 98% (CNN)**: a small shape-spotting network (CNN) on all 60,000 images; it reads 98% "
        "of the test digits right within its first pass, after about 10-15 s of training on two cores, "
        "and its two passes take about 35 s.\n"
        "- **Tutorial 784-128-64-10** and **784-150-50-10**: the simple networks of the classic "
        "tutorials: 784 pixels in, two hidden layers, 10 digits out.\n"
        "- **Best MLP**: two wide layers (512 and 256 units) with dropout, 15 passes: 98.3% of MNIST's "
        "test digits after about 45 s of training on two cores. The pretrained **Best MLP** on the shelf "
        "(Model, on Draw and Confusion) went further: 1024 and 1024 units on bent digits for 60 passes, "
        "20 minutes, 99.3%.\n"
        "- **Robust (for drawings)**: the same, trained on bent and tilted digits, so it reads drawings "
        "better.",
    ),
    "architecture": ("Architecture", glossary.explain("MLP", "CNN")),
    "layers": ("Hidden layers", glossary.explain("hidden layer")),
    "units": (
        "Units in layer {}",
        glossary.explain("unit") + " More units can learn more patterns, but train slower.",
    ),
    "activation": ("Activation", glossary.explain("activation function", "relu", "sigmoid", "tanh", "gelu")),
    "dropout": ("Dropout", glossary.explain("dropout")),
    "head": ("Output layer", glossary.explain("output layer", "softmax", "sigmoid output", "linear")),
    "optimizer": ("Optimizer", glossary.explain("optimizer", "adam", "sgd", "rmsprop")),
    "learning_rate": ("Learning rate", glossary.explain("learning rate")),
    "momentum": ("Momentum", glossary.explain("momentum")),
    "epochs": ("Epochs", glossary.explain("epoch")),
    "batch_size": ("Batch size", glossary.explain("batch")),
    "train_size": ("Training images", glossary.explain("training images")),
    "validation_split": ("Held out for validation", glossary.explain("validation")),
    "normalization": ("Pixel scaling", glossary.explain("normalisation", "[0, 1]", "z-score")),
    "labels": ("Labels", glossary.explain("labels", "sparse", "one-hot")),
    "augment": ("Augment (rotate, shift, warp)", glossary.explain("augment")),
    "lr_schedule": (
        "Learning-rate schedule",
        glossary.explain("learning-rate schedule", "constant", "step", "cosine"),
    ),
    "weight_decay": ("Weight decay (L2)", glossary.explain("weight decay")),
    "filters": (
        "Filters (CNN)",
        glossary.explain("filter") + " This many filters in the first layer, twice as many in the "
        "second. More filters see more kinds of strokes, but train slower.",
    ),
    "batch_norm": ("Batch normalisation (CNN)", glossary.explain("batch normalisation")),
    "members": ("Networks averaged", glossary.explain("ensemble") + " Takes that many times longer."),
    "data": (
        "Learn from",
        "MNIST: 60,000 digits scanned from paper forms. MNIST + pen-drawn digits: also 11,615 digits that "
        "109 people drew with a pen on a tablet, drawn on the canvas as you draw on the Draw page. Every "
        "run is tested on both kinds: MNIST's test digits, and 4,338 pen-drawn digits by 159 other people.",
    ),
    "seed": ("Random seed", glossary.explain("seed")),
}
CLASSROOM = "train_classroom"  # session key: classroom mode, remembered across page switches


def key(name: str) -> str:
    """The control's widget key, which is also its name in the URL."""
    return f"train_{name}"


def shown_as(name: str):
    return functools.partial(settings.label, name)


def classroom_mode() -> bool:
    """Classroom mode from the link (`?classroom=1`/`0`), else as this session had it."""
    on = settings.classroom_mode(st.query_params.get("classroom"), st.session_state.get(CLASSROOM, False))
    st.session_state[CLASSROOM] = on
    return on


def settings_from_link() -> None:
    """On a session's first visit: the link's preset, then the link's own values, fill the controls."""
    names = ("preset", *settings.CONTROL_NAMES)
    params = {name: st.query_params[key(name)] for name in names if key(name) in st.query_params}
    preset, values, unreadable = settings.controls_from_params(params)
    st.session_state[key("preset")] = preset
    for name, value in values.items():
        st.session_state[key(name)] = value
    if unreadable:
        st.toast(f"This link's {', '.join(unreadable)} could not be read: the preset's value is used.")


def apply_preset() -> None:
    """Fill every control from the chosen preset."""
    for name, value in settings.controls_from_config(config.PRESETS[st.session_state[key("preset")]]).items():
        st.session_state[key(name)] = value


def choose(widget, name: str, *label_args, busy: bool, **options):
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


def pick(name: str, options, *label_args, busy: bool, **extra):
    """A select slider over `options`, plus the current value should a preset use another one."""
    options = settings.choices_with(options, st.session_state[key(name)])
    return choose(
        st.select_slider, name, *label_args, busy=busy, options=options, format_func=shown_as(name), **extra
    )


def slide(name: str, busy: bool, **extra):
    low, high = settings.RANGES[name]
    return choose(st.slider, name, busy=busy, min_value=low, max_value=high, **extra)


def follow_the_preset(preset: str) -> None:
    """Classroom mode: every control the class does not see takes the preset's value, whatever a link
    said, so the page trains what it shows (a link's hidden `activation=tanh` once still applied)."""
    for name, value in settings.controls_from_config(config.PRESETS[preset]).items():
        if name not in settings.CLASSROOM_CONTROLS:
            st.session_state[key(name)] = value


def chosen_config() -> config.TrainConfig:
    """The config the controls hold now; raises config.ConfigError."""
    return settings.config_from_controls(
        {name: st.session_state[key(name)] for name in settings.CONTROL_NAMES}
    )


def settings_sidebar(busy: bool, classroom: bool) -> config.TrainConfig | None:
    """The sidebar of settings; the config they describe, or None after showing why it is impossible.

    `busy`: a run trains, so every control is locked. `classroom`: only the basic controls show.
    """
    st.header("Settings")
    preset = choose(st.selectbox, "preset", busy=busy, options=list(config.PRESETS), on_change=apply_preset)
    if classroom and not busy:
        follow_the_preset(preset)
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
            help="Puts every setting back as the preset has it.",
        )
    advanced = not classroom  # classroom mode: the rest follows the preset
    st.subheader("The network")
    if advanced:
        words = shown_as("architecture")
        choose(
            st.radio,
            "architecture",
            busy=busy,
            options=config.ARCHITECTURES,
            format_func=words,
            horizontal=True,
        )
    layers = slide("layers", busy)
    for i in range(layers):
        pick(f"units_{i}", settings.UNIT_CHOICES, i + 1, busy=busy)
    if advanced:
        choose(st.selectbox, "activation", busy=busy, options=config.ACTIVATIONS)
        pick("dropout", (0.0, 0.1, 0.2, 0.3, 0.4, 0.5), busy=busy)
        choose(st.selectbox, "head", busy=busy, options=config.HEADS)
        if st.session_state[key("architecture")] == "cnn":
            pick("filters", config.FILTER_CHOICES, busy=busy)
            choose(st.toggle, "batch_norm", busy=busy)
        slide("members", busy)
    st.subheader("How it learns")
    if advanced:
        choose(st.selectbox, "optimizer", busy=busy, options=config.OPTIMIZERS)
    pick("learning_rate", settings.LEARNING_RATES, busy=busy)
    if advanced:
        choose(st.radio, "lr_schedule", busy=busy, options=config.LR_SCHEDULES, horizontal=True)
        pick("weight_decay", settings.WEIGHT_DECAYS, busy=busy)
    if advanced and st.session_state[key("optimizer")] == "sgd":
        slide("momentum", busy, step=0.01)
    slide("epochs", busy)
    if advanced:
        pick("batch_size", settings.BATCH_SIZES, busy=busy)
        st.subheader("The data")
        learnt_from = shown_as("data")
        choose(st.radio, "data", busy=busy, options=tuple(config.TRAINING_DATA), format_func=learnt_from)
        pick("train_size", settings.TRAIN_SIZES, busy=busy)
        pick("validation_split", (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5), busy=busy)
        scaling = shown_as("normalization")
        choose(
            st.radio,
            "normalization",
            busy=busy,
            options=config.NORMALIZATIONS,
            format_func=scaling,
            horizontal=True,
        )
        choose(st.radio, "labels", busy=busy, options=config.LABEL_ENCODINGS, horizontal=True)
        choose(st.toggle, "augment", busy=busy)
        choose(st.number_input, "seed", busy=busy, min_value=0, max_value=2**31 - 1, step=1)
    try:
        return chosen_config()
    except config.ConfigError as error:
        st.error(f"These settings cannot be trained: {error}")
        return None


def share_link(classroom: bool, container) -> None:
    """A "Share these settings" button in `container`; it opens the link that gives this page these
    settings, in a code box with a copy button."""
    values = {name: st.session_state[key(name)] for name in settings.CONTROL_NAMES}
    query = settings.link_params(st.session_state[key("preset")], values)
    params = {key(name): value for name, value in query.items()} | ({"classroom": "1"} if classroom else {})
    box = container.popover(
        "Share these settings",
        icon=":material/share:",
        help="A link for the class: it opens this page with the settings chosen now.",
        key="train_share",
    )
    box.markdown("**Copy link to these settings**")
    box.code(settings.settings_link(st.context.url or "/train", params), language=None, wrap_lines=True)
    box.caption("It opens this page with the same preset and settings. Add `&classroom=1` for a class.")
