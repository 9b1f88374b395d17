"""Evaluate an unconditional generator: pixel diversity, duplicates, memorisation and, with
the reference classifier, inception score, class coverage and FID.

Every number comes with the same number computed on real test images, so a reader can tell
a good score from the data's own level.
"""

from __future__ import annotations

import keras
import numpy as np

from gankit import diversity, metrics
from gankit.sampling import generate


def duplicate_threshold(real_images: np.ndarray, quantile: float = 0.01) -> float:
    """A near-duplicate distance calibrated on real data: the ``quantile`` of the distances
    from each real image to its nearest other real image (pixel L2, images in [-1, 1]).

    With the default, 1% of real images count as having a near-duplicate; a collapsed
    generator shows many times that.
    """
    x = diversity.validate_images(real_images, "real_images", min_samples=2)
    nn = diversity.nearest_neighbour_distances(x[: len(x) // 2], x[len(x) // 2 :])
    return float(np.quantile(nn, quantile))


def pixel_statistics(
    images: np.ndarray, train_images: np.ndarray | None, threshold: float, *, seed: int = 0
) -> dict[str, float]:
    """Diversity, near-duplicates and distance to the training set of ``images``.

    Returns a dict with ``pairwise_distance`` (mean L2 between random pairs),
    ``duplicate_fraction`` (nearest other image closer than ``threshold``) and, when
    ``train_images`` is given, ``nn_train_distance`` (median L2 to the nearest training
    image; far below the real test set's value means copying; the costliest number here).
    """
    out = {
        "pairwise_distance": diversity.mean_pairwise_distance(images, seed=seed),
        "duplicate_fraction": diversity.duplicate_fraction(images, threshold),
    }
    if train_images is not None:
        nn = diversity.nearest_neighbour_distances(images, train_images)
        out["nn_train_distance"] = float(np.median(nn))
    return out


def classifier_statistics(
    images: np.ndarray, classifier: keras.Model, real_embedding: np.ndarray | None = None
) -> dict[str, float]:
    """Inception score (10 splits), class coverage and, given real embeddings, FID.

    FID here is the Fréchet distance between Gaussians fitted to the reference classifier's
    penultimate embeddings (not Inception-v3): compare values only at equal sample counts.
    """
    from gankit.classifier import embed, predict_proba

    probs = predict_proba(classifier, images)
    is_mean, is_std = metrics.inception_score(probs, n_splits=10)
    coverage = metrics.class_coverage(probs)
    out = {
        "inception_score": is_mean,
        "inception_score_std": is_std,
        "classes_covered": coverage["n_covered"],
        "kl_to_uniform": coverage["kl_to_uniform"],
    }
    if real_embedding is not None:
        out["fid"] = metrics.frechet_distance(embed(classifier, images), real_embedding)
    return out


def evaluate_unconditional(
    generator: keras.Model | None,
    real_test: np.ndarray,
    train_images: np.ndarray | None,
    *,
    classifier: keras.Model | None = None,
    n: int = 5000,
    seed: int = 0,
    include_real: bool = True,
) -> dict[str, dict[str, float]]:
    """The Q1 evaluation of ``generator`` beside real test images, as {"generated": ...,
    "real test": ...}.

    Args:
      generator: a trained generator (noise -> (N, 28, 28, 1) in [-1, 1]); None evaluates
        only the real reference.
      real_test: real images in [-1, 1], at least ``2 n`` of them (half for the reference
        row, half to calibrate the duplicate threshold and the FID reference).
      train_images: real training images in [-1, 1] for the memorisation distance; None
        skips it.
      classifier: the reference classifier (gankit.classifier); adds IS, coverage and FID.
      n: samples per row.
      include_real: also compute the "real test" row (always, when ``generator`` is None);
        it is the same for every generator, so evaluate it once when comparing many.

    Raises:
      ValueError: if ``real_test`` has fewer than ``2 n`` images.
    """
    if len(real_test) < 2 * n:
        raise ValueError(f"real_test needs at least 2 n = {2 * n} images, got {len(real_test)}")
    reference, calibration = real_test[:n], real_test[n : 2 * n]
    threshold = duplicate_threshold(calibration)
    real_embedding = None
    if classifier is not None:
        from gankit.classifier import embed

        real_embedding = embed(classifier, calibration)
    rows = {"real test": reference} if include_real or generator is None else {}
    if generator is not None:
        rows = {"generated": generate(generator, n, seed=seed), **rows}
    out = {}
    for name, images in rows.items():
        out[name] = pixel_statistics(images, train_images, threshold, seed=seed)
        if classifier is not None:
            out[name].update(classifier_statistics(images, classifier, real_embedding))
    return out
