"""Salimans et al.'s MNIST networks: the weight-normalised dense layer against numpy, its
data-dependent initialisation, the builders' shapes and parameter counts, and noise that
acts only in training."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
from scipy.stats import norm

from gankit.nets import improved_gan
from gankit.nets.layers import WeightNormDense


def test_weight_norm_dense_matches_numpy():
    rng = np.random.default_rng(0)
    layer = WeightNormDense(3, activation="relu", train_scale=True)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    layer.build((None, 4))
    v, g, b = rng.normal(size=(4, 3)), rng.uniform(0.5, 2, 3), rng.normal(size=3)
    layer.set_weights([v.astype(np.float32), g.astype(np.float32), b.astype(np.float32)])
    w = g * v / np.linalg.norm(v, axis=0)  # w = g * v / ||v||, one norm per output unit
    np.testing.assert_allclose(layer(x), np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(layer.kernel(), axis=0), g, rtol=1e-5)


def test_weight_norm_scale_is_trainable_only_when_asked():
    hidden, head = WeightNormDense(4), WeightNormDense(4, train_scale=True)
    hidden.build((None, 3))
    head.build((None, 3))
    assert [w.name for w in hidden.trainable_weights] == ["v", "b"]
    assert [w.name for w in head.trainable_weights] == ["v", "g", "b"]


def test_data_dependent_init_standardises_the_pre_activations():
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(200, 6)) * [1, 5, 0.1, 2, 3, 1] + 4).astype(np.float32)
    layer = WeightNormDense(5)  # no activation: the output is the pre-activation
    layer.build((None, 6))
    layer.initialize_from_data(x)
    out = np.asarray(layer(x))
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(0), 1, rtol=1e-4)


def test_weight_norm_dense_round_trips_through_its_config():
    layer = WeightNormDense(7, activation="sigmoid", train_scale=True)
    again = WeightNormDense.from_config(layer.get_config())
    assert (again.units, again.train_scale) == (7, True)
    assert again.activation is keras.activations.sigmoid


def test_generator_shapes_range_and_parameter_count():
    g = improved_gan.build_improved_gan_generator(100)
    images = np.asarray(g(np.random.default_rng(0).normal(size=(8, 100)).astype(np.float32)))
    assert images.shape == (8, 28, 28, 1)
    assert images.min() >= -1 and images.max() <= 1
    # Dense 100*500 + BN 3*500 + 500*500 + BN 3*500 + weight-norm 500*784 + 784 (g) + 784 (b)
    assert g.count_params() == 50_000 + 1_500 + 250_000 + 1_500 + 392_000 + 784 + 784
    assert sum(int(np.prod(w.shape)) for w in g.non_trainable_weights) == 2 * 1_000


def test_discriminator_shapes_and_parameter_count():
    d = improved_gan.build_improved_gan_discriminator()
    logits, features = d(np.zeros((3, 28, 28, 1), np.float32))
    assert logits.shape == (3, 10) and features.shape == (3, 250)
    widths = (784, *improved_gan.D_HIDDEN, 10)
    # v, g and b per layer; only the head's g trains (the paper's train_scale).
    assert d.count_params() == sum(a * b + 2 * b for a, b in itertools.pairwise(widths))
    assert sum(int(np.prod(w.shape)) for w in d.non_trainable_weights) == sum(improved_gan.D_HIDDEN)


def test_gaussian_noise_acts_only_in_training():
    d = improved_gan.build_improved_gan_discriminator()
    x = np.random.default_rng(2).uniform(-1, 1, (4, 28, 28, 1)).astype(np.float32)
    a, b = (np.asarray(d(x, training=False)[0]) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    noisy = np.asarray(d(x, training=True)[0])
    assert np.abs(noisy - a).max() > 1e-3


def test_discriminator_sees_pixels_on_the_papers_zero_one_scale():
    d = improved_gan.build_improved_gan_discriminator(input_noise=0, hidden_noise=0)
    scaled = keras.Model(d.input, d.get_layer("pixels_01").output)
    out = np.asarray(scaled(np.array([-1.0, 0.0, 1.0] * 261 + [0.0]).reshape(1, 28, 28, 1)))
    np.testing.assert_allclose(out[0, :3], [0.0, 0.5, 1.0])


def test_initialize_from_data_standardises_every_hidden_layer():
    d = improved_gan.build_improved_gan_discriminator(input_noise=0, hidden_noise=0)
    x = np.random.default_rng(3).uniform(-1, 1, (300, 28, 28, 1)).astype(np.float32)
    improved_gan.initialize_from_data(d, x)
    first = d.get_layer("hidden_0")
    flat = x.reshape(300, -1) * 0.5 + 0.5
    pre = flat @ np.asarray(first.kernel()) + np.asarray(first.b)
    np.testing.assert_allclose(pre.mean(0), 0, atol=1e-3)
    np.testing.assert_allclose(pre.std(0), 1, rtol=1e-3)
    logits, _ = d(x, training=False)
    np.testing.assert_allclose(np.asarray(logits).std(0), 1, rtol=1e-3)


def test_normal_noise_becomes_uniform():
    z = np.linspace(-3, 3, 13, dtype=np.float32)
    np.testing.assert_allclose(improved_gan.NormalToUniform()(z), norm.cdf(z), atol=1e-6)


@pytest.mark.parametrize(
    ("build", "kwargs", "match"),
    [
        (improved_gan.build_improved_gan_discriminator, {"hidden": ()}, "hidden"),
        (improved_gan.build_improved_gan_discriminator, {"input_noise": -0.1}, "noise"),
        (improved_gan.build_improved_gan_generator, {"hidden": (500, 0)}, r"hidden\[1\]"),
    ],
)
def test_bad_options_are_refused(build, kwargs, match):
    with pytest.raises(ValueError, match=match):
        build(**kwargs)
