"""Power spectra: a checkerboard peaks at the Nyquist corner, smooth images at the centre,
the distance is 0 for identical sets and grows with a checkerboard added."""

import numpy as np
import pytest

from gankit.studies.spectrum import mean_power_spectrum, radial_profile, spectrum_distance

YY, XX = np.indices((28, 28))
CHECKERBOARD = np.where((YY + XX) % 2 == 0, 1.0, -1.0)


def _blobs(n=20, seed=0):
    """Smooth random images in [-1, 1]: Gaussian bumps on a dark background."""
    rng = np.random.default_rng(seed)
    cy, cx = rng.uniform(8, 20, (2, n, 1, 1))
    return np.exp(-((YY - cy) ** 2 + (XX - cx) ** 2) / 20.0) * 2 - 1


def test_a_checkerboard_has_its_power_at_the_nyquist_corner():
    spectrum = mean_power_spectrum(CHECKERBOARD[None, ..., None])
    assert spectrum.shape == (28, 28)
    assert np.unravel_index(np.argmax(spectrum), spectrum.shape) == (0, 0)
    # All of its energy (784 per pixel^2 / 784) sits there; elsewhere only the floor.
    assert spectrum[0, 0] == pytest.approx(np.log10(784.0))
    assert np.sort(spectrum.ravel())[-2] < -10
    profile = radial_profile(spectrum)
    assert len(profile) == 21 and np.argmax(profile) == 20  # r = 14 * sqrt(2): the corners


def test_smooth_images_peak_at_the_zero_frequency_in_the_centre():
    spectrum = mean_power_spectrum(_blobs())
    assert np.unravel_index(np.argmax(spectrum), spectrum.shape) == (14, 14)
    profile = radial_profile(spectrum)
    assert profile[0] > profile[5] > profile[14]


def test_uint8_and_float_images_give_the_same_spectrum():
    images = np.random.default_rng(2).uniform(-1, 1, (5, 28, 28))
    as_uint8 = np.rint((images + 1) * 127.5).astype(np.uint8)
    np.testing.assert_allclose(
        mean_power_spectrum(as_uint8), mean_power_spectrum(images), atol=0.01
    )


def test_distance_is_zero_for_identical_sets_and_grows_with_checkerboard_artefacts():
    real = _blobs(30, seed=1)
    assert spectrum_distance(real, real.copy()) == 0.0
    assert spectrum_distance(real, real, radial=True) == 0.0
    faint = np.clip(real + 0.05 * CHECKERBOARD, -1, 1)
    strong = np.clip(real + 0.3 * CHECKERBOARD, -1, 1)
    assert 0 < spectrum_distance(faint, real) < spectrum_distance(strong, real)
    assert spectrum_distance(faint, real, radial=True) < spectrum_distance(
        strong, real, radial=True
    )


def test_radial_profile_of_a_constant_is_that_constant():
    np.testing.assert_allclose(radial_profile(np.full((28, 28), 3.0)), 3.0)


@pytest.mark.parametrize(
    ("images", "error"),
    [
        (np.zeros((0, 28, 28)), ValueError),
        (np.zeros((28, 28)), ValueError),
        (np.zeros((2, 28, 28), np.int32), TypeError),
        (np.full((2, 28, 28), np.nan), ValueError),
    ],
)
def test_bad_images_are_rejected(images, error):
    with pytest.raises(error):
        mean_power_spectrum(images)


def test_sets_of_different_sizes_cannot_be_compared():
    with pytest.raises(ValueError, match="sizes differ"):
        spectrum_distance(np.zeros((2, 28, 28)), np.zeros((2, 14, 14)))
