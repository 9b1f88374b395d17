"""The GAN trainer: compiled steps, D:G balancing, history, checkpoints, samples, resume.

`train_gan(config, images, run_dir, seed=...)` trains a generator and a discriminator
described by a `GANConfig` on images in [-1, 1] (with ``labels=`` for a conditional GAN:
G and D then also take the class, and each fake batch uses the labels of its real batch)
and leaves a run directory::

    run_dir/config.json        the config, checked on resume
    run_dir/history.csv        one row per epoch (means of the step logs, seconds, metrics)
    run_dir/steps.csv          one row per training round (fractional epoch, losses, D acc)
    run_dir/checkpoints/       G, D, both optimisers, dropout RNG states, the EMA of G (if
                               any) and the epoch counter; the last two epochs are kept
    run_dir/samples/epoch_###.png   a grid from the same fixed noise after every epoch
    run_dir/progress.gif       those grids as an animation
    run_dir/generator.keras    the final generator (its EMA with ``ema_decay`` > 0)

Randomness is stateless: the noise of round ``s`` is drawn from the seed pair
``(seed, s)`` and the data order of epoch ``e`` from ``(seed, e)``, so a run resumed from
its checkpoint continues exactly as if it had never stopped.
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

from gankit import losses
from gankit.config import GANConfig, TrainConfig, from_dict, to_dict
from gankit.grids import make_gif, save_image_grid
from gankit.nets import build_gan
from gankit.report import atomic_write
from gankit.sampling import balanced_labels, check_labels, is_conditional, latent_dim_of

STEP_COLUMNS = ("d_loss_real", "d_loss_fake", "g_loss", "d_acc_real", "d_acc_fake")


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
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(f"invalid TrainConfig: {message}")


def check_images(images: np.ndarray) -> np.ndarray:
    """Returns ``images`` as float32 (N, 28, 28, 1) after checking shape and range [-1, 1].

    Raises:
      TypeError: for integer images (scale them with gankit.data.scale_images first).
      ValueError: for another shape, values outside [-1, 1], or NaNs.
    """
    images = np.asarray(images)
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            f"images must be float in [-1, 1], got {images.dtype}: "
            "scale uint8 MNIST with gankit.data.scale_images"
        )
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1):
        raise ValueError(f"images must have shape (N, 28, 28[, 1]), got {images.shape}")
    if not np.all(np.isfinite(images)) or images.min() < -1.0 or images.max() > 1.0:
        raise ValueError(
            "images must be finite and in [-1, 1]: scale uint8 MNIST with gankit.data.scale_images"
        )
    return images.astype(np.float32, copy=False)


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

    ``round_step(real_batches, real_labels, round_index)`` runs ``d_steps`` discriminator
    updates (one per real batch, shape (d_steps, batch, 28, 28, 1)) and ``g_steps``
    generator updates, and returns the step logs as a float32 vector in the order of
    `STEP_COLUMNS`. ``real_labels`` (d_steps, batch) int32 are the batches' classes; an
    unconditional GAN ignores them.
    """

    def __init__(
        self, generator, discriminator, cfg: TrainConfig, seed: int, total_rounds: int = 1
    ):
        self.g, self.d, self.cfg = generator, discriminator, cfg
        self.conditional = is_conditional(generator)
        self.latent_dim = latent_dim_of(generator)
        self.d_loss_kind = "hinge" if cfg.loss == "hinge" else "bce"
        self.seed = tf.constant(seed, tf.int64)
        g_lr, d_lr = cfg.g_lr, cfg.d_lr
        if cfg.lr_decay_start < 1:
            g_lr = HoldThenLinearDecay(g_lr, total_rounds * cfg.g_steps, cfg.lr_decay_start)
            d_lr = HoldThenLinearDecay(d_lr, total_rounds * cfg.d_steps, cfg.lr_decay_start)
        self.g_opt = keras.optimizers.Adam(g_lr, beta_1=cfg.g_beta1, beta_2=cfg.g_beta2)
        self.d_opt = keras.optimizers.Adam(d_lr, beta_1=cfg.d_beta1, beta_2=cfg.d_beta2)
        # Build optimiser slots now, so a checkpoint restore can fill them.
        self.g_opt.build(self.g.trainable_variables)
        self.d_opt.build(self.d.trainable_variables)
        self._update = self._simultaneous if cfg.update == "simultaneous" else self._alternating
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

    def _noise(self, batch_size, round_index, slot):
        # Eight noise draws per round are reserved; slot picks one of them.
        counter = round_index * 8 + slot
        return tf.random.stateless_normal(
            (batch_size, self.latent_dim), seed=tf.stack([self.seed, counter])
        )

    def _generate(self, z, labels):
        return self.g([z, labels] if self.conditional else z, training=True)

    def _discriminate(self, images, labels):
        return self.d([images, labels] if self.conditional else images, training=True)

    def _d_losses(self, real, fake, labels, round_index, slot):
        cfg = self.cfg
        real_logits = self._discriminate(real, labels)
        fake_logits = self._discriminate(fake, labels)
        targets = losses.discriminator_targets(
            tf.shape(real)[0],
            real_label=cfg.real_label,
            flip_probability=cfg.flip_probability,
            seed=tf.stack([self.seed + 7919, round_index * 8 + slot]),
        )
        loss_real, loss_fake = losses.discriminator_loss_terms(
            real_logits, fake_logits, *targets, kind=self.d_loss_kind
        )
        return loss_real, loss_fake, real_logits, fake_logits

    def _logs(self, loss_real, loss_fake, g_loss, real_logits, fake_logits):
        return tf.stack(
            [
                loss_real,
                loss_fake,
                g_loss,
                losses.accuracy_real(real_logits),
                losses.accuracy_fake(fake_logits),
            ]
        )

    def _simultaneous(self, real_batches, real_labels, round_index):
        """One forward pass, two tapes: both nets step from the same point (TF tutorial)."""
        real, labels = real_batches[0], real_labels[0]
        z = self._noise(tf.shape(real)[0], round_index, 0)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self._generate(z, labels)
            loss_real, loss_fake, real_logits, fake_logits = self._d_losses(
                real, fake, labels, round_index, 0
            )
            g_loss = losses.generator_loss(fake_logits, self.cfg.loss)
            d_loss = loss_real + loss_fake
        self._apply(self.d_opt, d_tape.gradient(d_loss, self.d.trainable_variables), self.d)
        self._apply(self.g_opt, g_tape.gradient(g_loss, self.g.trainable_variables), self.g)
        return self._logs(loss_real, loss_fake, g_loss, real_logits, fake_logits)

    def _alternating(self, real_batches, real_labels, round_index):
        """k D updates, then G updates against the updated D."""
        for k in range(self.cfg.d_steps):
            real, labels = real_batches[k], real_labels[k]
            z = self._noise(tf.shape(real)[0], round_index, k)
            fake = self._generate(z, labels)
            with tf.GradientTape() as tape:
                loss_real, loss_fake, real_logits, fake_logits = self._d_losses(
                    real, tf.stop_gradient(fake), labels, round_index, k
                )
                d_loss = loss_real + loss_fake
            self._apply(self.d_opt, tape.gradient(d_loss, self.d.trainable_variables), self.d)
        g_total = tf.constant(0.0)
        for j in range(self.cfg.g_steps):
            labels = real_labels[j % self.cfg.d_steps]
            z = self._noise(tf.shape(real_batches[0])[0], round_index, self.cfg.d_steps + j)
            with tf.GradientTape() as tape:
                gen_logits = self._discriminate(self._generate(z, labels), labels)
                g_loss = losses.generator_loss(gen_logits, self.cfg.loss)
            self._apply(self.g_opt, tape.gradient(g_loss, self.g.trainable_variables), self.g)
            g_total += g_loss
        return self._logs(
            loss_real, loss_fake, g_total / self.cfg.g_steps, real_logits, fake_logits
        )

    @staticmethod
    def _apply(optimizer, grads, model):
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))


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
) -> TrainResult:
    """Trains the GAN of ``config`` on ``images`` and returns models, history and run dir.

    Args:
      images: float32 (N, 28, 28[, 1]) in [-1, 1] (see gankit.data.scale_images); the first
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

    Raises:
      ValueError: for an invalid config, bad images or labels, or a run_dir that holds
        another config.
      TrainingDivergedError: when a loss becomes NaN or infinite.
    """
    cfg = config.train
    validate_train_config(cfg)
    images = check_images(images)
    labels = _check_train_labels(config, labels, len(images))
    if cfg.n_train is not None:
        if cfg.n_train > len(images):
            raise ValueError(f"n_train={cfg.n_train} but only {len(images)} images were given")
        images, labels = images[: cfg.n_train], labels[: cfg.n_train]
    per_round = cfg.batch_size * cfg.d_steps
    if len(images) < per_round:
        raise ValueError(
            f"{len(images)} images cannot fill one round of d_steps x batch_size "
            f"= {per_round}; lower batch_size or d_steps"
        )
    run_dir = Path(run_dir)
    _prepare_run_dir(run_dir, config, resume)
    if deterministic:
        tf.config.experimental.enable_op_determinism()

    reference = np.random.default_rng(seed).choice(len(images), 32, replace=False)
    generator, discriminator = build_gan(
        config, seed=seed, reference_images=images[reference], reference_labels=labels[reference]
    )
    rounds = len(images) // per_round
    steps = GANSteps(generator, discriminator, cfg, seed, total_rounds=rounds * cfg.epochs)
    epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    # Keras 3 keeps dropout's RNG state in seed-generator variables that the model's own
    # checkpoint dependencies miss; list them explicitly so resume is exact.
    rng_states = [
        v
        for m in (generator, discriminator)
        for v in m.non_trainable_variables
        if "seed_generator_state" in v.path
    ]
    ckpt = tf.train.Checkpoint(
        generator=generator,
        discriminator=discriminator,
        g_optimizer=steps.g_opt,
        d_optimizer=steps.d_opt,
        epoch=epoch_var,
        rng_states=rng_states,
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

    for epoch in range(start + 1, cfg.epochs + 1):
        order = np.random.default_rng([seed, epoch]).permutation(len(images))
        logs = np.zeros((rounds, len(STEP_COLUMNS)), np.float32)
        bar = _progress_bar(rounds, f"epoch {epoch}/{cfg.epochs}", progress)
        t0 = time.perf_counter()
        for r in range(rounds):
            idx = order[r * per_round : (r + 1) * per_round].reshape(cfg.d_steps, cfg.batch_size)
            logs[r] = steps.round_step(
                tf.constant(images[idx]),
                tf.constant(labels[idx]),
                tf.constant((epoch - 1) * rounds + r, tf.int64),
            )
            if not np.all(np.isfinite(logs[r])):
                if bar is not None:
                    bar.close()
                raise _diverged(logs[r], epoch, r, manager)
            if bar is not None:
                bar.update(1)
                if r % 10 == 0:
                    bar.set_postfix(_postfix(logs[: r + 1]), refresh=False)
        seconds = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        row = _epoch_row(epoch, logs, seconds, rounds * per_round)
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
    rounds = len(logs)
    df = pd.DataFrame(logs.astype(np.float64), columns=list(STEP_COLUMNS))
    df.insert(0, "epoch", epoch - 1 + (np.arange(rounds) + 1) / rounds)
    df["d_loss"] = df["d_loss_real"] + df["d_loss_fake"]
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
    recent = logs[-50:].mean(axis=0)
    return {
        "d_loss": f"{recent[0] + recent[1]:.3f}",
        "g_loss": f"{recent[2]:.3f}",
        "D(real)": f"{recent[3]:.2f}",
        "D(fake)": f"{recent[4]:.2f}",
    }


def _progress_bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=False, mininterval=0.5)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic_write(path) as f:
        df.to_csv(f, index=False)
