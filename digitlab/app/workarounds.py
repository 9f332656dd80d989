"""Every reach into a private Streamlit or Keras internal, and every page-CSS or shadow-DOM patch.

Each one names the upstream version it targets and why no public API does the job, and has a test in
tests/test_workarounds.py that fails when upstream changes the behaviour it works around, so that it
is removed or mended rather than left silently useless. Checked against streamlit 1.67 (where
`st.App` adds ASGI routes, middleware and lifespan hooks, and `st.context` the request's headers,
cookies, URL and locale: neither tells a script its session id or whether another session's tab is
still open), streamlit-drawable-canvas 0.13 and Keras 3.15.
"""

from __future__ import annotations

import gc

import pandas  # noqa: F401  (see below)
import streamlit as st
from streamlit import runtime
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from digitlab.data import assets_dir

# 1. pandas, imported before any thread can import it (any streamlit version). Imported later by
# TensorFlow in one thread, it would sit half-initialised in sys.modules while plotly, in another
# session's thread, checks `isinstance(value, pandas.Series)`: AttributeError, seen on the Train page
# during a first run. Importing it here, with streamlit, settles it.


def through_router() -> None:
    """2. (streamlit 1.67, `PagesManager.uses_pages_directory`.) Make sure a page runs inside app.py.

    Streamlit takes a folder named pages/ beside app.py as the sign of an old-style multipage app, and
    keeps that guess until app.py has called `st.navigation` once in the process. So on a freshly
    started server, a link straight to /draw would run pages/draw.py alone: no page config, no top
    navigation, and a sidebar listing every file. No public setting turns the guess off (renaming
    pages/ would, but the layout keeps the name). `st.navigation` resets the flag; this resets it the
    same way and reruns through the router, which opens the page that was asked for.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def keep_keras_state(free_memory: bool = True) -> None:
    """Stands in for `keras.backend.clear_session` in the server (see `keep_keras_state_between_runs`)."""


def keep_keras_state_between_runs() -> None:
    """3. (streamlit 1.67 `script_runner._clean_problem_modules`, Keras 3.15.) Call once keras is imported.

    Streamlit calls `keras.backend.clear_session()` after every script run once keras is imported, and
    no option turns that off. It ran a full `gc.collect()` (about 0.3 s over TensorFlow's objects, after
    every 0.5 s poll of the live view: the first batch of a run came after two minutes instead of two
    seconds) and cleared TensorFlow's kernel cache for the whole process, so every prediction rebuilt
    its kernels (43 ms of CPU instead of 2 ms) and every training thread lost its own at each rerun of
    any session. digitlab keeps its models in session state and cache_resource, never in a script's
    globals, so there is nothing for it to clear: it becomes a no-op. `gc.freeze()` also takes the
    objects alive now (the libraries) out of Python's own collections.
    """
    import keras  # the caller has just imported it: this only names it

    keras.backend.clear_session = keep_keras_state
    gc.freeze()


def session_id() -> str | None:
    """4. (streamlit 1.67, `get_script_run_ctx`.) The browser session running this script, or None.

    A run remembers who started it, so that a closed tab frees its training slot; `st.context` has no
    session id in 1.67.
    """
    context = get_script_run_ctx()
    return context.session_id if context else None


def session_is_connected(session_id: str | None) -> bool:
    """5. (streamlit 1.67, `runtime.get_instance().is_active_session`.) Whether a tab is still open.

    Always true outside a server (AppTest). Streamlit tells a script nothing when its tab closes, and
    `st.App`'s lifespan hooks are per server, not per session.
    """
    return session_id is None or not runtime.exists() or runtime.get_instance().is_active_session(session_id)


# 6. (streamlit 1.67 page CSS, test id `stProgress`.) The live view's pictures are a component, not
# st.html, whose sanitiser removes SVG, nor st.image, which the browser must decode anew. Its style stops
# progress bars gliding to each new value while it is on the page: polled two or three times a second,
# that animation alone kept a watching browser drawing continuously, twice the CPU of the rest of the
# live view (bench/live_curves.py). `st.progress` has no option to turn the animation off. The newline
# makes Streamlit read it as CSS: on one line, "[" and "*" would make it a file glob.
NO_PROGRESS_ANIMATION = "[data-testid='stProgress'] * {\n  transition: none !important;\n}\n"
live_pictures = st.components.v2.component(
    "digitlab.live_pictures",
    js=(assets_dir() / "live_pictures.js").read_text(),
    css=NO_PROGRESS_ANIMATION,
    isolate_styles=False,
)

# 7. (streamlit-drawable-canvas 0.13, its shadow root and toolbar titles; streamlit 1.67 test id
# `stBidiComponentIsolated`.) Erase and Clear done in the browser by pressing the canvas's own toolbar
# buttons, and touch strokes under its hidden toolbar let through to the canvas: the component has no
# API for either (assets/canvas_controls.js says why the server-side ways lost strokes).
CANVAS_TOOLBAR_TITLES = ("Undo", "Reset canvas & history")
canvas_controls = st.components.v2.component(
    "digitlab.canvas_controls", js=(assets_dir() / "canvas_controls.js").read_text()
)


def settle_pages_guess_in_apptest(patch) -> None:
    """8. (streamlit 1.67 `AppTest`, `PagesManager.__init__`.) For tests: every AppTest run through app.py.

    AppTest makes Streamlit guess afresh on every script run whether pages/ is an old-style multipage
    folder (it resets the flag of 2.), and then runs the page alone. This settles the guess right after
    Streamlit makes it, as `st.navigation` does. `patch` is pytest's monkeypatch (anything with
    `setattr(target, name, value)`), which puts the original back after the test.
    """
    original = PagesManager.__init__

    def settled(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    patch.setattr(PagesManager, "__init__", settled)


# 9. (streamlit 1.67 test ids, plotly.js as it bundles it.) Made for fingers: touch targets of at least
# 44 px on touch screens (assets/touch.css: Streamlit's buttons, pills, links and help icons are 16-40
# px, and no theme option sizes them), one tap selects a Plotly point (assets/touch.js says why it took
# two), and the phone's page menu closes once a page is chosen (Streamlit 1.67 left it over the page).
# A component, hidden, so its style reaches the whole page and its script runs once per tab; it also
# carries the few layout rules of assets/layout.css.
# 10. (streamlit 1.67 frontend, AppView's sidebar latch; test ids `stSidebar`, `stSidebarUserContent`.)
# With the page links in the top bar (`position="top"`), a page with a sidebar (Train) latches the
# sidebar open, and only a script run that ends with an empty sidebar lets go of it. So on the next page
# without one (Confusion) the previous page's sidebar items go at once, but the empty panel stays open
# for that page's whole run: 20 s on a first visit, while it checks the network. No option turns the
# latch off; this rule, in the same component's style, hides the sidebar while its content is empty,
# unless it holds the page menu (on a phone Streamlit moves the top bar's links into the sidebar).
HIDE_EMPTY_SIDEBAR = (
    "[data-testid='stSidebar']:not(:has([data-testid='stSidebarNav']))"
    ":has([data-testid='stSidebarUserContent'] > div > "
    "[data-testid='stVerticalBlock']:empty) {\n  display: none;\n}\n"
)
touch_fixes = st.components.v2.component(
    "digitlab.touch",
    js=(assets_dir() / "touch.js").read_text(),
    css="".join((assets_dir() / name).read_text() for name in ("touch.css", "layout.css"))
    + HIDE_EMPTY_SIDEBAR,
    isolate_styles=False,
)


def touch_friendly() -> None:
    """Mount the touch fixes of 9. on the page; app.py calls it once, for every page."""
    touch_fixes(key="digitlab_touch")


# 11. (Keras 3.15, `Trainer.train_function`, `test_function`, `predict_function`.) A trained network
# keeps the TensorFlow graphs its fit, evaluate and predict were traced into, several MiB per session
# that trained (bench/memory.py), though a finished run only reads drawings, through its own compiled
# call.
# Keras has no public way to drop them; `make_*_function` traces anew when one is None, so "Train on"
# still works, after a trace.
TRACED_FUNCTIONS = ("train_function", "test_function", "predict_function")


def release_traced_functions(model) -> None:
    """Drop the graphs Keras traced for `model`'s fit, evaluate and predict (11.); it may train again."""
    for name in TRACED_FUNCTIONS:
        if getattr(model, name, None) is not None:
            setattr(model, name, None)
