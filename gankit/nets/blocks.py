"""Building blocks shared by the generator and discriminator builders."""

from __future__ import annotations

import keras

from gankit.config.schema import NORMALIZATIONS
from gankit.nets.layers import VirtualBatchNormalization


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """Returns ``value`` if it is one of ``choices``; raises ValueError naming them otherwise."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def check_positive(**values: float) -> None:
    """Raises ValueError for the first argument that is not > 0."""
    for name, value in values.items():
        if value is None or value <= 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")


def dcgan_init() -> keras.initializers.Initializer:
    """Weights ~ N(0, 0.02), as in the DCGAN paper (Radford et al. 2016, section 4)."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def normalization(kind: str, *, reference_size: int, dtype=None, name=None):
    """A normalisation layer of ``kind`` ('batch', 'virtual' or 'none' -> None)."""
    check_choice("norm", kind, NORMALIZATIONS)
    if kind == "batch":
        # momentum 0.9 (not Keras' 0.99): GAN statistics drift quickly as G changes.
        return keras.layers.BatchNormalization(momentum=0.9, dtype=dtype, name=name)
    if kind == "virtual":
        return VirtualBatchNormalization(reference_size, dtype=dtype, name=name)
    return None


def activation(kind: str, leaky_slope: float, dtype=None):
    """ReLU or LeakyReLU(negative_slope=leaky_slope) as a layer."""
    if kind == "relu":
        return keras.layers.ReLU(dtype=dtype)
    if kind == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=leaky_slope, dtype=dtype)
    raise ValueError(f"activation must be 'relu' or 'leaky_relu', got {kind!r}")


def apply(x, *layers):
    """Applies the non-None ``layers`` to ``x`` in order (functional API)."""
    for layer in layers:
        if layer is not None:
            x = layer(x)
    return x
