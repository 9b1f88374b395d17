"""Drawing images from a trained generator, reproducibly.

A generator is either unconditional (one input: noise of shape (batch, latent_dim)) or
class-conditional (two inputs: noise and integer labels of shape (batch,)); `generate`
handles both.
"""

from __future__ import annotations

import keras
import numpy as np

from gankit import checks
from gankit.checks import N_CLASSES


def sample_noise(n: int, latent_dim: int, seed: int) -> np.ndarray:
    """Noise z ~ N(0, I), float32 (n, latent_dim), from ``seed``.

    Raises:
      ValueError: if n or latent_dim < 1.
    """
    if n < 1 or latent_dim < 1:
        raise ValueError(f"n and latent_dim must be >= 1, got n={n}, latent_dim={latent_dim}")
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def is_conditional(generator: keras.Model) -> bool:
    """True for a class-conditional generator (inputs: noise and labels)."""
    return len(generator.inputs) == 2


def latent_dim_of(generator: keras.Model) -> int:
    """The size of the generator's noise input."""
    return int(generator.inputs[0].shape[-1])


def balanced_labels(n: int, n_classes: int = N_CLASSES) -> np.ndarray:
    """int32 labels 0, 1, ..., n_classes - 1, 0, 1, ... of length ``n`` (as equal as can be).

    Raises:
      ValueError: if n < 1.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return (np.arange(n) % n_classes).astype(np.int32)


def check_labels(labels, n: int | None = None, n_classes: int = N_CLASSES) -> np.ndarray:
    """``labels`` as int32 (n,) after checking they are whole numbers in [0, n_classes).

    Raises:
      TypeError, ValueError: as ``gankit.checks.labels``.
    """
    return checks.labels(labels, n, n_classes=n_classes, dtype=np.int32)


def generate(
    generator: keras.Model,
    n: int | None = None,
    *,
    labels=None,
    seed: int = 0,
    batch_size: int = 1000,
) -> np.ndarray:
    """Images from ``generator`` in inference mode: float32 (n, 28, 28, 1) in [-1, 1].

    Args:
      n: number of images; may be omitted when ``labels`` is given.
      labels: int (n,) classes to draw, for a conditional generator; if None, a conditional
        generator draws `balanced_labels` (0, 1, ..., 9, 0, ...). Not allowed for an
        unconditional one.
      seed: seeds the noise; the same (n, seed) gives the same noise in both kinds.

    Raises:
      ValueError: if n < 1, batch_size < 1, n disagrees with len(labels), or labels are
        given to an unconditional generator.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    conditional = is_conditional(generator)
    if labels is not None and not conditional:
        raise ValueError("labels were given but the generator is unconditional (one input)")
    if n is None:
        if labels is None:
            raise ValueError("give n (the number of images) or labels")
        n = len(labels)
    z = sample_noise(n, latent_dim_of(generator), seed)
    if conditional:
        labels = balanced_labels(n) if labels is None else check_labels(labels, n)
    out = []
    for i in range(0, n, batch_size):
        inputs = z[i : i + batch_size]
        if conditional:
            inputs = [inputs, labels[i : i + batch_size]]
        out.append(np.asarray(generator(inputs, training=False)))
    return np.concatenate(out).astype(np.float32)


def digit_rows(generator: keras.Model, per_class: int = 10, *, seed: int = 0) -> np.ndarray:
    """``per_class`` samples of each digit from a conditional ``generator``, in rows of one
    digit (0 first): float32 (10 * per_class, 28, 28, 1), for a grid with ``ncol=per_class``.

    Raises:
      ValueError: if per_class < 1 or the generator is unconditional.
    """
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    if not is_conditional(generator):
        raise ValueError("digit_rows needs a conditional generator (inputs: noise, label)")
    return generate(generator, labels=np.repeat(np.arange(N_CLASSES), per_class), seed=seed)
