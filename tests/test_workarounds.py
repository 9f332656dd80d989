"""digitlab.app.workarounds: each reach into an internal, and a test that upstream still needs it.

Each test fails when the upstream behaviour a workaround exists for changes (or the internal it uses
goes away): then the workaround is to be removed or mended, not kept out of habit.
"""

import importlib.util
import re
import sys
import types
from pathlib import Path

import pytest
import streamlit as st
from streamlit import runtime
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from digitlab.app import wall_views, workarounds
from tests.apptest import APP, TIMEOUT


def package_dir(name: str) -> Path:
    return Path(importlib.util.find_spec(name).submodule_search_locations[0])


def test_a_pages_folder_beside_the_main_script_is_still_taken_for_an_old_style_app(monkeypatch):
    # 2. through_router: until st.navigation runs, pages/ beside app.py means "old-style multipage app".
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    PagesManager(APP)
    assert PagesManager.uses_pages_directory is True
    assert (Path(APP).parent / "pages").is_dir()


def test_streamlit_still_clears_the_keras_session_after_a_script_run(monkeypatch):
    # 3. keep_keras_state_between_runs: Streamlit calls keras.backend.clear_session() after each run.
    calls = []
    keras = types.SimpleNamespace(backend=types.SimpleNamespace(clear_session=lambda: calls.append(1)))
    monkeypatch.setitem(sys.modules, "keras", keras)
    script_runner._clean_problem_modules()
    assert calls == [1]


def test_a_script_still_cannot_learn_its_session_id_or_another_sessions_presence_publicly():
    # 4 and 5. session_id and session_is_connected: st.context has neither a session id nor a way to
    # ask whether a session is still connected, and the internals these use still exist.
    assert not {"session_id", "session", "is_connected"} & set(dir(type(st.context)))
    assert callable(script_runner.get_script_run_ctx)
    assert callable(runtime.Runtime.is_active_session)
    assert workarounds.session_id() is None  # no script runs here
    assert workarounds.session_is_connected("any tab") is True  # no server runs here


def test_streamlits_progress_bar_still_animates_under_its_test_id():
    # 6. NO_PROGRESS_ANIMATION: the bar glides to each new value (a CSS transition) inside stProgress.
    js = package_dir("streamlit") / "static" / "static" / "js"
    bar = "".join(path.read_text() for path in js.glob("ProgressBar.*.js"))
    element = "".join(path.read_text() for path in js.glob("Progress.*.js"))
    assert "transition:`transform" in bar
    assert "`data-testid`:`stProgress`" in element or '"data-testid":`stProgress`' in element


def test_the_canvas_toolbar_is_still_hidden_but_takes_the_pointer_in_an_isolated_component():
    # 7. canvas_controls: the toolbar is invisible over the canvas and nothing lets the pointer through;
    # its buttons carry the titles the script presses; Streamlit still hosts it in a shadow root.
    build = package_dir("streamlit_drawable_canvas") / "frontend" / "build"
    css = (build / "index-style.css").read_text()
    js = "".join(path.read_text() for path in build.glob("*.js"))
    assert ".dc-toolbar{opacity:0" in css and "pointer-events:none" not in css
    for title in workarounds.CANVAS_TOOLBAR_TITLES:
        assert f'"{title}"' in js
    bidi = "".join(
        path.read_text() for path in (package_dir("streamlit") / "static").rglob("BidiComponent.*.js")
    )
    assert "stBidiComponentIsolated" in bidi
    script = (Path(APP).parent / "assets" / "canvas_controls.js").read_text()
    assert "stBidiComponentIsolated" in script and all(t in script for t in workarounds.CANVAS_TOOLBAR_TITLES)


def test_a_keyed_container_still_sits_in_a_layout_wrapper_with_its_key_as_a_class():
    # 9, assets/layout.css: in a horizontal container Streamlit wraps each child in stLayoutWrapper (the
    # flex item) and names a keyed container by an `st-key-<key>` class; the rule sizes that wrapper.
    # tests/e2e/test_wall_e2e.py checks the result in Chromium (the square's drawings two a row at least).
    js = "".join(path.read_text() for path in (package_dir("streamlit") / "static").rglob("index.*.js"))
    assert '"data-testid":`stLayoutWrapper`' in js and "`st-key-`+" in js
    css = (Path(APP).parent / "assets" / "layout.css").read_text()
    assert f'[data-testid="stLayoutWrapper"]:has(> .st-key-{wall_views.CELL_PANEL})' in css


def test_the_sidebar_is_still_latched_open_while_the_page_links_are_in_the_top_bar():
    # 10. HIDE_EMPTY_SIDEBAR: AppView keeps the sidebar shown once it was (`hideSidebarNav` and a latch,
    # set while shown, cleared by a script-finished handler only when the sidebar is empty), and the
    # sidebar's content sits in stSidebarUserContent > div > stVerticalBlock, the rule's selector.
    js = "".join(path.read_text() for path in (package_dir("streamlit") / "static").rglob("index.*.js"))
    assert "hideSidebarNav" in js and "`stSidebarUserContent`" in js
    assert re.search(r"(\w+)&&(\w+)&&!(\w+)&&(\w+)\(!0\)\},\[\1,\2,\3\]", js)  # the latch's useEffect
    assert re.search(r"useCallback\)\(\(\)=>\{!(\w+)&&(\w+)&&(\w+)\(!1\)\},\[\1,\2\]\)", js)  # release
    assert (
        "stSidebarUserContent'] > div > [data-testid='stVerticalBlock']:empty"
        in workarounds.HIDE_EMPTY_SIDEBAR
    )


@pytest.mark.slow
@pytest.mark.usefixtures("through_the_router")
def test_script_runs_no_longer_clear_tensorflows_caches():
    # 3, in the server: after a page has loaded the model, Streamlit's call finds the no-op.
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/draw.py").run()
    assert not at.exception
    import keras

    assert keras.backend.clear_session is workarounds.keep_keras_state


def test_a_trained_network_keeps_its_traced_functions_where_release_drops_them(tiny_classifier, small_mnist):
    # 11. release_traced_functions: Keras keeps fit's, evaluate's and predict's graphs in these three
    # attributes; once dropped, the network still predicts and trains (Keras traces again).
    import keras

    model = keras.models.clone_model(tiny_classifier.model)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    images, labels = small_mnist.x_train[:64].astype("float32"), small_mnist.y_train[:64]
    model.fit(images, labels, epochs=1, verbose=0)
    model.evaluate(images, labels, verbose=0)
    model.predict(images, verbose=0)
    assert all(getattr(model, name) is not None for name in workarounds.TRACED_FUNCTIONS)
    workarounds.release_traced_functions(model)
    assert all(getattr(model, name) is None for name in workarounds.TRACED_FUNCTIONS)
    assert model.predict(images[:2], verbose=0).shape == (2, 10)
    model.fit(images, labels, epochs=1, verbose=0)
    assert model.train_function is not None
