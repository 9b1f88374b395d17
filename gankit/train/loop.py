"""The GAN trainer: `train_gan`, its run directory, resume, samples and early stopping.

`train_gan(config, images, run_dir, seed=...)` trains a generator and a discriminator
described by a `GANConfig` on images in [-1, 1] (with ``labels=`` for a conditional GAN:
G and D then also take the class, and each fake batch uses the labels of its real batch)
and leaves a run directory (kept by `gankit.train.run_dir.RunDir`)::

    run_dir/config.json        the config, checked on resume ('auto' precision resolved)
    run_dir/device.json        the device and precision of each training session
    run_dir/history.csv        one row per epoch (means of the step logs, seconds, metrics)
    run_dir/steps.csv          one row per training round (fractional epoch, losses, D acc,
                               Wasserstein estimate, gradient penalty, D and G update counts,
                               class losses and accuracies)
    run_dir/checkpoints/       G, D, both optimisers, dropout RNG states, the EMA of G (if
                               any) and the epoch counter; the last two epochs are kept
    run_dir/samples/epoch_###.png   a grid from the same fixed noise after every epoch
    run_dir/tensorboard/       TensorBoard events: every step-log column per round, the
                               history row and the sample grid per epoch
    run_dir/progress.gif       those grids as an animation
    run_dir/generator.keras    the final generator (its EMA with ``ema_decay`` > 0)

An epoch's rows, grid and checkpoint are written in that order, the checkpoint last: a run
stopped at any moment resumes with every epoch logged and drawn exactly once (see
`gankit.train.run_dir.RunDir` for how the directory is repaired on resume).

The updates of a round are `gankit.train.steps.GANSteps`: the losses of
`gankit.train.losses` ('nonsaturating', 'minimax', 'hinge', and the Wasserstein GANs 'wgan'
with weight clipping and 'wgan-gp' with the gradient penalty), ``d_steps`` D and
``g_steps`` G updates a round, or with ``balance='dynamic'`` as many as the loss
thresholds ask for.

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
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from gankit import device
from gankit.checks import N_CLASSES
from gankit.config import GANConfig, TrainConfig, from_dict, resolved, to_dict, validate
from gankit.data.clusters import kmeans_labels
from gankit.data.grids import make_gif, save_image_grid
from gankit.io import atomic_write
from gankit.nets import build_gan
from gankit.nets.cluster_sampler import cluster_sampler
from gankit.nets.sampling import balanced_labels, check_labels
from gankit.runtime import first_call_silenced, gpu_memory_growth
from gankit.train.feed import DEVICE_FETCH_EVERY, Batches, Rounds, run_epoch
from gankit.train.run_dir import RunDir, step_table
from gankit.train.steps import STEP_COLUMNS, GANSteps
from gankit.train.tensorboard import write_epoch_summaries

GRID_NOISE_KEY = 2**31
"""The second seed of the sample grid's fixed noise, ``(seed, GRID_NOISE_KEY)``: far above
any epoch number, so it is never the seed pair of an epoch's data order."""
GRID_CLASS_COLUMNS = N_CLASSES
"""Columns of a conditional GAN's epoch grid (``samples/epoch_###.png``): one class per
column (an unconditional grid is square, `gankit.data.grids.image_grid`'s default)."""
CLUSTERS_FILE = "clusters.npy"
"""A self-conditioned run's k-means cluster of each training image (`_cluster_labels`)."""
DIVERGED_ADVICE = "Lower the learning rates, or use label smoothing."
DEVICE_FILE = "device.json"
"""The devices and precision each training session of a run used (see `_record_device`)."""


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


