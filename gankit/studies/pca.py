"""PCA as a generative model of MNIST digits: the classical baseline the GANs should beat.

Fitting finds the principal axes of the training images in pixel space (D = 784) and fits
a Gaussian to the images' coefficients on the first k axes. Sampling draws coefficients
from that Gaussian, maps them back to pixels (mean + coefficients @ axes) and clips to
[-1, 1]. Reconstruction projects images onto the first k axes and back.

Three flavours, all from `fit_pca_generator`:

- unconditional (``per_class=False``): one basis, one Gaussian; draw with ``sample(n)``.
- per class (``per_class=True``): one basis and one Gaussian per digit (the textbook
  "PCA per class"); draw with ``sample(labels=labels)``, like a conditional GAN.
- per class on a shared basis (``per_class=True, shared_basis=True``): the basis of all
  images, one Gaussian per digit over its coefficients (a Gaussian mixture in the PCA
  subspace).

Diagonal vs full covariance: PCA decorrelates the coefficients of the images it was fitted
on, so on a model's own basis the full covariance *is* diagonal (up to rounding) and both
options draw the same distribution. They differ only with ``shared_basis=True``, where a
digit's coefficients on the shared axes are correlated: "full" keeps those correlations,
"diagonal" drops them.

Which flavour: measured with the reference classifier on 5000 samples, the unconditional
model draws mostly unreadable blends of digits (inception score 2.6, FID 1000 at 90 %
variance); per-class bases are the strongest PCA (IS 8.6, TARR 92 %, FID 326 at k = 10;
real test images: 9.7, 99.3 %, 76). Fewer components give cleaner, less varied digits.

The axes and Gaussians are in `gankit.studies.pca_basis` (scikit-learn fits the axes).
Fitting runs BLAS on one thread by default (``threads``; see there why). Fitting is
deterministic (each axis' sign is fixed), so it takes no seed; sampling does.

Usage::

    x = gankit.data.images.scale_images(x_train)                   # float32 in [-1, 1]
    pca = fit_pca_generator(x, explained_variance=0.9)      # k chosen for 90 % variance
    images = pca.sample(10_000, seed=0)                     # (10000, 28, 28, 1)
    per_digit = fit_pca_generator(x, y_train, per_class=True, n_components=50)
    labels = np.arange(10_000) % 10
    images = per_digit.sample(labels=labels, seed=0)        # a conditional sampler
    recon = pca.reconstruct(x_test_scaled[:8], n_components=20)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gankit import checks
from gankit.checks import N_CLASSES
from gankit.data.images import check_images
from gankit.studies.pca_basis import (
    N_PIXELS,
    CoefficientGaussian,
    PCABasis,
    basis_of_rows,
    blas_threads,
    check_fraction,
    check_int,
    fit_coefficient_gaussian,
)

IMAGE_SHAPE = (28, 28, 1)
COVARIANCES = ("diagonal", "full")


# --------------------------------------------------------------------------- validation


def _check_images(images, name: str = "images", min_samples: int = 1) -> np.ndarray:
    """``images`` flattened to float32 (N, 784), after ``gankit.data.images.check_images``.

    Raises:
        TypeError, ValueError: as ``check_images`` (uint8 pixels are scaled, not rejected).
    """
    arr = check_images(images, name=name, min_samples=min_samples)
    return arr.reshape(len(arr), N_PIXELS)


def _check_labels(labels, n: int | None = None, name: str = "labels") -> np.ndarray:
    """``labels`` as int64 (N,): ``gankit.checks.labels`` (integers 0-9, length ``n``)."""
    return checks.labels(labels, n, n_classes=N_CLASSES, name=name)


def _check_seed(seed) -> int:
    return checks.seed(seed)


# -------------------------------------------------------------------------------- basis


def fit_pca_basis(images, *, threads: int | None = 1) -> PCABasis:
    """The principal axes of ``images``.

    Args:
        images: float in [-1, 1], shape (N, 28, 28) or (N, 28, 28, 1), N >= 2.
        threads: BLAS threads (None: all); see the module docstring.

    Raises:
        TypeError / ValueError: see `fit_pca_generator`.
    """
    flat = _check_images(images, min_samples=2)
    with blas_threads(threads):
        return basis_of_rows(flat)


def components_for_variance(images, fraction: float, *, threads: int | None = 1) -> int:
    """Smallest number of principal components of ``images`` that explains at least
    ``fraction`` (in (0, 1]) of their pixel variance (within 1e-6, float32 rounding). On
    the 60k MNIST training images: 87 components for 0.9, 154 for 0.95, 331 for 0.99.

    Raises:
        TypeError / ValueError: invalid images (see `fit_pca_generator`) or fraction.
    """
    fraction = check_fraction(fraction)
    return fit_pca_basis(images, threads=threads).components_for_variance(fraction)


# ---------------------------------------------------------------------------- generator


@dataclass(frozen=True, eq=False)
class PCAGenerator:
    """A fitted PCA generative model; build it with `fit_pca_generator`.

    Attributes:
        bases: one `PCABasis`, or ten (one per digit) for per-class bases.
        gaussians: one `CoefficientGaussian` (unconditional) or ten (digit c at index c).
        n_components: k, the number of axes sampled and reconstructed with (the same k for
            every digit).
        covariance: "diagonal" or "full".
    """

    bases: tuple[PCABasis, ...]
    gaussians: tuple[CoefficientGaussian, ...]
    n_components: int
    covariance: str

    def __repr__(self) -> str:
        kind = {(1, 1): "unconditional", (1, 10): "per class, shared basis"}
        name = kind.get((len(self.bases), len(self.gaussians)), "per class")
        return (
            f"PCAGenerator({name}, n_components={self.n_components}, "
            f"covariance={self.covariance!r})"
        )

    @property
    def conditional(self) -> bool:
        """True if it draws digits on request (``sample(labels=...)``)."""
        return len(self.gaussians) > 1

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        """Share of the variance along each axis: (784,) for one basis, (10, 784) (row c
        for digit c) for per-class bases."""
        if len(self.bases) == 1:
            return self.bases[0].explained_variance_ratio
        return np.stack([b.explained_variance_ratio for b in self.bases])

    @property
    def explained_variance(self) -> float | np.ndarray:
        """Share of the variance the first `n_components` axes explain: a float, or (10,)
        per digit for per-class bases."""
        shares = self.explained_variance_ratio[..., : self.n_components].sum(axis=-1)
        return float(shares) if np.ndim(shares) == 0 else shares

    def sample(self, n: int | None = None, *, labels=None, seed: int = 0) -> np.ndarray:
        """Draw images: float32 (n, 28, 28, 1), clipped to [-1, 1].

        Image i comes from row i of one (n, k) standard-normal draw of ``seed``, so the
        same (seed, labels) always gives the same images.

        Args:
            n: how many; may be omitted when ``labels`` is given.
            labels: int (n,) digits 0-9 to draw, for a per-class model (the interface of a
                conditional GAN: ``sample(labels=labels, seed=seed)``); if None, a per-class
                model draws 0, 1, ..., 9, 0, ... Not allowed for an unconditional model.
            seed: seeds the draw.

        Raises:
            ValueError: no n and no labels, n < 1, n != len(labels), or labels given to an
                unconditional model.
            TypeError: seed or n not an int, labels not integers.
        """
        seed = _check_seed(seed)
        if labels is not None and not self.conditional:
            raise ValueError(
                "labels were given but this PCA model is unconditional; "
                "fit it with per_class=True to draw chosen digits"
            )
        if n is None and labels is None:
            raise ValueError("give n (the number of images) or labels")
        if n is not None:
            n = check_int(n, "n", 1, np.iinfo(np.int64).max)
        if labels is not None:
            labels = _check_labels(labels, n)
            n = len(labels)
            if n == 0:
                raise ValueError("labels is empty; pass at least one label")
        elif self.conditional:
            labels = np.arange(n) % N_CLASSES
        noise = np.random.default_rng(seed).standard_normal((n, self.n_components))
        if not self.conditional:
            flat = self.bases[0].to_pixels(self.gaussians[0].draw(noise))
        else:
            flat = np.empty((n, N_PIXELS))
            for digit in np.unique(labels):
                rows = labels == digit
                coefficients = self.gaussians[digit].draw(noise[rows])
                flat[rows] = self._basis_of(digit).to_pixels(coefficients)
        return _to_images(flat)

    def reconstruct(
        self, images, n_components: int | None = None, *, labels=None, clip: bool = True
    ) -> np.ndarray:
        """Project ``images`` onto the first k axes and back: float32 (N, 28, 28, 1).

        Args:
            images: float in [-1, 1], (N, 28, 28) or (N, 28, 28, 1).
            n_components: k; default `n_components`. Any k up to min(fitted images, 784)
                works, whatever k the model samples with.
            labels: int (N,) digits, required for per-class bases (each image is
                reconstructed on its digit's basis); ignored otherwise.
            clip: clip to [-1, 1] (valid images for plots and the classifier); False
                gives the exact projection (its error never grows with k).

        Raises:
            TypeError / ValueError: invalid images, labels or n_components, or no labels
                for per-class bases.
        """
        flat = _check_images(images)
        k = self.n_components if n_components is None else n_components
        for basis in self.bases:
            basis.check_k(k)
        if len(self.bases) == 1:
            out = _project_and_back(self.bases[0], flat, k)
        else:
            if labels is None:
                raise ValueError("per-class bases need labels: pass the digit of each image")
            labels = _check_labels(labels, len(flat))
            out = np.empty(flat.shape)
            for digit in np.unique(labels):
                rows = labels == digit
                out[rows] = _project_and_back(self.bases[digit], flat[rows], k)
        return _to_images(out, clip=clip)

    def _basis_of(self, digit: int) -> PCABasis:
        return self.bases[digit] if len(self.bases) > 1 else self.bases[0]


def _project_and_back(basis: PCABasis, flat: np.ndarray, k: int) -> np.ndarray:
    return basis.to_pixels(basis.project(flat, k))


def _to_images(flat: np.ndarray, clip: bool = True) -> np.ndarray:
    """Flattened pixels (N, 784) -> float32 (N, 28, 28, 1), clipped to [-1, 1] if ``clip``."""
    if clip:
        flat = np.clip(flat, -1.0, 1.0)
    return flat.astype(np.float32).reshape(len(flat), *IMAGE_SHAPE)


def fit_pca_generator(
    images,
    labels=None,
    *,
    n_components: int | None = None,
    explained_variance: float = 0.9,
    covariance: str = "diagonal",
    per_class: bool = False,
    shared_basis: bool = False,
    threads: int | None = 1,
) -> PCAGenerator:
    """Fit a PCA generative model to ``images`` (see the module docstring for the kinds).

    Args:
        images: float in [-1, 1] (``gankit.data.images.scale_images``), shape (N, 28, 28) or
            (N, 28, 28, 1).
        labels: int (N,) digits 0-9; required with ``per_class``, not allowed without.
        n_components: k, the number of principal axes; at most min(N, 784), and with
            ``per_class`` at most the smallest digit's image count. None: the smallest k
            that explains ``explained_variance`` (per-class bases: for every digit).
        explained_variance: in (0, 1]; used only when ``n_components`` is None.
        covariance: "diagonal" or "full" Gaussian over the coefficients (they differ only
            with ``shared_basis``; see the module docstring).
        per_class: one Gaussian per digit, so that the model draws chosen digits.
        shared_basis: with ``per_class``, use the axes of all images instead of one basis
            per digit.
        threads: BLAS threads while fitting (None: all); see the module docstring.

    Returns:
        A `PCAGenerator`. Deterministic: no seed is needed to fit.

    Raises:
        TypeError: images not float, labels not integers, n_components not an int.
        ValueError: a bad shape or range, labels missing or unexpected, a digit with fewer
            than 2 images, n_components out of range, explained_variance outside (0, 1],
            an unknown covariance, shared_basis without per_class, or threads < 1.
    """
    with blas_threads(threads):
        return _fit_generator(
            _check_images(images, min_samples=2),
            labels,
            n_components=n_components,
            explained_variance=explained_variance,
            covariance=covariance,
            per_class=per_class,
            shared_basis=shared_basis,
        )


def _fit_generator(
    flat: np.ndarray,
    labels,
    *,
    n_components: int | None,
    explained_variance: float,
    covariance: str,
    per_class: bool,
    shared_basis: bool,
) -> PCAGenerator:
    if covariance not in COVARIANCES:
        raise ValueError(f"covariance must be one of {COVARIANCES}, got {covariance!r}")
    if shared_basis and not per_class:
        raise ValueError("shared_basis applies only with per_class=True")
    if n_components is None:
        check_fraction(explained_variance)
    if not per_class:
        if labels is not None:
            raise ValueError("labels are used only with per_class=True; pass per_class=True")
        basis = basis_of_rows(flat)
        k = _choose_k([basis], n_components, explained_variance)
        gaussian = fit_coefficient_gaussian(basis.project(flat, k), covariance)
        return PCAGenerator((basis,), (gaussian,), k, covariance)
    if labels is None:
        raise ValueError("per_class=True needs labels: the digit 0-9 of each image")
    by_digit = _split_by_digit(flat, _check_labels(labels, len(flat)))
    if n_components is not None:  # fail before the fitting work
        check_int(n_components, "n_components", 1, min(N_PIXELS, *map(len, by_digit)))
    if shared_basis:
        bases = (basis_of_rows(flat),)
        # no digit's Gaussian can have more axes than the digit has images
        k = _choose_k(bases, n_components, explained_variance, min(map(len, by_digit)))
        basis_of_digit = bases * N_CLASSES
    else:
        bases = basis_of_digit = tuple(basis_of_rows(rows) for rows in by_digit)
        k = _choose_k(bases, n_components, explained_variance)
    gaussians = tuple(
        fit_coefficient_gaussian(basis.project(rows, k), covariance)
        for basis, rows in zip(basis_of_digit, by_digit, strict=True)
    )
    return PCAGenerator(bases, gaussians, k, covariance)


def _split_by_digit(flat: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """Rows of each digit 0-9; ValueError if a digit has fewer than 2 images."""
    counts = np.bincount(labels, minlength=N_CLASSES)
    if counts.min() < 2:
        missing = [d for d in range(N_CLASSES) if counts[d] < 2]
        raise ValueError(f"per_class needs at least 2 images of every digit; digits {missing}")
    return [flat[labels == digit] for digit in range(N_CLASSES)]


def _choose_k(bases, n_components, explained_variance: float, max_k: int | None = None) -> int:
    """``n_components`` checked against every basis (and ``max_k``), or the smallest k
    that explains ``explained_variance`` in every basis."""
    if n_components is None:
        k = max(b.components_for_variance(explained_variance) for b in bases)
    else:
        k = n_components
    high = min(b.max_components for b in bases)
    if max_k is not None:
        high = min(high, max_k)
    return check_int(k, "n_components", 1, high)
