"""Draw's "That isn't a digit": the judge handed to the reading, and what the page shows of it.

The judge is `learn.familiarity`'s, fitted once per model in the background the first time a drawing is
read with it (seconds for a CNN); until it is ready a reading is simply not judged, so the first stroke
is never kept waiting. The wording and the explanation live in `reading`.
"""

import streamlit as st

from digitlab import reading


def judge_for(classifier):
    """The model's judge, or None while it is being fitted (or if this model cannot be judged)."""
    from digitlab.learn import familiarity  # imports TensorFlow, loaded by now for the classifier

    return familiarity.judge(classifier, wait=False)


def show_not_a_digit(answer: reading.Reading) -> None:
    """The plain message and the network's confidence, in the answer's narrow column."""
    st.warning(answer.not_a_digit_message, icon=":material/block:")
    st.caption(f"Its confidence for {answer.digit} is {reading.format_probability(answer.confidence)}.")


def explain_not_a_digit() -> None:
    """Why the network names a digit anyway, full width below the answer (a narrow column made it a
    strip five words wide on a phone)."""
    with st.expander("Why does it still name a digit?", icon=":material/help:"):
        st.markdown(reading.WHY_ALWAYS_A_DIGIT)
