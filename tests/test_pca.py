"""Tests for gankit.studies.pca and pca_basis: the fitted axes, sampling shapes,
reconstructions, the choice of k, validation."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.data.images import scale_images
from gankit.data.mnist import load_mnist
from gankit.studies import pca, pca_basis

N_TRAIN = 3000


@pytest.fixture(scope="module")
def mnist():
    """3000 training and 500 test images of real MNIST, float32 in [-1, 1]."""
    (x, y), (xt, yt) = load_mnist(verbose=False)
    return scale_images(x[:N_TRAIN]), y[:N_TRAIN], scale_images(xt[:500]), yt[:500]


@pytest.fixture(scope="module")
def models(mnist):
    """One fitted model of each kind, k = 30."""
    x, y = mnist[:2]
    kinds = {
        "unconditional": {},
        "unconditional-full": {"covariance": "full"},
        "per-class": {"per_class": True},
        "per-class-full": {"per_class": True, "covariance": "full"},
        "shared-diagonal": {"per_class": True, "shared_basis": True},
        "shared-full": {"per_class": True, "shared_basis": True, "covariance": "full"},
    }
    return {
        name: pca.fit_pca_generator(x, y if kw.get("per_class") else None, n_components=30, **kw)
        for name, kw in kinds.items()
    }


# ----------------------------------------------------------------------------- sampling
@pytest.mark.parametrize(
    "name",
    [
        "unconditional",
        "unconditional-full",
        "per-class",
        "per-class-full",
        "shared-diagonal",
        "shared-full",
    ],
)
def test_sample_shape_dtype_range_and_seed(models, name):
    model = models[name]
    images = model.sample(37, seed=3)
    assert images.shape == (37, 28, 28, 1)
    assert images.dtype == np.float32
    assert np.all(np.isfinite(images))
    assert images.min() >= -1.0 and images.max() <= 1.0
    np.testing.assert_array_equal(images, model.sample(37, seed=3))
    assert not np.array_equal(images, model.sample(37, seed=4))


def test_per_class_sample_with_labels(models):
    model = models["per-class"]
    labels = np.array([3, 3, 7, 0, 9])
    images = model.sample(labels=labels, seed=0)
    assert images.shape == (5, 28, 28, 1)
    # n agreeing with the labels is fine; the default labels are 0, 1, ..., 9, 0, ...
    np.testing.assert_array_equal(images, model.sample(5, labels=labels, seed=0))
    balanced = model.sample(12, seed=0)
    np.testing.assert_array_equal(balanced, model.sample(labels=np.arange(12) % 10, seed=0))
    # image i depends only on (seed, i, label i): changing another label leaves it alone
    other = model.sample(labels=np.array([3, 5, 7, 0, 9]), seed=0)
    np.testing.assert_array_equal(other[[0, 2, 3, 4]], images[[0, 2, 3, 4]])


@pytest.mark.parametrize("name", ["per-class", "shared-diagonal", "shared-full"])
def test_per_class_samples_are_nearest_their_own_class_mean(mnist, models, name):
    x, y = mnist[:2]
    means = np.stack([x[y == d].reshape(-1, 784).mean(axis=0) for d in range(10)])
    labels = np.repeat(np.arange(10), 50)
    samples = models[name].sample(labels=labels, seed=0).reshape(len(labels), 784)
    distances = ((samples[:, None, :] - means[None]) ** 2).sum(axis=-1)
    # chance is 0.1; measured 0.85-0.94 (per-class bases are sharper than a shared one)
    assert np.mean(distances.argmin(axis=1) == labels) > 0.75


def test_diagonal_and_full_agree_on_own_basis_but_not_on_shared(models):
    """PCA decorrelates its own coefficients; a digit on the shared axes is correlated."""
    for name in ("per-class", "unconditional"):
        diag, full = models[name], models[f"{name}-full"]
        np.testing.assert_allclose(diag.sample(50, seed=1), full.sample(50, seed=1), atol=1e-3)
    cov = models["shared-full"].gaussians[3].covariance
    off_diagonal = np.abs(cov - np.diag(np.diag(cov))).max()
    assert off_diagonal > 0.1 * np.diag(cov).max()
    a = models["shared-diagonal"].sample(50, seed=1)
    b = models["shared-full"].sample(50, seed=1)
    assert np.abs(a - b).mean() > 0.05


def test_coefficient_gaussian_recovers_a_known_covariance():
    cov = np.array([[2.0, 0.8, 0.0], [0.8, 1.0, -0.3], [0.0, -0.3, 0.5]])
    rng = np.random.default_rng(0)
    coefficients = rng.multivariate_normal([1.0, -2.0, 0.5], cov, size=20_000)
    full = pca_basis.fit_coefficient_gaussian(coefficients, "full")
    np.testing.assert_allclose(full.covariance, cov, atol=0.05)
    np.testing.assert_allclose(full.mean, [1.0, -2.0, 0.5], atol=0.05)
    diagonal = pca_basis.fit_coefficient_gaussian(coefficients, "diagonal")
    np.testing.assert_allclose(diagonal.covariance, np.diag(np.diag(cov)), atol=0.05)
    drawn = full.draw(rng.standard_normal((20_000, 3)))
    np.testing.assert_allclose(np.cov(drawn, rowvar=False), cov, atol=0.06)


# ------------------------------------------------------------------------ reconstruction
def test_reconstruction_error_decreases_with_more_components(mnist, models):
    x, _, x_test, y_test = mnist
    ks = [1, 5, 10, 20, 50, 100, 200, 400]
    model = models["unconditional"]
    # on the fitted images the projection error can only fall (it is PCA's objective)
    train_err = [np.mean((model.reconstruct(x[:500], k, clip=False) - x[:500]) ** 2) for k in ks]
    assert np.all(np.diff(train_err) < 0)
    # on unseen test images, clipped to valid pixels, it falls as well
    test_err = [np.mean((model.reconstruct(x_test, k) - x_test) ** 2) for k in ks]
    assert np.all(np.diff(test_err) < 0)
    # per-class bases need the digits and do better than the global one
    per_class = models["per-class"]
    class_err = np.mean((per_class.reconstruct(x_test, 20, labels=y_test) - x_test) ** 2)
    assert class_err < test_err[ks.index(20)]


def test_full_rank_reconstruction_is_exact(mnist, models):
    x = mnist[0][:200]
    recon = models["unconditional"].reconstruct(x, 784, clip=False)
    np.testing.assert_allclose(recon, x, atol=1e-4)


def test_reconstruct_shapes(mnist, models):
    x = mnist[0][:4]
    assert models["unconditional"].reconstruct(x[..., 0]).shape == (4, 28, 28, 1)
    assert models["unconditional"].reconstruct(x).dtype == np.float32
    # the shared basis needs no labels
    assert models["shared-full"].reconstruct(x, 5).shape == (4, 28, 28, 1)


def test_basis_matches_numpy_eigh_of_the_covariance():
    """scikit-learn's axes and variances are numpy's eigh of the covariance, with each
    axis' largest-magnitude pixel positive (the sign rule samples depend on)."""
    rng = np.random.default_rng(3)
    # 20 directions with well separated variances, plus a little noise in every pixel
    scales = np.geomspace(0.3, 0.02, 20)
    directions = np.linalg.qr(rng.standard_normal((784, 20)))[0].T
    flat = rng.standard_normal((1500, 20)) * scales @ directions
    flat = np.clip(flat + 0.002 * rng.standard_normal((1500, 784)) - 0.2, -1, 1)
    images = flat.reshape(-1, 28, 28).astype(np.float32)
    basis = pca.fit_pca_basis(images)

    x = images.reshape(len(images), -1).astype(np.float64)
    eigenvalues, vectors = np.linalg.eigh(np.cov(x, rowvar=False, ddof=1))
    variances, axes = eigenvalues[::-1], vectors[:, ::-1].T
    signs = np.sign(axes[np.arange(784), np.abs(axes).argmax(axis=1)])
    axes = axes * signs[:, None]
    np.testing.assert_allclose(basis.mean, x.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(basis.variances, np.clip(variances, 0, None), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(basis.axes[:20], axes[:20], atol=1e-7)


def test_basis_of_few_images_has_one_axis_per_image():
    rng = np.random.default_rng(4)
    images = rng.uniform(-1, 1, (5, 28, 28)).astype(np.float32)
    basis = pca.fit_pca_basis(images)
    assert basis.axes.shape == (5, 784) and basis.variances.shape == (784,)
    assert basis.max_components == 5
    assert np.all(basis.variances[4:] < 1e-12)  # rank 4: five images about their mean


def test_basis_is_orthonormal_sorted_and_sign_fixed(models):
    basis = models["unconditional"].bases[0]
    np.testing.assert_allclose(basis.axes @ basis.axes.T, np.eye(784), atol=1e-8)
    assert np.all(np.diff(basis.variances) <= 1e-12)
    biggest = basis.axes[np.arange(784), np.abs(basis.axes).argmax(axis=1)]
    assert np.all(biggest > 0)
    assert basis.explained_variance_ratio.sum() == pytest.approx(1.0)


# --------------------------------------------------------------------- choosing k
def _three_axis_images() -> np.ndarray:
    """8 images varying along 3 pixels with variance shares 0.5, 0.3, 0.2 exactly.

    Every sign combination appears once, so the three pixels are uncorrelated and each
    has sample variance 8/7 s² (s = its amplitude).
    """
    amplitudes = 0.5 * np.sqrt([0.5, 0.3, 0.2])
    signs = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).reshape(3, -1).T
    images = np.full((8, 784), -0.5)
    images[:, [100, 400, 700]] += signs * amplitudes
    return images.reshape(8, 28, 28).astype(np.float64)


@pytest.mark.parametrize(
    ("fraction", "k"), [(0.2, 1), (0.5, 1), (0.51, 2), (0.8, 2), (0.81, 3), (1.0, 3)]
)
def test_components_for_variance_known_answer(fraction, k):
    assert pca.components_for_variance(_three_axis_images(), fraction) == k


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.95])
def test_explained_variance_picks_the_smallest_k(mnist, fraction):
    x = mnist[0]
    model = pca.fit_pca_generator(x, explained_variance=fraction)
    cumulative = np.cumsum(model.explained_variance_ratio)
    k = model.n_components
    assert cumulative[k - 1] >= fraction > cumulative[k - 2]
    assert model.explained_variance >= fraction
    assert pca.components_for_variance(x, fraction) == k