def check_images(images: np.ndarray) -> np.ndarray:
    """Returns ``images`` as float32 (N, 28, 28, 1) in [-1, 1]: gankit's image format.

    Raises:
      TypeError, ValueError: as ``gankit.data.images.check_images`` (uint8 pixels are scaled).
    """
    from gankit.data.images import check_images as as_images

    return as_images(images)


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
    verbose: bool = True,
    device_data: bool | None = None,
    fetch_every: int = DEVICE_FETCH_EVERY,
) -> TrainResult:
    """Trains the GAN of ``config`` on ``images`` and returns models, history and run dir.

    Args:
      images: float32 (N, 28, 28[, 1]) in [-1, 1] (see gankit.data.images.scale_images); the first
        ``config.train.n_train`` are used if that is set.
      labels: int (N,) classes 0-9 of ``images``; required for a conditional GAN
        (``config.conditional``), not allowed otherwise nor with ``train.self_conditioned``
        (whose classes are k-means clusters of the images, computed here with ``seed``;
        its returned and saved generator is then the unconditional `cluster_sampler`).
      run_dir: where config, history, checkpoints and samples go. If it holds a checkpoint
        of the same config and ``resume`` is true, training continues from it.
      seed: seeds weights, data order, noise and dropout.
      deterministic: turn on TensorFlow op determinism (bit-identical reruns; process-wide).
      epoch_metrics: called with the generator after every epoch; its dict is added to the
        epoch's history row (and can be monitored for early stopping).
      callbacks: called as ``callback(epoch, row)`` after each epoch's checkpoint is written.
      classifier: the frozen classifier of ``train.classifier_loss_weight`` > 0 (a
        `gankit.evaluate.classifier` model); default the cached reference classifier,
        `gankit.evaluate.classifier.load_or_train_classifier()`. Unused when the weight is
        0. It is not part of the config or its hash: resume a run with the same classifier.
      verbose: print the device and the precision when training starts, e.g. "gankit:
        training on CPU (avx512_bf16) with mixed_bfloat16 (auto)"; `RunDir` messages
        (resume, repairs) are printed either way.
      device_data: keep the images on the device and gather batches there, fetching the
        step logs every ``fetch_every`` rounds (see `gankit.train.feed`); None: when
        TensorFlow trains on a GPU. The step log, the weights and a resume are the same
        either way.

    Raises:
      ValueError: for an invalid config, bad images or labels, or a run_dir that holds
        another config.
      TrainingDivergedError: when a loss becomes NaN or infinite.
    """
    requested = config.train.precision
    config = resolved(config)  # 'auto' -> this device's precision, as the run names it
    cfg = config.train
    validate(config)
    gpu_memory_growth()
    images, labels = _training_data(config, images, labels)
    plan = Rounds.of(cfg, len(images))
    run = RunDir(run_dir)
    run.prepare(to_dict(config), same_run=lambda saved: _same_run(saved, config), resume=resume)
    if cfg.self_conditioned:
        labels = _cluster_labels(run.path, images, config.n_classes, seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    steps = _build_steps(config, images, labels, seed, plan.rounds * cfg.epochs, classifier)
    start = run.restore(cfg.epochs, logs=("history.csv", "steps.csv"), **_checkpointed(steps))
    history, step_log = run.load_logs("history.csv", "steps.csv")
    if start < cfg.epochs:
        _record_device(run, device.probe(), requested, cfg.precision, start, verbose)
    # With an EMA, samples, metrics and the saved generator use the averaged weights.
    sampler = steps.g if steps.ema is None else steps.ema
    # A self-conditioned G is sampled, measured and saved as the unconditional model it
    # makes; the epoch grids show its clusters in order (`_grid_inputs`).
    output = sampler
    if cfg.self_conditioned:
        output = cluster_sampler(sampler, np.bincount(labels, minlength=config.n_classes))
    grid_inputs, grid_ncol = _grid_inputs(cfg.grid_size, steps, seed, config.n_classes)
    stopped = "completed"
    round_step = first_call_silenced(steps.round_step)
    on_device = device.probe().kind == "gpu" if device_data is None else device_data
    data = Batches(images, labels, on_device=on_device)
    bar_total = plan.n_batches if plan.dynamic else plan.rounds * plan.window
    for epoch in range(start + 1, cfg.epochs + 1):
        with progress_bar(bar_total, f"epoch {epoch}/{cfg.epochs}", progress) as bar:
            t0 = time.perf_counter()
            logs, used = run_epoch(
                round_step,
                data,
                epoch,
                seed,
                plan,
                lambda log, step, epoch=epoch: run.check_finite(log, epoch, step, DIVERGED_ADVICE),
                bar,
                fetch_every if on_device else 1,
            )
            seconds = time.perf_counter() - t0
        row = _epoch_row(epoch, logs, seconds, used * cfg.batch_size)
        if epoch_metrics is not None:
            row.update({k: float(v) for k, v in epoch_metrics(output).items()})
        history = pd.concat([history, pd.DataFrame([row])], ignore_index=True)
        rows = _step_rows(epoch, logs)
        first_step = len(step_log)  # rounds logged before this epoch
        step_log = pd.concat([step_log, rows], ignore_index=True)
        grid = sampler(grid_inputs, training=False).numpy()
        run.save_epoch(
            epoch,
            {"history.csv": history, "steps.csv": step_log},
            sample=lambda path, grid=grid: save_image_grid(grid, path, ncol=grid_ncol),
            summaries=lambda directory, epoch=epoch, rows=rows, row=row, first=first_step: (
                write_epoch_summaries(directory, epoch, rows, row, run.sample_path(epoch), first)
            ),
        )
        for callback in callbacks:
            callback(epoch, row)
        if _should_stop_early(history, cfg):
            stopped = "early_stopping"
            break
    _save_final(output, run.path)
    seconds = float(history["seconds"].sum()) if len(history) else 0.0
    return TrainResult(output, steps.d, history, step_log, run.path, stopped, seconds)


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


def progress_bar(total: int, desc: str, enabled: bool, unit: str = "batch"):
    """A tqdm bar of ``total`` ``unit``s that leaves no line behind when closed (use it as a
    context manager); silent when not ``enabled``."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc=desc, unit=unit, leave=False, mininterval=0.5, disable=not enabled
    )


def _training_data(config: GANConfig, images, labels) -> tuple[np.ndarray, np.ndarray | None]:
    """The checked images and labels (zeros for an unconditional GAN, None for a
    self-conditioned one, whose classes `_cluster_labels` finds), cut to ``n_train``."""
    n_train = config.train.n_train
    images = check_images(images)
    if config.train.self_conditioned:
        if labels is not None:
            raise ValueError(
                "labels were given to a self-conditioned GAN, which finds its own classes (the "
                "images' k-means clusters): pass no labels, or set train.self_conditioned=False"
            )
    else:
        labels = _check_train_labels(config, labels, len(images))
    if n_train is not None:
        if n_train > len(images):
            raise ValueError(f"n_train={n_train} but only {len(images)} images were given")
        images = images[:n_train]
        labels = None if labels is None else labels[:n_train]
    return images, labels


def _cluster_labels(run_path: Path, images: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The k-means clusters of a self-conditioned run's images, int32 (N,): read from the
    run's `CLUSTERS_FILE`, else computed (`kmeans_labels` with ``seed``) and written there,
    so a resumed or reloaded run trains on the same clusters without recomputing them
    (k-means in floating point may differ between machines and thread counts)."""
    path = run_path / CLUSTERS_FILE
    if path.exists():
        labels = np.load(path).astype(np.int32)
        if labels.shape == (len(images),) and labels.min() >= 0 and labels.max() < k:
            return labels
        print(f"{run_path.name}: {CLUSTERS_FILE} does not fit these images; clustering again")
    labels = kmeans_labels(images, k, seed=seed)
    with atomic_write(path, "wb") as f:
        np.save(f, labels.astype(np.int16 if k <= np.iinfo(np.int16).max else np.int32))
    return labels


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


def _build_steps(config: GANConfig, images, labels, seed: int, total_rounds: int, classifier):
    """The networks of ``config`` (seeded, data-dependent layers initialised on 32 of
    ``images``) in their `GANSteps`; loads the reference classifier if one is needed."""
    reference = np.random.default_rng(seed).choice(len(images), 32, replace=False)
    generator, discriminator = build_gan(
        config, seed=seed, reference_images=images[reference], reference_labels=labels[reference]
    )
    if config.train.classifier_loss_weight > 0 and classifier is None:
        from gankit.evaluate.classifier import load_or_train_classifier

        classifier = load_or_train_classifier(verbose=False)
    return GANSteps(
        generator,
        discriminator,
        config.train,
        seed,
        total_rounds=total_rounds,
        classifier=classifier,
    )


def _checkpointed(steps: GANSteps) -> dict:
    """The objects of a `train_gan` checkpoint, by their names in it."""
    objects = {
        "generator": steps.g,
        "discriminator": steps.d,
        "g_optimizer": steps.g_opt,
        "d_optimizer": steps.d_opt,
        "rng_states": rng_state_variables(steps.g, steps.d),
    }
    if steps.ema is not None:
        objects["ema_generator"] = steps.ema
    return objects


def _grid_inputs(grid_size: int, steps: GANSteps, seed: int, n_classes: int):
    """The fixed inputs of the per-epoch sample grid and its number of columns (None: the
    default). A conditional grid shows one class per column: labels 0..9 repeated (more
    classes, a self-conditioned GAN's clusters: 0..n_classes-1 in rows of 10)."""
    noise = (
        np.random.default_rng([seed, GRID_NOISE_KEY])
        .standard_normal((grid_size, steps.latent_dim))
        .astype(np.float32)
    )
    if steps.conditional:
        return [noise, balanced_labels(grid_size, n_classes)], GRID_CLASS_COLUMNS
    return noise, None


def _epoch_row(epoch: int, logs: list[dict], seconds: float, n_images: int) -> dict:
    means = step_table(logs, STEP_COLUMNS).mean(axis=0)
    row = {"epoch": epoch, **{c: float(v) for c, v in zip(STEP_COLUMNS, means, strict=True)}}
    row["d_loss"] = row["d_loss_real"] + row["d_loss_fake"]
    row["seconds"] = seconds
    row["images_per_second"] = n_images / seconds
    return row


def _step_rows(epoch: int, logs: list[dict]) -> pd.DataFrame:
    table = step_table(logs, STEP_COLUMNS).astype(np.float64)
    df = pd.DataFrame(table, columns=list(STEP_COLUMNS))
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


def _same_run(saved: dict, config: GANConfig) -> bool:
    """True if ``saved`` (a run's config.json) is ``config``.

    Raises:
      ValueError: if only the precision differs (a run resumed on a device where 'auto'
        means another one), saying how to resume it here anyway.
    """
    saved_config = from_dict(saved)
    theirs, ours = saved_config.train.precision, config.train.precision
    with_ours = replace(saved_config, train=replace(saved_config.train, precision=ours))
    if theirs != ours and with_ours == config:
        raise ValueError(
            f"this run directory was trained with precision {theirs!r}, but this config "
            f"means {ours!r} on {device.probe().describe()}; set train.precision={theirs!r} "
            "to resume it here with its own numerics, or choose a new run_dir"
        )
    return saved_config == config


def _record_device(
    run: RunDir, where: device.Device, requested: str, precision: str, start: int, verbose: bool
) -> None:
    """Adds this training session's device and precision to the run's device.json (a run
    resumed elsewhere lists each device it trained on) and prints them if ``verbose``."""
    path = run.path / DEVICE_FILE
    try:
        sessions = json.loads(path.read_text())["sessions"] if path.exists() else []
    except (ValueError, KeyError, TypeError):  # unreadable: start the list again
        sessions = []
    session = {"from_epoch": start + 1, "precision": precision, "requested": requested}
    sessions.append({**session, "device": where.as_dict()})
    with atomic_write(path) as f:
        f.write(json.dumps({"sessions": sessions}, indent=2) + "\n")
    if verbose:
        auto = " (auto)" if requested == "auto" else ""
        print(f"gankit: training on {where.describe()} with {precision}{auto}")


def _save_final(sampler: keras.Model, run_dir: Path) -> None:
    """The animation of the epochs' sample grids and the final generator."""
    frames = sorted((run_dir / "samples").glob("epoch_*.png"))
    if frames:
        make_gif(frames, run_dir / "progress.gif")
    # Saved next to it and renamed, so a run stopped while saving leaves no broken file.
    partial = run_dir / f".generator.{os.getpid()}.keras"
    sampler.save(partial)
    os.replace(partial, run_dir / "generator.keras")
