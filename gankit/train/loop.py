"""The GAN trainer: compiled steps, D:G balancing, history, checkpoints, samples, resume.

`train_gan(config, images, run_dir, seed=...)` trains a generator and a discriminator
described by a `GANConfig` on images in [-1, 1] (with ``labels=`` for a conditional GAN:
G and D then also take the class, and each fake batch uses the labels of its real batch)
and leaves a run directory::

    run_dir/config.json        the config, checked on resume
    run_dir/history.csv        one row per epoch (means of the step logs, seconds, metrics)
    run_dir/steps.csv          one row per training round (fractional epoch, losses, D acc,
                               Wasserstein estimate, gradient penalty, D and G update counts,
                               class losses and accuracies)
    run_dir/checkpoints/       G, D, both optimisers, dropout RNG states, the EMA of G (if
                               any) and the epoch counter; the last two epochs are kept
    run_dir/samples/epoch_###.png   a grid from the same fixed noise after every epoch
    run_dir/progress.gif       those grids as an animation
    run_dir/generator.keras    the final generator (its EMA with ``ema_decay`` > 0)

The losses are those of `gankit.train.losses` ('nonsaturating', 'minimax', 'hinge', and the
Wasserstein GANs 'wgan' with weight clipping and 'wgan-gp' with the gradient penalty). A
round does ``d_steps`` D and ``g_steps`` G updates, or with ``balance='dynamic'`` as many
as the loss thresholds ask for (see `GANSteps`).

Two ways to make a conditional G keep its class, both adding a class cross-entropy to G's
loss: an ACGAN discriminator (``discriminator.conditioning='acgan'``, Odena et al. 2017),
whose second head classifies real images (and, with ``train.acgan_fake_class_weight`` > 0,
fakes), and a frozen
pretrained classifier (``train.classifier_loss_weight`` > 0; pass it as ``classifier=``).

Randomness is stateless: the draws of round ``s`` (noise, label flips, the penalty's
interpolation weights) come from seed pairs ``(seed + stream, s * slots + slot)`` and the
data order of epoch ``e`` from ``(seed, e)``, so a run resumed from its checkpoint
continues exactly as if it had never stopped.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from gankit.config import GANConfig, TrainConfig, from_dict, to_dict
from gankit.nets import build_gan
from gankit.nets.conditioning import CLASS_HEAD_CONDITIONING
from gankit.nets.sampling import balanced_labels, check_labels, is_conditional, latent_dim_of
from gankit.plots.grids import make_gif, save_image_grid
from gankit.report import atomic_write
from gankit.runtime import first_call_silenced
from gankit.train import losses

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
)
"""The step log of one round. D's losses, accuracies, ``wasserstein`` (mean D(real) - mean
D(fake): the critic's distance estimate for WGAN losses, the mean logit gap otherwise) and
``grad_penalty`` (WGAN-GP's unweighted penalty; 0 for other losses) are those of the
round's last D update; ``g_loss`` is the mean over its G updates; ``d_updates`` and
``g_updates`` count them (fixed: d_steps and g_steps; dynamic balancing: as many as it
took). The class columns are 0 unless G has a class loss: ``d_class_loss`` (an ACGAN D's
class cross-entropy, real plus fake) and ``d_class_acc`` (its class head's accuracy on
the real batch) come from the last D update; ``g_class_loss`` (the unweighted class
cross-entropy of the fakes, by the ACGAN head or the frozen classifier) and
``g_class_acc`` (how many fakes that head or classifier assigns to the label asked for)
are means over the G updates. ``g_loss`` and ``d_loss`` stay the adversarial parts."""
BALANCES = ("fixed", "dynamic")
OPTIMIZERS = ("adam", "rmsprop")


class TrainingDivergedError(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class TrainResult:
    """What `train_gan` returns. ``history`` has one row per epoch, ``steps`` one per round."""

    generator: keras.Model
    """The trained generator; with ``ema_decay`` > 0, the moving average of its weights."""
    discriminator: keras.Model
    history: pd.DataFrame
    steps: pd.DataFrame
    run_dir: Path
    stopped: str
    """'completed' or 'early_stopping'."""
    train_seconds: float
    """Wall-clock seconds of the training steps of all epochs (this call and earlier ones)."""


def validate_train_config(cfg: TrainConfig) -> None:
    """Raises ValueError naming the first invalid field of ``cfg``."""
    checks = [
        (cfg.epochs >= 1, "epochs must be >= 1"),
        (cfg.batch_size >= 2, "batch_size must be >= 2"),
        (
            cfg.n_train is None or cfg.n_train >= cfg.batch_size,
            "n_train must be None or >= batch_size",
        ),
        (cfg.loss in losses.GAN_LOSSES, f"loss must be one of {losses.GAN_LOSSES}"),
        (min(cfg.g_lr, cfg.d_lr) > 0, "learning rates must be > 0"),
        (
            all(0 <= b < 1 for b in (cfg.g_beta1, cfg.d_beta1, cfg.g_beta2, cfg.d_beta2)),
            "Adam betas must be in [0, 1)",
        ),
        (0.5 < cfg.real_label <= 1.0, "real_label must be in (0.5, 1]; 0.9 smooths"),
        (0 <= cfg.flip_probability < 0.5, "flip_probability must be in [0, 0.5)"),
        (cfg.d_steps >= 1 and cfg.g_steps >= 1, "d_steps and g_steps must be >= 1"),
        (
            cfg.update in ("alternating", "simultaneous"),
            "update must be 'alternating' or 'simultaneous'",
        ),
        (
            cfg.update == "alternating" or cfg.d_steps == cfg.g_steps == 1,
            "update='simultaneous' needs d_steps = g_steps = 1",
        ),
        (cfg.early_stopping_mode in ("min", "max"), "early_stopping_mode must be min or max"),
        (cfg.early_stopping_patience >= 1, "early_stopping_patience must be >= 1"),
        (cfg.grid_size >= 1, "grid_size must be >= 1"),
        (0 <= cfg.ema_decay < 1, "ema_decay must be in [0, 1); 0.999 is typical, 0 is off"),
        (0 <= cfg.lr_decay_start <= 1, "lr_decay_start must be in [0, 1]; 1 is no decay"),
        (cfg.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}"),
        (cfg.weight_clip >= 0, "weight_clip must be >= 0 (0 is off)"),
        (cfg.gp_weight >= 0, "gp_weight must be >= 0"),
        (cfg.balance in BALANCES, f"balance must be one of {BALANCES}"),
        (cfg.max_consecutive >= 1, "max_consecutive must be >= 1"),
        (cfg.classifier_loss_weight >= 0, "classifier_loss_weight must be >= 0 (0 is off)"),
        (
            cfg.acgan_fake_class_weight >= 0,
            "acgan_fake_class_weight must be >= 0 (0: D's class head learns from real only)",
        ),
        (cfg.acgan_class_weight >= 0, "acgan_class_weight must be >= 0 (0: no class loss for G)"),
    ]
    wgan = cfg.loss in losses.WGAN_LOSSES
    dynamic = cfg.balance == "dynamic"
    checks += [
        (
            cfg.loss != "wgan" or cfg.weight_clip > 0,
            "loss='wgan' needs weight_clip > 0 (0.01 in Arjovsky et al. 2017): an "
            "unconstrained critic's scores grow without bound; or use loss='wgan-gp'",
        ),
        (
            cfg.weight_clip == 0 or cfg.loss == "wgan",
            "weight_clip is WGAN's Lipschitz constraint: use it with loss='wgan' only "
            "(wgan-gp replaces it by the gradient penalty)",
        ),
        (cfg.loss != "wgan-gp" or cfg.gp_weight > 0, "loss='wgan-gp' needs gp_weight > 0"),
        (
            not wgan or (cfg.real_label == 1.0 and cfg.flip_probability == 0),
            "label smoothing (real_label < 1) and flips are for a classifier D; a WGAN "
            "critic has no targets: leave real_label=1 and flip_probability=0",
        ),
        (
            not wgan or cfg.update == "alternating",
            "WGAN losses need update='alternating' (critic updates, then G)",
        ),
        (
            not dynamic or not wgan,
            "balance='dynamic' compares losses with thresholds on a classifier's scale "
            "(ln 2 = chance); a WGAN critic's loss has no such scale: use balance='fixed' "
            "with d_steps (5 in Arjovsky et al.)",
        ),
        (
            not dynamic or cfg.update == "alternating",
            "balance='dynamic' needs update='alternating'",
        ),
        (
            not dynamic or cfg.max_consecutive >= max(cfg.d_steps, cfg.g_steps),
            "balance='dynamic' needs max_consecutive >= d_steps and g_steps (the minimum "
            "updates per round)",
        ),
        (
            not dynamic or cfg.lr_decay_start == 1,
            "balance='dynamic' cannot decay the learning rate (lr_decay_start < 1): the "
            "number of updates is not known in advance",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(f"invalid TrainConfig: {message}")


def validate_config(config: GANConfig) -> None:
    """`validate_train_config`, plus the checks that need the networks' config too.

    Raises:
      ValueError: for an invalid train config; loss='wgan-gp' with batch norm in D (batch
        norm makes each score depend on the whole batch, so the per-example gradient the
        penalty constrains is not the critic's: Gulrajani et al. 2017, section 4); or a
        classifier loss on an unconditional GAN or with an ACGAN discriminator.
    """
    validate_train_config(config.train)
    if config.train.classifier_loss_weight > 0:
        if not config.conditional:
            raise ValueError(
                "invalid config: classifier_loss_weight > 0 needs a conditional GAN (the "
                "loss compares the classifier's verdict with the label asked for): set "
                "generator.conditioning and discriminator.conditioning"
            )
        if config.discriminator.conditioning in CLASS_HEAD_CONDITIONING:
            raise ValueError(
                "invalid config: an 'acgan' discriminator already gives G a class loss "
                "(its own class head); use classifier_loss_weight=0 with it, or another "
                "discriminator.conditioning with the frozen classifier's loss"
            )
    class_head = config.discriminator.conditioning in CLASS_HEAD_CONDITIONING
    for name, what in [
        ("acgan_fake_class_weight", "the fake images' term of D's class loss"),
        ("acgan_class_weight", "the class-head term of G's loss"),
    ]:
        if getattr(config.train, name) != 1.0 and not class_head:
            raise ValueError(
                f"invalid config: {name} weighs {what} with a class-head discriminator "
                f"({', '.join(CLASS_HEAD_CONDITIONING)}); with discriminator.conditioning="
                f"{config.discriminator.conditioning!r} leave it at 1.0"
            )
    if config.train.loss == "wgan-gp" and config.discriminator.norm == "batch":
        raise ValueError(
            "invalid config: loss='wgan-gp' with discriminator.norm='batch' breaks the "
            "gradient penalty (each score depends on the whole batch; Gulrajani et al. use "
            "no normalisation or layer norm in the critic): set discriminator.norm='none'"
        )


def check_images(images: np.ndarray) -> np.ndarray:
    """Returns ``images`` as float32 (N, 28, 28, 1) in [-1, 1]: gankit's image format.

    Raises:
      TypeError, ValueError: as ``gankit.data.images.check_images`` (uint8 pixels are scaled).
    """
    from gankit.data.images import check_images as as_images

    return as_images(images)


class HoldThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """``lr`` for the first ``start`` fraction of ``total_steps``, then linearly down to 0.

    Keyed on the optimiser's own step counter, which checkpoints hold, so resume is exact.
    """

    def __init__(self, lr: float, total_steps: int, start: float):
        self.lr, self.total_steps, self.start = float(lr), max(int(total_steps), 1), start

    def __call__(self, step):
        begin = self.start * self.total_steps
        done = (tf.cast(step, tf.float32) - begin) / max(self.total_steps - begin, 1.0)
        return self.lr * (1.0 - tf.clip_by_value(done, 0.0, 1.0))

    def get_config(self):
        return {"lr": self.lr, "total_steps": self.total_steps, "start": self.start}


class GANSteps:
    """The compiled training steps of one GAN: one place that reads like a keras-io example.

    ``round_step(real_batches, real_labels, round_index)`` runs one round of updates and
    returns the step logs as a float32 vector in the order of `STEP_COLUMNS`.
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
        # possible D or G update. 8 is what earlier versions used, so their runs resume exactly.
        if cfg.balance == "dynamic":
            self.slots = max(8, 2 * cfg.max_consecutive)
        else:
            self.slots = max(8, cfg.d_steps + cfg.g_steps)
        g_lr, d_lr = cfg.g_lr, cfg.d_lr
        if cfg.lr_decay_start < 1:
            g_lr = HoldThenLinearDecay(g_lr, total_rounds * cfg.g_steps, cfg.lr_decay_start)
            d_lr = HoldThenLinearDecay(d_lr, total_rounds * cfg.d_steps, cfg.lr_decay_start)
        self.g_opt = _optimizer(cfg.optimizer, g_lr, cfg.g_beta1, cfg.g_beta2)
        self.d_opt = _optimizer(cfg.optimizer, d_lr, cfg.d_beta1, cfg.d_beta2)
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
            self.ema = keras.models.clone_model(generator)
            self.ema.set_weights(generator.get_weights())
        self.round_step = tf.function(self._round)

    def _round(self, real_batches, real_labels, round_index):
        logs = self._update(real_batches, real_labels, round_index)
        if self.ema is not None:
            self._update_ema(round_index)
        return logs

    def _update_ema(self, round_index):
        # Bias-free start as in tf.train.ExponentialMovingAverage(num_updates=...): the
        # effective decay grows from 0.1 to ema_decay, so early averages are not stuck at init.
        t = tf.cast(round_index, tf.float32)
        decay = tf.minimum(self.cfg.ema_decay, (1.0 + t) / (10.0 + t))
        for avg, w in zip(self.ema.trainable_variables, self.g.trainable_variables, strict=True):
            avg.assign(decay * avg + (1.0 - decay) * w)
        # Batch-norm statistics and RNG states are copied, not averaged.
        for avg, w in zip(
            self.ema.non_trainable_variables, self.g.non_trainable_variables, strict=True
        ):
            avg.assign(w)

    def _seed(self, offset, round_index, slot):
        """The stateless seed of draw ``slot`` of round ``round_index`` in stream ``offset``."""
        return tf.stack([self.seed + offset, round_index * self.slots + slot])

    def _noise(self, batch_size, round_index, slot):
        return tf.random.stateless_normal(
            (batch_size, self.latent_dim), seed=self._seed(0, round_index, slot)
        )

    def _generate(self, z, labels):
        return self.g([z, labels] if self.conditional else z, training=True)

    def _discriminate(self, images, labels):
        """D's real/fake logits and, for an ACGAN D, its class logits (else None)."""
        out = self.d([images, labels] if self.d_takes_labels else images, training=True)
        return (out[0], out[1]) if self.acgan else (out, None)

    def _d_losses(self, real, fake, labels, round_index, slot):
        """D's adversarial losses on real and fake, its class loss (ACGAN: cross-entropy
        on real plus ``acgan_fake_class_weight`` times that on fake; else 0), the logits,
        and the class head's accuracy on real."""
        cfg = self.cfg
        real_logits, real_classes = self._discriminate(real, labels)
        fake_logits, fake_classes = self._discriminate(fake, labels)
        targets = losses.discriminator_targets(
            tf.shape(real)[0],
            real_label=cfg.real_label,
            flip_probability=cfg.flip_probability,
            seed=self._seed(7919, round_index, slot),
        )
        loss_real, loss_fake = losses.discriminator_loss_terms(
            real_logits, fake_logits, *targets, kind=self.d_loss_kind
        )
        class_loss = class_acc = tf.constant(0.0)
        if self.acgan:
            class_loss = losses.class_cross_entropy(real_classes, labels)
            if cfg.acgan_fake_class_weight > 0:
                class_loss += cfg.acgan_fake_class_weight * losses.class_cross_entropy(
                    fake_classes, labels
                )
            class_acc = losses.class_accuracy(real_classes, labels)
        return loss_real, loss_fake, class_loss, class_acc, real_logits, fake_logits, fake_classes

    def _g_losses(self, fake, fake_logits, fake_classes, labels):
        """G's adversarial loss, its unweighted class loss and the class accuracy of its
        fakes (by the ACGAN head or the frozen classifier; both 0 without either)."""
        g_loss = losses.generator_loss(fake_logits, self.cfg.loss)
        if self.classifier_logits is not None:
            fake_classes = self.classifier_logits(fake)
        if fake_classes is None:
            return g_loss, tf.constant(0.0), tf.constant(0.0)
        return (
            g_loss,
            losses.class_cross_entropy(fake_classes, labels),
            losses.class_accuracy(fake_classes, labels),
        )

    def gradient_penalty(self, real, fake, labels, round_index, slot):
        """WGAN-GP's penalty (Gulrajani et al. 2017, algorithm 1) at x_hat = alpha * real +
        (1 - alpha) * fake, alpha ~ U(0, 1) per example, for D(x_hat, labels) if conditional."""
        alpha = losses.interpolation_weights(
            tf.shape(real)[0], seed=self._seed(104729, round_index, slot)
        )
        x_hat = losses.interpolate(real, fake, alpha)
        return losses.gradient_penalty(lambda x: self._discriminate(x, labels)[0], x_hat)

    def _clip_critic_weights(self):
        """WGAN's Lipschitz constraint (Arjovsky et al. 2017): every weight in [-c, c]."""
        c = self.cfg.weight_clip
        for w in self.d.trainable_variables:
            w.assign(tf.clip_by_value(w, -c, c))

    def _d_step(self, real, labels, round_index, slot):
        """One D (critic) update on a real batch and a fresh fake one.

        Returns:
          float32 (8,): loss_real, loss_fake, acc_real, acc_fake, Wasserstein estimate, the
          (unweighted) gradient penalty, class loss and class accuracy on real, all from
          this update's forward pass.
        """
        z = self._noise(tf.shape(real)[0], round_index, slot)
        fake = tf.stop_gradient(self._generate(z, labels))
        with tf.GradientTape() as tape:
            loss_real, loss_fake, class_loss, class_acc, real_logits, fake_logits, _ = (
                self._d_losses(real, fake, labels, round_index, slot)
            )
            d_loss = loss_real + loss_fake + class_loss
            penalty = tf.constant(0.0)
            if self.cfg.loss == "wgan-gp":
                penalty = self.gradient_penalty(real, fake, labels, round_index, slot)
                d_loss += self.cfg.gp_weight * penalty
        self._apply(self.d_opt, tape.gradient(d_loss, self.d.trainable_variables), self.d)
        if self.cfg.weight_clip > 0:
            self._clip_critic_weights()
        return tf.stack(
            [
                loss_real,
                loss_fake,
                losses.accuracy_real(real_logits),
                losses.accuracy_fake(fake_logits),
                losses.wasserstein_estimate(real_logits, fake_logits),
                penalty,
                class_loss,
                class_acc,
            ]
        )

    def g_gradients(self, labels, batch_size, round_index, slot):
        """G's loss terms (float32 (3,): adversarial loss, class loss, class accuracy) and
        the gradients of its total loss (adversarial + weighted class loss)."""
        z = self._noise(batch_size, round_index, slot)
        with tf.GradientTape() as tape:
            fake = self._generate(z, labels)
            g_loss, class_loss, class_acc = self._g_losses(
                fake, *self._discriminate(fake, labels), labels
            )
            total = g_loss + self.g_class_weight * class_loss
        return tf.stack([g_loss, class_loss, class_acc]), tape.gradient(
            total, self.g.trainable_variables
        )

    def _g_step(self, labels, batch_size, round_index, slot):
        """One G update against the current D; returns `g_gradients`' loss terms."""
        g_stats, grads = self.g_gradients(labels, batch_size, round_index, slot)
        self._apply(self.g_opt, grads, self.g)
        return g_stats

    @staticmethod
    def _logs(d_stats, g_stats, d_updates, g_updates):
        """The step log in `STEP_COLUMNS` order from `_d_step`'s stats and G's (mean)
        loss terms."""
        return tf.stack(
            [
                d_stats[0],
                d_stats[1],
                g_stats[0],
                d_stats[2],
                d_stats[3],
                d_stats[4],
                d_stats[5],
                tf.cast(d_updates, tf.float32),
                tf.cast(g_updates, tf.float32),
                d_stats[6],
                d_stats[7],
                g_stats[1],
                g_stats[2],
            ]
        )

    def _simultaneous(self, real_batches, real_labels, round_index):
        """One forward pass, two tapes: both nets step from the same point (TF tutorial)."""
        real, labels = real_batches[0], real_labels[0]
        z = self._noise(tf.shape(real)[0], round_index, 0)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self._generate(z, labels)
            loss_real, loss_fake, class_loss, class_acc, real_logits, fake_logits, fake_classes = (
                self._d_losses(real, fake, labels, round_index, 0)
            )
            g_stats = tf.stack(self._g_losses(fake, fake_logits, fake_classes, labels))
            g_total = g_stats[0] + self.g_class_weight * g_stats[1]
            d_loss = loss_real + loss_fake + class_loss
        self._apply(self.d_opt, d_tape.gradient(d_loss, self.d.trainable_variables), self.d)
        self._apply(self.g_opt, g_tape.gradient(g_total, self.g.trainable_variables), self.g)
        d_stats = tf.stack(
            [
                loss_real,
                loss_fake,
                losses.accuracy_real(real_logits),
                losses.accuracy_fake(fake_logits),
                losses.wasserstein_estimate(real_logits, fake_logits),
                0.0,
                class_loss,
                class_acc,
            ]
        )
        return self._logs(d_stats, g_stats, 1, 1)

    def _alternating(self, real_batches, real_labels, round_index):
        """k D updates, then G updates against the updated D."""
        cfg = self.cfg
        for k in range(cfg.d_steps):
            d_stats = self._d_step(real_batches[k], real_labels[k], round_index, k)
        batch_size = tf.shape(real_batches[0])[0]
        g_total = tf.zeros(3)
        for j in range(cfg.g_steps):
            labels = real_labels[j % cfg.d_steps]
            g_total += self._g_step(labels, batch_size, round_index, cfg.d_steps + j)
        return self._logs(d_stats, g_total / cfg.g_steps, cfg.d_steps, cfg.g_steps)

    def _dynamic(self, real_batches, real_labels, round_index):
        """D until its loss is below d_loss_threshold, then G until its loss is below
        g_loss_threshold; each at least d_steps/g_steps, at most max_consecutive times."""
        cfg = self.cfg
        cap = cfg.max_consecutive
        batch_size = tf.shape(real_batches[0])[0]

        def d_again(k, d_stats):
            d_loss = (d_stats[0] + d_stats[1]) / 2  # BCE per example: ln 2 at chance
            return (k < cfg.d_steps) | ((k < cap) & (d_loss > cfg.d_loss_threshold))

        def d_update(k, d_stats):
            return k + 1, self._d_step(real_batches[k], real_labels[k], round_index, k)

        d_updates, d_stats = tf.while_loop(
            d_again, d_update, (tf.constant(0, tf.int64), tf.zeros(8))
        )

        def g_again(j, g_stats, g_total):
            # The adversarial loss: the class loss has no "chance" level to compare with.
            return (j < cfg.g_steps) | ((j < cap) & (g_stats[0] > cfg.g_loss_threshold))

        def g_update(j, g_stats, g_total):
            labels = real_labels[j % d_updates]  # classes of the batches D just saw
            g_stats = self._g_step(labels, batch_size, round_index, cap + j)
            return j + 1, g_stats, g_total + g_stats

        g_updates, _, g_total = tf.while_loop(
            g_again, g_update, (tf.constant(0, tf.int64), tf.zeros(3), tf.zeros(3))
        )
        return self._logs(d_stats, g_total / tf.cast(g_updates, tf.float32), d_updates, g_updates)

    @staticmethod
    def _apply(optimizer, grads, model):
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))