def test_per_class_explained_variance_reaches_the_fraction_for_every_digit(mnist):
    x, y = mnist[:2]
    model = pca.fit_pca_generator(x, y, per_class=True, explained_variance=0.8)
    assert model.explained_variance_ratio.shape == (10, 784)
    assert np.all(model.explained_variance >= 0.8)
    k = model.n_components
    # k is the smallest that serves every digit: some digit needs all of it
    assert np.any(model.explained_variance_ratio[:, : k - 1].sum(axis=1) < 0.8)


# ----------------------------------------------------------------------------- errors
def test_input_validation(mnist, models):
    x, y = mnist[:2]
    fit = pca.fit_pca_generator
    with pytest.raises(TypeError, match="scale_images"):
        fit(np.zeros((10, 28, 28), np.int64))
    with pytest.raises(ValueError, match="shape"):
        fit(np.zeros((10, 32, 32), np.float32))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        fit(x * 2)
    with pytest.raises(ValueError, match="NaN"):
        fit(np.full((10, 28, 28), np.nan, np.float32))
    with pytest.raises(ValueError, match="at least 2"):
        fit(x[:1])
    with pytest.raises(ValueError, match="per_class=True"):
        fit(x, y)
    with pytest.raises(ValueError, match="needs labels"):
        fit(x, per_class=True)
    with pytest.raises(TypeError, match="integers"):
        fit(x, y.astype(float), per_class=True)
    with pytest.raises(ValueError, match="0-9"):
        fit(x, np.full(len(x), 10), per_class=True)
    with pytest.raises(ValueError, match="shape"):
        fit(x, y[:-1], per_class=True)
    with pytest.raises(ValueError, match=r"digits \[7\]"):
        fit(x, np.where(y == 7, 1, y), per_class=True)
    with pytest.raises(ValueError, match="n_components"):
        fit(x, n_components=0)
    with pytest.raises(ValueError, match="n_components"):
        fit(x[:50], n_components=51)
    with pytest.raises(TypeError, match="n_components"):
        fit(x, n_components=10.0)
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"\(0, 1\]"):
            fit(x, explained_variance=bad)
    with pytest.raises(ValueError, match="covariance"):
        fit(x, covariance="spherical")
    with pytest.raises(ValueError, match="shared_basis"):
        fit(x, shared_basis=True)
    with pytest.raises(ValueError, match="threads"):
        fit(x, threads=0)


