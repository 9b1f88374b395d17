"""Drawing images from a trained generator, reproducibly."""

from __future__ import annotations

import keras
import numpy as np


def sample_noise(n: int, latent_dim: int, seed: int) -> np.ndarray:
    """Noise z ~ N(0, I), float32 (n, latent_dim), from ``seed``.

    Raises:
      ValueError: if n or latent_dim < 1.
    """
    if n < 1 or latent_dim < 1:
        raise ValueError(f"n and latent_dim must be >= 1, got n={n}, latent_dim={latent_dim}")
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def generate(
    generator: keras.Model, n: int, *, seed: int = 0, batch_size: int = 1000
) -> np.ndarray:
    """``n`` images from ``generator`` in inference mode: float32 (n, 28, 28, 1) in [-1, 1].

    Raises:
      ValueError: if n < 1 or batch_size < 1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    z = sample_noise(n, generator.input_shape[-1], seed)
    out = [
        np.asarray(generator(z[i : i + batch_size], training=False))
        for i in range(0, n, batch_size)
    ]
    return np.concatenate(out).astype(np.float32)
