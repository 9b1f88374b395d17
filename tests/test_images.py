"""Tests for gankit.data.images: the one image-format checker and the scaling of pixels."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gankit.data.images import RANGE_TOLERANCE, check_images, scale_images

# ---------------------------------------------------------------------------- scaling


def test_scale_images_is_exact_for_all_values():
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    scaled = scale_images(pixels)
    assert scaled.shape == (1, 16, 16, 1)
    assert scaled.dtype == np.float32
    expected = (np.arange(256) / 127.5 - 1).astype(np.float32).reshape(1, 16, 16, 1)
    np.testing.assert_array_equal(scaled, expected)
    assert scaled.min() == -1.0
    assert scaled.max() == 1.0


def test_scale_images_accepts_channel_axis():
    pixels = np.full((2, 28, 28, 1), 255, dtype=np.uint8)
    scaled = scale_images(pixels)
    assert scaled.shape == (2, 28, 28, 1)
    assert np.all(scaled == 1.0)


def test_scale_images_rejects_non_uint8_and_bad_shapes():
    with pytest.raises(TypeError, match="expects uint8"):
        scale_images(np.zeros((1, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        scale_images(np.zeros((28, 28), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"\(N, H, W, 1\)"):
        scale_images(np.zeros((1, 28, 28, 3), dtype=np.uint8))


# ----------------------------------------------------------------------- check_images


def test_float_images_get_a_channel_axis_and_are_not_copied():
    images = np.linspace(-1, 1, 2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28)
    checked = check_images(images)
    assert checked.shape == (2, 28, 28, 1) and checked.dtype == np.float32
    assert np.shares_memory(checked, images)
    np.testing.assert_array_equal(check_images(images[..., None]), checked)


def test_uint8_pixels_are_scaled_with_scale_images():
    pixels = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(check_images(pixels), scale_images(pixels))


def test_float64_becomes_float32_and_tanh_overshoot_is_clipped():
    images = np.full((1, 28, 28), -1.0)
    images[0, 0, 0] = 1 + RANGE_TOLERANCE / 2
    checked = check_images(images)
    assert checked.dtype == np.float32
    assert checked.max() == 1.0 and checked.min() == -1.0


def test_any_size_when_allowed():
    assert check_images(np.zeros((2, 5, 7), np.uint8), size=None).shape == (2, 5, 7, 1)
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        check_images(np.zeros((2, 5, 7), np.uint8))


def test_empty_batch_only_when_allowed():
    assert check_images(np.zeros((0, 28, 28), np.float32), min_samples=0).shape == (0, 28, 28, 1)
    with pytest.raises(ValueError, match="has 0 images; at least 1"):
        check_images(np.zeros((0, 28, 28), np.float32))


def test_no_negative_values_warn_about_the_0_1_range():
    with pytest.warns(UserWarning, match=r"no negative values.*images \* 2 - 1"):
        check_images(np.full((1, 28, 28), 0.5, np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_images(np.zeros((1, 28, 28), np.float32))  # all zero: no warning


@pytest.mark.parametrize(
    ("images", "error", "match"),
    [
        (np.zeros((2, 28, 28), np.int64), TypeError, r"float in \[-1, 1\] or uint8.*scale_images"),
        (np.zeros((2, 28, 28), bool), TypeError, "dtype bool"),
        (np.full((2, 28, 28), 255.0), ValueError, r"looks like \[0, 255\].*\(x/127.5-1\)"),
        (np.full((2, 28, 28), -1.01), ValueError, r"must lie in \[-1, 1\], got \[-1.01, -1.01\]"),
        (np.full((2, 28, 28), np.nan), ValueError, "NaN"),
        (np.full((2, 28, 28), np.inf), ValueError, "inf"),
        (np.zeros((28, 28)), ValueError, r"images\[None\]"),
        (np.zeros((2, 28, 28, 3)), ValueError, r"\(N, 28, 28, 1\)"),
        (np.zeros((2, 32, 32)), ValueError, "got \\(2, 32, 32\\)"),
    ],
    ids=["int64", "bool", "unscaled", "below-1", "nan", "inf", "one-image", "rgb", "32px"],
)
def test_bad_images_are_rejected_with_a_hint(images, error, match):
    with pytest.raises(error, match=match):
        check_images(images)


def test_messages_name_the_argument():
    with pytest.raises(ValueError, match=r"^real_images has 1 images; at least 2"):
        check_images(np.zeros((1, 28, 28), np.float32), name="real_images", min_samples=2)