def test_per_class_n_components_is_capped_by_the_smallest_digit(mnist):
    x, y = mnist[:2]
    keep = np.concatenate([np.flatnonzero(y != 5), np.flatnonzero(y == 5)[:20]])
    with pytest.raises(ValueError, match=r"n_components must be in \[1, 20\]"):
        pca.fit_pca_generator(x[keep], y[keep], per_class=True, n_components=21)
    with pytest.raises(ValueError, match=r"n_components must be in \[1, 20\]"):
        pca.fit_pca_generator(x[keep], y[keep], per_class=True, shared_basis=True, n_components=21)


def test_sample_and_reconstruct_validation(mnist, models):
    x = mnist[0][:4]
    with pytest.raises(ValueError, match="unconditional"):
        models["unconditional"].sample(labels=[1, 2])
    with pytest.raises(ValueError, match="give n"):
        models["per-class"].sample()
    with pytest.raises(ValueError, match="shape"):
        models["per-class"].sample(3, labels=np.array([1, 2]))
    with pytest.raises(ValueError, match="n must be"):
        models["unconditional"].sample(0)
    with pytest.raises(TypeError, match="seed"):
        models["unconditional"].sample(3, seed=1.5)
    with pytest.raises(ValueError, match="need labels"):
        models["per-class"].reconstruct(x)
    with pytest.raises(ValueError, match="n_components"):
        models["unconditional"].reconstruct(x, 0)


def test_repr_is_short(models):
    text = repr(models["shared-full"])
    assert text == "PCAGenerator(per class, shared basis, n_components=30, covariance='full')"
