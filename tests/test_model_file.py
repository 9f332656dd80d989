"""A model as one .keras file, both ways: downloaded, used by the command line alone, uploaded back.

The models are tiny and untrained (tests/tiny_models.py): nearest-centroid readers, whose accuracy
numpy counts on its own, so every path a model file takes is checked against that reference.
"""

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from digitlab import modelfile
from digitlab.classroom import history
from digitlab.cli import EXIT_OK, main
from digitlab.config import PRESETS
from digitlab.learn import inside, uploaded
from digitlab.learn.classifier import keras_bytes, load_classifier, save_classifier
from digitlab.learn.uploaded import load_uploaded
from digitlab.modelfile import EMBEDDED_NAME, ModelFileError
from tests.test_cli import write_digit_pngs
from tests.tiny_models import centroid_accuracy, digitlab_classifier, foreign_model

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def reader(mnist):
    return digitlab_classifier(mnist)


@pytest.fixture(scope="module")
def reference(mnist):
    """The nearest-centroid reader's accuracy on MNIST's 10,000 test images, counted by numpy."""
    return centroid_accuracy(mnist)


def accuracy_of(classifier, dataset) -> float:
    return float((classifier.predict_proba(dataset.x_test).argmax(axis=1) == dataset.y_test).mean())


def keras_file(model, tmp_path, name="model.keras") -> bytes:
    model.save(tmp_path / name)
    return (tmp_path / name).read_bytes()


def refusal(data: bytes, name: str = "mine.keras") -> str:
    """The message `load_uploaded` refuses `data` with: one line, no traceback."""
    with pytest.raises(ModelFileError) as refused:
        load_uploaded(data, name)
    message = str(refused.value)
    assert "\n" not in message and "Traceback" not in message and len(message) < 250
    return message


# One file, both ways


