"""Data augmentation and the tf.data input pipeline.

Augmentation makes a model read drawings, not just MNIST: small rotations, shears,
shifts and scalings, elastic warps and stroke-thickness changes. It runs on whole
batches inside tf.data with stateless random ops seeded by (config seed, batch
number), so it is fast, needs no Python loop over images and is reproducible.

Keras and TensorFlow are imported inside the functions here, and only here in `learn` besides
`inside`: the Draw page imports `learn.inside`, which imports this module, before the app has
shown its "Loading the network" spinner; the import itself happens in `app.resources.import_tensorflow`.
"""

from __future__ import annotations

import math

import numpy as np

MAX_ROTATION_DEG = 15.0
MAX_SHEAR = 0.25
SCALE_RANGE = (0.85, 1.12)
MAX_SHIFT_PX = 2.5
ELASTIC_ALPHA_PX = 1.0  # size of the random displacement, in pixels
ELASTIC_GRID = 3  # the displacement field is drawn on a 3×3 grid, then smoothed up to 28×28
THICKEN_P, THIN_P = 0.25, 0.15
# Handwriting conventions MNIST (American writers) rarely shows but many people use:
# continental Europeans put a flag on the 1 (some a foot too) and a bar through the 7, and
# engineers and programmers slash their zeros. A share of those digits gets the extra strokes.
FLAG_ONE_P, FOOT_ONE_P, CROSS_SEVEN_P, SLASH_ZERO_P = 0.45, 0.12, 0.3, 0.3
EXTRA_STROKE_PX = 2.2  # width of the drawn stroke, about MNIST's own


def _affine_transforms(tf, seed, batch: int):
    """Per-image 3×3 maps from output to input pixel coordinates, flattened to 8 numbers."""
    u = tf.random.stateless_uniform((batch, 6), seed=seed, minval=-1.0, maxval=1.0)
    angle = u[:, 0] * (MAX_ROTATION_DEG * math.pi / 180.0)
    shear = u[:, 1] * MAX_SHEAR
    low, high = SCALE_RANGE
    scale_x = low + (high - low) * (u[:, 2] + 1.0) / 2.0
    scale_y = scale_x * (1.0 + 0.08 * u[:, 3])
    shift_x, shift_y = u[:, 4] * MAX_SHIFT_PX, u[:, 5] * MAX_SHIFT_PX
    cos, sin = tf.cos(angle), tf.sin(angle)
    # Inverse of (rotate·shear·scale) about the image centre, then shift.
    a = cos / scale_x
    b = (sin + shear * cos) / scale_x
    c = -sin / scale_y
    d = (cos - shear * sin) / scale_y
    centre = 13.5
    tx = centre - a * (centre + shift_x) - b * (centre + shift_y)
    ty = centre - c * (centre + shift_x) - d * (centre + shift_y)
    zeros = tf.zeros_like(a)
    return tf.stack([a, b, tx, c, d, ty, zeros, zeros], axis=1)


def _bilinear_sample(tf, images, ys, xs):
    """Sample images (B,H,W) at float coordinates (B,H,W); outside is background (0)."""
    batch, height, width = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1]])
    ys = tf.clip_by_value(ys + 1.0, 0.0, tf.cast(height, tf.float32) + 0.999)
    xs = tf.clip_by_value(xs + 1.0, 0.0, tf.cast(width, tf.float32) + 0.999)
    y0, x0 = tf.floor(ys), tf.floor(xs)
    wy, wx = ys - y0, xs - x0
    y0, x0 = tf.cast(y0, tf.int32), tf.cast(x0, tf.int32)
    y1 = tf.minimum(y0 + 1, height + 1)
    x1 = tf.minimum(x0 + 1, width + 1)
    b = tf.broadcast_to(tf.range(batch)[:, None, None], tf.shape(y0))

    def at(yy, xx):
        return tf.gather_nd(padded, tf.stack([b, yy, xx], axis=-1))

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    return top * (1 - wy) + bottom * wy


def _elastic(tf, images, seed):
    batch = tf.shape(images)[0]
    coarse = tf.random.stateless_normal((batch, ELASTIC_GRID, ELASTIC_GRID, 2), seed=seed)
    field = tf.image.resize(coarse, (28, 28), method="bicubic") * ELASTIC_ALPHA_PX
    grid_y, grid_x = tf.meshgrid(tf.range(28.0), tf.range(28.0), indexing="ij")
    return _bilinear_sample(tf, images, grid_y[None] + field[..., 0], grid_x[None] + field[..., 1])


