"""Reading a picture: the one path from a drawing, photo or file to an answer, and its wording.

Draw, the photo upload, the CLI and the benchmarks all call `read_image`. It runs the one
preprocessing function, then asks the classifier about the 28×28 result and two slightly rotated
copies and averages the three answers. People tilt their digits more than MNIST's writers did; the
rotated views make the answer steadier at no extra latency, because the three images go through the
model as one batch. The answer (`Reading`) says the digit, the top guesses, and whether it is sure;
the "not sure" threshold and every wording of a probability are written here, once.

A network that knows ten answers must pick one of them for anything, a dash or a letter too, and its
probabilities only say which of the ten. Whether a drawing looks like a digit at all is a second
question, asked of the digits the network learnt (`learn.familiarity`, handed in as `judge`); its
wording, and why it is needed, are written here too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from digitlab.preprocess import PreprocessSteps, preprocess_steps

# Degrees. On all 15,953 UNIPEN drawings the default model reads 97.46 % with these three
# views and 97.34 % with the image alone (bench/drawn_digits.py --views 3 / --views 1).
VIEW_ANGLES = (0.0, -8.0, 8.0)
# Below this probability of the likeliest digit, the answer is "not sure" and names two guesses.
DEFAULT_NOT_SURE_BELOW = 0.6


def top_guesses(probs: np.ndarray, k: int = 2) -> list[tuple[int, float]]:
    """The `k` likeliest digits with their probabilities, likeliest first (ties: smaller digit first)."""
    probs = np.asarray(probs, dtype=float)
    order = np.argsort(-probs, kind="stable")[:k]
    return [(int(d), float(probs[d])) for d in order]


def format_probability(p: float) -> str:
    """'62%', and '<1%' or '>99%' rather than a 0% or 100% the network never quite says."""
    if p < 0.01:
        return "<1%"
    if p > 0.99:
        return ">99%"
    return f"{p:.0%}"


def unsure_message(probs: np.ndarray, threshold: float = DEFAULT_NOT_SURE_BELOW) -> str | None:
    """'Not sure — maybe 4 or 9' when the best probability is under `threshold`, else None."""
    (first, p_first), (second, _) = top_guesses(probs, 2)
    if p_first >= threshold:
        return None
    return f"Not sure — maybe {first} or {second}"


def not_a_digit_message(digit: int) -> str:
    """What the reading says of a drawing unlike every digit the network learnt."""
    return f"That doesn't look like a digit I know — my best guess is {digit}"


# Why the network is "confident" about a dash: for Draw's explanation, in words for a 14-year-old.
WHY_ALWAYS_A_DIGIT = (
    "This network only knows ten answers, 0 to 9, and it must always pick one of them. Its confidence "
    "is about *which of the ten* fits best, not about whether you drew a digit at all: a dash or a "
    "letter still gets a big number, because something has to win. So a second check compares your "
    "drawing with thousands of digits the network learnt from, in the pattern its last layer of "
    "neurons makes of it and in its pixels. When it is far from all of them, we tell you, whatever "
    "the confidence says."
)


def guesses_title(probs: np.ndarray, separator: str = " ") -> str:
    """The two best guesses as a short title, e.g. '9: 62% 4: 30%'."""
    return separator.join(f"{digit}: {format_probability(p)}" for digit, p in top_guesses(probs, 2))


@dataclass(frozen=True)
class Reading:
    """What the model made of one picture: how it was prepared, the probabilities, the answer."""

    steps: PreprocessSteps
    probabilities: np.ndarray  # (10,), sums to 1
    # How unlike every digit the network learnt: above 1, unlike them all; None when not judged.
    strangeness: float | None = None

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    def top(self, k: int = 2) -> list[tuple[int, float]]:
        return top_guesses(self.probabilities, k)

    def is_sure(self, threshold: float = DEFAULT_NOT_SURE_BELOW) -> bool:
        return unsure_message(self.probabilities, threshold) is None

    def unsure_message(self, threshold: float = DEFAULT_NOT_SURE_BELOW) -> str | None:
        return unsure_message(self.probabilities, threshold)

    @property
    def looks_like_a_digit(self) -> bool:
        """False when the drawing is unlike every digit learnt; True too when it was not judged."""
        return self.strangeness is None or self.strangeness <= 1.0

    @property
    def not_a_digit_message(self) -> str | None:
        """'That doesn't look like a digit I know — my best guess is 2', or None for a digit."""
        return None if self.looks_like_a_digit else not_a_digit_message(self.digit)

    @property
    def confidence_text(self) -> str:
        """'Confidence: 97%', as Draw shows a sure answer."""
        return f"Confidence: {format_probability(self.confidence)}"


def views(image: np.ndarray, angles=VIEW_ANGLES) -> np.ndarray:
    """The 28×28 image turned by each angle about its centre, as a batch (len(angles), 28, 28)."""
    picture = Image.fromarray(image)
    turned = [
        image if angle == 0 else np.asarray(picture.rotate(angle, resample=Image.BILINEAR))
        for angle in angles
    ]
    return np.stack(turned)


def predict_views(classifier, image: np.ndarray, angles=VIEW_ANGLES) -> np.ndarray:
    """Mean probabilities over the rotated views of one preprocessed 28×28 image."""
    return classifier.predict_proba(views(image, angles)).mean(axis=0)


def predict_many(classifier, images: np.ndarray, angles=VIEW_ANGLES) -> np.ndarray:
    """(N, 10): `predict_views` for a batch of preprocessed images, in one call to the model."""
    batch = np.concatenate([views(image, angles) for image in images])
    return classifier.predict_proba(batch).reshape(len(images), len(angles), 10).mean(axis=1)


def read_image(classifier, image, angles=VIEW_ANGLES, judge=None) -> Reading:
    """Preprocess any picture (canvas RGBA, upload, file) and read it. Raises NothingToRead when blank.

    `judge`, a function from the preprocessed 28×28 image to its strangeness (`learn.familiarity.judge`),
    says whether it looks like a digit at all; without one, the reading does not say. A judge with a
    `read(views, judged)` method, as `learn.familiarity.Judge` has, predicts too: it gives the views'
    probabilities and the strangeness of `views[judged]` from one forward pass of the network.
    """
    steps = preprocess_steps(image)
    batch = views(steps.centred, angles)
    unturned = [i for i, angle in enumerate(angles) if angle == 0]  # that view is steps.centred itself
    if judge is not None and hasattr(judge, "read") and unturned:
        per_view, strangeness = judge.read(batch, unturned[0])
    else:
        per_view = classifier.predict_proba(batch)
        strangeness = None if judge is None else float(judge(steps.centred))
    return Reading(steps=steps, probabilities=per_view.mean(axis=0), strangeness=strangeness)
