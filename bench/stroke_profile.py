"""Where one stroke's server time goes on the Draw page: a cProfile of the fragment a stroke reruns.

A stroke reruns Draw's `drawing_panel` fragment. This opens Draw in `AppTest` (through app.py, as the
server runs it), hands the canvas `--strokes` drawings one after another (MNIST test digits blown up to
the 280×280 canvas, as `bench/predict_latency.py` makes them) and profiles `drawing_panel` alone, in the
script's thread, on every run after `--warmup` warm-up drawings. The page's other parts (the model box,
the upload) do not rerun on a stroke and are left out. Prints the fragment's time per stroke, then the
functions that cost the most per stroke, by own time and by time including what they call. What the
server does after the script (sending its messages, serving the images) is not in it: `bench/load.py`
measures the whole server.

    python bench/stroke_profile.py [--strokes 40] [--warmup 5] [--top 25]
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import functools
import io
import os
import pstats
import tempfile
import time

import streamlit as st
from _common import machine, percentiles
from predict_latency import canvas_images


class PageWithProfiledFragment:
    """`st.fragment`, but each call of a fragment's function runs under one shared cProfile."""

    def __init__(self):
        self.profile = cProfile.Profile()
        self.calls_ms: list[float] = []
        self.recording = False
        self._fragment = st.fragment

    def __enter__(self):
        st.fragment = self.fragment
        return self

    def __exit__(self, *exc):
        st.fragment = self._fragment

    def fragment(self, func=None, **options):
        if func is None:
            return lambda f: self.fragment(f, **options)

        @functools.wraps(func)
        def profiled(*args, **kwargs):
            if not self.recording:
                return func(*args, **kwargs)
            started = time.perf_counter()
            self.profile.enable()
            try:
                return func(*args, **kwargs)
            finally:
                self.profile.disable()
                self.calls_ms.append((time.perf_counter() - started) * 1000)

        return self._fragment(profiled, **options)


def canvas_message(image) -> dict:
    """The canvas component's value for a drawing, as the browser sends it (tests/apptest.py)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "Path"}]}, "data": data}}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--strokes", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # not a warning per run of AppTest
    os.environ.setdefault("DIGITLAB_DATA_DIR", tempfile.mkdtemp(prefix="stroke-profile-"))

    from streamlit.testing.v1 import AppTest

    from digitlab.app import resources, workarounds
    from digitlab.learn import familiarity
    from tests.apptest import APP

    class Patch:  # settle_pages_guess_in_apptest wants a monkeypatch; this one is never undone
        setattr = staticmethod(setattr)

    workarounds.settle_pages_guess_in_apptest(Patch())
    drawings = [canvas_message(image) for image in canvas_images(args.warmup + args.strokes, seed=1)]
    with PageWithProfiledFragment() as page:
        at = AppTest.from_file(APP, default_timeout=300)
        at.run()
        at.switch_page("pages/draw.py").run()
        for i, drawing in enumerate(drawings):
            page.recording = i >= args.warmup
            at.session_state["canvas"] = drawing
            at.run()
            assert not at.exception, at.exception
            if i == 0:  # the first reading starts fitting the judge in the background: wait for it
                familiarity.familiarity_for(resources.get_default_classifier(), wait=True)
        assert at.metric and at.metric[0].label == "Prediction"

    times = percentiles(page.calls_ms, (50, 95))
    print(f"machine: {machine()}")
    print(
        f"drawing_panel per stroke over {len(page.calls_ms)} strokes: "
        f"p50 {times['p50']:.1f} ms, p95 {times['p95']:.1f} ms (under cProfile, which adds to it)"
    )
    stats = pstats.Stats(page.profile)
    total = stats.total_tt
    print(f"profiled time per stroke: {1000 * total / len(page.calls_ms):.1f} ms")
    strokes = len(page.calls_ms)
    rows = list(stats.stats.items())
    ours = [row for row in rows if ("/digitlab/" in row[0][0] or "/pages/" in row[0][0])]
    tables = (
        ("digitlab's own functions by time including callees", ours, 3),
        ("all functions by own time", rows, 2),
        ("all functions by time including callees", rows, 3),
    )
    for title, chosen, column in tables:
        print(f"\ntop {args.top} {title}, ms per stroke:")
        print(f"{'own':>7} {'incl.':>7} {'calls':>6}  function")
        chosen = sorted(chosen, key=lambda row: row[1][column], reverse=True)
        for (path, line, name), (_, calls, own, incl, _) in chosen[: args.top]:
            where = f"{os.path.relpath(path) if path.startswith('/') else path}:{line}"
            if len(where) > 60:
                where = "…" + where[-59:]
            per_stroke = f"{1000 * own / strokes:7.2f} {1000 * incl / strokes:7.2f} {calls / strokes:6.1f}"
            print(f"{per_stroke}  {name}  {where}")


if __name__ == "__main__":
    main()
