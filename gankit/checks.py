"""The argument checkers shared by every package: integers, seeds and class labels.

Policy, the same everywhere: a value of the wrong type raises ``TypeError`` (``bool`` is
not an int here, although Python says it is), a value of the right type but out of range
or of the wrong shape raises ``ValueError``; each message names the argument and says what
is expected. Each checker returns the value in the form callers use (``int`` or a numpy
array). Images have their own owner, ``gankit.data.images.check_images``.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["N_CLASSES", "integer", "label", "labels", "positive_int", "seed"]

N_CLASSES = 10
"""MNIST digits 0-9."""


def integer(value: object, name: str, low: int | None = None, high: int | None = None) -> int:
    """``int(value)`` if it is an int (numpy ints too, bool not) in ``[low, high]``.

    ``low`` or ``high`` None means no bound on that side.

    Raises:
        TypeError: ``value`` is not an int.
        ValueError: ``value`` is outside ``[low, high]``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            raise ValueError(f"{name} must be >= {low}, got {value}")
        if low is None:
            raise ValueError(f"{name} must be <= {high}, got {value}")
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return int(value)


def positive_int(value: object, name: str) -> int:
    """``int(value)`` if it is an int >= 1 (a count or a size).

    Raises:
        TypeError: ``value`` is not an int.
        ValueError: ``value < 1``.
    """
    return integer(value, name, low=1)


def seed(value: object, name: str = "seed") -> int:
    """``int(value)`` if it is an int, the seed of a random stream.

    Raises:
        TypeError: ``value`` is not an int (a float or None would not reproduce).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int (for reproducibility), got {type(value).__name__}")
    return int(value)


def label(value: object, name: str = "label", n_classes: int = N_CLASSES) -> int:
    """``int(value)`` if it is one class index in ``[0, n_classes)``.

    Raises:
        TypeError: ``value`` is not an int.
        ValueError: ``value`` is outside ``[0, n_classes)``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int class 0-{n_classes - 1}, got {value!r}")
    if not 0 <= value < n_classes:
        raise ValueError(f"{name} must be in [0, {n_classes}), got {value}")
    return int(value)


def labels(
    values,
    n: int | None = None,
    *,
    n_classes: int = N_CLASSES,
    name: str = "labels",
    dtype: type[np.integer] = np.int64,
) -> np.ndarray:
    """``values`` as a 1-D array of ``dtype`` after checking they are classes 0..n_classes-1.

    Args:
        values: class indices, shape (N,); any integer dtype.
        n: the length they must have (None: any).
        n_classes: labels must lie in ``[0, n_classes)``.
        name: the argument name used in messages.
        dtype: integer dtype of the result (the trainers feed int32 to Keras).

    Raises:
        TypeError: the values are not integers (cast float class indices with
            ``.astype(np.int64)``).
        ValueError: not 1-D, not of length ``n``, or a value outside ``[0, n_classes)``.
    """
    arr = np.asarray(values)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"{name} must be integers 0-{n_classes - 1}, got dtype {arr.dtype}; "
            "cast class indices with .astype(np.int64)"
        )
    if arr.ndim != 1 or (n is not None and len(arr) != n):
        want = f"({n},)" if n is not None else "(N,)"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(
            f"{name} must be in [0, {n_classes}) (classes 0-{n_classes - 1}), "
            f"got values in [{arr.min()}, {arr.max()}]"
        )
    return arr.astype(dtype)
