"""The compiled training steps of one GAN: D and G updates, balancing, EMA, named step logs.

`GANSteps` holds the optimisers and the compiled ``round_step``, which runs one round of
D and G updates and returns its step log: a dict of float32 scalars named by
`STEP_COLUMNS`. A conditional G can also be trained against a frozen classifier's logits
(`gankit.evaluate.inference.frozen_logits`).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from gankit.config import TrainConfig
from gankit.config.schema import CODE_CLASSES
from gankit.evaluate.inference import frozen_logits
from gankit.nets.layers import latent_code
from gankit.nets.sampling import is_conditional, latent_dim_of
from gankit.train import losses
from gankit.train.averaging import average_model, update_moving_average
from gankit.train.optimizers import HoldThenLinearDecay, make_optimizer

STEP_COLUMNS = (
    "d_loss_real",
    "d_loss_fake",
    "g_loss",
    "d_acc_real",
    "d_acc_fake",
    "wasserstein",
    "grad_penalty",
    "d_updates",
    "g_updates",
    "d_class_loss",
    "d_class_acc",
    "g_class_loss",
    "g_class_acc",
    "g_grad_norm",
)
"""The step log of one round. D's losses, accuracies, ``wasserstein`` (mean D(real) - mean
D(fake): the critic's distance estimate for WGAN losses, the mean logit gap otherwise) and
``grad_penalty`` (the unweighted penalty of WGAN-GP, or R1's with ``r1_weight`` > 0; else
0) are those of the round's last D update; ``g_loss`` is the mean over its G updates;
``d_updates`` and ``g_updates`` count them (fixed: d_steps and g_steps; dynamic balancing:
as many as it took). The class columns are 0 unless G has a class loss: ``d_class_loss``
(an ACGAN D's class cross-entropy, real plus fake) and ``d_class_acc`` (its class head's
accuracy on the real batch) come from the last D update; ``g_class_loss`` (the unweighted
class cross-entropy of the fakes, by the ACGAN head or the frozen classifier) and
``g_class_acc`` (how many fakes that head or classifier assigns to the label asked for) are
means over the G updates. ``g_grad_norm`` is the global L2 norm of the gradient of G's total
loss over all of G's weights (unscaled under float16), averaged over the G updates: it
shows G's gradient vanishing when D is certain. ``g_loss`` and ``d_loss`` stay the
adversarial parts."""
D_LOG = (
    "d_loss_real",
    "d_loss_fake",
    "d_acc_real",
    "d_acc_fake",
    "wasserstein",
    "grad_penalty",
    "d_class_loss",
    "d_class_acc",
)
"""The columns of `STEP_COLUMNS` one D update logs."""
G_LOSSES = ("g_loss", "g_class_loss", "g_class_acc")
"""The loss terms of one G update (`GANSteps._g_losses`)."""
G_LOG = (*G_LOSSES, "g_grad_norm")
"""The columns of `STEP_COLUMNS` one G update logs (averaged over a round's G updates)."""

# The stateless random streams of a round: a draw's seed pair is (seed + stream, round *
# slots + slot). Each kind of draw has its own stream so that drawing more or fewer of one
# kind (other losses, more updates) never shifts the numbers of another.
NOISE_STREAM = 0  # G's input noise: the same fakes whatever D's loss draws
LABEL_FLIP_STREAM = 7919  # D's label flips: turning flips on leaves the noise unchanged
GP_WEIGHT_STREAM = 104729  # WGAN-GP's interpolation weights: independent of noise and flips


class GANSteps:
    """The compiled training steps of one GAN: one place that reads like a keras-io example.

    ``round_step(real_batches, real_labels, round_index)`` runs one round of updates and
    returns its step log: a dict of float32 scalars, one per name of `STEP_COLUMNS`.
    ``real_batches`` (window, batch, 28, 28, 1) holds one new real batch per possible D
    update (window = ``d_steps``, or ``max_consecutive`` with dynamic balancing) and
    ``real_labels`` (window, batch) int32 their classes; an unconditional GAN ignores them.

    - balance='fixed': ``d_steps`` D updates (one per real batch), then ``g_steps`` G updates.
    - balance='dynamic': D is updated at least ``d_steps`` times and again, on the next real
      batch, while (d_loss_real + d_loss_fake) / 2 of the update it just made is above
      ``d_loss_threshold``, at most ``max_consecutive`` times; then G likewise with
      ``g_steps`` and ``g_loss_threshold``. The logs say how many updates each did
      (``d_updates``, ``g_updates``); the trainer feeds the next round from the first
      real batch D did not use.

    Each D update of a WGAN ends with weight clipping (loss='wgan') or adds the gradient
    penalty (loss='wgan-gp') to the critic's loss.

    Class losses: with an ACGAN discriminator (outputs [logit, class_logits], image input
    only) D also minimises the class cross-entropy of real and fake images and G that of
    its fakes (Odena et al. 2017, weight 1 as there); with ``classifier`` and
    ``cfg.classifier_loss_weight`` > 0, G also minimises that weight times the frozen
    classifier's cross-entropy on its fakes (the classifier is never updated).

    Raises:
      ValueError: if ``cfg.classifier_loss_weight`` > 0 and no ``classifier`` is given.
    """

    def __init__(
        self,
        generator,
        discriminator,
        cfg: TrainConfig,
        seed: int,
        total_rounds: int = 1,
        classifier=None,
    ):
        self.g, self.d, self.cfg = generator, discriminator, cfg
        self.conditional = is_conditional(generator)
        self.d_takes_labels = len(discriminator.inputs) == 2
        self.acgan = len(discriminator.outputs) == 2
        # An unconditional G beside a class-head D: InfoGAN's categorical code. The head's
        # "labels" are the codes of the fakes' noise; it never sees a real label.
        self.info = self.acgan and not self.conditional
        self.classifier_logits = None
        if cfg.classifier_loss_weight > 0:
            if classifier is None:
                raise ValueError(
                    "classifier_loss_weight > 0 needs classifier=: a trained gankit classifier"
                )
            self.classifier_logits = frozen_logits(classifier)
        self.g_class_weight = cfg.acgan_class_weight if self.acgan else cfg.classifier_loss_weight
        self.latent_dim = latent_dim_of(generator)
        self.d_loss_kind = {"hinge": "hinge", "wgan": "wasserstein", "wgan-gp": "wasserstein"}.get(
            cfg.loss, "bce"
        )
        self.seed = tf.constant(seed, tf.int64)
        # Random draws reserved per round (noise, label flips, GP weights): one slot per
        # possible D or G update, never fewer than 8 (the draws of runs on disk depend on it).
        if cfg.balance == "dynamic":
            self.slots = max(8, 2 * cfg.max_consecutive)
        else:
            self.slots = max(8, cfg.d_steps + cfg.g_steps)
        g_lr, d_lr = cfg.g_lr, cfg.d_lr
        if cfg.lr_decay_start < 1:
            g_lr = HoldThenLinearDecay(g_lr, total_rounds * cfg.g_steps, cfg.lr_decay_start)
            d_lr = HoldThenLinearDecay(d_lr, total_rounds * cfg.d_steps, cfg.lr_decay_start)
        # float16 gradients underflow without loss scaling: the wrapper multiplies each loss
        # by a dynamic scale (`_scaled`), divides the gradients back and skips a step with
        # non-finite ones (halving the scale); bfloat16 has float32's range and needs none.
        loss_scaling = is_float16(generator)
        self.g_opt = make_optimizer(cfg.optimizer, g_lr, cfg.g_beta1, cfg.g_beta2, loss_scaling)
        self.d_opt = make_optimizer(cfg.optimizer, d_lr, cfg.d_beta1, cfg.d_beta2, loss_scaling)
        # Build optimiser slots now, so a checkpoint restore can fill them.
        self.g_opt.build(self.g.trainable_variables)
        self.d_opt.build(self.d.trainable_variables)
        self._update = {
            "simultaneous": self._simultaneous,
            "alternating": self._alternating,
        }[cfg.update]
        if cfg.balance == "dynamic":
            self._update = self._dynamic
        self.ema = None
        if cfg.ema_decay > 0:
            self.ema = average_model(generator)
        self.round_step = tf.function(self._round, jit_compile=cfg.jit_compile)

    def _round(self, real_batches, real_labels, round_index):
        log = self._update(real_batches, real_labels, round_index)
        if self.ema is not None:
            self._update_ema(round_index)
        return log

    def _update_ema(self, round_index):
        update_moving_average(self.ema, self.g, self.cfg.ema_decay, round_index)

    def _seed(self, stream, round_index, slot):
        """The stateless seed of draw ``slot`` of round ``round_index`` in ``stream``."""
        return tf.stack([self.seed + stream, round_index * self.slots + slot])

    def _noise(self, batch_size, round_index, slot):
        return tf.random.stateless_normal(
            (batch_size, self.latent_dim), seed=self._seed(NOISE_STREAM, round_index, slot)
        )

    def _labels_of(self, z, labels):
        """The class-head targets of the fakes made from ``z``: their latent codes for an
        InfoGAN-style GAN, else the labels asked for."""
        return latent_code(z, CODE_CLASSES) if self.info else labels

    def _generate(self, z, labels):
        return self.g([z, labels] if self.conditional else z, training=True)

    def _discriminate(self, images, labels):
        """D's real/fake logits and, for an ACGAN D, its class logits (else None)."""
        out = self.d([images, labels] if self.d_takes_labels else images, training=True)
        return (out[0], out[1]) if self.acgan else (out, None)

    def _d_losses(self, real, fake, labels, round_index, slot):
        """D's forward pass on a real and a fake batch.

        Returns:
          (log, fake_logits, fake_classes): ``log`` the float32 scalars of `D_LOG` but
          ``grad_penalty``: the adversarial losses, accuracies, Wasserstein estimate and the
          class loss (ACGAN: cross-entropy on real plus ``acgan_fake_class_weight`` times
          that on fake; else 0) with the class head's accuracy on real; then D's logits
          and class logits (None without a class head) of the fakes.
        """
        cfg = self.cfg
        real_logits, real_classes = self._discriminate(real, labels)
        fake_logits, fake_classes = self._discriminate(fake, labels)
        targets = losses.discriminator_targets(
            tf.shape(real)[0],
            real_label=cfg.real_label,
            flip_probability=cfg.flip_probability,
            seed=self._seed(LABEL_FLIP_STREAM, round_index, slot),
        )
        loss_real, loss_fake = losses.discriminator_loss_terms(
            real_logits, fake_logits, *targets, kind=self.d_loss_kind
        )
        class_loss = class_acc = tf.constant(0.0)
        if self.info:  # the head learns the codes of the fakes only (no real labels)
            class_loss = cfg.acgan_fake_class_weight * losses.class_cross_entropy(
                fake_classes, labels
            )
            class_acc = losses.class_accuracy(fake_classes, labels)
        elif self.acgan:
            class_loss = losses.class_cross_entropy(real_classes, labels)
            if cfg.acgan_fake_class_weight > 0:
                class_loss += cfg.acgan_fake_class_weight * losses.class_cross_entropy(
                    fake_classes, labels
                )
            class_acc = losses.class_accuracy(real_classes, labels)
        log = {
            "d_loss_real": loss_real,
            "d_loss_fake": loss_fake,
            "d_acc_real": losses.accuracy_real(real_logits),
            "d_acc_fake": losses.accuracy_fake(fake_logits),
            "wasserstein": losses.wasserstein_estimate(real_logits, fake_logits),
            "d_class_loss": class_loss,
            "d_class_acc": class_acc,
        }
        return log, fake_logits, fake_classes

    def _g_losses(self, fake, fake_logits, fake_classes, labels):
        """The float32 scalars of `G_LOG`: G's adversarial loss, its unweighted class loss
        and the class accuracy of its fakes (by the ACGAN head or the frozen classifier;
        both 0 without either)."""
        g_loss = losses.generator_loss(fake_logits, self.cfg.loss, top_k=self.cfg.g_top_k)
        if self.classifier_logits is not None:
            fake_classes = self.classifier_logits(fake)
        if fake_classes is None:
            return {"g_loss": g_loss, **_zeros(("g_class_loss", "g_class_acc"))}
        return {
            "g_loss": g_loss,
            "g_class_loss": losses.class_cross_entropy(fake_classes, labels),
            "g_class_acc": losses.class_accuracy(fake_classes, labels),
        }

    def _g_total(self, g_log):
        """G's loss to minimise: adversarial plus the weighted class loss."""
        return g_log["g_loss"] + self.g_class_weight * g_log["g_class_loss"]

    def gradient_penalty(self, real, fake, labels, round_index, slot):
        """WGAN-GP's penalty (Gulrajani et al. 2017, algorithm 1) at x_hat = alpha * real +
        (1 - alpha) * fake, alpha ~ U(0, 1) per example, for D(x_hat, labels) if conditional."""
        alpha = losses.interpolation_weights(
            tf.shape(real)[0], seed=self._seed(GP_WEIGHT_STREAM, round_index, slot)
        )
        x_hat = losses.interpolate(real, fake, alpha)
        return losses.gradient_penalty(lambda x: self._discriminate(x, labels)[0], x_hat)

    def _clip_critic_weights(self):
        """WGAN's Lipschitz constraint (Arjovsky et al. 2017): every weight in [-c, c]."""
        c = self.cfg.weight_clip
        for w in self.d.trainable_variables:
            w.assign(tf.clip_by_value(w, -c, c))

    def _d_step(self, real, labels, round_index, slot):
        """One D (critic) update on a real batch and a fresh fake one; returns the float32
        scalars of `D_LOG` from this update's forward pass (``grad_penalty`` unweighted)."""
        z = self._noise(tf.shape(real)[0], round_index, slot)
        labels = self._labels_of(z, labels)
        fake = tf.stop_gradient(self._generate(z, labels))
        with tf.GradientTape() as tape:
            log, _, _ = self._d_losses(real, fake, labels, round_index, slot)
            d_loss = log["d_loss_real"] + log["d_loss_fake"] + log["d_class_loss"]
            log["grad_penalty"] = tf.constant(0.0)
            if self.cfg.loss == "wgan-gp":
                log["grad_penalty"] = self.gradient_penalty(real, fake, labels, round_index, slot)
                d_loss += self.cfg.gp_weight * log["grad_penalty"]
            elif self.cfg.r1_weight > 0:
                critic = lambda x: self._discriminate(x, labels)[0]  # noqa: E731
                log["grad_penalty"] = losses.r1_penalty(critic, real)
                d_loss += 0.5 * self.cfg.r1_weight * log["grad_penalty"]
            d_loss = _scaled(self.d_opt, d_loss)
        self._apply(self.d_opt, tape.gradient(d_loss, self.d.trainable_variables), self.d)
        if self.cfg.weight_clip > 0:
            self._clip_critic_weights()
        return log

    def g_gradients(self, labels, batch_size, round_index, slot):
        """G's log (the float32 scalars of `G_LOG`: loss terms and gradient norm) and the
        gradients of its total loss (adversarial + weighted class loss; times the loss
        scale under float16, which G's optimiser divides out)."""
        z = self._noise(batch_size, round_index, slot)
        labels = self._labels_of(z, labels)
        with tf.GradientTape() as tape:
            fake = self._generate(z, labels)
            g_log = self._g_losses(fake, *self._discriminate(fake, labels), labels)
            total = _scaled(self.g_opt, self._g_total(g_log))
        # Packed into one vector before the gradient is taken: Grappler rewrites the graph
        # by its structure, and this structure keeps the logged means of existing runs to
        # the last bit.
        g_log = _g_named(_g_vector(g_log, G_LOSSES), G_LOSSES)
        grads = tape.gradient(total, self.g.trainable_variables)
        return {**g_log, "g_grad_norm": _gradient_norm(self.g_opt, grads)}, grads

    def _g_step(self, labels, batch_size, round_index, slot):
        """One G update against the current D; returns `g_gradients`' loss terms."""
        g_log, grads = self.g_gradients(labels, batch_size, round_index, slot)
        self._apply(self.g_opt, grads, self.g)
        return g_log

    @staticmethod
    def _step_log(d_log, g_log, d_updates, g_updates):
        """The round's step log, keyed by `STEP_COLUMNS`, from D's last update, G's (mean)
        loss terms and the update counts."""
        counts = {
            "d_updates": tf.cast(d_updates, tf.float32),
            "g_updates": tf.cast(g_updates, tf.float32),
        }
        named = {**d_log, **g_log, **counts}
        return {name: named[name] for name in STEP_COLUMNS}

    def _simultaneous(self, real_batches, real_labels, round_index):
        """One forward pass, two tapes: both nets step from the same point (TF tutorial)."""
        real, labels = real_batches[0], real_labels[0]
        z = self._noise(tf.shape(real)[0], round_index, 0)
        labels = self._labels_of(z, labels)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self._generate(z, labels)
            d_log, fake_logits, fake_classes = self._d_losses(real, fake, labels, round_index, 0)
            g_log = self._g_losses(fake, fake_logits, fake_classes, labels)
            d_loss = _scaled(
                self.d_opt, d_log["d_loss_real"] + d_log["d_loss_fake"] + d_log["d_class_loss"]
            )
            g_total = _scaled(self.g_opt, self._g_total(g_log))
        self._apply(self.d_opt, d_tape.gradient(d_loss, self.d.trainable_variables), self.d)
        g_grads = g_tape.gradient(g_total, self.g.trainable_variables)
        self._apply(self.g_opt, g_grads, self.g)
        g_log["g_grad_norm"] = _gradient_norm(self.g_opt, g_grads)
        return self._step_log({**d_log, "grad_penalty": tf.constant(0.0)}, g_log, 1, 1)

    def _alternating(self, real_batches, real_labels, round_index):
        """k D updates, then G updates against the updated D."""
        cfg = self.cfg
        for k in range(cfg.d_steps):
            d_log = self._d_step(real_batches[k], real_labels[k], round_index, k)
        batch_size = tf.shape(real_batches[0])[0]
        g_sum = tf.zeros(len(G_LOG))
        for j in range(cfg.g_steps):
            labels = real_labels[j % cfg.d_steps]
            g_sum += _g_vector(self._g_step(labels, batch_size, round_index, cfg.d_steps + j))
        return self._step_log(d_log, _g_named(g_sum / cfg.g_steps), cfg.d_steps, cfg.g_steps)

    def _dynamic(self, real_batches, real_labels, round_index):
        """D until its loss is below d_loss_threshold, then G until its loss is below
        g_loss_threshold; each at least d_steps/g_steps, at most max_consecutive times."""
        cfg = self.cfg
        cap = cfg.max_consecutive
        batch_size = tf.shape(real_batches[0])[0]

        def d_again(k, d_log):
            d_loss = (d_log["d_loss_real"] + d_log["d_loss_fake"]) / 2  # BCE: ln 2 at chance
            return (k < cfg.d_steps) | ((k < cap) & (d_loss > cfg.d_loss_threshold))

        def d_update(k, d_log):
            return k + 1, self._d_step(real_batches[k], real_labels[k], round_index, k)

        d_updates, d_log = tf.while_loop(
            d_again, d_update, (tf.constant(0, tf.int64), _zeros(D_LOG))
        )

        def g_again(j, g_log, g_sum):
            # The adversarial loss: the class loss has no "chance" level to compare with.
            return (j < cfg.g_steps) | ((j < cap) & (g_log["g_loss"] > cfg.g_loss_threshold))

        def g_update(j, g_log, g_sum):
            labels = real_labels[j % d_updates]  # classes of the batches D just saw
            g_log = self._g_step(labels, batch_size, round_index, cap + j)
            return j + 1, g_log, g_sum + _g_vector(g_log)

        g_updates, _, g_sum = tf.while_loop(
            g_again, g_update, (tf.constant(0, tf.int64), _zeros(G_LOG), tf.zeros(len(G_LOG)))
        )
        g_mean = _g_named(g_sum / tf.cast(g_updates, tf.float32))
        return self._step_log(d_log, g_mean, d_updates, g_updates)

    @staticmethod
    def _apply(optimizer, grads, model):
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))


