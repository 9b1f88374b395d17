"""Average power spectra of image sets: where upsampling leaves checkerboard artefacts.

A strided transposed convolution whose kernel size is not a multiple of its stride paints
some output pixels more often than their neighbours (Odena et al. 2016, "Deconvolution and
checkerboard artifacts"). The pattern repeats every 2 pixels, so it shows up as excess
power at the highest frequencies of the 2-D Fourier transform: the Nyquist frequency
(0.5 cycles/pixel) on each axis, i.e. the edges and corners of a centred spectrum (Durall
et al. 2020, "Watch your up-convolution"). Comparing a generator's average spectrum with
that of real digits makes the artefact measurable:

- `mean_power_spectrum`: log10 of the power |FFT|^2 averaged over images, (28, 28), with
  the zero frequency at the centre (``fftshift``) and the Nyquist corner at [0, 0];
- `radial_profile`: that spectrum averaged over rings of equal frequency (a 1-D curve from
  the zero frequency outwards; the last rings hold only the corners);
- `spectrum_distance`: the mean absolute difference of two log spectra (in decades;
  0 for identical image sets).

Images are float in [-1, 1] (generator output) or uint8 in [0, 255], shape (N, H, W) or
(N, H, W, 1).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

POWER_FLOOR = 1e-12
"""Added to the power before the log, so empty frequencies give a finite value."""


def _as_float_images(images: ArrayLike) -> np.ndarray:
    """(N, H, W) float64 in [-1, 1] from float or uint8 images (N, H, W[, 1])."""
    x = np.asarray(images)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or len(x) == 0:
        raise ValueError(f"images must have shape (N, H, W[, 1]) with N >= 1, got {x.shape}")
    if x.dtype == np.uint8:
        return x.astype(np.float64) / 127.5 - 1.0
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"images must be float in [-1, 1] or uint8, got {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise ValueError("images contain NaN or inf")
    return x.astype(np.float64)


def mean_power_spectrum(images: ArrayLike) -> np.ndarray:
    """log10 of the mean power spectrum of ``images``: (H, W), zero frequency at the centre.

    Power is |FFT2(image)|^2 / (H * W), averaged over the images before the log (the
    spectrum of the set, not of a typical image). After ``fftshift`` the zero frequency
    is at [H // 2, W // 2] and, for even sizes, the Nyquist frequency of both axes at [0, 0].

    Raises:
      ValueError: for another shape or non-finite values. TypeError: for other dtypes.
    """
    x = _as_float_images(images)
    h, w = x.shape[1:]
    power = np.abs(np.fft.fft2(x)) ** 2 / (h * w)
    return np.log10(np.fft.fftshift(power.mean(axis=0)) + POWER_FLOOR)


def radial_profile(spectrum: ArrayLike) -> np.ndarray:
    """Mean of a centred (H, W) spectrum over rings of integer radius around the centre.

    Entry r averages the pixels whose distance from [H // 2, W // 2], rounded, is r; for
    28x28 that is r = 0 (zero frequency) to 20 (the corners), and r = 14 is the Nyquist
    frequency of one axis.

    Raises:
      ValueError: if ``spectrum`` is not 2-D.
    """
    s = np.asarray(spectrum, np.float64)
    if s.ndim != 2:
        raise ValueError(f"spectrum must be 2-D (H, W), got shape {s.shape}")
    h, w = s.shape
    yy, xx = np.indices((h, w))
    radius = np.rint(np.hypot(yy - h // 2, xx - w // 2)).astype(int)
    sums = np.bincount(radius.ravel(), weights=s.ravel())
    counts = np.bincount(radius.ravel())
    return sums / counts


def spectrum_distance(fake: ArrayLike, real: ArrayLike, *, radial: bool = False) -> float:
    """Mean absolute difference of the log10 mean power spectra of two image sets.

    In decades of power: 0 for identical sets, 1 if every frequency is off by a factor 10
    on average. With ``radial=True`` the radial profiles are compared instead (insensitive
    to orientation, weights each ring equally).

    Raises:
      ValueError: if the two sets have different image sizes.
    """
    a, b = mean_power_spectrum(fake), mean_power_spectrum(real)
    if a.shape != b.shape:
        raise ValueError(f"image sizes differ: {a.shape} vs {b.shape}")
    if radial:
        a, b = radial_profile(a), radial_profile(b)
    return float(np.mean(np.abs(a - b)))
