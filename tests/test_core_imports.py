"""The core must import without streamlit, and light modules without TensorFlow."""

import subprocess
import sys

CORE = [
    "config",
    "data",
    "preprocess",
    "evaluation",
    "charts",
    "storage",
    "training",
    "model",
    "augment",
    "cli",
]


def loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import sys\n" + "".join(f"import digitlab.{m}\n" for m in modules) + "print(' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_core_does_not_import_streamlit():
    assert "streamlit" not in loaded_after_import(CORE)


def test_light_modules_do_not_import_tensorflow():
    # The home page and the Draw page's preprocessing must not pay TensorFlow's start-up.
    loaded = loaded_after_import(["config", "data", "preprocess", "evaluation", "charts", "cli"])
    assert "tensorflow" not in loaded and "keras" not in loaded
