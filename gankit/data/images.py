"""gankit's image format, its one checker, and the scaling of MNIST pixels into it.

The format: float32 arrays of shape (N, 28, 28, 1), values in [-1, 1] (the range of a tanh
generator; MNIST background is -1). ``check_images`` is the one place that decides what is
accepted, and every public function that takes images calls it:

- shape (N, H, W, 1) or (N, H, W), which gets the channel axis; H, W = 28, 28 unless the
  caller allows any size (pixel statistics and image grids);
- uint8 pixels 0..255 are accepted and scaled with ``scale_images`` (x / 127.5 - 1); any
  other non-float dtype is a ``TypeError``;
- float values must be finite and in [-1, 1] within ``RANGE_TOLERANCE`` (1e-3, for tanh
  output that overshoots by rounding); they are then clipped to [-1, 1]. Anything else
  (NaN, inf, [0, 255] floats) is a ``ValueError`` whose message says how to scale;
- float images that look [0, 1]-scaled (no negative value, and at least half of the pixels
  exactly 0: MNIST's background divided by 255) are a ``ValueError`` whose message gives
  the fix (``images * 2 - 1``); a tanh generator's background is near -1, never exactly 0.
  Other float images with no negative value pass with a ``UserWarning``: an all-bright
  batch can be legitimate.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["IMAGE_SIZE", "RANGE_TOLERANCE", "check_images", "scale_images"]

IMAGE_SIZE = (28, 28)
"""Height and width of an MNIST image in pixels."""

RANGE_TOLERANCE = 1e-3
"""How far float images may overshoot [-1, 1] (float rounding of a tanh) before rejection."""

_SCALE_HINT = "scale uint8 MNIST with gankit.data.images.scale_images (x/127.5-1)"


def check_images(
    images,
    *,
    name: str = "images",
    size: tuple[int, int] | None = IMAGE_SIZE,
    min_samples: int = 1,
) -> np.ndarray:
    """``images`` in gankit's format: float32 (N, H, W, 1) in [-1, 1] (see the module doc).

    Args:
        images: (N, H, W) or (N, H, W, 1); uint8 pixels 0..255 or floats in [-1, 1];
            numpy arrays or eager tensors.
        name: the argument name used in messages.
        size: the required (H, W); None accepts any non-empty size.
        min_samples: the fewest images accepted (0 allows an empty batch).

    Returns:
        float32 (N, H, W, 1), clipped to [-1, 1]; float32 input in range is not copied.

    Raises:
        TypeError: neither uint8 nor floating point.
        ValueError: another shape, fewer than ``min_samples`` images, NaN or inf, values
            outside [-1, 1] beyond ``RANGE_TOLERANCE``, or [0, 1]-scaled MNIST.

    Warns:
        UserWarning: float images with no negative value (probably [0, 1]-scaled).
    """
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3 or (size is not None and arr.shape[1:] != tuple(size)):
        h, w = ("H", "W") if size is None else size
        raise ValueError(
            f"{name} must have shape (N, {h}, {w}) or (N, {h}, {w}, 1), got {np.shape(images)}; "
            "for a single image use images[None]"
        )
    if 0 in arr.shape[1:]:
        raise ValueError(f"{name} is empty (shape {np.shape(images)}); pass real images")
    if len(arr) < min_samples:
        raise ValueError(f"{name} has {len(arr)} images; at least {min_samples} are needed")
    if arr.dtype == np.uint8:
        return scale_images(arr)
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(
            f"{name} must be float in [-1, 1] or uint8 in [0, 255], got dtype {arr.dtype}; "
            f"{_SCALE_HINT}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf values; check the generator output")
    if arr.size and _check_range(arr, name):
        arr = np.clip(arr, -1.0, 1.0)
    return arr.astype(np.float32, copy=False)[..., np.newaxis]


def _check_range(arr: np.ndarray, name: str) -> bool:
    """Whether ``arr`` needs clipping; raises ValueError beyond the tolerance, warns for >= 0."""
    low, high = float(arr.min()), float(arr.max())
    if low < -1 - RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
        looks_like = " (looks like [0, 255]: pass uint8 pixels)" if high > 1.5 else ""
        raise ValueError(
            f"{name} must lie in [-1, 1], got [{low:.3g}, {high:.3g}]{looks_like}; {_SCALE_HINT}"
        )
    if low >= 0 and high > 0:
        # MNIST background is -1 after scaling; all >= 0 means [0, 1] images slipped through.
        if np.count_nonzero(arr == 0) >= arr.size / 2:
            raise ValueError(
                f"{name} looks like [0, 1]-scaled images (no negative value, background 0), "
                f"but gankit expects [-1, 1]: pass images * 2 - 1, or the uint8 pixels"
            )
        warnings.warn(
            f"{name} has no negative values: if it is in [0, 1], pass images * 2 - 1",
            UserWarning,
            stacklevel=3,
        )
    return low < -1 or high > 1


# x / 127.5 - 1 for every uint8 value, computed in float64 and rounded once to float32.
def _scale_table() -> np.ndarray:
    return (np.arange(256, dtype=np.float64) / 127.5 - 1.0).astype(np.float32)


def scale_images(x: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W) or (N, H, W, 1) -> float32 (N, H, W, 1) equal to ``x/127.5 - 1``.

    0 maps to -1.0 and 255 to 1.0 exactly, the range of a tanh generator.

    Raises:
        TypeError: ``x`` is not uint8 (pass the raw arrays from ``load_mnist``; already
            scaled floats need no scaling).
        ValueError: wrong number of dims.
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(
            f"scale_images expects uint8 pixels 0..255 (e.g. x_train from load_mnist), "
            f"got dtype {x.dtype}; floats in [-1, 1] are already scaled"
        )
    if not (x.ndim == 3 or (x.ndim == 4 and x.shape[-1] == 1)):
        raise ValueError(
            f"scale_images expects images of shape (N, H, W) or (N, H, W, 1), got {x.shape}"
        )
    scaled = _scale_table()[x]  # a lookup is exact and avoids a float64 copy of the data
    return scaled if scaled.ndim == 4 else scaled[..., np.newaxis]