def _thickness(tf, images, seed):
    """Thicken (grey dilation) or thin (grey erosion) a random share of the images."""
    x = images[..., None]
    thick = tf.nn.max_pool2d(x, 2, 1, "SAME")
    thin = -tf.nn.max_pool2d(-x, 2, 1, "SAME")
    # Thinning by a whole pixel can erase MNIST's thin strokes; go half way.
    thin = 0.5 * (x + thin)
    u = tf.random.stateless_uniform((tf.shape(images)[0], 1, 1, 1), seed=seed)
    out = tf.where(u < THICKEN_P, thick, tf.where(u > 1.0 - THIN_P, thin, x))
    return out[..., 0]


def _segment_ink(tf, start, end):
    """Anti-aliased ink (B,28,28) of one straight stroke per image from start to end, (x, y) pairs."""
    grid_y, grid_x = tf.meshgrid(tf.range(28.0), tf.range(28.0), indexing="ij")
    px, py = grid_x[None], grid_y[None]
    x0, y0 = start[:, 0, None, None], start[:, 1, None, None]
    dx, dy = (end - start)[:, 0, None, None], (end - start)[:, 1, None, None]
    t = tf.clip_by_value(((px - x0) * dx + (py - y0) * dy) / tf.maximum(dx * dx + dy * dy, 1e-6), 0.0, 1.0)
    dist = tf.sqrt((px - x0 - t * dx) ** 2 + (py - y0 - t * dy) ** 2)
    return tf.clip_by_value(EXTRA_STROKE_PX / 2 + 0.5 - dist, 0.0, 1.0) * 255.0


def _ink_box(tf, images):
    """Per image: top, bottom, left, right of the ink, and the mean ink column of each row."""
    ink = tf.cast(images > 100.0, tf.float32)
    rows, cols = tf.reduce_max(ink, axis=2), tf.reduce_max(ink, axis=1)
    top = tf.cast(tf.argmax(rows, axis=1), tf.float32)
    bottom = 27.0 - tf.cast(tf.argmax(tf.reverse(rows, [1]), axis=1), tf.float32)
    left = tf.cast(tf.argmax(cols, axis=1), tf.float32)
    right = 27.0 - tf.cast(tf.argmax(tf.reverse(cols, [1]), axis=1), tf.float32)
    row_centre = tf.math.divide_no_nan(
        tf.reduce_sum(ink * tf.range(28.0), axis=2), tf.reduce_sum(ink, axis=2)
    )
    return top, bottom, left, right, row_centre


def add_handwriting_variants(images, labels, seed):
    """Draw a flag on some 1s, a bar through some 7s and a slash through some 0s."""
    import tensorflow as tf

    batch = tf.shape(images)[0]
    u = tf.random.stateless_uniform((batch, 4), seed=seed)
    top, bottom, left, right, row_centre = _ink_box(tf, images)
    height = bottom - top + 1.0
    rows = tf.range(batch)

    # 1: a flag from the top of the stroke, down and to the left.
    top_x = tf.gather_nd(row_centre, tf.stack([rows, tf.cast(top, tf.int32)], axis=1))
    length = height * (0.35 + 0.3 * u[:, 1])
    flag = _segment_ink(
        tf, tf.stack([top_x, top], 1), tf.stack([top_x - 0.75 * length, top + 0.65 * length], 1)
    )
    # 1 (some of the flagged ones): a foot, a short bar across the bottom.
    foot_x = tf.gather_nd(row_centre, tf.stack([rows, tf.cast(bottom, tf.int32)], axis=1))
    foot_half = height * (0.18 + 0.08 * u[:, 2])
    foot = _segment_ink(
        tf, tf.stack([foot_x - foot_half, bottom], 1), tf.stack([foot_x + foot_half, bottom], 1)
    )
    flag_and_foot = tf.maximum(flag, foot)
    # 7: a short bar across the stem, a little below the middle.
    bar_y = top + height * (0.5 + 0.1 * u[:, 1])
    bar_x = tf.gather_nd(row_centre, tf.stack([rows, tf.cast(tf.round(bar_y), tf.int32)], axis=1))
    half = 2.5 + 1.5 * u[:, 2]
    bar = _segment_ink(tf, tf.stack([bar_x - half, bar_y], 1), tf.stack([bar_x + half, bar_y], 1))
    # 0: a slash from beyond the top right to beyond the bottom left.
    overshoot = 1.0 + 2.5 * u[:, 2]
    slash = _segment_ink(
        tf,
        tf.stack([right + overshoot, top - overshoot], 1),
        tf.stack([left - overshoot, bottom + overshoot], 1),
    )

    labels = tf.cast(labels, tf.int32)
    pick = u[:, 0]
    extra = tf.zeros_like(images)
    variants = (
        (1, FLAG_ONE_P, flag),
        (1, FOOT_ONE_P, flag_and_foot),  # checked after the flag, so a foot always comes with one
        (7, CROSS_SEVEN_P, bar),
        (0, SLASH_ZERO_P, slash),
    )
    for digit, share, stroke in variants:
        chosen = tf.logical_and(tf.equal(labels, digit), pick < share)
        extra = tf.where(chosen[:, None, None], stroke, extra)
    return tf.maximum(images, extra)


