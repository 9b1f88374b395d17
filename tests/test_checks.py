"""Tests for gankit.checks: one policy for ints, seeds and labels."""

from __future__ import annotations

import numpy as np
import pytest

from gankit import checks


def test_integer_accepts_numpy_ints_and_checks_bounds():
    assert checks.integer(np.int64(3), "k", 0, 5) == 3
    assert type(checks.integer(np.int32(3), "k")) is int
    with pytest.raises(ValueError, match=r"k must be in \[0, 5\], got 6"):
        checks.integer(6, "k", 0, 5)
    with pytest.raises(ValueError, match="k must be <= 5"):
        checks.integer(6, "k", high=5)


@pytest.mark.parametrize("bad", [True, 2.0, "3", None])
def test_non_ints_are_type_errors(bad):
    with pytest.raises(TypeError, match="n must be an int"):
        checks.positive_int(bad, "n")
    with pytest.raises(TypeError, match=r"seed must be an int \(for reproducibility\)"):
        checks.seed(bad)
    with pytest.raises(TypeError, match="label must be an int class 0-9"):
        checks.label(bad)


def test_positive_int_and_seed():
    assert checks.positive_int(1, "n") == 1
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        checks.positive_int(0, "n")
    assert checks.seed(-3) == -3  # numpy decides which seeds it takes


def test_label():
    assert checks.label(np.int64(9)) == 9
    with pytest.raises(ValueError, match=r"class_b must be in \[0, 10\), got 10"):
        checks.label(10, "class_b")


def test_labels_dtype_shape_and_range():
    out = checks.labels([0, 9, 3], 3)
    assert out.dtype == np.int64 and out.tolist() == [0, 9, 3]
    assert checks.labels(np.array([1], np.uint8), dtype=np.int32).dtype == np.int32
    assert checks.labels(np.zeros(0, np.int64)).shape == (0,)
    with pytest.raises(TypeError, match=r"labels must be integers 0-9, got dtype float64"):
        checks.labels([0.0, 1.0])
    with pytest.raises(ValueError, match=r"y must have shape \(2,\), got \(3,\)"):
        checks.labels([0, 1, 2], 2, name="y")
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        checks.labels([[0, 1]])
    with pytest.raises(
        ValueError, match=r"must be in \[0, 5\) \(classes 0-4\), got values in \[0, 5\]"
    ):
        checks.labels([0, 5], n_classes=5)
