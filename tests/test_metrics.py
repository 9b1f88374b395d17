"""Tests for gankit.evaluate.metrics, neighbours and diversity: known answers, NumPy
references, validation."""

import itertools
import math

import numpy as np
import pytest
import scipy.linalg

from gankit.evaluate import diversity, metrics, neighbours


def _rng(seed=0):
    return np.random.default_rng(seed)


def _one_hot(labels, n_classes=10):
    return np.eye(n_classes)[labels]


def _random_probs(n, c=10, seed=0):
    logits = _rng(seed).normal(scale=2.0, size=(n, c))
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------------------
# Inception score
# --------------------------------------------------------------------------------------
def test_is_ten_equally_frequent_perfect_predictions_gives_ten():
    mean, std = metrics.inception_score(_one_hot(np.arange(10)), n_splits=1)
    assert mean == pytest.approx(10.0, rel=1e-9)
    mean, std = metrics.inception_score(_one_hot(np.tile(np.arange(10), 100)), n_splits=10)
    assert mean == pytest.approx(10.0, rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-9)


def test_is_identical_predictions_gives_one():
    probs = np.tile(_random_probs(1), (50, 1))
    assert metrics.inception_score(probs, n_splits=5)[0] == pytest.approx(1.0, abs=1e-9)


def test_is_matches_direct_formula_and_is_finite_with_zero_probabilities():
    probs = _random_probs(40)
    probs[:5] = _one_hot(np.arange(5))  # exact zeros: epsilon only inside the logs
    marginal = probs.mean(axis=0)
    ref = math.exp(
        np.mean(
            [
                sum(p * math.log(p / m) for p, m in zip(r, marginal, strict=True) if p > 0)
                for r in probs
            ]
        )
    )
    assert metrics.inception_score(probs, n_splits=1)[0] == pytest.approx(ref, rel=1e-9)


def test_is_invariant_to_sample_permutation_and_class_relabelling():
    probs = _random_probs(200)
    perm = _rng(1).permutation(200)
    assert metrics.inception_score(probs[perm], n_splits=1)[0] == pytest.approx(
        metrics.inception_score(probs, n_splits=1)[0], rel=1e-12
    )
    cls_perm = _rng(2).permutation(10)
    assert metrics.inception_score(probs[:, cls_perm], n_splits=4) == pytest.approx(
        metrics.inception_score(probs, n_splits=4), rel=1e-12
    )


@pytest.mark.parametrize(("n", "expected", "tol"), [(32, 8.6, 0.15), (100, 9.56, 0.05)])
def test_is_depends_on_sample_count(n, expected, tol):
    rng = _rng(3)
    scores = [
        metrics.inception_score(_one_hot(rng.integers(0, 10, n)), n_splits=1)[0] for _ in range(300)
    ]
    assert np.mean(scores) == pytest.approx(expected, abs=tol)


def test_is_at_thousand_samples_is_close_to_ten():
    rng = _rng(4)
    scores = [
        metrics.inception_score(_one_hot(rng.integers(0, 10, 1000)), n_splits=1)[0]
        for _ in range(20)
    ]
    assert np.mean(scores) == pytest.approx(9.96, abs=0.02)


def test_is_rejects_fewer_samples_than_splits_and_warns_on_small_splits():
    with pytest.raises(ValueError, match="n_splits=10"):
        metrics.inception_score(_random_probs(5), n_splits=10)
    with pytest.warns(UserWarning, match="smaller than the 10 classes"):
        metrics.inception_score(_random_probs(32), n_splits=10)


@pytest.mark.parametrize(
    ("probs", "match"),
    [
        (np.full((4, 10), np.nan), "NaN"),
        (np.ones((4, 10)), "sum to 1"),
        (np.full((4, 2), [2.0, -1.0]), "softmax"),
        (np.full(10, 0.1), "2-D"),
        (np.eye(10, dtype=np.int64), "floating-point"),
    ],
)
def test_is_rejects_invalid_probs(probs, match):
    with pytest.raises(ValueError, match=match):
        metrics.inception_score(probs, n_splits=1)


