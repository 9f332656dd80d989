"""Wall: the drawings the class sent from Draw, read live, and the confusion matrix of their handwriting.

Made for the projector. The grid and the matrix update by themselves within two seconds of a new
drawing (the `live_wall` fragment); the filter and "Read with" sit outside it, so a menu
being opened is never redrawn under the teacher's finger. With the teacher code, a round's prompt
goes to every Draw page, and the wall can be cleared or downloaded for the Teach page.
"""

import sqlite3

import streamlit as st

from digitlab.app import resources, wall_views, workarounds
from digitlab.app.wall_send import show_prompt
from digitlab.classroom import wall

ALL = "All"


@st.fragment(run_every=wall_views.POLL_S)
def live_wall() -> None:
    try:
        (_, _, round_id), drawings = wall_views.current()
        open_round = wall.current_round() if round_id else None
    except sqlite3.Error as error:
        st.error(f"The class wall is not available right now ({error}). It tries again every second.")
        return
    if open_round is not None:
        show_prompt(open_round.prompt, 3.2)
    choice = st.session_state.get(wall_views.READ_WITH, wall_views.AS_SENT)
    classifier = None if choice == wall_views.AS_SENT else wall_views.reader(choice)
    again = wall_views.reread(classifier, drawings) if classifier is not None and drawings else None
    reads = {d.id: d.read for d in drawings}
    if again is not None:
        reads = {d.id: int(p.argmax()) for d, p in zip(drawings, again, strict=True)}
    digit = st.session_state.get(wall_views.FILTER, ALL)
    shown = [d for d in drawings if digit in (ALL, None) or d.meant == digit]
    wrong = sum(reads[d.id] != d.meant for d in shown)
    if shown:
        newest = f"the newest {wall_views.GRID_TILES} of " if len(shown) > wall_views.GRID_TILES else ""
        st.caption(f"Showing {newest}{len(shown)} drawings, {wrong} read wrong. Green ✓: read as meant.")
    empty = "Nothing on the wall yet: students send drawings from the Draw page."
    if digit not in (ALL, None):
        empty = f"No {digit}s on the wall yet."
    wall_views.show_grid(shown[: wall_views.GRID_TILES], reads, "wall_grid", empty)
    if not drawings:
        return
    st.subheader("The class's confusion matrix")
    as_sent = wall.class_reading(drawings)
    reread = wall.class_reading(drawings, again) if again is not None else None
    wall_views.show_scores(drawings, as_sent, classifier, reread)
    wall_views.class_matrix(reread or as_sent, drawings, reads)


workarounds.through_router()
st.title("Class wall")
show, read_with = st.columns([3, 2], vertical_alignment="bottom")  # one above the other on a phone
show.pills(
    "Show the class's", [ALL, *range(10)], default=ALL, key=wall_views.FILTER, required=True, wrap=True
)
options = wall_views.reader_options()
if st.session_state.get(wall_views.READ_WITH) not in options:
    st.session_state[wall_views.READ_WITH] = wall_views.AS_SENT
read_with.selectbox(
    "Read with",
    list(options),
    format_func=options.__getitem__,
    key=wall_views.READ_WITH,
    help="Re-read every drawing with another model, to see whether the network you just trained reads "
    "the class's handwriting better than the one the students used.",
)
live_wall()
with st.expander("Teacher: run a round", icon=":material/campaign:"):
    if wall_views.teacher_unlocked(resources.teacher_code()):
        try:
            wall_views.round_controls(wall_views.current()[1])
        except sqlite3.Error as error:
            st.error(f"The class wall is not available right now ({error}). Try again in a moment.")
