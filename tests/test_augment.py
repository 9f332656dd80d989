import numpy as np
import tensorflow as tf

from digitlab.learn.augment import (
    EpochBatches,
    _segment_ink,
    add_handwriting_variants,
    augment_batch,
    make_dataset,
)


def test_augmentation_is_reproducible_and_keeps_images_in_range(small_mnist):
    x = tf.constant(small_mnist.x_train[:64].astype("float32"))
    y = tf.constant(small_mnist.y_train[:64].astype("int32"))
    first = augment_batch(x, tf.constant(3, tf.int64), 11, labels=y).numpy()
    again = augment_batch(x, tf.constant(3, tf.int64), 11, labels=y).numpy()
    other_batch = augment_batch(x, tf.constant(4, tf.int64), 11, labels=y).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other_batch)
    assert first.shape == (64, 28, 28) and first.min() >= 0 and first.max() <= 255
    # Small transforms keep most of the ink: total brightness stays within a factor of two.
    ratio = first.sum(axis=(1, 2)) / small_mnist.x_train[:64].sum(axis=(1, 2))
    assert 0.5 < np.median(ratio) < 2.0


def test_a_segment_is_inked_along_its_line_only():
    ink = _segment_ink(tf, tf.constant([[4.0, 10.0]]), tf.constant([[20.0, 10.0]])).numpy()[0]
    assert ink[10, 4:21].min() == 255  # on the line
    assert ink[10, 25] == 0 and ink[3, 12] == 0  # beyond its end, and far above it
    assert ink[:, 12].sum() < 255 * 4  # about two pixels wide


def test_variants_touch_only_ones_sevens_and_zeros(small_mnist):
    x = tf.constant(small_mnist.x_train[:400].astype("float32"))
    labels = small_mnist.y_train[:400].astype("int32")
    out = add_handwriting_variants(x, tf.constant(labels), tf.constant([1, 2], tf.int64)).numpy()
    changed = np.any(out != x.numpy(), axis=(1, 2))
    assert set(labels[changed]) <= {0, 1, 7}
    assert changed[labels == 1].any() and not changed[labels == 1].all()
    # Strokes are only ever added.
    assert (out >= x.numpy()).all()


def test_pipeline_batches_and_sizes(small_mnist):
    ds = make_dataset(small_mnist.x_train[:100], small_mnist.y_train[:100], 32)
    sizes = [int(x.shape[0]) for x, _ in ds]
    assert sizes == [32, 32, 32, 4]


def test_an_epoch_goes_on_exactly_from_any_batch(small_mnist):
    data = EpochBatches(small_mnist.x_train[:100], small_mnist.y_train[:100].astype("int32"), 32, 3, True)
    assert data.steps_per_epoch == 4
    whole = [(x.numpy(), y.numpy()) for x, y in data.epoch(2)]
    rest = [(x.numpy(), y.numpy()) for x, y in data.epoch(2, skip=2)]
    assert [len(y) for _, y in whole] == [32, 32, 32, 4]
    for (x1, y1), (x2, y2) in zip(whole[2:], rest, strict=True):  # same images, same warps
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(x1, x2)
    other = [y.numpy() for _, y in data.epoch(3)]
    assert not all(np.array_equal(a, b) for a, b in zip(other, [y for _, y in whole], strict=True))
    seen = np.concatenate([y for _, y in whole])
    assert sorted(seen) == sorted(small_mnist.y_train[:100])  # every image once an epoch
