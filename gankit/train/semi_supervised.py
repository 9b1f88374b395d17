"""A semi-supervised GAN: a digit classifier that learns from a few labels and from a GAN.

Salimans et al. 2016 (Improved techniques for training GANs, section 5): the discriminator
is a 10-class classifier whose logits l(x) also say "real or fake": D(x) = Z / (Z + 1) with
Z = sum_k exp l_k(x), as if a fake class had the fixed logit 0. It is trained on

    L_D = CE(l(x_labelled), y)                              the few labelled images
          + w * ( -E log D(x_real) - E log(1 - D(G(z))) )   all real images, unlabelled

and G by feature matching: the squared distance between the mean of D's last features on
a real batch and on a fake one. The adversarial game forces D's features to describe
real digits well enough to tell them from G's near-misses, which the class head then uses
with very few labels.

`train_semi_supervised(config, unlabelled, labelled, labels, run_dir, seed=...)` trains it
in a `gankit.train.run_dir.RunDir`, as `gankit.train.loop.train_gan` does: per-epoch history,
checkpoints of both networks, both optimisers and the dropout RNG state, and an exact
resume. Noise is stateless (seed pair (seed + stream, step)) and the data order of epoch e
comes from (seed, e), so a resumed run continues as if it had never stopped.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from gankit.checks import N_CLASSES
from gankit.config.semi_supervised import IMPROVED_GAN, IMPROVED_GAN_FAST, SemiSupervisedConfig
from gankit.evaluate.inference import accuracy
from gankit.nets.dcgan import build_discriminator, build_generator
from gankit.nets.improved_gan import (
    build_improved_gan_discriminator,
    build_improved_gan_generator,
    initialize_from_data,
)
from gankit.nets.sampling import check_labels
from gankit.runtime import first_call_silenced
from gankit.train.averaging import average_model, update_moving_average
from gankit.train.loop import check_images, progress_bar, rng_state_variables
from gankit.train.optimizers import HoldThenLinearDecay
from gankit.train.run_dir import RunDir, step_table

__all__ = [
    "IMPROVED_GAN",
    "IMPROVED_GAN_FAST",
    "LOG_COLUMNS",
    "SemiSupervisedConfig",
    "SemiSupervisedResult",
    "build_semi_supervised_discriminator",
    "feature_matching_loss",
    "prediction_entropy",
    "shift_images",
    "train_semi_supervised",
    "unsupervised_loss",
]

# The noise streams of a step (seed pair (seed + stream, step)): D's and G's updates draw
# their own fakes, so neither update sees noise the other was trained on.
D_NOISE_STREAM = 0
G_NOISE_STREAM = 1
SHIFT_STREAM = 2
DIVERGED_ADVICE = "Lower lr and start a new run_dir."
INIT_IMAGES = 500  # real images for the data-dependent initialisation (as in the paper)


@dataclass
class SemiSupervisedResult:
    """What `train_semi_supervised` returns.

    Attributes:
      classifier: images (N, 28, 28, 1) in [-1, 1] -> class probabilities (N, 10).
      generator: noise (N, latent_dim) -> images in (-1, 1).
      history: one row per epoch: losses, accuracy on the labelled batches, seconds and,
        given ``test=``, ``test_accuracy``.
      run_dir: where the run lives.
      train_seconds: training time summed over all epochs (resumed ones included).
    """

    classifier: keras.Model
    generator: keras.Model
    history: pd.DataFrame
    run_dir: Path
    train_seconds: float


def build_semi_supervised_discriminator(config: SemiSupervisedConfig) -> keras.Model:
    """D of ``config.architecture``: images -> [class logits (N, 10), features (N, F)], F the
    flattened last convolution ('dcgan') or the last hidden layer ('improved_gan'), what
    feature matching compares."""
    if config.architecture == "improved_gan":
        return build_improved_gan_discriminator(
            input_noise=config.input_noise, hidden_noise=config.hidden_noise
        )
    d = build_discriminator(
        base_filters=config.d_filters, dropout=config.dropout, conditioning="acgan"
    )
    head = d.get_layer("class_logits")
    body = keras.Model(d.input, [head.output, head.input], name="classifier_body")
    images = keras.Input((28, 28, 1), name="image")
    x = keras.layers.GaussianNoise(config.input_noise)(images) if config.input_noise else images
    return keras.Model(images, body(x), name="semi_supervised_d")


def unsupervised_loss(real_logits, fake_logits):
    """-E log D(x) on real images - E log(1 - D(G(z))) on fakes, D(x) = Z / (Z + 1) with
    Z = sum_k exp l_k(x). Logits (B, 10) -> scalar; computed in log space, so stable."""
    lse_real = tf.reduce_logsumexp(tf.cast(real_logits, tf.float32), axis=-1)
    lse_fake = tf.reduce_logsumexp(tf.cast(fake_logits, tf.float32), axis=-1)
    # -log D = log(Z + 1) - log Z = softplus(lse) - lse;  -log(1 - D) = log(Z + 1).
    return tf.reduce_mean(tf.nn.softplus(lse_real) - lse_real) + tf.reduce_mean(
        tf.nn.softplus(lse_fake)
    )


def prediction_entropy(logits):
    """Mean entropy (nats) of the class probabilities softmax(logits), (B, 10) -> scalar:
    0 for confident predictions, log 10 for uniform ones."""
    log_p = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    return -tf.reduce_mean(tf.reduce_sum(tf.exp(log_p) * log_p, axis=-1))


def shift_images(images, max_shift: int, seed):
    """Each image (B, 28, 28, 1) in [-1, 1] moved by its own random offset in
    [-max_shift, max_shift] pixels along each axis, the gap filled with background (-1);
    ``seed`` is a stateless seed pair, so the same seed gives the same shifts."""
    k, size = max_shift, images.shape[1]
    padded = tf.pad(images, [[0, 0], [k, k], [k, k], [0, 0]], constant_values=-1.0)
    crops = tf.stack(
        [padded[:, i : i + size, j : j + size] for i in range(2 * k + 1) for j in range(2 * k + 1)],
        axis=1,
    )  # (B, (2k + 1)^2, 28, 28, 1): every offset of every image
    pick = tf.random.stateless_uniform(
        tf.shape(images)[:1], seed, 0, (2 * k + 1) ** 2, dtype=tf.int32
    )
    return tf.gather(crops, pick, batch_dims=1)


def feature_matching_loss(real_features, fake_features):
    """Mean squared distance between the batch means of D's features, (B, F) x (B, F) ->
    scalar; 0 when the two batches have the same mean feature vector."""
    gap = tf.reduce_mean(tf.cast(real_features, tf.float32), 0) - tf.reduce_mean(
        tf.cast(fake_features, tf.float32), 0
    )
    return tf.reduce_mean(tf.square(gap))


def train_semi_supervised(
    config: SemiSupervisedConfig,
    unlabelled: np.ndarray,
    labelled: np.ndarray,
    labels: np.ndarray,
    run_dir: str | os.PathLike,
    *,
    seed: int = 0,
    test: tuple[np.ndarray, np.ndarray] | dict[str, tuple] | None = None,
    progress: bool = True,
) -> SemiSupervisedResult:
    """Trains the semi-supervised GAN, or resumes or reloads the run in ``run_dir``.

    Args:
      unlabelled: float32 (N, 28, 28[, 1]) in [-1, 1], the images without their labels
        (they may include the labelled ones); N >= batch_size.
      labelled: float32 (M, 28, 28[, 1]) in [-1, 1], the few labelled images.
      labels: int (M,) classes 0-9 of ``labelled``; every class present.
      run_dir: config, history and checkpoints go here; a run of the same config and seed
        is resumed (or reloaded when finished; a larger ``epochs`` extends it), another
        one is refused.
      seed: seeds weights, data order, labelled batches, noise and dropout.
      test: optional (images, labels) measured after every epoch (``test_accuracy``),
        or {name: (images, labels)} (a ``<name>_accuracy`` column each, e.g. a validation
        split and the test set); only reported, never used for training.

    Raises:
      ValueError: bad images, labels or sizes, or a run_dir that holds another run.
      TypeError: labels that are not integers.
      TrainingDivergedError: a loss became NaN or infinite (the last good checkpoint stays).
    """
    unlabelled, labelled = check_images(unlabelled), check_images(labelled)
    labels = _check_labels(labels, len(labelled))
    if len(unlabelled) < config.batch_size:
        raise ValueError(
            f"{len(unlabelled)} unlabelled images cannot fill a batch of {config.batch_size}"
        )
    run = RunDir(run_dir)
    _prepare_run_dir(run, config, seed)
    keras.utils.set_random_seed(seed)
    generator, discriminator = _build_networks(config, unlabelled, seed)
    n_steps = len(unlabelled) // config.batch_size
    lr = config.lr
    if config.lr_decay_start < 1:
        lr = HoldThenLinearDecay(config.lr, n_steps * config.epochs, config.lr_decay_start)
    g_opt = keras.optimizers.Adam(lr, beta_1=config.beta1, epsilon=config.adam_epsilon)
    d_opt = keras.optimizers.Adam(lr, beta_1=config.beta1, epsilon=config.adam_epsilon)
    averaged = average_model(discriminator) if config.ema_decay else None
    # Built before a restore, so a finished run's optimiser slots are restored too (not
    # left pending, which TensorFlow reports as unrestored values when the run is reloaded).
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)
    step = first_call_silenced(
        _compiled_step(config, (generator, discriminator, averaged), g_opt, d_opt, seed)
    )

    start = run.restore(
        config.epochs,
        logs=("history.csv",),
        generator=generator,
        discriminator=discriminator,
        g_optimizer=g_opt,
        d_optimizer=d_opt,
        rng_states=rng_state_variables(discriminator),
        **({} if averaged is None else {"averaged_discriminator": averaged}),
    )
    (history,) = run.load_logs("history.csv")
    classifier = _probability_model(discriminator if averaged is None else averaged)
    last = _probability_model(discriminator) if averaged is not None else None

    for epoch in range(start + 1, config.epochs + 1):
        with progress_bar(n_steps, f"epoch {epoch}/{config.epochs}", progress, "step") as bar:
            t0 = time.perf_counter()
            logs = _run_epoch(step, (unlabelled, labelled, labels), epoch, seed, config, run, bar)
            seconds = time.perf_counter() - t0
        means = step_table(logs, LOG_COLUMNS).mean(axis=0)
        row = {"epoch": epoch, **{c: float(v) for c, v in zip(LOG_COLUMNS, means, strict=True)}}
        row["seconds"] = seconds
        for name, (images, targets) in _named_sets(test).items():
            row[f"{name}_accuracy"] = accuracy(classifier, images, targets)
            if last is not None:  # D's last weights, beside their average
                row[f"{name}_accuracy_last"] = accuracy(last, images, targets)
        history = pd.concat([history, pd.DataFrame([row])], ignore_index=True)
        run.save_epoch(epoch, {"history.csv": history})
    return SemiSupervisedResult(
        classifier,
        generator,
        history,
        run.path,
        float(history["seconds"].sum()) if len(history) else 0.0,
    )


LOG_COLUMNS = ("d_supervised_loss", "d_unsupervised_loss", "g_loss", "labelled_accuracy")
"""The per-step log, averaged into each history row: D's class cross-entropy on the
labelled batch, its real/fake term, G's feature-matching loss, and D's accuracy on the
labelled batch (before the step's update)."""


def _build_networks(config: SemiSupervisedConfig, unlabelled: np.ndarray, seed: int):
    """(G, D) of ``config.architecture``, freshly initialised from ``seed``; the
    'improved_gan' D gets the paper's data-dependent initialisation on `INIT_IMAGES`
    unlabelled images (a resumed run then restores its checkpoint over it)."""
    if config.architecture == "dcgan":
        generator = build_generator(config.latent_dim, base_filters=config.g_filters, seed=seed)
        return generator, build_semi_supervised_discriminator(config)
    generator = build_improved_gan_generator(config.latent_dim)
    discriminator = build_semi_supervised_discriminator(config)
    pick = np.random.default_rng([seed, 0]).permutation(len(unlabelled))[:INIT_IMAGES]
    initialize_from_data(discriminator, unlabelled[pick])
    return generator, discriminator


def _compiled_step(config, networks, g_opt, d_opt, seed: int):
    batch, w = config.batch_size, config.unsupervised_weight
    generator, discriminator, averaged = networks

    @tf.function
    def step(unlabelled, g_unlabelled, labelled, labels, index):
        if config.labelled_shift:
            labelled = shift_images(labelled, config.labelled_shift, [seed + SHIFT_STREAM, index])
        noise_d = tf.random.stateless_normal(
            (batch, config.latent_dim), [seed + D_NOISE_STREAM, index]
        )
        noise_g = tf.random.stateless_normal(
            (batch, config.latent_dim), [seed + G_NOISE_STREAM, index]
        )
        # One D call per update on the stacked batches (labelled, unlabelled, fake): also
        # keeps Grappler's remapper from failing on several calls of the same layers.
        with tf.GradientTape() as tape:
            fakes = generator(noise_d, training=True)
            logits, _ = discriminator(tf.concat([labelled, unlabelled, fakes], 0), training=True)
            labelled_logits, real_logits, fake_logits = tf.split(logits, 3)
            supervised = tf.reduce_mean(
                keras.losses.sparse_categorical_crossentropy(
                    labels, tf.cast(labelled_logits, tf.float32), from_logits=True
                )
            )
            unsupervised = unsupervised_loss(real_logits, fake_logits)
            d_loss = supervised + w * unsupervised
            if config.entropy_weight:
                d_loss += config.entropy_weight * prediction_entropy(real_logits)
        variables = discriminator.trainable_variables
        d_opt.apply_gradients(zip(tape.gradient(d_loss, variables), variables, strict=True))
        with tf.GradientTape() as tape:
            fakes = generator(noise_g, training=True)
            _, features = discriminator(tf.concat([g_unlabelled, fakes], 0), training=True)
            real_features, fake_features = tf.split(features, 2)
            g_loss = feature_matching_loss(tf.stop_gradient(real_features), fake_features)
        variables = generator.trainable_variables
        g_opt.apply_gradients(zip(tape.gradient(g_loss, variables), variables, strict=True))
        if averaged is not None:
            update_moving_average(averaged, discriminator, config.ema_decay, index)
        hits = tf.equal(tf.argmax(labelled_logits, -1, output_type=labels.dtype), labels)
        return {
            "d_supervised_loss": supervised,
            "d_unsupervised_loss": unsupervised,
            "g_loss": g_loss,
            "labelled_accuracy": tf.reduce_mean(tf.cast(hits, tf.float32)),
        }

    return step


def _run_epoch(step, data, epoch: int, seed: int, config, run: RunDir, bar) -> list[dict]:
    """The steps of ``epoch`` over ``data`` = (unlabelled, labelled, labels): every
    unlabelled image once in D's update and once in G's (two orders from seed pair
    (seed, epoch)), each with a labelled batch cut from the labelled set repeated in
    shuffled copies, so every labelled image is seen equally often (as in the paper).
    Returns the step logs (numpy float32 by `LOG_COLUMNS`).

    Raises:
      TrainingDivergedError: at the first step with a NaN or infinite value.
    """
    unlabelled, labelled, labels = data
    n_steps, batch_size = len(unlabelled) // config.batch_size, config.batch_size
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(unlabelled))[: n_steps * batch_size]
    g_order = rng.permutation(len(unlabelled))[: n_steps * batch_size]
    copies = -(-n_steps * batch_size // len(labelled))
    picks = np.concatenate([rng.permutation(len(labelled)) for _ in range(copies)])
    picks = picks[: n_steps * batch_size].reshape(n_steps, batch_size)
    logs = []
    for i in range(n_steps):
        batch = slice(i * batch_size, (i + 1) * batch_size)
        out = step(
            tf.constant(unlabelled[order[batch]]),
            tf.constant(unlabelled[g_order[batch]]),
            tf.constant(labelled[picks[i]]),
            tf.constant(labels[picks[i]]),
            tf.constant((epoch - 1) * n_steps + i, tf.int64),
        )
        logs.append({name: out[name].numpy() for name in LOG_COLUMNS})
        run.check_finite(logs[-1], epoch, i, DIVERGED_ADVICE)
        bar.update()
    return logs


def _named_sets(test) -> dict[str, tuple]:
    """``test`` of `train_semi_supervised` as {column prefix: (images, labels)}."""
    if test is None:
        return {}
    return dict(test) if isinstance(test, dict) else {"test": test}


def _probability_model(discriminator: keras.Model) -> keras.Model:
    logits, _ = discriminator.outputs
    probs = keras.layers.Softmax(dtype="float32", name="probabilities")(logits)
    return keras.Model(discriminator.input, probs, name="semi_supervised_classifier")


def _check_labels(labels, n: int) -> np.ndarray:
    labels = check_labels(labels, n)
    missing = sorted(set(range(N_CLASSES)) - set(labels.tolist()))
    if missing:
        raise ValueError(f"labels must have every class 0-9 present; missing {missing}")
    return labels


def _prepare_run_dir(run: RunDir, config: SemiSupervisedConfig, seed: int) -> None:
    """Writes or checks config.json: the config and the seed identify the run, but not the
    epoch budget, so a finished run can be extended (config.json then records the new one)."""
    wanted = {"config": asdict(config), "seed": seed}

    def same_run(saved: dict) -> bool:
        # A field added since the run was written counts at its default value.
        old = {**asdict(SemiSupervisedConfig()), **saved["config"], "epochs": config.epochs}
        return {**saved, "config": old} == wanted

    saved = run.prepare(wanted, same_run=same_run, what="config or seed")
    if saved is not None and saved != wanted:
        run.write_config(wanted)