def is_float16(model: keras.Model) -> bool:
    """True if ``model`` computes in float16 (a 'mixed_float16' policy on any layer)."""
    return any(layer.dtype_policy.compute_dtype == "float16" for layer in model.layers)


def _scaled(optimizer, loss):
    """``loss`` times the loss scale of a `keras.optimizers.LossScaleOptimizer` (taken on
    the tape, so the gradients are scaled too; the optimiser unscales them); other
    optimisers get ``loss`` itself, adding no operation to the graph."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer.scale_loss(loss)
    return loss


def _gradient_norm(optimizer, grads) -> tf.Tensor:
    """The float32 global L2 norm of ``grads``, divided by the loss scale of a
    `keras.optimizers.LossScaleOptimizer` (whose gradients are scaled)."""
    norm = tf.linalg.global_norm([tf.cast(g, tf.float32) for g in grads if g is not None])
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        norm = norm / tf.cast(optimizer.scale_loss(tf.constant(1.0)), tf.float32)
    return norm


def _zeros(names) -> dict:
    return {name: tf.constant(0.0) for name in names}


# G's logs are averaged over a round's updates as one vector, in `G_LOG` order, for the
# same reason as in `GANSteps.g_gradients`.
def _g_vector(g_log: dict, names=G_LOG) -> tf.Tensor:
    return tf.stack([g_log[name] for name in names])


def _g_named(vector: tf.Tensor, names=G_LOG) -> dict:
    return dict(zip(names, tf.unstack(vector, num=len(names)), strict=True))