def frozen_logits(classifier: keras.Model) -> Callable:
    """``images -> logits`` (batch, 10) of a `gankit.evaluate.classifier` model in inference mode:
    its "embedding" features times the "probs" layer's weights, before the softmax. (The
    log of the softmax output would have no gradient where a probability underflows or is
    clipped: exactly the fakes of the wrong class that need it most.)

    Raises:
      ValueError: if ``classifier`` has no "embedding" and "probs" layers.
    """
    from gankit.evaluate.classifier import EMBEDDING_LAYER, PROBS_LAYER

    features = keras.Model(classifier.inputs, classifier.get_layer(EMBEDDING_LAYER).output)
    head = classifier.get_layer(PROBS_LAYER)

    def logits(images):
        return tf.matmul(features(images, training=False), head.kernel) + head.bias

    return logits


def _optimizer(name: str, lr, beta1: float, beta2: float) -> keras.optimizers.Optimizer:
    if name == "rmsprop":
        # rho 0.99: PyTorch's default, which the WGAN reference code ran with (Keras: 0.9).
        return keras.optimizers.RMSprop(lr, rho=0.99)
    return keras.optimizers.Adam(lr, beta_1=beta1, beta_2=beta2)


def train_gan(
    config: GANConfig,
    images: np.ndarray,
    run_dir: str | os.PathLike,
    *,
    labels: np.ndarray | None = None,
    seed: int = 0,
    resume: bool = True,
    progress: bool = True,
    deterministic: bool = False,
    epoch_metrics: Callable[[keras.Model], dict[str, float]] | None = None,
    callbacks: Sequence[Callable[[int, dict], None]] = (),
    classifier: keras.Model | None = None,
) -> TrainResult:
    """Trains the GAN of ``config`` on ``images`` and returns models, history and run dir.

    Args:
      images: float32 (N, 28, 28[, 1]) in [-1, 1] (see gankit.data.mnist.scale_images); the first
        ``config.train.n_train`` are used if that is set.
      labels: int (N,) classes 0-9 of ``images``; required for a conditional GAN
        (``config.conditional``), not allowed otherwise.
      run_dir: where config, history, checkpoints and samples go. If it holds a checkpoint
        of the same config and ``resume`` is true, training continues from it.
      seed: seeds weights, data order, noise and dropout.
      deterministic: turn on TensorFlow op determinism (bit-identical reruns; process-wide).
      epoch_metrics: called with the generator after every epoch; its dict is added to the
        epoch's history row (and can be monitored for early stopping).
      callbacks: called as ``callback(epoch, row)`` after each epoch's checkpoint is written.
      classifier: the frozen classifier of ``train.classifier_loss_weight`` > 0 (a
        `gankit.evaluate.classifier` model); default `gankit.evaluate.classifier.load_or_train_classifier()`
        (the cached reference classifier). Unused when the weight is 0. It is not part of
        the config or its hash: resume a run with the same classifier.

    Raises:
      ValueError: for an invalid config, bad images or labels, or a run_dir that holds
        another config.
      TrainingDivergedError: when a loss becomes NaN or infinite.
    """
    cfg = config.train
    validate_config(config)
    images = check_images(images)
    labels = _check_train_labels(config, labels, len(images))
    if cfg.n_train is not None:
        if cfg.n_train > len(images):
            raise ValueError(f"n_train={cfg.n_train} but only {len(images)} images were given")
        images, labels = images[: cfg.n_train], labels[: cfg.n_train]
    # A round gets one new real batch per possible D update: d_steps, or with dynamic
    # balancing max_consecutive (it then uses only as many as D needed).
    dynamic = cfg.balance == "dynamic"
    window = cfg.max_consecutive if dynamic else cfg.d_steps
    per_round = cfg.batch_size * window
    if len(images) < per_round:
        what = "max_consecutive" if dynamic else "d_steps"
        raise ValueError(
            f"{len(images)} images cannot fill one round of {what} x batch_size "
            f"= {per_round}; lower batch_size or {what}"
        )
    run_dir = Path(run_dir)
    _prepare_run_dir(run_dir, config, resume)
    if deterministic:
        tf.config.experimental.enable_op_determinism()

    reference = np.random.default_rng(seed).choice(len(images), 32, replace=False)
    generator, discriminator = build_gan(
        config, seed=seed, reference_images=images[reference], reference_labels=labels[reference]
    )
    n_batches = len(images) // cfg.batch_size
    rounds = n_batches // window  # fixed: the rounds of every epoch
    # Round indices (which key the noise) of epoch e start at (e - 1) * this bound.
    max_rounds = n_batches if dynamic else rounds
    if cfg.classifier_loss_weight > 0 and classifier is None:
        from gankit.evaluate.classifier import load_or_train_classifier

        classifier = load_or_train_classifier(verbose=False)
    steps = GANSteps(
        generator,
        discriminator,
        cfg,
        seed,
        total_rounds=rounds * cfg.epochs,
        classifier=classifier,
    )
    epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    ckpt = tf.train.Checkpoint(
        generator=generator,
        discriminator=discriminator,
        g_optimizer=steps.g_opt,
        d_optimizer=steps.d_opt,
        epoch=epoch_var,
        rng_states=rng_state_variables(generator, discriminator),
        **({} if steps.ema is None else {"ema_generator": steps.ema}),
    )
    # With an EMA, samples, metrics and the saved generator use the averaged weights.
    sampler = generator if steps.ema is None else steps.ema
    manager = tf.train.CheckpointManager(ckpt, run_dir / "checkpoints", max_to_keep=2)
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    start = int(epoch_var.numpy())
    history, step_log = _load_logs(run_dir, start)
    fixed_noise = (
        np.random.default_rng([seed, 2**31])
        .standard_normal((cfg.grid_size, steps.latent_dim))
        .astype(np.float32)
    )
    # A conditional grid shows one digit per column: labels 0..9 repeated, 10 columns.
    grid_inputs, grid_ncol = fixed_noise, None
    if steps.conditional:
        grid_inputs, grid_ncol = [fixed_noise, balanced_labels(cfg.grid_size)], 10
    stopped = "completed"
    if start >= cfg.epochs:
        print(f"{run_dir.name}: already trained ({start} epochs), loaded from its checkpoint")
    elif start:
        print(f"{run_dir.name}: resuming from epoch {start}/{cfg.epochs}")

    d_updates_column = STEP_COLUMNS.index("d_updates")
    round_step = first_call_silenced(steps.round_step)
    for epoch in range(start + 1, cfg.epochs + 1):
        order = np.random.default_rng([seed, epoch]).permutation(len(images))
        batches = order[: n_batches * cfg.batch_size].reshape(n_batches, cfg.batch_size)
        rows = []
        bar = _progress_bar(
            n_batches if dynamic else rounds * window, f"epoch {epoch}/{cfg.epochs}", progress
        )
        t0 = time.perf_counter()
        used = 0  # real batches D has trained on this epoch
        while used + window <= n_batches:
            idx = batches[used : used + window]
            rows.append(
                round_step(
                    tf.constant(images[idx]),
                    tf.constant(labels[idx]),
                    tf.constant((epoch - 1) * max_rounds + len(rows), tf.int64),
                ).numpy()
            )
            if not np.all(np.isfinite(rows[-1])):
                if bar is not None:
                    bar.close()
                raise _diverged(rows[-1], epoch, len(rows) - 1, manager)
            d_updates = int(rows[-1][d_updates_column])
            used += d_updates
            if bar is not None:
                bar.update(d_updates)
                if len(rows) % 10 == 1:
                    bar.set_postfix(_postfix(np.stack(rows[-50:])), refresh=False)
        seconds = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        logs = np.stack(rows)
        row = _epoch_row(epoch, logs, seconds, used * cfg.batch_size)
        if epoch_metrics is not None:
            row.update({k: float(v) for k, v in epoch_metrics(sampler).items()})
        history = pd.concat([history, pd.DataFrame([row])], ignore_index=True)
        step_log = pd.concat([step_log, _step_rows(epoch, logs)], ignore_index=True)
        epoch_var.assign(epoch)
        manager.save(checkpoint_number=epoch)
        _write_csv(history, run_dir / "history.csv")
        _write_csv(step_log, run_dir / "steps.csv")
        save_image_grid(
            sampler(grid_inputs, training=False).numpy(),
            run_dir / "samples" / f"epoch_{epoch:03d}.png",
            ncol=grid_ncol,
        )
        for callback in callbacks:
            callback(epoch, row)
        if _should_stop_early(history, cfg):
            stopped = "early_stopping"
            break

    frames = sorted((run_dir / "samples").glob("epoch_*.png"))
    if frames:
        make_gif(frames, run_dir / "progress.gif")
    sampler.save(run_dir / "generator.keras")
    return TrainResult(
        sampler,
        discriminator,
        history,
        step_log,
        run_dir,
        stopped,
        float(history["seconds"].sum()) if len(history) else 0.0,
    )