# --------------------------------------------------------------------------------------
# TARR, class coverage, MODE score
# --------------------------------------------------------------------------------------
def test_tarr_perfect_and_known_confusion():
    labels = np.tile(np.arange(10), 5)
    out = metrics.tarr(_one_hot(labels), labels)
    assert out["success_rate"] == 1.0
    np.testing.assert_array_equal(out["per_class"], np.ones(10))
    np.testing.assert_array_equal(out["confusion"], 5 * np.eye(10, dtype=np.int64))

    labels = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    pred = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    out = metrics.tarr(pred, labels, n_classes=3)
    assert out["success_rate"] == pytest.approx(6 / 8)
    np.testing.assert_allclose(out["per_class"], [0.75, 0.5, 1.0])
    np.testing.assert_array_equal(out["confusion"], [[3, 1, 0], [0, 1, 1], [0, 0, 2]])
    np.testing.assert_array_equal(out["support"], [4, 2, 2])
    from_probs = metrics.tarr(_one_hot(pred, 3) * 0.7 + 0.1, labels, n_classes=3)
    np.testing.assert_array_equal(from_probs["confusion"], out["confusion"])


def test_tarr_reports_nan_for_classes_never_requested():
    out = metrics.tarr(np.array([0, 1]), np.array([0, 1]), n_classes=3)
    assert np.isnan(out["per_class"][2])
    assert out["success_rate"] == 1.0


@pytest.mark.parametrize(
    ("pred", "labels", "match"),
    [
        (np.array([0, 1]), np.array([0, 1, 2]), "one conditioning label per"),
        (np.array([0, 1]), np.array([0, 10]), r"labels must be in \[0, 10\)"),
        (_random_probs(2, c=5), np.array([0, 1]), "5 classes but n_classes=10"),
        (np.zeros((2, 2, 2)), np.array([0, 1]), "probs_or_pred must be"),
    ],
)
def test_tarr_rejects_invalid_inputs(pred, labels, match):
    with pytest.raises(ValueError, match=match):
        metrics.tarr(pred, labels)


def test_tarr_rejects_float_labels_with_a_type_error():
    with pytest.raises(TypeError, match=r"labels must be integers 0-9.*astype\(np.int64\)"):
        metrics.tarr(np.array([0, 1]), np.array([0.0, 1.0]))


def test_class_coverage_uniform_and_single_class():
    out = metrics.class_coverage(np.tile(np.arange(10), 30))
    assert out["n_covered"] == 10
    assert out["kl_to_uniform"] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(out["fractions"], 0.1)
    out = metrics.class_coverage(_one_hot(np.full(100, 3)))
    assert out["n_covered"] == 1
    assert out["kl_to_uniform"] == pytest.approx(math.log(10))
    assert out["counts"][3] == 100


def test_class_coverage_threshold_ignores_rare_classes():
    pred = np.concatenate([np.repeat(np.arange(9), 111), [9]])  # class 9: 1 of 1000 = 0.1%
    assert metrics.class_coverage(pred)["n_covered"] == 9
    assert metrics.class_coverage(pred, min_fraction=0.001)["n_covered"] == 10
    with pytest.raises(ValueError, match="min_fraction"):
        metrics.class_coverage(pred, min_fraction=0.0)


def test_mode_score_equals_is_when_marginals_match_uniform():
    fake = _one_hot(np.tile(np.arange(10), 20)) * 0.91 + 0.009  # uniform marginal
    real = np.full((30, 10), 0.1)
    assert metrics.mode_score(fake, real) == pytest.approx(
        metrics.inception_score(fake, n_splits=1)[0], rel=1e-9
    )


def test_mode_score_penalises_marginal_mismatch():
    fake, real = _random_probs(300, seed=5), _random_probs(300, seed=6)
    marg_f, marg_r = fake.mean(axis=0), real.mean(axis=0)
    kl = float(np.sum(marg_f * np.log(marg_f / marg_r)))
    expected = metrics.inception_score(fake, n_splits=1)[0] * math.exp(-kl)
    assert metrics.mode_score(fake, real) == pytest.approx(expected, rel=1e-9)
    collapsed = _one_hot(np.zeros(50, dtype=int))
    assert metrics.mode_score(collapsed, np.full((10, 10), 0.1)) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="probs_fake has 10 features but probs_real has 5"):
        metrics.mode_score(_random_probs(4), _random_probs(4, c=5))


