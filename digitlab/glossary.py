"""Plain words for the app's terms, and friendly names for its networks.

`TERMS` explains every piece of jargon the pages show (a control, a column, a figure's label) once, in
words a 14-year-old knows; the pages take their help texts from it (`explain`), so a term reads the same
everywhere. `friendly_name` turns a technical model name, 'CNN 32c-64c-128-10 relu adam ×2', into one a
class reads, 'Shape-spotting network (CNN), 2 averaged'; `technical_help` is the hover text that gives the
technical name back, decoded. No streamlit here: it is tested without a browser.
"""

from __future__ import annotations

import re

TERMS = {
    # The two kinds of network
    "MLP": "A simple network (MLP, multi-layer perceptron): every pixel is wired to every unit of the "
    "first layer, and each layer to the next. It looks at the whole picture at once.",
    "CNN": "A shape-spotting network (CNN, convolutional neural network): small filters slide over the "
    "picture looking for little shapes, like edges and curves, before it decides which digit it sees. "
    "Usually the best kind for pictures.",
    # The network's parts
    "hidden layer": "A row of units between the picture and the answer. Nobody tells them what to look "
    "for: they work it out while the network learns.",
    "unit": "One tiny calculator in a layer: it multiplies each of its inputs by a weight, adds them up "
    "and passes the result on.",
    "filter": "A small square of weights, 3×3 pixels here, slid over the whole picture to find one kind "
    "of shape wherever it is.",
    "feature map": "The picture as one filter sees it: bright where the filter found its shape, dark "
    "where it did not. One feature map per filter.",
    "activation": "How strongly a unit (or a spot of a feature map) answers: 0 is silent, bigger is louder.",
    "activation function": "What each unit does with its total before passing it on. Without this "
    "bend, many layers could learn no more than one.",
    "relu": "relu keeps positive totals and turns negative ones into 0.",
    "sigmoid": "sigmoid squeezes any total in between 0 and 1.",
    "tanh": "tanh squeezes any total in between −1 and 1.",
    "gelu": "gelu is a smoother relu.",
    "dropout": "While it learns, this share of units is switched off at random at every step, so the "
    "network cannot lean on any single one. It then does better on new digits. 0% is off.",
    "batch normalisation": "Rescales each filter's answers at every step so they stay in a steady "
    "range: learning is often faster and steadier.",
    "ensemble": "Several networks trained one after another, each from its own seed, that vote by "
    "averaging their answers: each makes different mistakes, so together they make fewer.",
    # The output layer
    "output layer": "The last layer: ten units, one for each digit. How it turns their scores into an "
    "answer:",
    "softmax": "softmax turns the ten scores into chances that add up to 100%, so the digits compete: "
    "one going up pushes the others down.",
    "sigmoid output": "sigmoid gives each digit its own yes-or-no chance, from 0 to 100%, on its own: "
    "the ten need not add up to 100%.",
    "linear": "linear keeps the ten raw scores, without squeezing them; the biggest score wins, and the "
    "app turns them into chances only to show them.",
    # How it learns
    "optimizer": "The rule for changing the weights after each batch, to make the loss smaller.",
    "adam": "adam changes the size of its step for each weight by itself: a good first choice.",
    "sgd": "sgd (stochastic gradient descent) takes the same size of step for every weight.",
    "rmsprop": "rmsprop, like adam, takes smaller steps for weights that jump about.",
    "learning rate": "How big a step the weights take each time. Too small: it learns very slowly. Too "
    "big: it overshoots and the loss explodes.",
    "learning-rate schedule": "Whether the step size stays the same all along or shrinks as it learns.",
    "constant": "constant: the same step size all along.",
    "step": "step: a tenth of the step size from half-way, a hundredth from three quarters.",
    "cosine": "cosine: big steps first, then smaller and smaller ones, so the network settles into its "
    "best weights at the end. The live loss chart draws the step size.",
    "momentum": "How much of the last step carries into the next, like a ball rolling downhill (sgd only).",
    "weight decay": "A fine for big weights, added to the loss: the network prefers small weights, "
    "learns the examples by heart less and does better on new digits. Too big and it cannot learn.",
    "epoch": "One pass through every training image. More epochs: it sees each image more times.",
    "batch": "How many images it looks at before each change of its weights.",
    "loss": "A score of how wrong the network is: 0 would be perfect, smaller is better. It is what "
    "learning pushes down.",
    "test loss": "The loss on the 10,000 test digits, which it never learnt from: how wrong it is on "
    "new digits. Smaller is better.",
    "seed": "The number that picks the random starting weights and the shuffling of the images. The "
    "same seed and the same settings train exactly the same network; another seed gives a slightly "
    "different one.",
    # The data
    "training images": "The pictures it learns from. Fewer learn faster; more learn better.",
    "validation": "Training images kept aside and never learnt from: the dashed curve shows how it "
    "does on them while it learns, a warning when it starts learning by heart.",
    "normalisation": "How the pixels' brightness (0 to 255) is turned into numbers for the network:",
    "[0, 1]": "[0, 1] divides each pixel by 255, so black is 0 and white is 1.",
    "z-score": "z-score shifts the pixels so the average one is 0, then divides by how much they "
    "spread, so most land between −1 and 1 and the network starts learning faster.",
    "labels": "How the right answer is written down for the network:",
    "sparse": "sparse writes the digit as one number: 7.",
    "one-hot": "one-hot writes ten 0/1 boxes, one per digit, with a 1 in the right one: 7 is "
    "0 0 0 0 0 0 0 1 0 0. Both teach the same thing.",
    "augment": "Each training image is tilted, shifted and bent a little at random, so the network "
    "sees more kinds of handwriting. Slower, but it reads drawings better.",
    "preset": "A ready-made set of settings: pick one and every control below is filled in.",
    # The results
    "precision": "Precision: of the images it called this digit, how many really were. Low means it "
    "says this digit too often.",
    "recall": "Recall: of the images of this digit, how many it found. Low means it often misses this digit.",
    "F1": "F1 mixes precision and recall into one number: it is high only when both are.",
    "support": "How many test images of this digit there are.",
    "macro avg": "macro avg: the plain average of the ten digits' scores, each digit counting the same.",
    "weighted avg": "weighted avg: the average where a digit with more test images counts more.",
    "saliency": "Which pixels pushed the network towards its answer.",
}