def rng_state_variables(*models: keras.Model) -> list:
    """The seed-generator variables of ``models`` (dropout, Gaussian noise): Keras 3 keeps
    those layers' RNG state there, and a model's own checkpoint dependencies miss them, so
    a checkpoint lists them explicitly for an exact resume."""
    return [
        v for m in models for v in m.non_trainable_variables if "seed_generator_state" in v.path
    ]


def load_generator(run_dir: str | os.PathLike) -> keras.Model:
    """The final generator of a finished run (``run_dir/generator.keras``), safe mode.

    Raises:
      FileNotFoundError: if the run has not finished (no generator.keras).
    """
    path = Path(run_dir) / "generator.keras"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: train the run to completion first")
    return keras.saving.load_model(path, safe_mode=True, compile=False)


def _check_train_labels(config: GANConfig, labels, n: int) -> np.ndarray:
    """The training labels as int32 (n,); zeros (ignored) for an unconditional GAN."""
    if not config.conditional:
        if labels is not None:
            raise ValueError(
                "labels were given but the config is unconditional: set "
                "generator.conditioning and discriminator.conditioning for a conditional GAN"
            )
        return np.zeros(n, np.int32)
    if labels is None:
        raise ValueError("a conditional GAN needs labels=: the classes (N,) of the training images")
    return check_labels(labels, n)


