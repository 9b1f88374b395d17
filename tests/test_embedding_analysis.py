"""Tests for gankit.studies.embeddings: 2-D projections, confidence, real/synthetic subsets."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.studies import embeddings as ea


def _clusters(n_per_cluster: int = 20, n_clusters: int = 5, dim: int = 16, seed: int = 0):
    """Well-separated Gaussian clusters (N, dim) and their labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=10.0, size=(n_clusters, dim))
    labels = np.repeat(np.arange(n_clusters), n_per_cluster)
    return centres[labels] + rng.normal(size=(len(labels), dim)), labels


def _nearest_neighbour_agreement(points: np.ndarray, labels: np.ndarray) -> float:
    d = ((points[:, None] - points[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return float(np.mean(labels[d.argmin(axis=1)] == labels))


# ---------------------------------------------------------------------------- projection
@pytest.mark.parametrize("method", ["tsne", "pca"])
def test_project_2d_shape_and_clusters(method):
    x, labels = _clusters()
    points = ea.project_2d(x, method, seed=0)
    assert points.shape == (len(x), 2)
    assert points.dtype == np.float64
    assert np.all(np.isfinite(points))
    # separated clusters stay separated: each point's nearest neighbour is in its cluster
    assert _nearest_neighbour_agreement(points, labels) > 0.95


def test_tsne_is_deterministic_given_the_seed():
    x, _ = _clusters()
    a = ea.project_2d(x, "tsne", seed=3)
    np.testing.assert_array_equal(a, ea.project_2d(x, "tsne", seed=3))
    r1 = ea.project_2d(x, "tsne", seed=1, init="random")
    np.testing.assert_array_equal(r1, ea.project_2d(x, "tsne", seed=1, init="random"))
    assert not np.allclose(r1, ea.project_2d(x, "tsne", seed=2, init="random"))


def test_pca_2d_matches_the_top_two_principal_axes():
    x, _ = _clusters(dim=8)
    points = ea.project_2d(x, "pca")
    centred = x - x.mean(axis=0)
    eigenvalues = np.linalg.eigvalsh(np.cov(centred, rowvar=False))[::-1]
    np.testing.assert_allclose(points.var(axis=0, ddof=1), eigenvalues[:2], rtol=1e-8)
    assert abs(np.corrcoef(points.T)[0, 1]) < 1e-8
    np.testing.assert_array_equal(points, ea.project_2d(x, "pca"))  # deterministic


def test_perplexity_is_lowered_for_few_points():
    assert ea.effective_perplexity(100, 30) == 30
    assert ea.effective_perplexity(31, 30) == 10
    assert ea.effective_perplexity(4, 30) == 1
    x, _ = _clusters(n_per_cluster=2)  # 10 points: scikit-learn would refuse 30
    assert ea.project_2d(x, "tsne", seed=0).shape == (10, 2)


def test_project_2d_validation():
    x, _ = _clusters()
    with pytest.raises(ValueError, match="method"):
        ea.project_2d(x, "umap")
    with pytest.raises(ValueError, match="at least 4"):
        ea.project_2d(x[:3], "tsne")
    with pytest.raises(ValueError, match="2 features"):
        ea.project_2d(x[:, :1], "pca")
    with pytest.raises(ValueError, match="2-D"):
        ea.project_2d(x[0], "pca")
    with pytest.raises(ValueError, match="NaN"):
        ea.project_2d(np.full((10, 3), np.nan), "pca")
    with pytest.raises(ValueError, match="perplexity"):
        ea.project_2d(x, "tsne", perplexity=0)
    with pytest.raises(ValueError, match="init"):
        ea.project_2d(x, "tsne", init="spectral")
    with pytest.raises(ValueError, match="threads"):
        ea.project_2d(x, "tsne", threads=0)
    with pytest.raises(TypeError, match="seed"):
        ea.project_2d(x, "tsne", seed=0.5)


# ---------------------------------------------------------------------------- confidence
def test_confidence_is_the_max_probability():
    probs = np.array([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(ea.confidence(probs), [0.7, 1 / 3, 1.0])
    assert ea.confidence(probs.astype(np.float32)).shape == (3,)


def test_confidence_rejects_logits_and_bad_shapes():
    with pytest.raises(ValueError, match="softmax"):
        ea.confidence(np.array([[2.0, -1.0, 0.5]]))
    with pytest.raises(ValueError, match="2-D"):
        ea.confidence(np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="at least 1"):
        ea.confidence(np.zeros((0, 10)))


# ------------------------------------------------------------------------------- subsets
def _image_sets():
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, size=(300, 28, 28), dtype=np.uint8)  # uint8 is scaled
    real_digits = np.arange(300) % 10
    fake = rng.uniform(-1, 1, size=(200, 28, 28, 1)).astype(np.float32)
    fake_digits = rng.integers(0, 10, size=200)
    return real, real_digits, fake, fake_digits


def test_sample_real_and_synthetic_draws_n_of_each():
    real, real_digits, fake, fake_digits = _image_sets()
    subset = ea.sample_real_and_synthetic(real, real_digits, fake, fake_digits, n=50, seed=1)
    assert subset.images.shape == (100, 28, 28, 1) and subset.images.dtype == np.float32
    assert subset.images.min() >= -1 and subset.images.max() <= 1
    assert subset.is_synthetic.sum() == 50 and not subset.is_synthetic[:50].any()
    assert repr(subset) == "MixedSample(real=50, synthetic=50)"
    # each drawn image keeps its own digit: find it back in its source set
    fake_rows = fake.reshape(200, -1)
    for image, digit in zip(subset.images[50:], subset.digits[50:], strict=True):
        (row,) = np.flatnonzero((fake_rows == image.reshape(-1)).all(axis=1))
        assert fake_digits[row] == digit
    again = ea.sample_real_and_synthetic(real, real_digits, fake, fake_digits, n=50, seed=1)
    np.testing.assert_array_equal(again.images, subset.images)
    other = ea.sample_real_and_synthetic(real, real_digits, fake, fake_digits, n=50, seed=2)
    assert not np.array_equal(other.digits, subset.digits)


def test_balanced_draw_gives_n_over_10_of_each_digit():
    real, real_digits, fake, _ = _image_sets()
    fake_digits = np.arange(200) % 10
    subset = ea.sample_real_and_synthetic(
        real, real_digits, fake, fake_digits, n=100, seed=0, balanced=True
    )
    real_counts, fake_counts = (np.bincount(d, minlength=10) for d in subset.split(subset.digits))
    assert real_counts.tolist() == [10] * 10 and fake_counts.tolist() == [10] * 10


def test_split_returns_real_then_synthetic_values():
    real, real_digits, fake, fake_digits = _image_sets()
    subset = ea.sample_real_and_synthetic(real, real_digits, fake, fake_digits, n=5)
    values = np.arange(10)
    real_values, fake_values = subset.split(values)
    assert real_values.tolist() == [0, 1, 2, 3, 4] and fake_values.tolist() == [5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="rows"):
        subset.split(np.arange(9))


def test_sample_real_and_synthetic_validation():
    real, real_digits, fake, fake_digits = _image_sets()
    draw = ea.sample_real_and_synthetic
    with pytest.raises(ValueError, match="asked for 201 synthetic"):
        draw(real, real_digits, fake, fake_digits, n=201)
    with pytest.raises(ValueError, match="multiple of 10"):
        draw(real, real_digits, fake, fake_digits, n=55, balanced=True)
    with pytest.raises(ValueError, match="fewer than"):
        draw(real, real_digits, fake, np.zeros(200, int), n=20, balanced=True)
    with pytest.raises(ValueError, match="digits"):
        draw(real, real_digits[:-1], fake, fake_digits)
    with pytest.raises(TypeError, match="integer"):
        draw(real, real_digits.astype(float), fake, fake_digits)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        draw(real, real_digits, fake * 3, fake_digits)
    with pytest.raises(TypeError, match="n must"):
        draw(real, real_digits, fake, fake_digits, n=10.0)
    with pytest.raises(ValueError, match="n must"):
        draw(real, real_digits, fake, fake_digits, n=0)
