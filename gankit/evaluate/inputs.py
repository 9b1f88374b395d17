"""The checks of metric inputs: class probabilities, embeddings, labels and predictions.

Each ``validate_*`` returns the array in the dtype the metrics compute in and raises
``ValueError`` naming the argument and what to do (``TypeError`` for non-integer labels, as
``gankit.checks.labels``); NaNs and infinities never pass silently.
"""

from __future__ import annotations

import numpy as np

from gankit import checks

# Rows of a softmax output must sum to 1 within this tolerance (float16 softmax is ~1e-3).
_PROB_SUM_ATOL = 1e-3
_PROB_RANGE_ATOL = 1e-6


def _as_finite_float(x, name: str) -> np.ndarray:
    """Return ``x`` as float64; raise if it is not floating point or has NaN/inf."""
    arr = np.asarray(x)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(
            f"{name} must be a floating-point array, got dtype {arr.dtype}; "
            f"convert with {name}.astype(np.float32)"
        )
    if not np.all(np.isfinite(arr)):
        n_bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"{name} contains {n_bad} NaN/inf values; check the model that produced it "
            "(NaNs never pass silently)"
        )
    return arr.astype(np.float64, copy=False)


def _finite_matrix(x, name: str, min_samples: int, what: str, hint: str) -> np.ndarray:
    """``x`` as a finite float64 matrix (N, K) with N >= ``min_samples``; ValueError if not."""
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D {what}, got shape {arr.shape}; {hint}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has no columns (shape {arr.shape}); {hint}")
    arr = _as_finite_float(arr, name)
    if arr.shape[0] < min_samples:
        raise ValueError(
            f"{name} has {arr.shape[0]} samples; at least {min_samples} are needed here"
        )
    return arr


def validate_probs(probs, name: str = "probs", min_samples: int = 1) -> np.ndarray:
    """Check a class-probability matrix and return it as float64.

    Shape (N, C), floating, finite, entries in [0, 1] and rows summing to 1 (atol 1e-3).

    Raises:
        ValueError: wrong ndim, non-float dtype, NaN/inf, entries outside [0, 1] or rows
            not summing to 1 (logits instead of softmax), or N < ``min_samples``.
    """
    arr = _finite_matrix(
        probs,
        name,
        min_samples,
        "(N, C) probability matrix",
        "pass the classifier's softmax output",
    )
    if arr.min() < -_PROB_RANGE_ATOL or arr.max() > 1 + _PROB_RANGE_ATOL:
        raise ValueError(
            f"{name} has values outside [0, 1] (min {arr.min():.3g}, max {arr.max():.3g}); "
            "these look like logits: apply a softmax first"
        )
    worst = float(np.max(np.abs(arr.sum(axis=1) - 1.0)))
    if worst > _PROB_SUM_ATOL:
        raise ValueError(
            f"{name} rows must sum to 1 (worst deviation {worst:.3g}); "
            "pass softmax probabilities, not logits or scores"
        )
    return np.clip(arr, 0.0, 1.0)


def validate_embeddings(emb, name: str = "emb", min_samples: int = 2) -> np.ndarray:
    """Check an embedding matrix (N, D), floating and finite, with N >= ``min_samples``.

    Raises:
        ValueError: wrong ndim, non-float dtype, NaN/inf, or too few rows.
    """
    return _finite_matrix(
        emb,
        name,
        min_samples,
        "(N, D) embedding matrix",
        "flatten per-sample features to one row each",
    )


def _check_same_dim(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{name_a} has {a.shape[1]} features but {name_b} has {b.shape[1]}; "
            "both must come from the same layer of the same model"
        )


def validate_labels(labels, name: str = "labels", n_classes: int = 10) -> np.ndarray:
    """A 1-D integer label vector with values in [0, n_classes), as int64.

    Raises:
        TypeError, ValueError: as ``gankit.checks.labels``.
    """
    return checks.labels(labels, n_classes=n_classes, name=name)


def _as_predictions(probs_or_pred, name: str, n_classes: int) -> np.ndarray:
    """Integer predictions (N,) from probabilities (N, C) (argmax) or from predictions."""
    arr = np.asarray(probs_or_pred)
    if arr.ndim == 2:
        probs = validate_probs(arr, name)
        if probs.shape[1] != n_classes:
            raise ValueError(
                f"{name} has {probs.shape[1]} classes but n_classes={n_classes}; make them agree"
            )
        return probs.argmax(axis=1)
    if arr.ndim == 1:
        return validate_labels(arr, name, n_classes)
    raise ValueError(
        f"{name} must be (N, C) probabilities or (N,) integer predictions, got shape {arr.shape}"
    )


def _subsample(x: np.ndarray, max_samples: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_samples is None or len(x) <= max_samples:
        return x
    return x[np.sort(rng.choice(len(x), size=max_samples, replace=False))]
