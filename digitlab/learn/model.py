"""Building, compiling and querying Keras models from a `TrainConfig`.

Models take raw pixels (0-255, shape (N, 28, 28)) and normalise them in their
first layer, so a saved model applies exactly the transform it was trained with.
Every random choice takes its seed from the config: two runs in two threads never
share random state, and the same config gives the same weights.

Keras and TensorFlow are imported inside the functions here, and only here in `learn` besides
`inside`: the Draw page imports `learn.inside`, which imports this module, before the app has
shown its "Loading the network" spinner; the import itself happens in `app.resources.import_tensorflow`.
"""

from __future__ import annotations

import functools

import numpy as np

from digitlab.config import CNN_KERNEL, COSINE_FLOOR, STEP_AT, STEP_DROP, TrainConfig, cnn_filters

HEAD_ACTIVATIONS = {"softmax": "softmax", "sigmoid": "sigmoid", "linear": None}


def normalization_params(x_train: np.ndarray, kind: str) -> dict:
    """The pixel transform of `kind`, fitted on the training images (pixels in [0,1] units)."""
    if kind == "unit":
        return {"kind": "unit", "mean": 0.0, "std": 1.0}
    if kind == "zscore":
        pixels = np.asarray(x_train, dtype=np.float64) / 255.0
        return {"kind": "zscore", "mean": float(pixels.mean()), "std": float(pixels.std())}
    raise ValueError(f"unknown normalization {kind!r}")


def build_model(config: TrainConfig, norm: dict):
    """The network `config` describes; it is not compiled (see `compile_model`)."""
    import keras
    from keras import layers

    seed = config.seed
    # L2 weight decay on every kernel (the biases stay free); None adds nothing to the loss.
    decay = keras.regularizers.L2(config.weight_decay) if config.weight_decay > 0 else None
    inputs = keras.Input(shape=(28, 28), name="pixels")
    # (x/255 - mean) / std, as one affine layer that is saved with the model.
    scale = 1.0 / (255.0 * norm["std"])
    x = layers.Rescaling(scale=scale, offset=-norm["mean"] / norm["std"], name="normalize")(inputs)
    if config.architecture == "cnn":
        x = layers.Reshape((28, 28, 1))(x)
        for i, filters in enumerate(cnn_filters(config)):
            x = layers.Conv2D(
                filters,
                CNN_KERNEL,
                padding="same",
                activation=config.activation,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 50 + i),
                kernel_regularizer=decay,
                name=f"conv{i + 1}",
            )(x)
            if config.batch_norm:  # after the activation, so conv1/conv2 still answer with feature maps
                x = layers.BatchNormalization(name=f"norm{i + 1}")(x)
            x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    for i, units in enumerate(config.hidden_units):
        x = layers.Dense(
            units,
            activation=config.activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed + i),
            kernel_regularizer=decay,
            name=f"hidden{i + 1}",
        )(x)
        if config.dropout > 0:
            x = layers.Dropout(config.dropout, seed=seed + 100 + i, name=f"dropout{i + 1}")(x)
    outputs = layers.Dense(
        10,
        activation=HEAD_ACTIVATIONS[config.head],
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 99),
        kernel_regularizer=decay,
        name="digits",
    )(x)
    return keras.Model(inputs, outputs, name=config.architecture)


def average_members(models: list):
    """One model whose output is the mean of the members' probabilities (an ensemble).

    Each member stays a whole model inside it, named member1, member2, …, so it can be looked inside.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(28, 28), name="pixels")
    for i, member in enumerate(models):
        member.name = f"member{i + 1}"
    outputs = layers.Average(name="digits")([member(inputs) for member in models])
    return keras.Model(inputs, outputs, name="ensemble")


def members_of(model) -> list:
    """The networks an ensemble averages, or [model] for a single network."""
    inner = [layer for layer in model.layers if hasattr(layer, "layers") and layer.name.startswith("member")]
    return inner or [model]


def targets_are_onehot(config: TrainConfig) -> bool:
    # A sigmoid head scores each digit on its own, so it always learns from one-hot targets.
    return config.labels == "onehot" or config.head == "sigmoid"


@functools.cache
def _schedule_class():
    import keras

    @keras.saving.register_keras_serializable(package="digitlab")
    class RunSchedule(keras.optimizers.schedules.LearningRateSchedule):
        """`config.rate_at` inside the graph, batch by batch, whatever the batches per execution."""

        def __init__(self, kind: str, base: float, total_steps: int):
            self.kind, self.base, self.total_steps = kind, float(base), max(int(total_steps), 1)

        def __call__(self, step):
            ops = keras.ops
            done = ops.clip(ops.cast(step, "float32") / float(self.total_steps), 0.0, 1.0)
            if self.kind == "cosine":
                return self.base * (COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + ops.cos(np.pi * done)))
            if self.kind == "step":
                drops = sum(ops.cast(done >= at, "float32") for at in STEP_AT)
                return self.base * ops.power(STEP_DROP, drops)
            return ops.convert_to_tensor(self.base, "float32")

        def get_config(self):
            return {"kind": self.kind, "base": self.base, "total_steps": self.total_steps}

    return RunSchedule


def learning_rate(config: TrainConfig, total_steps: int):
    """The config's learning rate: a number, or its schedule over a run of `total_steps` batches."""
    if config.lr_schedule == "constant" or total_steps <= 0:
        return config.learning_rate
    return _schedule_class()(config.lr_schedule, config.learning_rate, total_steps)


def lay_schedule_over(model, config: TrainConfig, total_steps: int) -> None:
    """A run that trains on: its schedule now spans `total_steps` batches in all (a constant rate stays)."""
    if config.lr_schedule != "constant":
        model.optimizer.learning_rate = learning_rate(config, total_steps)
        model.train_function = None  # traced with the old schedule: model.fit traces it again


def make_optimizer(config: TrainConfig, total_steps: int = 0):
    """The config's optimizer; with a schedule over `total_steps` batches when it has one."""
    import keras

    rate = learning_rate(config, total_steps)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=rate, momentum=config.momentum)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=rate)
    return keras.optimizers.Adam(learning_rate=rate)


def make_loss(config: TrainConfig):
    import keras

    if config.head == "sigmoid":
        return keras.losses.BinaryCrossentropy()
    from_logits = config.head == "linear"
    if targets_are_onehot(config):
        return keras.losses.CategoricalCrossentropy(from_logits=from_logits)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)


def compile_model(model, config: TrainConfig, total_steps: int = 0) -> None:
    import keras

    # Named "accuracy" whatever the head, so the logs read the same for every run.
    if targets_are_onehot(config):
        accuracy = keras.metrics.CategoricalAccuracy(name="accuracy")
    else:
        accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    model.compile(optimizer=make_optimizer(config, total_steps), loss=make_loss(config), metrics=[accuracy])


def outputs_to_probabilities(outputs: np.ndarray, head: str) -> np.ndarray:
    """Turn any head's outputs into 10 probabilities per image that sum to 1."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if head == "linear":
        shifted = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)
    if head == "sigmoid":
        scores = np.clip(outputs, 1e-12, None)
        return scores / scores.sum(axis=-1, keepdims=True)
    return outputs / np.clip(outputs.sum(axis=-1, keepdims=True), 1e-12, None)
