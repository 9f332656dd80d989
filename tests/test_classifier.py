import json
import zipfile

import numpy as np
import pytest

from digitlab.learn.classifier import load_classifier, save_classifier
from digitlab.modelfile import ModelFileError, safe_filename
from tests.tiny_models import stored_numbers


def test_save_and_load_give_the_same_predictions(tiny_classifier, small_mnist, tmp_path):
    path = save_classifier(tiny_classifier, tmp_path / "run1", sidecar=True)
    assert path.name == "run1.keras" and (tmp_path / "run1.json").exists()
    loaded = load_classifier(path)
    images = small_mnist.x_test[:20]
    np.testing.assert_allclose(loaded.predict_proba(images), tiny_classifier.predict_proba(images), atol=1e-6)
    assert loaded.config == tiny_classifier.config
    meta = json.loads((tmp_path / "run1.json").read_text())
    assert {"config", "normalization", "history", "metrics", "dataset", "versions"} <= set(meta)
    # No temporary files are left behind by the atomic writes.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run1.json", "run1.keras"]


def test_a_file_without_the_optimizer_holds_the_weights_alone(tiny_classifier, small_mnist, tmp_path):
    # 784-32-10: 784·32 + 32 weights and biases, then 32·10 + 10. Adam keeps two numbers per weight.
    weights = 784 * 32 + 32 + 32 * 10 + 10
    full = save_classifier(tiny_classifier, tmp_path / "full")
    slim = save_classifier(tiny_classifier, tmp_path / "slim", include_optimizer=False)
    assert stored_numbers(full)["layers"] == weights and stored_numbers(full)["optimizer"] >= 2 * weights
    assert stored_numbers(slim) == {"layers": weights}
    assert slim.stat().st_size < full.stat().st_size / 2
    loaded = load_classifier(slim)
    images = small_mnist.x_test[:20]
    np.testing.assert_allclose(loaded.predict_proba(images), tiny_classifier.predict_proba(images), atol=1e-6)
    # The layers keep their names (look-inside finds them by name), and the description travels.
    names = [layer.name for layer in tiny_classifier.model.layers]
    assert [layer.name for layer in loaded.model.layers] == names
    assert loaded.config == tiny_classifier.config
    assert loaded.test_accuracy == pytest.approx(tiny_classifier.test_accuracy)
    assert tiny_classifier.model.optimizer is not None  # the model saved is left as it was


def test_single_image_and_batch_agree(tiny_classifier, small_mnist):
    image = small_mnist.x_test[7]
    single = tiny_classifier.predict_proba(image)
    batch = tiny_classifier.predict_proba(small_mnist.x_test[:100])
    assert single.shape == (10,)
    np.testing.assert_allclose(single, batch[7], atol=1e-5)


def test_missing_corrupt_and_foreign_files_give_clear_errors(tiny_classifier, tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        load_classifier(tmp_path / "nothing.keras")
    (tmp_path / "garbage.keras").write_bytes(b"this is not a zip")
    with pytest.raises(ModelFileError, match="not a Keras"):
        load_classifier(tmp_path / "garbage.keras")

    tiny_classifier.model.save(tmp_path / "good.keras")  # a bare archive: its description is beside it
    (tmp_path / "good.json").write_text('{"format": "something-else"}')
    with pytest.raises(ModelFileError, match="not a digitlab model"):
        load_classifier(tmp_path / "good.keras")

    save_classifier(tiny_classifier, tmp_path / "broken", sidecar=True)
    with zipfile.ZipFile(tmp_path / "hollow.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    (tmp_path / "hollow.json").write_text((tmp_path / "broken.json").read_text())
    with pytest.raises(ModelFileError, match="could not load"):
        load_classifier(tmp_path / "hollow.keras")


def test_a_lambda_layer_is_refused_by_safe_mode(tiny_classifier, tmp_path):
    import keras

    inputs = keras.Input((28, 28))
    outputs = keras.layers.Lambda(lambda x: keras.ops.sum(x, axis=2)[:, :10])(inputs)
    keras.Model(inputs, outputs).save(tmp_path / "evil.keras")
    save_classifier(tiny_classifier, tmp_path / "template", sidecar=True)
    (tmp_path / "evil.json").write_text((tmp_path / "template.json").read_text())
    with pytest.raises(ModelFileError, match="could not load"):
        load_classifier(tmp_path / "evil.keras")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("my net.keras", "my_net.keras"),
        ("../../etc/passwd", "etc_passwd"),
        ("..\\..\\Windows\\system.ini", "Windows_system.ini"),
        ("／etc／passwd", "etc_passwd"),  # full-width slashes
        ("a\x00b\x1f.keras", "a_b_.keras"),
        ("Zoë 数字", "Zoë_数字"),
        (".hidden", "hidden"),
        ("--help", "help"),
        ("NUL.keras", "_NUL.keras"),
        ("", "untitled"),
        ("..", "untitled"),
        ("/", "untitled"),
        (" \t\n", "untitled"),
    ],
)
def test_safe_filename_keeps_a_readable_name_and_nothing_more(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize(
    "name",
    ["../" * 50 + "x", "/etc/passwd", "a/../../b", "\x00", "x" * 10_000, "数" * 1_000, "..\x00/..", "~"],
)
def test_a_sanitised_name_stays_one_file_inside_its_folder(name, tmp_path):
    safe = safe_filename(name)
    assert safe and len(safe.encode()) <= 255 and "\x00" not in safe
    path = (tmp_path / safe).resolve()
    assert path.parent == tmp_path.resolve()
    path.write_text("ok")  # the file system accepts it
    assert [p.name for p in tmp_path.iterdir()] == [safe]
