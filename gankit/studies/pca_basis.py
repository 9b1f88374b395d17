"""The fitted pieces of a PCA model: principal axes (`PCABasis`) and a Gaussian over the
coefficients on them (`CoefficientGaussian`). `gankit.studies.pca` builds generators from
them.

The axes come from scikit-learn's ``PCA(svd_solver="covariance_eigh")``: ``eigh`` of the
D x D covariance (D = 784), fitted in float64 (the 60k training images: about 3 s; an SVD
of the 60k x 784 data matrix took 90 s). Fitting runs BLAS on one thread by default
(``blas_threads``): on the shared 2-core machine, with both cores busy, OpenBLAS' spinning
threads made it 3-20x slower. Each axis' sign is fixed (largest-magnitude pixel positive),
so fitting is deterministic.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from gankit import checks

__all__ = [
    "CoefficientGaussian",
    "PCABasis",
    "basis_of_rows",
    "blas_threads",
    "check_fraction",
    "check_int",
    "fit_coefficient_gaussian",
]

N_PIXELS = 28 * 28

_CHUNK = 10_000  # images per block when projecting (bounds the memory)
# Relative jitter on the diagonal before the Cholesky factorisation: a coefficient with
# (almost) zero variance, e.g. an axis beyond a small class's rank, would make it fail.
_JITTER = 1e-9
_SHARE_TOLERANCE = 1e-6  # explained-variance shares are accurate to float32 rounding


def check_int(value, name: str, low: int, high: int) -> int:
    """``value`` as int if it is an int in [low, high]; TypeError / ValueError otherwise."""
    return checks.integer(value, name, low, high)


def check_fraction(fraction) -> float:
    """``fraction`` as float if it is a number in (0, 1]; TypeError / ValueError otherwise."""
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
        raise TypeError(f"explained variance must be a number, got {type(fraction).__name__}")
    if not 0.0 < fraction <= 1.0:
        raise ValueError(
            f"explained variance must be a fraction in (0, 1], got {fraction!r} (0.9 means 90 %)"
        )
    return float(fraction)


@contextmanager
def blas_threads(threads: int | None) -> Iterator[None]:
    """BLAS/LAPACK limited to ``threads`` (None: no limit) inside the block.

    Raises:
        ValueError: threads is not None or an int >= 1.
    """
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1
    ):
        raise ValueError(f"threads must be None or an int >= 1, got {threads!r}")
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    with threadpool_limits(limits=threads):
        yield


# -------------------------------------------------------------------------------- basis


@dataclass(frozen=True, eq=False)
class PCABasis:
    """Principal axes of a set of images, in pixel space (D = 784).

    Attributes:
        mean: (D,) float64 mean image (flattened).
        axes: (min(N, D), D) float64, row i the i-th principal axis (unit length); rows
            sorted by decreasing variance; each axis' largest-magnitude pixel is positive,
            so the signs (and the samples drawn for a seed) do not depend on the LAPACK
            build.
        variances: (D,) float64 variance of the images along each axis (the covariance
            eigenvalues, ddof = 1), decreasing, >= 0; zero beyond the first min(N, D).
        n_images: how many images it was fitted on (rank <= n_images - 1).
    """

    mean: np.ndarray = field(repr=False)
    axes: np.ndarray = field(repr=False)
    variances: np.ndarray = field(repr=False)
    n_images: int

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        """(D,) share of the total variance along each axis; sums to 1."""
        total = self.variances.sum()
        return self.variances / total if total > 0 else np.zeros_like(self.variances)

    @property
    def max_components(self) -> int:
        """The largest usable k: min(n_images, D)."""
        return min(self.n_images, N_PIXELS)

    def components_for_variance(self, fraction: float) -> int:
        """Smallest k whose first k axes explain at least ``fraction`` of the variance.

        Raises:
            TypeError / ValueError: ``fraction`` not a number in (0, 1].
        """
        fraction = check_fraction(fraction)
        cumulative = np.cumsum(self.explained_variance_ratio)
        # images are float32: a share that should reach exactly `fraction` may fall
        # short by ~1e-7, so "reaches" allows that much
        k = int(np.searchsorted(cumulative, fraction - _SHARE_TOLERANCE)) + 1
        return min(k, self.max_components)

    def check_k(self, k, name: str = "n_components") -> int:
        """``k`` as int if 1 <= k <= `max_components`; TypeError / ValueError otherwise."""
        return check_int(k, name, 1, self.max_components)

    def project(self, flat: np.ndarray, k: int) -> np.ndarray:
        """Coefficients (N, k) float64 of flattened images (N, D) on the first k axes."""
        out = np.empty((len(flat), k))
        for s in range(0, len(flat), _CHUNK):
            out[s : s + _CHUNK] = (flat[s : s + _CHUNK] - self.mean) @ self.axes[:k].T
        return out

    def to_pixels(self, coefficients: np.ndarray) -> np.ndarray:
        """Flattened images (N, D) float64 from coefficients (N, k): mean + c @ axes[:k]."""
        return self.mean + coefficients @ self.axes[: coefficients.shape[1]]


def basis_of_rows(flat: np.ndarray) -> PCABasis:
    """The principal axes of flattened images ``flat`` (N, D), N >= 2, already checked.

    scikit-learn fixes each axis' sign as this module promises (``svd_flip``: the
    largest-magnitude pixel positive) and clips rounding-negative eigenvalues to 0.
    """
    from sklearn.decomposition import PCA  # imported here: most users never fit a PCA

    # float64: the covariance is X^T X - N mean mean^T, which loses 4 digits in float32
    fitted = PCA(svd_solver="covariance_eigh").fit(flat.astype(np.float64))
    variances = np.zeros(flat.shape[1])
    variances[: len(fitted.explained_variance_)] = fitted.explained_variance_
    return PCABasis(fitted.mean_, np.ascontiguousarray(fitted.components_), variances, len(flat))


# ------------------------------------------------------------------------- coefficients


@dataclass(frozen=True, eq=False)
class CoefficientGaussian:
    """N(mean, factor @ factor.T) over k PCA coefficients.

    Attributes:
        mean: (k,) float64.
        factor: (k, k) float64 lower-triangular; diagonal for a diagonal covariance.
    """

    mean: np.ndarray = field(repr=False)
    factor: np.ndarray = field(repr=False)

    @property
    def covariance(self) -> np.ndarray:
        """(k, k) covariance matrix."""
        return self.factor @ self.factor.T

    def draw(self, noise: np.ndarray) -> np.ndarray:
        """Coefficients (N, k) from standard normal ``noise`` (N, k): mean + noise @ L^T."""
        return self.mean + noise @ self.factor.T


def fit_coefficient_gaussian(coefficients: np.ndarray, covariance: str) -> CoefficientGaussian:
    """Mean and covariance (ddof = 1) of ``coefficients`` (N, k), N >= 2; ``covariance``
    "diagonal" keeps only the variances, "full" the whole matrix (Cholesky factor)."""
    mean = coefficients.mean(axis=0)
    if covariance == "diagonal":
        return CoefficientGaussian(mean, np.diag(coefficients.std(axis=0, ddof=1)))
    k = coefficients.shape[1]
    cov = np.cov(coefficients, rowvar=False, ddof=1).reshape(k, k)
    jitter = _JITTER * max(float(np.trace(cov)) / k, 1e-12)
    return CoefficientGaussian(mean, np.linalg.cholesky(cov + jitter * np.eye(k)))