def test_the_download_alone_is_evaluated_and_read_by_the_command_line(
    reader, mnist, reference, tmp_path, capsys
):
    path = tmp_path / "download.keras"
    path.write_bytes(keras_bytes(reader))
    assert [p.name for p in tmp_path.iterdir()] == ["download.keras"]  # nothing beside it

    assert main(["evaluate", str(path), "--json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["test_images"] == 10_000
    assert report["test_accuracy"] == pytest.approx(reference, abs=1e-3)  # float32 vs float64 near-ties

    files = [str(tmp_path / "pngs" / name) for name in write_digit_pngs(tmp_path / "pngs", mnist)]
    assert main(["predict", str(path), *files]) == EXIT_OK
    assert len(capsys.readouterr().out.splitlines()) == len(files)


def test_the_download_uploads_back_as_it_was(reader, mnist, reference, tmp_path):
    classifier, notes = load_uploaded(keras_bytes(reader), "download.keras")
    assert notes == []  # a digitlab model: nothing was assumed
    assert classifier.name == "nearest mean" and classifier.config == reader.config
    assert classifier.test_accuracy == 0.8123  # its metrics came inside the file
    assert accuracy_of(classifier, mnist) == pytest.approx(reference, abs=1e-3)


def test_the_description_is_an_entry_keras_loads_past(reader, tmp_path):
    import keras

    path = save_classifier(reader, tmp_path / "one")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.keras"]  # no sidecar, no temporary file
    with zipfile.ZipFile(path) as archive:
        assert EMBEDDED_NAME in archive.namelist()
        assert json.loads(archive.read(EMBEDDED_NAME))["config"] == reader.config.to_dict()
    # Keras's own loader, safe mode on, reads past the extra entry: a download opens in plain Keras.
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(model(images), reader.model(images), atol=1e-6)


def test_reading_the_description_needs_no_tensorflow(reader, tmp_path):
    path = save_classifier(reader, tmp_path / "one")
    code = (
        "import sys\nfrom pathlib import Path\nfrom digitlab import modelfile\n"
        f"print(modelfile.read_metadata(Path({str(path)!r}))['name'])\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.splitlines() == ["nearest mean", "False False"], out.stderr[-2000:]


def test_the_command_lines_out_also_writes_a_readable_copy(reader, tmp_path):
    path = save_classifier(reader, tmp_path / "cli", sidecar=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.json", "cli.keras"]
    with zipfile.ZipFile(path) as archive:
        assert json.loads((tmp_path / "cli.json").read_text()) == json.loads(archive.read(EMBEDDED_NAME))


def test_an_old_pair_still_loads(reader, mnist, reference, tmp_path):
    reader.model.save(tmp_path / "old.keras")  # as save_classifier wrote models before: a bare archive
    (tmp_path / "old.json").write_text(json.dumps(reader.metadata))
    loaded = load_classifier(tmp_path / "old.keras")
    assert loaded.name == "nearest mean" and loaded.config == reader.config
    assert accuracy_of(loaded, mnist) == pytest.approx(reference, abs=1e-3)
    # The shipped default model is such a pair.
    assert modelfile.read_metadata(modelfile.DEFAULT_MODEL_PATH)["format"] == modelfile.FORMAT


def test_the_description_inside_wins_over_a_file_beside_it(reader, tmp_path):
    path = save_classifier(reader, tmp_path / "mine")
    (tmp_path / "mine.json").write_text(json.dumps({**reader.metadata, "name": "a stale one"}))
    assert modelfile.read_metadata(path)["name"] == "nearest mean"
    assert load_classifier(path).name == "nearest mean"


def test_a_bare_keras_file_says_what_it_lacks(reader, tmp_path):
    reader.model.save(tmp_path / "bare.keras")
    with pytest.raises(ModelFileError, match="holds no digitlab description, and there is no bare.json"):
        load_classifier(tmp_path / "bare.keras")


def test_the_download_name_is_a_safe_file_name():
    for config in [*PRESETS.values(), PRESETS["Quick demo"].replace(members=3)]:
        name = f"{history.file_stem(config)}.keras"  # run_views' download name
        assert modelfile.safe_filename(name) == name


# A foreign Keras model


@pytest.mark.parametrize("channel", [False, True])
def test_a_foreign_model_gets_pixels_scaled_to_0_1(channel, mnist, reference, tmp_path):
    data = keras_file(foreign_model(mnist, channel=channel), tmp_path)
    classifier, notes = load_uploaded(data, "tutorial net.keras")
    assert "0–1" in notes[0] and "scores, not probabilities" in notes[1]
    assert classifier.name == "tutorial_net" and classifier.config.head == "linear"
    # Fed raw 0–255 pixels instead, its scores would favour the inkiest means: far from the reference.
    assert accuracy_of(classifier, mnist) == pytest.approx(reference, abs=1e-3)


def test_a_foreign_model_with_its_own_rescaling_gets_raw_pixels(mnist, reference, tmp_path):
    data = keras_file(foreign_model(mnist, rescaling=True), tmp_path)
    classifier, notes = load_uploaded(data, "scales.keras")
    assert "Rescaling layer of its own" in notes[0]
    assert accuracy_of(classifier, mnist) == pytest.approx(reference, abs=1e-3)


def test_look_inside_sees_a_foreign_models_own_layers(mnist, tmp_path):
    data = keras_file(foreign_model(mnist, channel=True, hidden=True), tmp_path)
    classifier, _ = load_uploaded(data, "deep.keras")
    image = mnist.x_test[0]
    view = inside.look_inside(classifier, image)
    assert [(layer.name, layer.kind) for layer in view.layers] == [("seen", "dense")]
    # The identity layer answers with the image itself, in 0–1 pixels: the scaling sits in front of it.
    np.testing.assert_allclose(view.layers[0].values, image.reshape(-1) / 255.0, atol=1e-6)
    assert inside.first_layer_weights(classifier)[1].shape == (784, 784)


def test_a_foreign_model_uploaded_then_downloaded_is_a_digitlab_model(mnist, tmp_path):
    classifier, _ = load_uploaded(keras_file(foreign_model(mnist), tmp_path), "tutorial.keras")
    again, notes = load_uploaded(keras_bytes(classifier), "tutorial.keras")
    assert notes == [] and again.metadata["foreign"] == {"pixels": "0–1 assumed"}
    images = mnist.x_test[:50]
    np.testing.assert_allclose(again.predict_proba(images), classifier.predict_proba(images), atol=1e-6)


# What is refused, and why


def test_a_truncated_file_is_refused(reader):
    data = keras_bytes(reader)
    assert "incomplete" in refusal(data[: len(data) // 2])


def test_a_file_that_is_no_zip_is_refused():
    assert "not a Keras model: a .keras file is a zip archive" in refusal(b"\x89PNG\r\n\x1a\n not a model")
    assert "old HDF5 format" in refusal(b"\x89HDF\r\n\x1a\n" + bytes(100), "mine.h5")


def test_a_zip_that_is_no_keras_model_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("holiday.jpg", b"not a model")
    assert "has no config.json" in refusal(buffer.getvalue())


def test_a_lambda_layer_is_refused_by_safe_mode(tmp_path):
    import keras

    inputs = keras.Input((28, 28))
    outputs = keras.layers.Lambda(lambda x: keras.ops.sum(x, axis=2)[:, :10])(inputs)
    message = refusal(keras_file(keras.Model(inputs, outputs), tmp_path))
    assert "Python code (a Lambda layer)" in message and "safe mode never runs code" in message


def test_a_model_of_5000_classes_is_refused(tmp_path):
    import keras

    model = keras.Sequential(
        [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(8), keras.layers.Dense(5000)]
    )
    message = refusal(keras_file(model, tmp_path))
    assert "gives 5,000 numbers per image" in message and "10, one per digit" in message


def test_a_model_of_other_images_is_refused(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    assert "expects inputs shaped 32 × 32 × 3" in refusal(keras_file(model, tmp_path))


def test_a_file_too_large_is_refused_before_it_is_opened():
    data = b"PK\x03\x04" + bytes(modelfile.MAX_UPLOAD_BYTES)
    assert f"at most {modelfile.MAX_UPLOAD_MB} MB" in refusal(data)


def test_an_archive_that_unpacks_to_too_much_is_refused(reader, monkeypatch):
    data = keras_bytes(reader)
    monkeypatch.setattr(uploaded, "MAX_UNPACKED_BYTES", len(data) // 2)
    assert "would unpack to more than" in refusal(data)


def test_a_damaged_description_is_refused(reader):
    source, damaged = zipfile.ZipFile(io.BytesIO(keras_bytes(reader))), io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        for entry in source.namelist():
            archive.writestr(entry, b"{" if entry == EMBEDDED_NAME else source.read(entry))
    assert "metadata is not valid JSON" in refusal(damaged.getvalue())


def test_the_name_in_a_message_is_made_safe():
    message = refusal(b"not a model", "../../[click](http://x)\n.keras")
    assert "/" not in message.split(" is not")[0] and "[" not in message and "\n" not in message
