"""Losses: the Wasserstein critic and generator losses, the estimate, and WGAN-GP's
interpolation weights and gradient penalty against known answers."""

import numpy as np
import pytest
import tensorflow as tf

from gankit.train import losses

REAL = tf.constant([[1.0], [3.0], [2.0]])
FAKE = tf.constant([[-1.0], [0.5], [0.0]])
SEED = tf.constant([0, 0], tf.int64)


def _linear_critic(w):
    """f(x) = <w, x> + 0.3 on flattened images: its input gradient is w everywhere."""
    w = tf.reshape(tf.constant(w, tf.float32), (-1, 1))
    return lambda x: tf.reshape(x, (tf.shape(x)[0], -1)) @ w + 0.3


def test_wasserstein_losses_and_estimate():
    targets = losses.discriminator_targets(3, real_label=1.0, flip_probability=0.0, seed=SEED)
    loss_real, loss_fake = losses.discriminator_loss_terms(REAL, FAKE, *targets, "wasserstein")
    assert float(loss_real) == pytest.approx(-2.0) and float(loss_fake) == pytest.approx(-1 / 6)
    # The critic minimises mean D(fake) - mean D(real) = -(its distance estimate).
    estimate = losses.wasserstein_estimate(REAL, FAKE)
    assert float(estimate) == pytest.approx(2.0 + 1 / 6)
    assert float(loss_real + loss_fake) == pytest.approx(-float(estimate))
    for kind in losses.WGAN_LOSSES:
        assert float(losses.generator_loss(FAKE, kind)) == pytest.approx(1 / 6)


def test_r1_penalty_is_the_squared_input_gradient_norm_on_real_images():
    # A linear critic's input gradient is w everywhere: the penalty is ||w||^2 = 1.25.
    w = np.zeros((28, 28), np.float32)
    w[0, 0], w[5, 7] = 1.0, 0.5
    real = tf.random.stateless_normal((4, 28, 28, 1), SEED)
    assert float(losses.r1_penalty(_linear_critic(w), real)) == pytest.approx(1.25, rel=1e-6)


def test_top_k_generator_loss_keeps_the_fakes_d_finds_most_real():
    logits = tf.constant([[-2.0], [0.0], [3.0], [1.0]])
    softplus = lambda x: float(np.log1p(np.exp(x)))  # noqa: E731
    # Half of 4: the logits 3 and 1; a third of 4 rounds up to the same two.
    for share in (0.5, 1 / 3):
        loss = losses.generator_loss(logits, "nonsaturating", top_k=share)
        assert float(loss) == pytest.approx((softplus(-3.0) + softplus(-1.0)) / 2, rel=1e-6)
    assert float(losses.generator_loss(logits, "hinge", top_k=0.25)) == pytest.approx(-3.0)
    # 1.0 is the plain mean over the batch; a tiny share still keeps one fake.
    assert float(losses.generator_loss(logits, "hinge", top_k=1.0)) == pytest.approx(-0.5)
    assert losses.most_real(logits, 1e-6).numpy().tolist() == [[3.0]]


def test_interpolation_weights_are_uniform_on_the_unit_interval_and_reproducible():
    alpha = losses.interpolation_weights(10_000, SEED).numpy()
    assert alpha.shape == (10_000, 1, 1, 1)
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0  # N(0, 1) (keras-io) would fail this
    assert np.mean(alpha) == pytest.approx(0.5, abs=0.01)
    assert np.var(alpha) == pytest.approx(1 / 12, abs=0.005)
    np.testing.assert_array_equal(alpha, losses.interpolation_weights(10_000, SEED).numpy())
    real, fake = tf.ones((2, 28, 28, 1)), -tf.ones((2, 28, 28, 1))
    x_hat = losses.interpolate(real, fake, tf.constant([0.0, 1.0])[:, None, None, None])
    np.testing.assert_array_equal(x_hat.numpy(), np.stack([fake[0], real[0]]))


@pytest.mark.parametrize(("scale", "expected"), [(1.0, 0.0), (3.0, 4.0), (0.5, 0.25)])
def test_gradient_penalty_of_a_linear_critic_is_its_slope_minus_one_squared(scale, expected):
    w = np.random.default_rng(0).standard_normal(784)
    critic = _linear_critic(scale * w / np.linalg.norm(w))
    x_hat = tf.random.stateless_uniform((16, 28, 28, 1), SEED, -1, 1)
    # A 1-Lipschitz (unit-slope) critic costs nothing; a steeper or flatter one does.
    assert float(losses.gradient_penalty(critic, x_hat)) == pytest.approx(expected, abs=1e-5)


def test_gradient_penalty_has_a_finite_gradient_where_the_input_gradient_vanishes():
    # Without the epsilon inside the sqrt, d||g||/dw at g = 0 is 0/0 = NaN.
    w = tf.Variable(tf.zeros((784, 1)))
    x_hat = tf.random.stateless_uniform((4, 28, 28, 1), SEED, -1, 1)
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(lambda x: tf.reshape(x, (4, -1)) @ w, x_hat)
    grad = tape.gradient(penalty, w).numpy()
    assert float(penalty) == pytest.approx(1.0, abs=1e-5)
    assert np.all(np.isfinite(grad))


def test_the_penalty_differentiates_through_to_the_critic_weights():
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||: the second-order path works.
    w0 = np.full((784, 1), 2.0 / 28, np.float32)  # ||w|| = 2
    w = tf.Variable(w0)
    x_hat = tf.random.stateless_uniform((4, 28, 28, 1), SEED, -1, 1)
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(lambda x: tf.reshape(x, (4, -1)) @ w, x_hat)
    np.testing.assert_allclose(tape.gradient(penalty, w).numpy(), 2 * 1 * w0 / 2, rtol=1e-4)


def test_unknown_generator_loss_lists_the_wgan_losses():
    with pytest.raises(ValueError, match="wgan, wgan-gp"):
        losses.generator_loss(FAKE, "wasserstein")
