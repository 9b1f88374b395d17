"""Pixel-space diversity and memorisation checks that need no classifier.

For a DCGAN without labels: ``mean_pairwise_distance`` (collapse lowers it),
``duplicate_fraction`` (near-duplicates are the signature of mode collapse) and
``nearest_neighbour_distances`` (memorisation: compare generated-vs-train distances with
real-test-vs-train distances). For a conditional generator trained on few images,
``training_coverage`` counts how many of each class's training images its samples spread
over. Images are in gankit's format of any size
(``gankit.data.images.check_images``): (N, H, W) or (N, H, W, 1), float in [-1, 1] (the
generator's tanh range) or uint8 in [0, 255] (scaled with ``scale_images``).
NumPy only; deterministic given ``seed``.
"""

from __future__ import annotations

import numpy as np

from gankit import checks
from gankit.data.images import check_images
from gankit.evaluate.inputs import validate_embeddings
from gankit.evaluate.neighbours import _nearest_neighbours, _row_sq_norms


def validate_images(images, name: str = "images", min_samples: int = 1) -> np.ndarray:
    """``images`` as float32 (N, H, W, 1) in [-1, 1], of any size: ``check_images`` with
    ``size=None``.

    Raises:
        TypeError, ValueError: as ``gankit.data.images.check_images``.
    Warns:
        UserWarning: float images with no negative value (probably [0, 1]-scaled).
    """
    return check_images(images, name=name, size=None, min_samples=min_samples)


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
        ValueError: invalid images/embeddings, mixed kinds, different sample shapes, or
            batch_size < 1.
        TypeError: batch_size not an int, or images of another dtype than float or uint8.
    """
    batch_size = checks.positive_int(batch_size, "batch_size")
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
        TypeError: n_pairs not an int, or images of another dtype than float or uint8.
    """
    n_pairs = checks.positive_int(n_pairs, "n_pairs")
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


def training_coverage(
    samples, labels, train_images, train_labels, *, n_classes: int = checks.N_CLASSES
) -> dict[str, np.ndarray]:
    """How many of its class's training images a conditional generator's samples spread over.

    Each sample is assigned to its nearest training image *of its own class* (pixel L2).
    For class c with n_c training images, p_c is the share of the class's samples
    assigned to each of them. A generator trained on few images that collapsed onto
    some of them gives clean, correctly labelled samples that a classifier learns as
    few images; a label check or a sample grid does not show it, this does. Samples that
    spread like real data give ``effective_images`` near n_c (600 real MNIST test
    images per class against 10 training images: 6.2-9.4).

    Args:
        samples: generated images (N, H, W[, 1]) in [-1, 1] (or uint8).
        labels: int (N,) the class each sample was drawn for.
        train_images: the generator's training images (M, H, W[, 1]), the same size.
        train_labels: int (M,) their classes.
        n_classes: labels lie in 0..n_classes-1.

    Returns:
        Arrays of shape (n_classes,): ``train_images`` n_c; ``images_used``, the
        training images nearest to at least one sample; ``effective_images``,
        exp(-sum p log p), the number of equally used images with the same entropy
        (n_c when uniform, 1 when every sample is nearest one image); ``top_share``,
        max p. A class without samples has 0 used images and NaN shares.

    Raises:
        TypeError, ValueError: invalid images or labels, lengths that differ, images of
            different sizes, or a class with samples but no training image.
    """
    x = _as_rows(samples, "samples", 1)
    r = _as_rows(train_images, "train_images", 1)
    if x.shape[1] != r.shape[1]:
        raise ValueError(
            f"samples {np.shape(samples)[1:]} and train_images {np.shape(train_images)[1:]} "
            "must have the same image size"
        )
    y = checks.labels(labels, len(x), n_classes=n_classes)
    y_train = checks.labels(train_labels, len(r), n_classes=n_classes, name="train_labels")
    out = {
        "train_images": np.bincount(y_train, minlength=n_classes),
        "images_used": np.zeros(n_classes, np.int64),
        "effective_images": np.full(n_classes, np.nan),
        "top_share": np.full(n_classes, np.nan),
    }
    for c in np.unique(y):
        members = r[y_train == c]
        if not len(members):
            raise ValueError(f"class {c} has samples but no training image")
        nearest, _ = _nearest_neighbours(x[y == c], members)
        share = np.bincount(nearest, minlength=len(members)) / len(nearest)
        used = share[share > 0]
        out["images_used"][c] = len(used)
        out["effective_images"][c] = float(np.exp(-(used * np.log(used)).sum()))
        out["top_share"][c] = float(share.max())
    return out