def _prepare_run_dir(run_dir: Path, config: GANConfig, resume: bool) -> None:
    config_path = run_dir / "config.json"
    if config_path.exists():
        saved = json.loads(config_path.read_text())
        if not resume:
            raise ValueError(
                f"{run_dir} already holds a run; pass resume=True to continue it "
                "or choose a new run_dir"
            )
        # Compared as configs, so a config.json written before a field existed still matches.
        if from_dict(saved) != config:
            raise ValueError(
                f"{run_dir} holds a run of a different config; choose a new "
                "run_dir (or delete it) to train this config"
            )
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(config_path) as f:
        f.write(json.dumps(to_dict(config), indent=2, sort_keys=True))


def _load_logs(run_dir: Path, epochs_done: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The logs of the epochs the checkpoint holds; rows of later (lost) epochs dropped."""
    frames = []
    for name in ("history.csv", "steps.csv"):
        path = run_dir / name
        if epochs_done and path.exists():
            df = pd.read_csv(path)
            frames.append(df[np.ceil(df["epoch"] - 1e-9) <= epochs_done].reset_index(drop=True))
        else:
            frames.append(pd.DataFrame())
    return frames[0], frames[1]


def _epoch_row(epoch: int, logs: np.ndarray, seconds: float, n_images: int) -> dict:
    means = logs.mean(axis=0)
    row = {"epoch": epoch, **{c: float(v) for c, v in zip(STEP_COLUMNS, means, strict=True)}}
    row["d_loss"] = row["d_loss_real"] + row["d_loss_fake"]
    row["seconds"] = seconds
    row["images_per_second"] = n_images / seconds
    return row


def _step_rows(epoch: int, logs: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame(logs.astype(np.float64), columns=list(STEP_COLUMNS))
    # Fractional epoch: the share of the epoch's real batches used by the end of the round.
    used = np.cumsum(df["d_updates"].to_numpy())
    df.insert(0, "epoch", epoch - 1 + used / used[-1])
    df["d_loss"] = df["d_loss_real"] + df["d_loss_fake"]
    df[["d_updates", "g_updates"]] = df[["d_updates", "g_updates"]].astype(np.int64)
    return df


def _should_stop_early(history: pd.DataFrame, cfg: TrainConfig) -> bool:
    monitor = cfg.early_stopping_monitor
    if monitor is None:
        return False
    if monitor not in history:
        raise ValueError(
            f"early_stopping_monitor {monitor!r} is not in the history columns "
            f"{list(history.columns)}; add it through epoch_metrics"
        )
    values = history[monitor].to_numpy()
    best = np.argmin(values) if cfg.early_stopping_mode == "min" else np.argmax(values)
    return len(values) - 1 - best >= cfg.early_stopping_patience


def _diverged(log: np.ndarray, epoch: int, r: int, manager) -> TrainingDivergedError:
    values = ", ".join(f"{c}={v:.4g}" for c, v in zip(STEP_COLUMNS, log, strict=True))
    last = manager.latest_checkpoint or "none (diverged in the first epoch)"
    return TrainingDivergedError(
        f"a loss became NaN or inf at epoch {epoch}, round {r} ({values}). The last good "
        f"checkpoint is kept: {last}. Lower the learning rates, or use label smoothing."
    )


def _postfix(logs: np.ndarray) -> dict[str, str]:
    recent = dict(zip(STEP_COLUMNS, logs[-50:].mean(axis=0), strict=True))
    return {
        "d_loss": f"{recent['d_loss_real'] + recent['d_loss_fake']:.3f}",
        "g_loss": f"{recent['g_loss']:.3f}",
        "D(real)": f"{recent['d_acc_real']:.2f}",
        "D(fake)": f"{recent['d_acc_fake']:.2f}",
        "W": f"{recent['wasserstein']:.3f}",
        "D:G": f"{recent['d_updates']:.1f}:{recent['g_updates']:.1f}",
    }


def _progress_bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="batch", leave=False, mininterval=0.5)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic_write(path) as f:
        df.to_csv(f, index=False)