def augment_batch(images, batch_index, seed: int, labels=None):
    """Augment a float batch (B,28,28) of 0-255 pixels; deterministic in (seed, batch_index)."""
    import tensorflow as tf

    base = tf.stack([tf.cast(seed, tf.int64), tf.cast(batch_index, tf.int64)])
    seeds = [base + tf.constant([0, k * 1_000_003], tf.int64) for k in range(4)]
    if labels is not None:
        images = add_handwriting_variants(images, labels, seeds[3])
    batch = tf.shape(images)[0]
    transforms = _affine_transforms(tf, seeds[0], batch)
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=images[..., None],
        transforms=transforms,
        output_shape=tf.constant([28, 28]),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )[..., 0]
    warped = _elastic(tf, warped, seeds[1])
    warped = _thickness(tf, warped, seeds[2])
    return tf.clip_by_value(warped, 0.0, 255.0)


def _digit_labels(tf, targets):
    """Integer digits from sparse or one-hot targets."""
    if targets.shape.rank == 2:
        return tf.argmax(targets, axis=1, output_type=tf.int32)
    return tf.cast(targets, tf.int32)


class EpochBatches:
    """The training batches of any epoch, from any batch on: a run can stop mid-epoch and go on exactly.

    Epoch `e` sees the images in the order of a permutation seeded by (seed, e), and its batch `j` is
    augmented with seeds (seed, e * steps_per_epoch + j): the same every time it is asked for, so a run
    that pauses, steps and resumes learns from what one run straight through would have learnt from.
    The images stay uint8 in memory; each batch is gathered and cast to float inside tf.data.
    """

    def __init__(self, images: np.ndarray, targets: np.ndarray, batch_size: int, seed: int, augment: bool):
        import tensorflow as tf

        self.images, self.targets = tf.constant(images), tf.constant(targets)
        self.count, self.batch_size = len(images), batch_size
        self.seed, self.augment = seed, augment
        self.steps_per_epoch = -(-self.count // batch_size)

    def epoch(self, epoch: int, skip: int = 0):
        """Batches `skip`, `skip` + 1, … of epoch `epoch` (0-based), as a finite tf.data pipeline."""
        import tensorflow as tf

        which = tf.data.Dataset.from_tensors(tf.constant(epoch, tf.int64))
        cardinality = tf.data.experimental.assert_cardinality(self.steps_per_epoch - skip)
        return self._pipeline(which, skip).apply(cardinality)

    def epochs(self, first: int):
        """One pipeline for every epoch from `first` on, for one `model.fit` call of many epochs.

        Keras reads a dataset afresh each epoch; which epoch it then gets is `self.current`, which
        `LiveProgress` sets as each epoch begins (Keras calls it before it starts reading).
        """
        import tensorflow as tf

        self.current = tf.Variable(first, dtype=tf.int64, trainable=False)
        which = tf.data.Dataset.from_tensors(0).map(lambda _: self.current.read_value())
        return self._pipeline(which, 0).apply(tf.data.experimental.assert_cardinality(self.steps_per_epoch))

    def _pipeline(self, which_epoch, skip: int):
        import tensorflow as tf

        def one_epoch(epoch):
            order = tf.random.experimental.stateless_shuffle(
                tf.range(self.count), seed=tf.stack([tf.constant(self.seed, tf.int64), epoch])
            )
            first = epoch * self.steps_per_epoch + skip
            batches = tf.data.Dataset.from_tensor_slices(order).batch(self.batch_size).skip(skip)
            return tf.data.Dataset.zip((batches, tf.data.Dataset.range(first, first + self.steps_per_epoch)))

        def gather(indices, number):
            images = tf.cast(tf.gather(self.images, indices), tf.float32)
            targets = tf.gather(self.targets, indices)
            if self.augment:
                images = augment_batch(images, number, self.seed, labels=_digit_labels(tf, targets))
            return images, targets

        ds = which_epoch.flat_map(one_epoch)
        return ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(
            tf.data.AUTOTUNE
        )


def make_dataset(images: np.ndarray, targets: np.ndarray, batch_size: int):
    """Batches of float pixels in order, as validation and evaluation read them (training: `EpochBatches`)."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((images, targets)).batch(batch_size)
    ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
