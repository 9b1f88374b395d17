"""Q3's elite filter: keep the synthetic images a classifier trained on real data
recognises as their label, confidently (`elite_mask` on probabilities, `select_elite` on a
model), at most a stated share of each class if asked."""

from __future__ import annotations

import math

import keras
import numpy as np

from gankit.evaluate.inference import N_CLASSES, predict_proba


def elite_mask(
    probs: np.ndarray,
    labels: np.ndarray,
    threshold: float,
    keep_fraction: float | None = None,
) -> np.ndarray:
    """bool (n,): the classifier's top class is the label and its probability >= threshold;
    with ``keep_fraction``, also among the ceil(keep_fraction * n_c) images of each label c
    to which the classifier gives that label the highest probability (ties: the first).

    Args:
        probs: float (n, 10) class probabilities of the reference classifier.
        labels: int (n,) conditioning labels.
        threshold: minimum top probability, in [0, 1].
        keep_fraction: None, or the largest share of each class to keep, in (0, 1]: the
            filter then keeps a stated fraction even when nearly every image is confident.

    Raises:
        ValueError: shapes disagree, threshold outside [0, 1] or keep_fraction outside
            (0, 1].
    """
    probs, labels = np.asarray(probs), np.asarray(labels)
    if probs.ndim != 2 or probs.shape[1] != N_CLASSES or probs.shape[0] != len(labels):
        raise ValueError(
            f"probs must be (n, {N_CLASSES}) for n labels; got {probs.shape} for {len(labels)}"
        )
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    keep = (probs.argmax(axis=1) == labels) & (probs.max(axis=1) >= threshold)
    if keep_fraction is None:
        return keep
    if not 0 < keep_fraction <= 1:
        raise ValueError(f"keep_fraction must be in (0, 1] or None, got {keep_fraction}")
    label_prob = probs[np.arange(len(labels)), labels]
    top = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        ranked = members[np.argsort(-label_prob[members], kind="stable")]
        top[ranked[: math.ceil(keep_fraction * len(members))]] = True
    return keep & top


def select_elite(
    reference: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    threshold: float,
    keep_fraction: float | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(kept images, kept labels, kept fraction)`` by `elite_mask` on ``reference``'s
    probabilities (a classifier trained on real data, e.g.
    `gankit.evaluate.classifier_config.REFERENCE`).

    Raises:
        ValueError: as `elite_mask` or `gankit.evaluate.inference.predict_proba`.
    """
    keep = elite_mask(predict_proba(reference, images), labels, threshold, keep_fraction)
    fraction = float(keep.mean()) if len(keep) else 0.0
    return images[keep], labels[keep], fraction
