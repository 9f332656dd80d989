"""Each layer imports what it may, checked on the real module list (found, not listed).

Only digitlab.app imports streamlit; the flat modules and digitlab.classroom import neither Keras nor
TensorFlow (so the home page and the CLI's `--help` start fast). import-linter checks the imports as
written (pyproject.toml); this checks what importing actually loads.
"""

import pkgutil
import subprocess
import sys

import digitlab

MODULES = sorted(info.name for info in pkgutil.walk_packages(digitlab.__path__, "digitlab."))
APP = [name for name in MODULES if name == "digitlab.app" or name.startswith("digitlab.app.")]
LEARN = [name for name in MODULES if name == "digitlab.learn" or name.startswith("digitlab.learn.")]
CORE = [name for name in MODULES if name not in APP and name != "digitlab.__main__"]
LIGHT = [name for name in CORE if name not in LEARN]


def loaded_after_import(modules: list[str]) -> set[str]:
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_every_layer_is_found():
    assert {"digitlab.config", "digitlab.cli", "digitlab.estimate", "digitlab.events"} <= set(LIGHT)
    assert {"digitlab.classroom.runs", "digitlab.classroom.board"} <= set(LIGHT)
    assert {"digitlab.learn.model", "digitlab.learn.classifier", "digitlab.learn.fit"} <= set(LEARN)
    assert {"digitlab.app.workarounds", "digitlab.app.state"} <= set(APP)
    assert len(MODULES) >= 30


def test_core_does_not_import_streamlit():
    loaded = loaded_after_import(CORE)
    assert set(CORE) <= loaded
    assert "streamlit" not in loaded


def test_light_modules_do_not_import_tensorflow():
    # The home page, the Draw page's preprocessing and the CLI's start must not pay TensorFlow's start-up.
    loaded = loaded_after_import(LIGHT)
    assert "tensorflow" not in loaded and "keras" not in loaded
