"""A browser's work survives a reload: a token in a cookie, the work in the server's keeper.

The first page a browser opens gets a new token (`classroom.kept.new_token`), which a small Components
v2 component stores in a cookie; the session's work is then kept under it (`remember`). After a reload,
the new session reads the cookie through `st.context.cookies` and takes that work up again (`restore`).
A cookie the keeper does not know (forged, foreign, expired) finds nothing: the page starts fresh, with
a new token of its own. Tokens never appear in URLs, so a share link hands over settings, not work.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import streamlit as st

from digitlab.classroom import kept
from digitlab.data import assets_dir

COOKIE = "digitlab_browser"  # the cookie's name
TOKEN = "browser_token"  # session key: the token of this session's browser
_COMPONENT_KEY = "digitlab_browser"

_cookie = st.components.v2.component(
    "digitlab.browser_cookie",
    js=(assets_dir() / "browser_cookie.js").read_text(),
    css=f".st-key-{_COMPONENT_KEY} {{\n  display: none;\n}}\n",
    isolate_styles=False,
)


@st.cache_resource
def keeper() -> kept.Keeper:
    """This server's kept work: env DIGITLAB_KEEP_MINUTES (default 120) and DIGITLAB_KEEP_MB (1024)."""
    minutes = float(os.environ.get("DIGITLAB_KEEP_MINUTES", kept.TTL_S / 60))
    megabytes = float(os.environ.get("DIGITLAB_KEEP_MB", kept.MAX_BYTES / 2**20))
    return kept.Keeper(ttl_s=minutes * 60, max_bytes=int(megabytes * 2**20))


def token_sent() -> str | None:
    """The token in the cookie this browser sent when the page opened, if any."""
    return st.context.cookies.get(COOKIE)


def restore(claim: Callable[[dict], None]) -> None:
    """Once per session: take up the work kept for this browser's token, or give the browser a new token.

    `claim(work)` runs on work taken up, before the page draws (a running run is handed to this session).
    """
    if TOKEN in st.session_state:
        return
    sent = token_sent()
    work = keeper().find(sent)
    if work is None:
        st.session_state[TOKEN] = kept.new_token()
        return
    st.session_state[TOKEN] = sent
    for key, value in work.items():
        st.session_state[key] = value
    claim(work)


def remember(keys: Iterable[str], size_of: Callable[[object], int]) -> None:
    """Keep this session's values of `keys` for its browser (by reference; `size_of` counts the bytes)."""
    token = st.session_state.get(TOKEN)
    if token is None:
        return
    work = {key: st.session_state[key] for key in keys if key in st.session_state}
    keeper().keep(token, work, sum(size_of(value) for value in work.values()))


def store_token() -> None:
    """Mount the hidden component that stores the session's token in the browser's cookie."""
    token = st.session_state.get(TOKEN)
    if token is not None:
        data = {"name": COOKIE, "token": token, "maxAge": int(keeper().ttl_s)}
        _cookie(key=_COMPONENT_KEY, data=data)
