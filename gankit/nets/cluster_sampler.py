"""An unconditional generator made of a conditional one and the frequencies of its classes:
what a self-conditioned GAN (`gankit.data.clusters`) is sampled with.

`cluster_sampler(generator, frequencies)` is a Keras model noise (batch, latent_dim) ->
images: `ClusterFromNoise` reads a class from the first noise coordinate, drawn with the
given frequencies, and replaces that coordinate by a fresh standard normal one, so the
noise G sees is independent of the class, as in training. Everything that takes an
unconditional generator (evaluation, grids, interpolation) takes the result as it is, and
it is saved and loaded as one model.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from gankit.nets.sampling import is_conditional, latent_dim_of

_EDGE = 1e-6
"""Keeps the within-class uniform away from 0 and 1, where the normal quantile is infinite."""


@keras.saving.register_keras_serializable(package="gankit")
class ClusterFromNoise(keras.layers.Layer):
    """noise (batch, d) -> [noise' (batch, d), class (batch,) int32].

    With u = Phi(noise[:, 0]) (uniform on (0, 1); Phi the standard normal CDF), the class is
    c with F[c-1] <= u < F[c] (F the cumulative ``frequencies``), so class c comes with
    probability ``frequencies[c]``; noise'[:, 0] = Phi^-1((u - F[c-1]) / frequencies[c]),
    again standard normal and independent of c; the other coordinates pass unchanged.
    """

    def __init__(self, frequencies: Sequence[float], **kwargs):
        super().__init__(**kwargs)
        freq = np.asarray(frequencies, np.float64)
        if freq.ndim != 1 or len(freq) < 1 or (freq <= 0).any():
            raise ValueError(f"frequencies must be a 1-D list of positive numbers, got {freq}")
        self.frequencies = [float(f) for f in freq / freq.sum()]

    def call(self, noise):
        noise = ops.cast(noise, "float32")
        freq = ops.convert_to_tensor(np.asarray(self.frequencies, np.float32))
        upper = ops.cumsum(freq)
        u = 0.5 * (1.0 + ops.erf(noise[:, 0] / np.sqrt(2.0)))
        below = ops.cast(ops.expand_dims(u, -1) >= upper[:-1], "int32")
        classes = ops.sum(below, axis=-1)
        lower = ops.take(ops.concatenate([ops.zeros((1,)), upper[:-1]]), classes)
        within = ops.clip((u - lower) / ops.take(freq, classes), _EDGE, 1.0 - _EDGE)
        first = ops.expand_dims(np.sqrt(2.0) * ops.erfinv(2.0 * within - 1.0), -1)
        return [ops.concatenate([first, noise[:, 1:]], axis=-1), classes]

    def compute_output_shape(self, input_shape):
        return [input_shape, input_shape[:1]]

    def get_config(self):
        return {**super().get_config(), "frequencies": self.frequencies}


def cluster_sampler(
    generator: keras.Model, frequencies: Sequence[float], name: str = "cluster_sampler"
) -> keras.Model:
    """An unconditional model noise (batch, latent_dim) -> ``generator``'s images, its
    class drawn from the noise with ``frequencies`` (normalised to sum to 1).

    The model shares ``generator``'s layers: it follows further training of them.

    Raises:
      ValueError: ``generator`` is not conditional, or bad ``frequencies``.
    """
    if not is_conditional(generator):
        raise ValueError("cluster_sampler needs a conditional generator (inputs noise, label)")
    noise = keras.Input((latent_dim_of(generator),), name="noise")
    fresh, classes = ClusterFromNoise(frequencies, name="cluster_from_noise")(noise)
    return keras.Model(noise, generator([fresh, classes]), name=name)
