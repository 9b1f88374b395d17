"""GAN losses on discriminator logits, and the label tricks that go with them.

All loss functions take float32 logits of shape (batch, 1) and return scalar tensors. For
the Wasserstein GANs the "logits" are the critic's unbounded scores.
"""

from __future__ import annotations

import tensorflow as tf

from gankit.config.schema import GAN_LOSSES, WGAN_LOSSES

GRADIENT_NORM_EPSILON = 1e-12
"""Added under the square root of the gradient norm: sqrt is not differentiable at 0
(keras-io's wgan_gp.py has no epsilon, a known source of NaNs)."""


def discriminator_loss_terms(real_logits, fake_logits, real_targets, fake_targets, kind="bce"):
    """D's loss on real and on fake logits, each averaged over the batch.

    ``real_targets``/``fake_targets`` are per-example targets (batch, 1): 1 for real and 0
    for fake, or softened/flipped values from `discriminator_targets`.

    - 'bce' (the 'nonsaturating' and 'minimax' GANs): binary cross-entropy with the targets.
    - 'hinge' (Lim & Ye 2017; Miyato et al. 2018): mean relu(1 - t * logit) with t = +1 for
      a target above 0.5 and -1 otherwise, so flips apply; smoothing has no effect.
    - 'wasserstein' (the WGAN critic, Arjovsky et al. 2017, algorithm 1): -mean D(real) and
      mean D(fake); the targets are ignored (WGANs take no smoothing or flips).

    Returns:
      (loss_real, loss_fake), scalars; D minimises their sum.
    """
    if kind == "wasserstein":
        return -tf.reduce_mean(real_logits), tf.reduce_mean(fake_logits)
    if kind == "hinge":

        def hinge(logits, targets):
            sign = tf.where(targets > 0.5, 1.0, -1.0)
            return tf.reduce_mean(tf.nn.relu(1.0 - sign * logits))

        return hinge(real_logits, real_targets), hinge(fake_logits, fake_targets)
    bce = tf.nn.sigmoid_cross_entropy_with_logits
    return (
        tf.reduce_mean(bce(labels=real_targets, logits=real_logits)),
        tf.reduce_mean(bce(labels=fake_targets, logits=fake_logits)),
    )


def generator_loss(fake_logits, kind: str = "nonsaturating", top_k: float = 1.0):
    """G's loss on D's logits for generated images.

    With ``top_k`` < 1 only the ceil(top_k * batch) fakes with the highest logits (those
    D finds most real) enter the mean (top-k training, Sinha et al. 2020).

    - 'nonsaturating': -mean log D(G(z)) (Goodfellow et al. 2014, section 3), strong gradients
      early in training when D rejects every sample.
    - 'minimax': mean log(1 - D(G(z))) = -mean softplus(logit), the original objective, whose
      gradient vanishes when D is confident; kept to show that failure.
    - 'hinge', 'wgan', 'wgan-gp': -mean logit (the generator side of the hinge GAN and of
      the WGANs: G raises the critic's score of its samples).

    Raises:
      ValueError: for an unknown ``kind``.
    """
    if top_k < 1.0:
        fake_logits = most_real(fake_logits, top_k)
    if kind == "nonsaturating":
        return tf.reduce_mean(tf.nn.softplus(-fake_logits))
    if kind == "minimax":
        return -tf.reduce_mean(tf.nn.softplus(fake_logits))
    if kind in ("hinge", *WGAN_LOSSES):
        return -tf.reduce_mean(fake_logits)
    raise ValueError(f"loss must be one of {', '.join(GAN_LOSSES)}; got {kind!r}")


def most_real(logits, share: float):
    """The ceil(share * batch) largest of ``logits`` (batch, 1), as (k, 1), largest first."""
    batch = tf.shape(logits)[0]
    k = tf.cast(tf.math.ceil(share * tf.cast(batch, tf.float32)), tf.int32)
    return tf.math.top_k(tf.reshape(logits, [-1]), k=tf.maximum(k, 1)).values[:, None]


