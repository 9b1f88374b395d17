"""Nearest-neighbour metrics on embeddings, and the distance kernels behind them.

``precision_recall`` (Kynkäänniemi et al. 2019, "Improved precision and recall metric for
assessing generative models") and ``one_nn_accuracy`` (Xu et al. 2018, "An empirical
study on evaluation metrics of GANs") compare real and generated embeddings (N, D).
The kernels (chunked squared distances on one BLAS matmul, nearest neighbours, k-th
neighbour radii, ball membership) also serve ``gankit.evaluate.diversity`` in pixel space.
"""

from __future__ import annotations

import numpy as np

from gankit import checks
from gankit.evaluate.inputs import _check_same_dim, _subsample, validate_embeddings


def _row_sq_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _shifted_neg2_gram(a: np.ndarray, b: np.ndarray, col: np.ndarray) -> np.ndarray:
    """col[j] − 2 a_i·b_j for all i, j, built in place on one BLAS matmul (no temporaries)."""
    g = a @ b.T
    g *= -2.0
    g += col[None, :]
    return g


def _sq_dists(a: np.ndarray, b: np.ndarray, a_sq: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (len(a), len(b)) via ||a||² + ||b||² − 2 a·b, clamped at 0."""
    d2 = _shifted_neg2_gram(a, b, b_sq)
    d2 += a_sq[:, None]
    return np.maximum(d2, 0.0, out=d2)


def _cancellation_tol(a_sq: np.ndarray, b_sq: np.ndarray, dtype) -> np.ndarray:
    """Per-row bound on the rounding noise of ||a||² + ||b||² − 2 a·b where the truth is 0.

    Squared distances below it are treated as exactly 0, so exact duplicates compare equal
    (the k-NN radius of a duplicated point is 0 and its copy lies inside that ball).
    """
    # Float32 dot products of D <= ~1000 terms err by a few sqrt(D)·eps relative; 128·eps
    # covers that and only merges points closer than ~0.5% of their norm.
    return 128 * np.finfo(dtype).eps * (a_sq + b_sq.max())


def _nearest_neighbours(
    queries: np.ndarray,
    reference: np.ndarray,
    exclude_self: bool = False,
    query_batch: int = 1024,
    ref_batch: int = 8192,
) -> tuple[np.ndarray, np.ndarray]:
    """Index and squared distance (approximate, clamped at 0) of each query's nearest neighbour.

    Chunked over both sets so memory stays at query_batch × ref_batch. With
    ``exclude_self`` (queries is reference) a point is never its own neighbour. Exact ties
    go to the lowest reference index.
    """
    n, m = len(queries), len(reference)
    best_idx = np.zeros(n, dtype=np.int64)
    best_val = np.full(n, np.inf, dtype=queries.dtype)
    ref_sq = _row_sq_norms(reference)
    for qs in range(0, n, query_batch):
        q = queries[qs : qs + query_batch]
        rows = np.arange(len(q))
        for rs in range(0, m, ref_batch):
            r = reference[rs : rs + ref_batch]
            # argmin_j ||q − r_j||² = argmin_j (||r_j||² − 2 q·r_j): skip the ||q||² term.
            val = _shifted_neg2_gram(q, r, ref_sq[rs : rs + len(r)])
            if exclude_self:
                own = np.arange(max(qs, rs), min(qs + len(q), rs + len(r)))
                val[own - qs, own - rs] = np.inf
            j = val.argmin(axis=1)
            v = val[rows, j]
            better = v < best_val[qs : qs + len(q)]
            best_val[qs : qs + len(q)][better] = v[better]
            best_idx[qs : qs + len(q)][better] = j[better] + rs
    d2 = np.maximum(best_val + _row_sq_norms(queries), 0.0)
    return best_idx, d2


def _kth_neighbour_sq_dist(x: np.ndarray, k: int, batch: int = 1024) -> np.ndarray:
    """Squared distance from each row of x to its k-th nearest *other* row (N,)."""
    x_sq = _row_sq_norms(x)
    out = np.empty(len(x))
    for s in range(0, len(x), batch):
        # ||x_i||² is constant along a row, so rank ||x_j||² − 2 x_i·x_j and add it after.
        h = _shifted_neg2_gram(x[s : s + batch], x, x_sq)
        rows = np.arange(len(h))
        h[rows, rows + s] = np.inf  # a point is not its own neighbour
        kth = np.partition(h, k - 1, axis=1)[:, k - 1] + x_sq[s : s + batch]
        kth[kth < _cancellation_tol(x_sq[s : s + batch], x_sq, x.dtype)] = 0.0
        out[s : s + batch] = kth
    return out


def _fraction_in_balls(
    queries: np.ndarray, centres: np.ndarray, radii_sq: np.ndarray, batch: int = 1024
) -> float:
    """Fraction of queries inside at least one closed ball B(centre_j, radius_j).

    q is inside ball j iff ||q||² + ||c_j||² − 2 q·c_j <= r_j², i.e. iff
    min_j (||c_j||² − r_j² − 2 q·c_j) <= −||q||² (up to the cancellation tolerance).
    """
    q_sq, c_sq = _row_sq_norms(queries), _row_sq_norms(centres)
    col = (c_sq - radii_sq).astype(queries.dtype)
    inside = 0
    for s in range(0, len(queries), batch):
        h_min = _shifted_neg2_gram(queries[s : s + batch], centres, col).min(axis=1)
        tol = _cancellation_tol(q_sq[s : s + batch], c_sq, queries.dtype)
        inside += int(np.count_nonzero(h_min <= tol - q_sq[s : s + batch]))
    return inside / len(queries)


def precision_recall(
    real_emb, fake_emb, k: int = 3, max_samples: int | None = 10_000, seed: int = 0
) -> dict:
    """Improved precision and recall (Kynkäänniemi et al. 2019) from k-NN manifolds.

    Each set's manifold is the union of closed balls around its points, of radius the
    distance to the point's k-th nearest other point in the same set. precision = share of
    fake samples inside the real manifold (fidelity); recall = share of real samples inside
    the fake manifold (coverage). The paper uses k = 3. Sets larger than ``max_samples``
    are subsampled without replacement (``seed``); None disables that.

    Identical sets give (1, 1); fakes collapsed onto one real point give precision 1 and
    recall ≈ 1/N (the fake radii are 0); fakes far from all reals give precision 0.

    Returns:
        dict(precision=float, recall=float).

    Raises:
        ValueError: invalid embeddings, different dimensions, or a set with <= k samples.
    """
    k = checks.positive_int(k, "k")
    if max_samples is not None:
        max_samples = checks.integer(max_samples, "max_samples", low=k + 1)
    seed = checks.seed(seed)
    real = validate_embeddings(real_emb, "real_emb", min_samples=k + 1)
    fake = validate_embeddings(fake_emb, "fake_emb", min_samples=k + 1)
    _check_same_dim(real, fake, "real_emb", "fake_emb")
    rng = np.random.default_rng(seed)
    # float32 like the reference implementation: half the time, and it only flips fakes
    # lying within float32 rounding of a ball's surface.
    real = _subsample(real, max_samples, rng).astype(np.float32)
    fake = _subsample(fake, max_samples, rng).astype(np.float32)
    return {
        "precision": _fraction_in_balls(fake, real, _kth_neighbour_sq_dist(real, k)),
        "recall": _fraction_in_balls(real, fake, _kth_neighbour_sq_dist(fake, k)),
    }


def one_nn_accuracy(real_emb, fake_emb) -> float:
    """Leave-one-out 1-nearest-neighbour two-sample test accuracy (Xu et al. 2018).

    Each point of real ∪ fake is labelled by its nearest *other* point; the score is the
    balanced accuracy (real accuracy + fake accuracy) / 2, which equals plain accuracy for
    equal set sizes (the paper's setting) and keeps 0.5 as "indistinguishable" otherwise.
    0.5 is ideal, 1.0 means perfectly separable. Well below 0.5 signals copying: if fake
    samples are exact copies of the real ones, each point's nearest other point is its copy
    from the other set, so the accuracy is 0. Exact distance ties go to the lower index of
    the stacked [real; fake] array, i.e. to a real point.

    Raises:
        ValueError: invalid embeddings, different dimensions, or fewer than 2 per set.
    """
    real = validate_embeddings(real_emb, "real_emb", min_samples=2)
    fake = validate_embeddings(fake_emb, "fake_emb", min_samples=2)
    _check_same_dim(real, fake, "real_emb", "fake_emb")
    pooled = np.vstack([real, fake]).astype(np.float32)  # float32 halves the cost
    is_fake = np.arange(len(pooled)) >= len(real)
    idx, _ = _nearest_neighbours(pooled, pooled, exclude_self=True)
    correct = is_fake[idx] == is_fake
    return float((correct[~is_fake].mean() + correct[is_fake].mean()) / 2.0)
