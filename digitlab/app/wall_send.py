"""The class wall on the Draw page: the teacher's round prompt, and "Send to the class wall".

The prompt (`round_banner`) is read again at every stroke, inside the drawing's fragment, and when the
page opens: a timer of its own on every student's page (one rerun every few seconds each) interrupted
the strokes' own runs under load (bench/load.py --wall), and a prediction then never came. A drawing
goes to the wall (`classroom.wall`) with the digit the student meant, the reading and an optional
nickname; the same drawing sent twice is stored once. The digit and the nickname are kept from drawing
to drawing, also while Clear hides the panel (Streamlit forgets a widget's value once it is gone).
"""

from __future__ import annotations

import html
import sqlite3

import numpy as np
import streamlit as st

from digitlab import reading
from digitlab.app import state
from digitlab.classroom import board, wall

MEANT = "wall_meant"  # the digit the student meant (the widget's key)
NICKNAME = "wall_nickname"
KEPT = {MEANT: "wall_meant_kept", NICKNAME: "wall_nickname_kept"}  # the same, kept while the panel is hidden
ROUND_SEEN = "wall_round_seen"  # the round whose digit was last put in MEANT
SENT = "wall_sent"  # (digest of the drawing, Sent, message) of the last send


def show_prompt(prompt: str, size_rem: float) -> None:
    """The round's prompt, large: plain text (a teacher's words are never markup)."""
    badge = (
        f"font-size:{size_rem * 0.45:.2f}rem;font-weight:700;letter-spacing:.08em;color:#fff;"
        "background:#0b3c8c;border-radius:6px;padding:.15em .5em;margin-right:.5em;vertical-align:middle"
    )
    st.html(
        f'<div role="status" style="font-size:{size_rem}rem;font-weight:700;line-height:1.15;color:#0b3c8c">'
        f'<span style="{badge}">ROUND</span>{html.escape(prompt)}</div>'
    )


def open_round() -> wall.Round | None:
    try:
        return wall.current_round()
    except sqlite3.Error:
        return None  # the banner is a nicety: a busy or missing database must not break Draw


def choose_meant(digit: int) -> None:
    """Make `digit` the one meant (a round's digit, a correction), before the panel's widgets are drawn."""
    st.session_state[MEANT] = st.session_state[KEPT[MEANT]] = digit


def keep(key: str) -> None:
    st.session_state[KEPT[key]] = st.session_state[key]


def round_banner() -> None:
    """The open round's prompt, large, and its digit as the one meant when the round is new."""
    current = open_round()
    if current is None:
        return
    show_prompt(current.prompt, 2.0)
    if current.digit is not None and st.session_state.get(ROUND_SEEN) != current.id:
        st.session_state[ROUND_SEEN] = current.id
        choose_meant(current.digit)


def drawing_key(answer: reading.Reading, canvas: np.ndarray) -> tuple[np.ndarray, bytes, str]:
    pixels = answer.steps.centred
    thumbnail = wall.thumbnail(canvas)
    return pixels, thumbnail, wall.digest(pixels, thumbnail)


def send(answer: reading.Reading, canvas: np.ndarray) -> None:
    """The button's callback: put the drawing on the wall, and say so under it."""
    meant = st.session_state.get(MEANT)
    pixels, thumbnail, key = drawing_key(answer, canvas)
    name, metrics = state.active_model_label()
    try:
        sent = wall.send(
            pixels,
            meant,
            answer.probabilities,
            thumbnail,
            nickname=st.session_state.get(NICKNAME),
            model=name,
            mnist=metrics.get("test_accuracy"),
        )
    except board.BoardError as error:
        st.session_state[SENT] = (key, None, str(error))
    except sqlite3.Error as error:
        st.session_state[SENT] = (key, None, f"The class wall is not available right now ({error}).")
    else:
        verdict = "read right" if meant == answer.digit else f"read as a {answer.digit}"
        message = (
            f"On the class wall: your {meant}, {verdict}." if sent.new else "This one is on the wall already."
        )
        st.session_state[SENT] = (key, sent, message)


def send_panel(answer: reading.Reading, canvas: np.ndarray) -> None:
    """Which digit you meant, an optional nickname and "Send to the class wall"; a line confirms it."""
    for key, kept in KEPT.items():  # back after Clear hid the panel
        if key not in st.session_state and kept in st.session_state:
            st.session_state[key] = st.session_state[kept]
    with st.container(border=True, key="wall_send"):
        st.markdown("**Send to the class wall**: only the drawing, the digit and your nickname are shown.")
        st.pills(  # pills wrap on a phone, where ten segments do not fit
            "The digit you meant",
            range(10),
            key=MEANT,
            required=True,
            on_change=keep,
            args=(MEANT,),
            wrap=True,
        )
        st.text_input(
            "Nickname (optional)",
            max_chars=board.MAX_NICKNAME,
            placeholder="e.g. Ada",
            key=NICKNAME,
            on_change=keep,
            args=(NICKNAME,),
        )
        st.button(
            "Send to the class wall",
            icon=":material/send:",
            key="wall_send_button",
            on_click=send,
            args=(answer, canvas),
            disabled=st.session_state.get(MEANT) is None,
        )
        last = st.session_state.get(SENT)
        if last and last[0] == drawing_key(answer, canvas)[2]:
            _, sent, message = last
            if sent is None:
                st.error(message)
            elif sent.new:
                st.success(message, icon=":material/check_circle:")
            else:
                st.info(message)
        elif st.session_state.get(MEANT) is None:
            st.caption("Pick the digit you meant to send this drawing.")