# --------------------------------------------------------------------------------------
# Fréchet distance
# --------------------------------------------------------------------------------------
def _fid_reference(a, b):
    """Direct formula with scipy.linalg.sqrtm on the non-symmetric product."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = np.real(scipy.linalg.sqrtm(sa @ sb))
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(sa + sb - 2 * covmean))


def test_fid_identical_sets_is_zero():
    a = _rng(0).normal(size=(500, 16))
    trace = np.trace(np.cov(a, rowvar=False))
    assert metrics.frechet_distance(a, a.copy()) <= 1e-6 * trace


def test_fid_one_dimensional_closed_form():
    rng = _rng(1)
    a, b = rng.normal(0.0, 1.0, (400, 1)), rng.normal(2.0, 3.0, (300, 1))
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_fid_diagonal_statistics_closed_form():
    rng = _rng(2)
    va, vb = rng.uniform(0.1, 4.0, 6), rng.uniform(0.1, 4.0, 6)
    mu_a, mu_b = rng.normal(size=6), rng.normal(size=6)
    expected = np.sum((mu_a - mu_b) ** 2) + np.sum((np.sqrt(va) - np.sqrt(vb)) ** 2)
    got = metrics.frechet_distance_from_statistics(mu_a, np.diag(va), mu_b, np.diag(vb))
    assert got == pytest.approx(expected, rel=1e-10)


def test_fid_matches_sqrtm_reference_and_is_symmetric():
    rng = _rng(3)
    a = rng.normal(size=(300, 8)) @ rng.normal(size=(8, 8))
    b = rng.normal(0.5, 1.0, (250, 8)) @ rng.normal(size=(8, 8))
    assert metrics.frechet_distance(a, b) == pytest.approx(_fid_reference(a, b), rel=1e-8)
    assert metrics.frechet_distance(a, b) == pytest.approx(
        metrics.frechet_distance(b, a), rel=1e-10
    )


def test_fid_of_translated_copy_is_squared_shift():
    a = _rng(4).normal(size=(200, 5))
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    assert metrics.frechet_distance(a, a + shift) == pytest.approx(shift @ shift, rel=1e-8)


def test_fid_from_cached_statistics_matches_and_validates_shapes():
    rng = _rng(6)
    a, b = rng.normal(size=(100, 4)), rng.normal(size=(80, 4))
    stats_a, stats_b = metrics.embedding_statistics(a), metrics.embedding_statistics(b)
    assert metrics.frechet_distance_from_statistics(*stats_a, *stats_b) == pytest.approx(
        metrics.frechet_distance(a, b), rel=1e-12
    )
    with pytest.raises(ValueError, match=r"mu \(D,\) and sigma \(D, D\)"):
        metrics.frechet_distance_from_statistics(stats_a[0], stats_a[1], stats_b[0][:3], stats_b[1])
    with pytest.raises(ValueError, match="sigma_b contains"):
        metrics.frechet_distance_from_statistics(*stats_a, stats_b[0], stats_b[1] * np.nan)


def test_fid_validation():
    a = _rng(5).normal(size=(20, 4))
    with pytest.raises(ValueError, match="emb_a has 4 features but emb_b has 3"):
        metrics.frechet_distance(a, a[:, :3])
    with pytest.raises(ValueError, match="emb_b contains 1 NaN"):
        metrics.frechet_distance(a, np.where(np.arange(80).reshape(20, 4) == 7, np.nan, a))
    with pytest.raises(ValueError, match="emb_a has 1 samples; at least 2"):
        metrics.frechet_distance(a[:1], a)
    with pytest.raises(ValueError, match="2-D"):
        metrics.frechet_distance(a.ravel(), a)
    with pytest.warns(UserWarning, match="singular covariance"):
        metrics.frechet_distance(a[:3], a)


# --------------------------------------------------------------------------------------
# KID and Gaussian MMD
# --------------------------------------------------------------------------------------
def _kid_brute_force(x, y):
    m, d = len(x), x.shape[1]

    def k(u, v):
        return (float(np.dot(u, v)) / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2))
    yy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(m), 2))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return (xx + yy) / (m * (m - 1)) - 2 * xy / m**2


def test_kid_matches_brute_force_on_tiny_data_and_is_symmetric():
    rng = _rng(6)
    x, y = rng.normal(size=(7, 3)), rng.normal(0.3, 1.2, (7, 3))
    mean, std = metrics.kernel_inception_distance(x, y, n_subsets=3, subset_size=7)
    # float32 kernels: agreement to float32 precision, not float64's.
    assert mean == pytest.approx(_kid_brute_force(x, y), rel=1e-6)
    assert std == pytest.approx(0.0, abs=1e-12)  # every subset is the whole set
    assert metrics.kernel_inception_distance(y, x, n_subsets=1, subset_size=7)[0] == (
        pytest.approx(mean, rel=1e-6)
    )


def test_kid_same_distribution_near_zero_shifted_positive():
    rng = _rng(7)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    same, _ = metrics.kernel_inception_distance(a, b, n_subsets=10, subset_size=200)
    shifted, _ = metrics.kernel_inception_distance(a, b + 0.5, n_subsets=10, subset_size=200)
    assert abs(same) < 0.05
    assert shifted > 0.5


def test_kid_clips_subset_size_and_is_deterministic():
    rng = _rng(8)
    a, b = rng.normal(size=(30, 4)), rng.normal(size=(50, 4))
    clipped = metrics.kernel_inception_distance(a, b, n_subsets=5, subset_size=10**6, seed=3)
    assert clipped == metrics.kernel_inception_distance(a, b, n_subsets=5, subset_size=30, seed=3)
    assert metrics.kernel_inception_distance(a, b, n_subsets=5, subset_size=10, seed=1) != (
        metrics.kernel_inception_distance(a, b, n_subsets=5, subset_size=10, seed=2)
    )
    with pytest.raises(ValueError, match="subset_size must be >= 2"):
        metrics.kernel_inception_distance(a, b, subset_size=1)
    with pytest.raises(ValueError, match="n_subsets must be >= 1"):
        metrics.kernel_inception_distance(a, b, n_subsets=0)
    with pytest.raises(ValueError, match="emb_b contains"):
        metrics.kernel_inception_distance(a, np.full((5, 4), np.inf))


def _mmd_brute_force(x, y, sigma):
    def k(u, v):
        return math.exp(-float(np.sum((u - v) ** 2)) / (2 * sigma**2))

    def mean_k(p, q):
        return sum(k(u, v) for u in p for v in q) / (len(p) * len(q))

    return mean_k(x, x) + mean_k(y, y) - 2 * mean_k(x, y)


def test_mmd_matches_brute_force_and_median_heuristic():
    rng = _rng(9)
    x, y = rng.normal(size=(6, 3)), rng.normal(0.5, 1.0, (5, 3))
    assert metrics.mmd_gaussian(x, y, bandwidth=1.3) == pytest.approx(
        _mmd_brute_force(x, y, 1.3),
        rel=1e-6,  # float32 kernels
    )
    pooled = np.vstack([x, y])
    dists = [np.linalg.norm(u - v) for u, v in itertools.combinations(pooled, 2)]
    median = float(np.median(dists))
    assert metrics.mmd_gaussian(x, y) == pytest.approx(_mmd_brute_force(x, y, median), rel=1e-6)
    assert metrics.mmd_gaussian(x, y) == pytest.approx(metrics.mmd_gaussian(y, x), rel=1e-6)


def test_mmd_zero_for_identical_sets_and_grows_with_shift():
    a = _rng(10).normal(size=(100, 4))
    assert metrics.mmd_gaussian(a, a.copy()) == pytest.approx(0.0, abs=1e-12)
    values = [metrics.mmd_gaussian(a, a + s, bandwidth=2.0) for s in (0.0, 0.5, 1.0, 2.0)]
    assert values[0] == pytest.approx(0.0, abs=1e-12)
    assert all(v2 > v1 for v1, v2 in itertools.pairwise(values))
    with pytest.raises(ValueError, match="bandwidth must be a positive number"):
        metrics.mmd_gaussian(a, a, bandwidth=0.0)


# --------------------------------------------------------------------------------------
# Precision/recall and 1-NN two-sample test
# --------------------------------------------------------------------------------------
def _pr_brute_force(real, fake, k):
    def radii(x):
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    def coverage(q, c, r):
        d = np.linalg.norm(q[:, None] - c[None], axis=-1)
        return float(np.mean((d <= r[None]).any(axis=1)))

    return coverage(fake, real, radii(real)), coverage(real, fake, radii(fake))


def test_precision_recall_known_answers():
    rng = _rng(11)
    real = rng.normal(size=(200, 8))
    assert neighbours.precision_recall(real, real.copy()) == {"precision": 1.0, "recall": 1.0}
    collapsed = np.repeat(real[:1], 50, axis=0)
    out = neighbours.precision_recall(real, collapsed)
    assert out["precision"] == 1.0
    assert out["recall"] == pytest.approx(1 / 200)
    far = neighbours.precision_recall(real, rng.normal(size=(100, 8)) + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0}


def test_precision_recall_matches_brute_force():
    rng = _rng(12)
    real, fake = rng.normal(size=(60, 5)), rng.normal(0.7, 1.3, (45, 5))
    precision, recall = _pr_brute_force(real, fake, k=3)
    out = neighbours.precision_recall(real, fake, k=3)
    assert out["precision"] == pytest.approx(precision)
    assert out["recall"] == pytest.approx(recall)


def test_precision_recall_subsampling_and_validation():
    rng = _rng(13)
    real, fake = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
    sub = neighbours.precision_recall(real, fake, max_samples=100, seed=1)
    assert sub == neighbours.precision_recall(real, fake, max_samples=100, seed=1)
    with pytest.raises(ValueError, match=r"fake_emb has 3 samples; at least 4"):
        neighbours.precision_recall(real, fake[:3], k=3)
    with pytest.raises(ValueError, match="k must be >= 1"):
        neighbours.precision_recall(real, fake, k=0)


def test_one_nn_accuracy_known_answers():
    rng = _rng(14)
    real = rng.normal(size=(1000, 2))
    assert neighbours.one_nn_accuracy(real, rng.normal(size=(500, 2)) + 50.0) == 1.0
    assert neighbours.one_nn_accuracy(real, rng.normal(size=(1000, 2))) == pytest.approx(
        0.5, abs=0.04
    )
    assert neighbours.one_nn_accuracy(real, rng.normal(size=(250, 2))) == pytest.approx(
        0.5, abs=0.05
    )
    # Exact copies: every point's nearest other point is its twin in the other set.
    assert neighbours.one_nn_accuracy(real[:200], real[:200].copy()) == 0.0


def test_one_nn_accuracy_matches_brute_force():
    rng = _rng(15)
    real, fake = rng.normal(size=(30, 3)), rng.normal(0.5, 1.0, (20, 3))
    pooled = np.vstack([real, fake])
    is_fake = np.arange(50) >= 30
    d = np.linalg.norm(pooled[:, None] - pooled[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    correct = is_fake[d.argmin(axis=1)] == is_fake
    expected = (correct[:30].mean() + correct[30:].mean()) / 2
    assert neighbours.one_nn_accuracy(real, fake) == pytest.approx(expected)
    with pytest.raises(ValueError, match="fake_emb has 1 samples"):
        neighbours.one_nn_accuracy(real, fake[:1])


def test_nearest_neighbour_search_is_exact_across_chunk_boundaries():
    rng = _rng(16)
    x = rng.normal(size=(37, 6)).astype(np.float32)
    idx, d2 = neighbours._nearest_neighbours(x, x, exclude_self=True, query_batch=5, ref_batch=7)
    d = np.linalg.norm(x[:, None].astype(float) - x[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_array_equal(idx, d.argmin(axis=1))
    np.testing.assert_allclose(np.sqrt(d2), d.min(axis=1), rtol=1e-3)


# --------------------------------------------------------------------------------------
# Pixel-space diversity and memorisation
# --------------------------------------------------------------------------------------
def _images(n, seed=0):
    return _rng(seed).uniform(-1, 1, size=(n, 28, 28)).astype(np.float32)


def test_nearest_neighbour_distances_brute_force_and_copies():
    samples, reference = _images(12, seed=1), _images(40, seed=2)
    expected = np.linalg.norm(
        samples.reshape(12, 1, -1).astype(float) - reference.reshape(1, 40, -1), axis=-1
    ).min(axis=1)
    got = diversity.nearest_neighbour_distances(samples, reference, batch_size=5)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    copies = diversity.nearest_neighbour_distances(reference[[3, 7]], reference)
    np.testing.assert_array_equal(copies, [0.0, 0.0])
    emb = _rng(3).normal(size=(10, 4))
    np.testing.assert_allclose(
        diversity.nearest_neighbour_distances(emb[:3] + 1e-3, emb), 2e-3, rtol=1e-3
    )


def test_training_coverage_counts_the_training_images_samples_stay_near():
    train = _images(12, seed=5)
    train_labels = np.repeat([0, 1, 2], 4)  # 4 training images per class
    noise = 0.01 * _rng(6).normal(size=(16, 28, 28)).astype(np.float32)
    # class 0: every sample is a copy of one image; class 1: each image once; class 2: none.
    picks = [0, 0, 0, 0, 0, 0, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5]
    samples = np.clip(train[picks] + noise, -1, 1)
    labels = np.array([0] * 6 + [1] * 10)
    got = diversity.training_coverage(samples, labels, train, train_labels, n_classes=4)
    np.testing.assert_array_equal(got["train_images"], [4, 4, 4, 0])
    np.testing.assert_array_equal(got["images_used"], [1, 4, 0, 0])
    shares = np.array([3, 3, 2, 2]) / 10
    np.testing.assert_allclose(
        got["effective_images"][:2], [1, np.exp(-(shares * np.log(shares)).sum())]
    )
    np.testing.assert_allclose(got["top_share"][:2], [1, 0.3])
    assert np.isnan(got["effective_images"][2:]).all() and np.isnan(got["top_share"][2:]).all()
    with pytest.raises(ValueError, match="no training image"):
        diversity.training_coverage(samples, np.full(16, 3), train, train_labels, n_classes=4)
    with pytest.raises(ValueError, match="labels"):
        diversity.training_coverage(samples, labels[:-1], train, train_labels)


def test_nearest_neighbour_distances_accepts_uint8_and_channel_axis():
    raw = _rng(4).integers(0, 256, size=(8, 28, 28, 1), dtype=np.uint8)
    scaled = raw.astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(
        diversity.nearest_neighbour_distances(raw[:3], raw),
        diversity.nearest_neighbour_distances(scaled[:3], scaled),
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="same per-sample shape"):
        diversity.nearest_neighbour_distances(scaled, scaled.reshape(8, -1))


def test_mean_pairwise_distance_known_answers():
    img = _images(1)
    assert diversity.mean_pairwise_distance(np.repeat(img, 10, axis=0)) == 0.0
    two = _images(2, seed=5)
    expected = float(np.linalg.norm(two[0].astype(float) - two[1]))
    assert diversity.mean_pairwise_distance(two, n_pairs=50) == pytest.approx(expected)
    assert diversity.mean_pairwise_distance(_images(50), seed=1) > 10.0
    with pytest.raises(ValueError, match="images has 1 images; at least 2"):
        diversity.mean_pairwise_distance(img)


def test_duplicate_fraction_known_answers():
    imgs = _images(10, seed=6)
    assert diversity.duplicate_fraction(np.repeat(imgs[:1], 8, axis=0), threshold=1.0) == 1.0
    assert diversity.duplicate_fraction(imgs, threshold=1.0) == 0.0
    with_copies = np.concatenate([imgs, imgs[:5]])  # 5 originals + 5 copies of 15
    assert diversity.duplicate_fraction(with_copies, threshold=1.0) == pytest.approx(10 / 15)
    with pytest.raises(ValueError, match="threshold must be a positive number"):
        diversity.duplicate_fraction(imgs, threshold=0.0)


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (np.full((4, 28, 28), 255.0, dtype=np.float32), r"scale_images \(x/127.5-1\)"),
        (np.full((4, 28, 28), 1.2, dtype=np.float32), r"must lie in \[-1, 1\].*scale_images"),
        (np.full((4, 28, 28), np.nan, dtype=np.float32), "NaN"),
        (np.zeros((28, 28), dtype=np.float32), r"\(N, H, W\)"),
    ],
)
def test_image_validation_rejects_bad_images(images, match):
    with pytest.raises(ValueError, match=match):
        diversity.mean_pairwise_distance(images)


def test_image_validation_rejects_other_integer_dtypes_with_a_type_error():
    with pytest.raises(TypeError, match="uint8"):
        diversity.mean_pairwise_distance(np.zeros((4, 28, 28), dtype=np.int64))


def test_image_validation_converts_uint8_and_warns_on_unit_range():
    raw = np.array([0, 255], dtype=np.uint8).reshape(2, 1, 1)
    np.testing.assert_allclose(diversity.validate_images(raw).ravel(), [-1.0, 1.0])
    with pytest.warns(UserWarning, match="no negative values"):
        diversity.validate_images(_rng(7).uniform(0, 1, size=(3, 28, 28)).astype(np.float32))
