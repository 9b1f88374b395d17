"""Clusters of images found without labels: the pseudo-classes of a self-conditioned GAN.

`kmeans_labels` projects the images on their first `PCA_DIMS` principal components and
splits them into k clusters with k-means; `cluster_purity` says how well clusters match
known classes (for reporting only: the clustering never sees a label).

A self-conditioned GAN (Liu et al. 2020, "Diverse image generation via self-conditioned
GANs", who cluster the discriminator's features; here PCA features, fixed before
training) trains a conditional GAN on these pseudo-classes, so an unconditional model gets
the conditional one's easier task: each cluster is a narrower distribution to learn.
"""

from __future__ import annotations

import numpy as np

PCA_DIMS = 50
"""Principal components the images are clustered in (pixels are 784-dimensional)."""
KMEANS_RESTARTS = 4
"""k-means runs from different centroids; the one with the lowest inertia is kept."""


def kmeans_labels(images: np.ndarray, k: int, *, seed: int = 0) -> np.ndarray:
    """The k-means cluster (0..k-1) of each image, in the space of its first `PCA_DIMS`
    principal components. Deterministic for a given ``seed`` and images.

    Args:
      images: (N, 28, 28[, 1]) images, any scale (they are compared with each other only).
      k: number of clusters, 2 <= k <= N.

    Returns:
      int32 (N,) cluster indices.

    Raises:
      ValueError: fewer than k images, or k < 2.
    """
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    x = np.asarray(images, np.float32).reshape(len(images), -1)
    if k < 2 or len(x) < k:
        raise ValueError(f"k-means needs 2 <= k <= the number of images, got k={k}, N={len(x)}")
    dims = min(PCA_DIMS, *x.shape)
    features = PCA(dims, random_state=seed).fit_transform(x)
    kmeans = KMeans(k, n_init=KMEANS_RESTARTS, random_state=seed).fit(features)
    return kmeans.labels_.astype(np.int32)


def cluster_purity(clusters: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of the images whose class is their cluster's most common class (1.0: every
    cluster holds one class; 1/C for clusters that ignore the C classes).

    Raises:
      ValueError: arrays of different lengths, or empty.
    """
    clusters, labels = np.asarray(clusters), np.asarray(labels)
    if clusters.shape != labels.shape or clusters.size == 0:
        raise ValueError(
            f"clusters and labels must be non-empty and of one length, got {clusters.shape} "
            f"and {labels.shape}"
        )
    majority = sum(np.bincount(labels[clusters == c]).max() for c in np.unique(clusters))
    return float(majority / labels.size)
