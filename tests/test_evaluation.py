"""Q1 evaluation: collapse shows up in duplicates and coverage; real rows are references."""

import keras
import numpy as np
import pytest

from gankit.classifier import ClassifierConfig, build_classifier
from gankit.evaluation import duplicate_threshold, evaluate_unconditional, pixel_statistics
from gankit.sampling import generate, sample_noise

RNG = np.random.default_rng(0)
REAL = np.tanh(RNG.standard_normal((400, 28, 28, 1)) * 2).astype("float32")


def constant_generator(latent_dim=4):
    """A fully collapsed generator: every noise vector gives the same image."""
    z = keras.Input((latent_dim,))
    x = keras.layers.Dense(
        784,
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(-0.5),
        activation="tanh",
    )(z)
    return keras.Model(z, keras.layers.Reshape((28, 28, 1))(x))


def test_threshold_flags_about_one_percent_of_real_images():
    threshold = duplicate_threshold(REAL)
    frac = pixel_statistics(REAL[:200], REAL[200:], threshold)["duplicate_fraction"]
    assert frac <= 0.05


def test_collapsed_generator_is_all_duplicates_and_covers_one_class():
    classifier = build_classifier(ClassifierConfig(conv_widths=(4,), embedding_dim=8))
    out = evaluate_unconditional(
        constant_generator(), REAL, REAL, classifier=classifier, n=200, seed=0
    )
    fake, real = out["generated"], out["real test"]
    assert fake["duplicate_fraction"] == 1.0 and fake["pairwise_distance"] == 0.0
    assert fake["classes_covered"] == 1
    assert fake["kl_to_uniform"] == pytest.approx(np.log(10))
    assert fake["inception_score"] == pytest.approx(1.0, abs=1e-4)
    assert real["pairwise_distance"] > 1.0
    assert fake["fid"] > 0


def test_real_reference_only_and_size_check():
    out = evaluate_unconditional(None, REAL, REAL, n=200)
    assert list(out) == ["real test"]
    assert "fid" not in out["real test"]
    with pytest.raises(ValueError, match="at least 2 n"):
        evaluate_unconditional(None, REAL, REAL, n=300)


def test_generate_is_seeded_and_batched():
    g = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(784, activation="tanh"),
            keras.layers.Reshape((28, 28, 1)),
        ]
    )
    a = generate(g, 25, seed=3, batch_size=7)
    np.testing.assert_allclose(a, generate(g, 25, seed=3), atol=1e-6)
    assert a.shape == (25, 28, 28, 1) and a.dtype == np.float32
    assert not np.allclose(a, generate(g, 25, seed=4))
    assert sample_noise(5, 4, seed=1).shape == (5, 4)
    with pytest.raises(ValueError, match=">= 1"):
        sample_noise(0, 4, seed=1)


def test_real_row_and_memorisation_distance_can_be_left_out():
    out = evaluate_unconditional(constant_generator(), REAL, None, n=200, include_real=False)
    assert list(out) == ["generated"]
    assert "nn_train_distance" not in out["generated"]
    assert out["generated"]["duplicate_fraction"] == 1.0
    assert list(evaluate_unconditional(None, REAL, None, n=200, include_real=False)) == [
        "real test"
    ]