def explain(*terms: str) -> str:
    """The explanations of `terms`, one paragraph each, as a help text."""
    return "\n\n".join(TERMS[term] for term in terms)


# The two forms of `config.TrainConfig.label`; the MLP's older form had no 'MLP ' in front.
_MLP = re.compile(
    r"(?<![\w-])(?:MLP )?784-(?P<hidden>\d+(?:-\d+)*)-10 (?P<act>\w+) (?P<opt>\w+)(?: ×(?P<n>\d+))?"
)
_CNN = re.compile(
    r"(?<![\w-])CNN (?P<first>\d+)c-(?P<second>\d+)c-(?P<hidden>\d+(?:-\d+)*)-10(?P<bn> BN)? "
    r"(?P<act>\w+) (?P<opt>\w+)(?: ×(?P<n>\d+))?"
)


def _technical(name: str) -> re.Match | None:
    """The technical model name inside `name` ('Run 2 · MLP 784-64-10 relu adam'), if there is one."""
    return _CNN.search(name) or _MLP.search(name)


def _in_words(numbers: list[str]) -> str:
    """'128', '128 and 64', '256, 128 and 64'."""
    return numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]


def friendly_name(name: str) -> str:
    """A model name with its technical part in words; a name without one (a shelf model's, a file's own
    name) as it is.

    'MLP 784-128-64-10 relu adam' → 'Simple network, 2 hidden layers: 128 and 64 units';
    'CNN 32c-64c-128-10 relu adam ×2' → 'Shape-spotting network (CNN), 2 averaged'. What comes before
    or after it ('Run 2 · …', '… + your handwriting') is kept.
    """
    match = _technical(name)
    if match is None:
        return name
    if match.re is _CNN:
        words = "Shape-spotting network (CNN)"
    else:
        hidden = match["hidden"].split("-")
        layers = f"{len(hidden)} hidden layer{'s' * (len(hidden) > 1)}"
        words = f"Simple network, {layers}: {_in_words(hidden)} units"
    if match["n"] and int(match["n"]) > 1:
        words += f", {match['n']} averaged"
    return name[: match.start()] + words + name[match.end() :]


def technical_help(name: str, label: str | None = None) -> str:
    """The hover text of a model's name: its technical name and what each part of it means.

    `label` is the network's own technical name (`TrainConfig.label`), for a `name` without one ('Best
    MLP', a file's own name); a `name` with one is used as it is.
    """
    if label is not None and _technical(name) is None:
        name = label
    text = f"Technical name: {name}"
    match = _technical(name)
    if match is None:
        return text
    if match.re is _CNN:
        parts = [
            f"{match['first']}c-{match['second']}c: two filter layers, {match['first']} then "
            f"{match['second']} filters",
            f"{match['hidden']}: the units of each hidden layer",
        ]
        parts += ["BN: batch normalisation"] if match["bn"] else []
    else:
        parts = ["784: one input per pixel (28×28)", f"{match['hidden']}: the units of each hidden layer"]
    parts += [
        "10: one answer per digit",
        f"{match['act']}: the activation function",
        f"{match['opt']}: the optimizer",
    ]
    if match["n"]:
        parts.append(f"×{match['n']}: that many networks averaged (an ensemble)")
    return text + "\n\n" + "\n".join(f"- {part}" for part in parts)


def layer_title(name: str, kind: str) -> str:
    """A look-inside layer's name in words: 'conv1' → 'Filter layer 1 (conv1)', 'hidden2' → 'Hidden
    layer 2 (hidden2)'; any other name as it is."""
    if match := re.fullmatch(r"(conv|hidden)(\d+)", name):
        return f"{'Filter' if kind == 'conv' else 'Hidden'} layer {match[2]} ({name})"
    return name
