"""The glossary: friendly model names, their hover text, and every Train control's plain-words help."""

import pytest

from digitlab import config, glossary, shelf
from digitlab.app import settings, settings_form


@pytest.mark.parametrize(
    ("technical", "friendly"),
    [
        ("CNN 32c-64c-128-10 relu adam ×2", "Shape-spotting network (CNN), 2 averaged"),
        ("CNN 16c-32c-64-10 BN tanh sgd", "Shape-spotting network (CNN)"),
        ("MLP 784-128-64-10 relu adam", "Simple network, 2 hidden layers: 128 and 64 units"),
        ("784-150-50-10 relu adam", "Simple network, 2 hidden layers: 150 and 50 units"),
        ("MLP 784-64-10 relu adam", "Simple network, 1 hidden layer: 64 units"),
        (
            "MLP 784-256-128-64-10 gelu rmsprop ×3",
            "Simple network, 3 hidden layers: 256, 128 and 64 units, 3 averaged",
        ),
        # What comes around the technical part is kept: a run's number, a fine-tuning's suffix.
        ("Run 2 · MLP 784-64-10 relu adam", "Run 2 · Simple network, 1 hidden layer: 64 units"),
        (
            "CNN 32c-64c-128-10 relu adam ×2 + your handwriting",
            "Shape-spotting network (CNN), 2 averaged + your handwriting",
        ),
    ],
)
def test_a_technical_name_reads_in_words(technical, friendly):
    assert glossary.friendly_name(technical) == friendly


@pytest.mark.parametrize(
    "name", [*(entry.name for entry in shelf.SHELF), "my reader", "Shelf · Best MLP", ""]
)
def test_a_human_name_is_kept_as_it_is(name):
    assert glossary.friendly_name(name) == name  # "Tutorial MLP 784-128-64-10" included: no activation


def test_the_hover_text_gives_the_technical_name_back_decoded():
    text = glossary.technical_help("CNN 32c-64c-128-10 relu adam ×2")
    assert text.startswith("Technical name: CNN 32c-64c-128-10 relu adam ×2")
    for part in ("32 then 64 filters", "128: the units", "10: one answer per digit", "relu:", "adam:", "×2:"):
        assert part in text, part


def test_a_human_name_hovers_with_its_networks_technical_name():
    text = glossary.technical_help("Best MLP", "MLP 784-1024-1024-10 relu adam")
    assert text.startswith("Technical name: MLP 784-1024-1024-10 relu adam")
    assert "784: one input per pixel" in text
    assert glossary.technical_help("my reader") == "Technical name: my reader"  # nothing to decode


def test_look_inside_layer_names_read_in_words():
    assert glossary.layer_title("conv1", "conv") == "Filter layer 1 (conv1)"
    assert glossary.layer_title("hidden2", "dense") == "Hidden layer 2 (hidden2)"
    assert glossary.layer_title("dense_7", "dense") == "dense_7"  # a foreign model's own name


def test_every_train_control_has_help_from_the_glossary():
    names = {"units" if name.startswith("units_") else name for name in settings.CONTROL_NAMES}
    assert names | {"preset"} == set(settings_form.CONTROLS)
    for name, (label, help_text) in settings_form.CONTROLS.items():
        assert label and len(help_text) > 40, name


# Every choice a Train menu shows, and the glossary term that must explain it in that control's help.
SHOWN_CHOICES = {
    "architecture": {"mlp": "MLP", "cnn": "CNN"},
    "activation": {name: name for name in config.ACTIVATIONS},
    "head": {"softmax": "softmax", "sigmoid": "sigmoid output", "linear": "linear"},
    "optimizer": {name: name for name in config.OPTIMIZERS},
    "normalization": {"unit": "[0, 1]", "zscore": "z-score"},
    "labels": {"sparse": "sparse", "onehot": "one-hot"},
    "lr_schedule": {name: name for name in config.LR_SCHEDULES},
}


@pytest.mark.parametrize("control", sorted(SHOWN_CHOICES))
def test_every_choice_of_a_menu_is_explained_in_its_help(control):
    offered = settings.CHOICES[control]
    assert set(offered) == set(SHOWN_CHOICES[control])  # a new choice needs its words too
    help_text = settings_form.CONTROLS[control][1]
    for choice in offered:
        assert glossary.TERMS[SHOWN_CHOICES[control][choice]] in help_text, choice


@pytest.mark.parametrize(
    ("control", "terms"),
    [
        ("seed", ["seed"]),
        ("dropout", ["dropout"]),
        ("epochs", ["epoch"]),
        ("batch_size", ["batch"]),
        ("members", ["ensemble"]),
        ("weight_decay", ["weight decay"]),
        ("filters", ["filter"]),
        ("batch_norm", ["batch normalisation"]),
        ("layers", ["hidden layer"]),
        ("units", ["unit"]),
        ("validation_split", ["validation"]),
    ],
)
def test_a_controls_own_word_is_explained_in_its_help(control, terms):
    for term in terms:
        assert glossary.TERMS[term] in settings_form.CONTROLS[control][1]


def test_the_glossary_is_plain_words():
    """Each explanation is a sentence or two: no term is left empty or explained by itself alone."""
    for term, words in glossary.TERMS.items():
        assert 20 <= len(words) <= 400, term
        assert words.rstrip().endswith((".", ":", "!")), term
