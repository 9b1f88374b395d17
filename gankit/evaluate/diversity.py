"""Pixel-space diversity and memorisation checks that need no classifier.

For a DCGAN without labels: ``mean_pairwise_distance`` (collapse lowers it),
``duplicate_fraction`` (near-duplicates are the signature of mode collapse) and
``nearest_neighbour_distances`` (memorisation: compare generated-vs-train distances with
real-test-vs-train distances). Images are (N, H, W) or (N, H, W, C), either float32 in
[-1, 1] (the generator's tanh range) or uint8 in [0, 255] (converted with x / 127.5 − 1).
NumPy only; deterministic given ``seed``.
"""

from __future__ import annotations

import warnings

import numpy as np

from gankit.evaluate.metrics import _nearest_neighbours, _row_sq_norms, validate_embeddings

# Float images may overshoot [-1, 1] by rounding only; beyond 1.5 they are surely [0, 255].
_RANGE_ATOL = 1e-3
_SCALE_HINT = "scale with gankit.data.mnist.scale_images (x/127.5-1)"


def validate_images(images, name: str = "images", min_samples: int = 1) -> np.ndarray:
    """Check images and return them as float32 in [-1, 1] with their original shape.

    Accepts (N, H, W) or (N, H, W, C); uint8 [0, 255] is converted with x / 127.5 − 1.

    Raises:
        ValueError: wrong ndim, other integer dtypes, NaN/inf, float values outside
            [-1, 1] (e.g. unscaled [0, 255] pixels), or fewer than ``min_samples`` images.
    Warns:
        UserWarning: float images with no negative value (probably [0, 1]-scaled).
    """
    arr = np.asarray(images)
    if arr.ndim not in (3, 4):
        raise ValueError(
            f"{name} must be (N, H, W) or (N, H, W, C) images, got shape {arr.shape}; "
            "pass a batch of images, not a single one or flattened rows"
        )
    if arr.shape[0] < min_samples:
        raise ValueError(f"{name} has {arr.shape[0]} images; at least {min_samples} are needed")
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(
            f"{name} must be uint8 in [0, 255] or float in [-1, 1], got dtype {arr.dtype}; "
            f"{_SCALE_HINT}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN/inf values; check the generator output")
    lo, hi = float(arr.min()), float(arr.max())
    if hi > 1.5:
        raise ValueError(
            f"{name} looks like [0, 255] pixels (max {hi:.3g}) but float images must be in "
            f"[-1, 1]; {_SCALE_HINT}"
        )
    if lo < -1 - _RANGE_ATOL or hi > 1 + _RANGE_ATOL:
        raise ValueError(f"{name} values [{lo:.3g}, {hi:.3g}] are outside [-1, 1]; {_SCALE_HINT}")
    if lo >= 0.0:
        warnings.warn(
            f"{name} has no negative values; if it is in [0, 1], map it to [-1, 1] with x*2-1",
            stacklevel=3,
        )
    return np.clip(arr, -1.0, 1.0).astype(np.float32, copy=False)


def _as_rows(x, name: str, min_samples: int) -> np.ndarray:
    """Images (N, H, W[, C]) flattened to float32 rows, or embeddings (N, D) as float32."""
    arr = np.asarray(x)
    if arr.ndim >= 3:
        return validate_images(arr, name, min_samples).reshape(len(arr), -1)
    return validate_embeddings(arr, name, min_samples).astype(np.float32)


def _exact_distances(queries: np.ndarray, reference: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """||queries_i − reference_idx[i]|| recomputed directly in float64 (no cancellation)."""
    out = np.empty(len(queries))
    for s in range(0, len(queries), 4096):
        diff = queries[s : s + 4096].astype(np.float64) - reference[idx[s : s + 4096]]
        out[s : s + 4096] = np.sqrt(_row_sq_norms(diff))
    return out


def nearest_neighbour_distances(samples, reference, batch_size: int = 1024) -> np.ndarray:
    """Euclidean distance from each sample to its nearest reference item, shape (N,).

    d_i = min_j ||samples_i − reference_j||, on flattened images (both image batches) or on
    embeddings (both (N, D)). For memorisation, compare the distribution of
    d(generated, train) with d(real test, train): generated samples much closer to the
    training set than held-out real data are copies. The search is chunked (``batch_size``
    queries × 8192 references at a time) in float32 with ||a||² + ||b||² − 2ab and BLAS;
    the distance to the chosen neighbour is then recomputed exactly in float64, so exact
    copies give 0 (a float32 near-tie may pick a neighbour ~1e-3 farther than the nearest).

    Raises:
        ValueError: invalid images/embeddings, mixed kinds, or different sample shapes.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    q = _as_rows(samples, "samples", 1)
    r = _as_rows(reference, "reference", 1)
    if np.ndim(samples) != np.ndim(reference) or q.shape[1] != r.shape[1]:
        raise ValueError(
            f"samples {np.shape(samples)[1:]} and reference {np.shape(reference)[1:]} must "
            "have the same per-sample shape (both images or both embeddings)"
        )
    idx, _ = _nearest_neighbours(q, r, query_batch=batch_size)
    return _exact_distances(q, r, idx)


def mean_pairwise_distance(images, n_pairs: int = 10_000, seed: int = 0) -> float:
    """Mean L2 distance between ``n_pairs`` random pairs of distinct images in [-1, 1].

    Pairs (i, j), i ≠ j, are drawn uniformly with replacement across pairs:
    i ~ U{0..N−1}, j = (i + U{1..N−1}) mod N. 0 for identical images; collapse lowers it.
    Compare only between sets of the same image size.

    Raises:
        ValueError: invalid images (see ``validate_images``), N < 2, or n_pairs < 1.
    """
    if n_pairs < 1:
        raise ValueError(f"n_pairs must be a positive integer, got {n_pairs!r}")
    x = validate_images(images, "images", min_samples=2).reshape(len(images), -1)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(x), size=n_pairs)
    j = (i + rng.integers(1, len(x), size=n_pairs)) % len(x)
    return float(_exact_distances(x[i], x, j).mean())


def duplicate_fraction(images, threshold: float) -> float:
    """Fraction of images whose nearest *other* image is closer than ``threshold`` (L2).

    f = #{i : min_{j≠i} ||x_i − x_j|| < threshold} / N on images in [-1, 1]. Near-duplicates
    are the signature of mode collapse: 1.0 for identical images, 0 for well-spread ones.
    ``threshold`` is in the same pixel-L2 units (one pixel going from −1 to 1 adds 2);
    calibrate it on real data, e.g. a low percentile of the same distances on the test set.

    Raises:
        ValueError: invalid images, N < 2, or threshold not positive and finite.
    """
    if not (np.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be a positive number, got {threshold!r}")
    x = validate_images(images, "images", min_samples=2).reshape(len(images), -1)
    idx, _ = _nearest_neighbours(x, x, exclude_self=True)
    return float(np.mean(_exact_distances(x, x, idx) < threshold))
