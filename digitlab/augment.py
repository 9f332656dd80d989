"""Data augmentation and the tf.data input pipeline.

Augmentation makes a model read drawings, not just MNIST: small rotations, shears,
shifts and scalings, elastic warps and stroke-thickness changes. It runs on whole
batches inside tf.data with stateless random ops seeded by (config seed, batch
number), so it is fast, needs no Python loop over images and is reproducible.
"""

from __future__ import annotations

import math

import numpy as np

MAX_ROTATION_DEG = 12.0
MAX_SHEAR = 0.25
SCALE_RANGE = (0.85, 1.12)
MAX_SHIFT_PX = 2.5
ELASTIC_ALPHA_PX = 1.0  # size of the random displacement, in pixels
ELASTIC_GRID = 3  # the displacement field is drawn on a 3×3 grid, then smoothed up to 28×28
THICKEN_P, THIN_P = 0.25, 0.15


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


def augment_batch(images, batch_index, seed: int):
    """Augment a float batch (B,28,28) of 0-255 pixels; deterministic in (seed, batch_index)."""
    import tensorflow as tf

    base = tf.stack([tf.cast(seed, tf.int64), tf.cast(batch_index, tf.int64)])
    seeds = [base + tf.constant([0, k * 1_000_003], tf.int64) for k in range(3)]
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


def make_dataset(
    images: np.ndarray, targets: np.ndarray, batch_size: int, seed: int, *, train: bool, augment: bool
):
    """A batched tf.data pipeline of float pixels; shuffled and optionally augmented when `train`."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((images, targets))
    if train:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE)
    if train and augment:
        # The batch counter keeps augmentations different across batches and epochs.
        counter = tf.data.Dataset.counter()
        ds = tf.data.Dataset.zip((ds, counter)).map(
            lambda xy, i: (augment_batch(xy[0], i, seed), xy[1]),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    return ds.prefetch(tf.data.AUTOTUNE)