def discriminator_targets(batch_size, *, real_label, flip_probability, seed):
    """D's targets for a real and a fake batch, with one-sided smoothing and label flips.

    One-sided label smoothing (Salimans et al. 2016) sets the real target to ``real_label``
    (e.g. 0.9) and leaves fake at 0. With probability ``flip_probability`` an example's real
    and fake targets are swapped (label noise). ``seed`` is a stateless seed, shape (2,).

    Returns:
      (real_targets, fake_targets), each float32 of shape (batch_size, 1).
    """
    real = tf.fill((batch_size, 1), tf.cast(real_label, tf.float32))
    fake = tf.zeros((batch_size, 1), tf.float32)
    if flip_probability > 0:
        flip_r = tf.random.stateless_uniform((batch_size, 1), seed) < flip_probability
        flip_f = tf.random.stateless_uniform((batch_size, 1), seed + 1) < flip_probability
        real, fake = tf.where(flip_r, 0.0, real), tf.where(flip_f, real_label, fake)
    return real, fake


def accuracy_real(real_logits):
    """Fraction of real images D calls real (logit > 0)."""
    return tf.reduce_mean(tf.cast(real_logits > 0, tf.float32))


def accuracy_fake(fake_logits):
    """Fraction of generated images D calls fake (logit < 0)."""
    return tf.reduce_mean(tf.cast(fake_logits < 0, tf.float32))


def wasserstein_estimate(real_logits, fake_logits):
    """mean D(real) - mean D(fake): the critic's estimate of the Wasserstein-1 distance
    (up to the Lipschitz constant its clipping or penalty enforces; Arjovsky et al. 2017,
    figure 3). For a classifier D it is only the mean logit gap."""
    return tf.reduce_mean(real_logits) - tf.reduce_mean(fake_logits)


def class_cross_entropy(class_logits, labels):
    """Mean softmax cross-entropy between class logits (batch, 10) and int labels (batch,):
    the class loss of an ACGAN's auxiliary head (Odena et al. 2017, L_C) and of a frozen
    classifier's logits on generated images."""
    labels = tf.cast(labels, tf.int32)
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=class_logits)
    )


def class_accuracy(class_logits, labels):
    """Fraction of examples whose most probable class is their label."""
    predicted = tf.argmax(class_logits, axis=-1, output_type=tf.int32)
    return tf.reduce_mean(tf.cast(predicted == tf.cast(labels, tf.int32), tf.float32))


def interpolation_weights(batch_size, seed):
    """WGAN-GP's per-example weights alpha ~ U(0, 1), shape (batch_size, 1, 1, 1).

    Uniform as in Gulrajani et al. 2017 (algorithm 1), not N(0, 1) as in keras-io's
    wgan_gp.py. ``seed`` is a stateless seed, shape (2,).
    """
    return tf.random.stateless_uniform((batch_size, 1, 1, 1), seed)


def interpolate(real, fake, alpha):
    """x_hat = alpha * real + (1 - alpha) * fake: points on lines between the two batches."""
    return alpha * real + (1.0 - alpha) * fake


def gradient_penalty(critic, x_hat):
    """mean over the batch of (||grad_x critic(x)||_2 - 1)^2 at the points ``x_hat``.

    ``critic`` maps images (batch, 28, 28, 1) to scores (batch, 1). Gulrajani et al. 2017,
    eq. 3: a 1-Lipschitz critic has gradient norm 1 almost everywhere along the lines
    between real and fake samples. Call it under the critic's own gradient tape: the
    penalty is differentiated again with respect to the critic's weights. The norm is
    ``sqrt(sum g^2 + GRADIENT_NORM_EPSILON)``, so the penalty has a gradient at g = 0.
    """
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    grads = tf.cast(tape.gradient(scores, x_hat), tf.float32)
    grads = tf.reshape(grads, (tf.shape(grads)[0], -1))
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=1) + GRADIENT_NORM_EPSILON)
    return tf.reduce_mean(tf.square(norms - 1.0))


def r1_penalty(critic, real):
    """mean over the batch of ||grad_x critic(x)||_2^2 at the real images ``real`` (the R1
    regulariser of Mescheder et al. 2018, eq. 9, without its gamma / 2). Call it under D's
    own gradient tape, as `gradient_penalty`."""
    with tf.GradientTape() as tape:
        tape.watch(real)
        scores = critic(real)
    grads = tf.cast(tape.gradient(scores, real), tf.float32)
    return tf.reduce_mean(
        tf.reduce_sum(tf.square(tf.reshape(grads, (tf.shape(grads)[0], -1))), axis=1)
    )
