"""Bad metric arguments and [0, 1]-scaled images end in a clear error, never a silent answer."""

import numpy as np
import pytest

from gankit.data.images import check_images
from gankit.evaluate import metrics, neighbours

RNG = np.random.default_rng(0)
EMB = RNG.normal(size=(40, 4))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: metrics.frechet_distance_from_statistics(
                np.zeros(3), -np.eye(3), np.zeros(3), np.eye(3)
            ),
            ValueError,
            "positive semi-definite",
        ),
        (
            lambda: metrics.frechet_distance_from_statistics(
                np.zeros(2), np.eye(2), np.zeros(2), np.array([[1.0, 2.0], [0.0, 1.0]])
            ),
            ValueError,
            "sigma_b must be a symmetric",
        ),
        (lambda: metrics.inception_score(np.zeros((100, 0))), ValueError, "no columns"),
        (lambda: neighbours.precision_recall(EMB, EMB, max_samples=0), ValueError, ">= 4"),
        (lambda: neighbours.precision_recall(EMB, EMB, max_samples=-5), ValueError, ">= 4"),
        (lambda: neighbours.precision_recall(EMB, EMB, seed=1.5), TypeError, "seed"),
        (lambda: metrics.mmd_gaussian(EMB, EMB, bandwidth="x"), TypeError, "bandwidth"),
        (lambda: metrics.mmd_gaussian(EMB, EMB, seed="abc"), TypeError, "seed"),
        (lambda: metrics.kernel_inception_distance(EMB, EMB, seed="abc"), TypeError, "seed"),
    ],
)
def test_bad_metric_arguments_raise_with_the_fix(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_frechet_statistics_of_real_embeddings_still_pass():
    sigma = np.cov(EMB, rowvar=False)
    assert metrics.frechet_distance_from_statistics(EMB.mean(0), sigma, EMB.mean(0), sigma) == 0


def test_mnist_scaled_to_0_1_is_rejected_with_the_fix():
    digits = np.zeros((8, 28, 28))
    digits[:, 10:18, 12:16] = RNG.uniform(0.2, 1.0, size=(8, 8, 4))  # strokes on a 0 background
    with pytest.raises(ValueError, match=r"\[0, 1\]-scaled.*images \* 2 - 1"):
        check_images(digits)
    assert check_images(digits * 2 - 1).min() == -1.0


def test_bright_float_images_without_a_zero_background_only_warn():
    with pytest.warns(UserWarning, match="no negative values"):
        check_images(RNG.uniform(0.1, 1.0, size=(4, 28, 28)))
