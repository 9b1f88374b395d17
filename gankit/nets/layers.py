"""Custom Keras layers: virtual batch normalisation and the reference-batch plumbing it
needs, the weight-normalised dense layer of the semi-supervised GAN, and the categorical
latent code of an InfoGAN-style generator."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="gankit")
class VirtualBatchNormalization(keras.layers.Layer):
    """Virtual batch normalisation (Salimans et al. 2016, "Improved techniques for training GANs").

    Each example is normalised with statistics of a fixed *reference batch* combined with the
    example itself, so that an example's output never depends on the other examples of its
    batch. The reference batch travels through the network with the data: the first
    ``reference_size`` rows of every input are the reference batch (see `PrependReference`),
    so its activations always come from the current weights, as in the paper.

    For an example ``x`` and reference activations ``r_1..r_R`` (per channel, pooled over the
    spatial axes) the statistics are ``mu = (R * mean(r) + mean(x)) / (R + 1)`` and
    ``var = (R * mean(r^2) + mean(x^2)) / (R + 1) - mu^2``; the output is
    ``gamma * (x - mu) / sqrt(var + epsilon) + beta``. The reference rows themselves are
    normalised with the reference statistics alone (``mean(r)``, ``mean(r^2) - mean(r)^2``),
    as the paper says and its code does, so the reference that feeds the next layer does not
    depend on which of its rows is being normalised.

    Input: (batch, ..., channels) with batch > reference_size. Output: same shape.
    """

    def __init__(self, reference_size: int, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        if int(reference_size) < 1:
            raise ValueError(f"reference_size must be >= 1, got {reference_size}")
        self.reference_size = int(reference_size)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        r = self.reference_size
        spatial = tuple(range(1, len(x.shape) - 1))
        # Per-example first and second moments over the spatial axes: (batch, channels).
        m1 = ops.mean(x, axis=spatial) if spatial else x
        m2 = ops.mean(ops.square(x), axis=spatial) if spatial else ops.square(x)
        ref_m1 = ops.mean(m1[:r], axis=0, keepdims=True)
        ref_m2 = ops.mean(m2[:r], axis=0, keepdims=True)
        ref_var = ref_m2 - ops.square(ref_m1)
        w = 1.0 / (r + 1.0)
        mean = (1.0 - w) * ref_m1 + w * m1
        var = (1.0 - w) * ref_m2 + w * m2 - ops.square(mean)
        # Rows [0, r) are the reference batch: they take its statistics alone.
        is_reference = ops.expand_dims(ops.arange(ops.shape(x)[0]) < r, -1)
        mean = ops.where(is_reference, ref_m1, mean)
        var = ops.maximum(ops.where(is_reference, ref_var, var), 0.0)
        shape = (-1,) + (1,) * len(spatial) + (x.shape[-1],)
        mean = ops.reshape(mean, shape)
        inv = ops.reshape(ops.rsqrt(var + self.epsilon), shape)
        gamma = ops.cast(self.gamma, x.dtype)
        beta = ops.cast(self.beta, x.dtype)
        return (x - mean) * inv * gamma + beta

    def get_config(self):
        return {
            **super().get_config(),
            "reference_size": self.reference_size,
            "epsilon": self.epsilon,
        }


@keras.saving.register_keras_serializable(package="gankit")
class PrependReference(keras.layers.Layer):
    """Prepends a fixed, non-trainable reference batch to every input batch.

    Used in front of a network with `VirtualBatchNormalization` layers. ``reference`` is an
    array of shape (reference_size, *input_shape); it is stored as a weight, so it is saved
    and restored with the model.
    """

    def __init__(self, reference_shape: tuple[int, ...], reference=None, **kwargs):
        super().__init__(**kwargs)
        self.reference_shape = tuple(int(s) for s in reference_shape)
        self._initial = None if reference is None else np.asarray(reference, np.float32)
        if self._initial is not None and self._initial.shape != self.reference_shape:
            raise ValueError(
                f"reference has shape {self._initial.shape}, expected {self.reference_shape}"
            )

    def build(self, input_shape):
        init = keras.initializers.Constant(self._initial) if self._initial is not None else "zeros"
        self.reference = self.add_weight(
            shape=self.reference_shape, initializer=init, trainable=False, name="reference"
        )

    def call(self, inputs):
        ref = ops.cast(self.reference, inputs.dtype)
        return ops.concatenate([ref, inputs], axis=0)

    def get_config(self):
        return {**super().get_config(), "reference_shape": self.reference_shape}


def latent_code(z, n_classes: int):
    """int (batch,): the index of the largest of the first ``n_classes`` entries of each
    noise vector ``z`` (batch, latent_dim) — uniform over the classes for z ~ N(0, I)."""
    return ops.argmax(z[:, :n_classes], axis=-1)


@keras.saving.register_keras_serializable(package="gankit")
class AppendLatentCode(keras.layers.Layer):
    """(batch, latent_dim) noise -> (batch, latent_dim + n_classes): z with the one-hot of
    its `latent_code` appended, so an unconditional G(z) draws from n_classes categories
    that its trainer can read back from z alone."""

    def __init__(self, n_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.n_classes = int(n_classes)

    def call(self, z):
        code = ops.one_hot(latent_code(z, self.n_classes), self.n_classes, dtype=z.dtype)
        return ops.concatenate([z, code], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.n_classes)

    def get_config(self):
        return {**super().get_config(), "n_classes": self.n_classes}


@keras.saving.register_keras_serializable(package="gankit")
class DropReference(keras.layers.Layer):
    """Removes the first ``reference_size`` rows that `PrependReference` added."""

    def __init__(self, reference_size: int, **kwargs):
        super().__init__(**kwargs)
        self.reference_size = int(reference_size)

    def call(self, inputs):
        return inputs[self.reference_size :]

    def get_config(self):
        return {**super().get_config(), "reference_size": self.reference_size}


@keras.saving.register_keras_serializable(package="gankit")
class WeightNormDense(keras.layers.Layer):
    """A dense layer with weight normalisation (Salimans & Kingma 2016): the kernel is
    ``w = g * v / ||v||``, each output unit's column of ``v`` (in_features, units) scaled to
    the norm ``g`` (units,), then ``y = act(x @ w + b)``.

    As in the MNIST networks of Salimans et al. 2016 ("Improved techniques for training
    GANs", their ``nn.DenseLayer``): ``v`` ~ N(0, 0.1), ``g`` = 1, ``b`` = 0, and ``g`` is
    trainable only if ``train_scale`` (their hidden layers keep the scale that
    `initialize_from_data` sets). Input (batch, in_features) -> (batch, units).
    """

    def __init__(self, units: int, activation=None, train_scale: bool = False, **kwargs):
        super().__init__(**kwargs)
        if int(units) < 1:
            raise ValueError(f"units must be >= 1, got {units}")
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.train_scale = bool(train_scale)

    def build(self, input_shape):
        self.v = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer=keras.initializers.RandomNormal(stddev=0.1),
            name="v",
        )
        self.g = self.add_weight(
            shape=(self.units,), initializer="ones", trainable=self.train_scale, name="g"
        )
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def kernel(self):
        """The normalised kernel g * v / ||v|| (in_features, units), norms over axis 0."""
        v = ops.cast(self.v, self.compute_dtype)
        # 1e-12 only keeps an all-zero column finite; N(0, 0.1) columns have norms ~ 1.
        norm = ops.sqrt(ops.sum(ops.square(v), axis=0) + 1e-12)
        return v * ops.cast(self.g, self.compute_dtype) / norm

    def call(self, inputs):
        x = ops.matmul(ops.cast(inputs, self.compute_dtype), self.kernel())
        return self.activation(x + ops.cast(self.b, self.compute_dtype))

    def initialize_from_data(self, inputs) -> None:
        """Data-dependent initialisation: sets ``g`` and ``b`` so that the pre-activations
        of ``inputs`` (batch, in_features) have mean 0 and standard deviation 1 per unit
        (Salimans & Kingma 2016, section 3). Call it once, before training."""
        pre = ops.convert_to_numpy(ops.matmul(ops.cast(inputs, "float32"), self.kernel()))
        mean, std = pre.mean(axis=0), np.sqrt(((pre - pre.mean(axis=0)) ** 2).mean(axis=0))
        std = np.maximum(std, 1e-6)  # a dead unit keeps its scale rather than blow up
        self.g.assign(ops.convert_to_numpy(self.g) / std)
        self.b.assign(-mean / std)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "train_scale": self.train_scale,
        }
