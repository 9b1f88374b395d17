"""Wall-clock seconds until a conditional GAN's TARR first reaches 95%, 98% and 99%.

Compares gankit's default CGAN (preset ``cgan``, trained by `train_gan`) with a reference
conditional GAN written like the Keras ``conditional_gan`` example (keras-io
examples/generative/conditional_gan.py): one-hot labels concatenated to the noise and as
10 image channels for D; G Dense 7x7x138 -> ConvT 128 -> ConvT 128 -> Conv 1 (sigmoid);
D Conv 64 -> Conv 128 -> global max pool -> Dense; LeakyReLU 0.2; Adam 3e-4 for both;
batch 64; images in [0, 1]. Its step is the example's ``train_step`` (D on real and fake
in one batch, then G) compiled with ``tf.function`` (no XLA: slower on this CPU).

After every epoch both models draw 2,000 samples (200 per class) that the reference
classifier scores; the clock counts training steps only, not these evaluations. Both run
on the same machine in one process, one after the other, each until it reaches 99% or
has trained for ``--max-minutes``.

Usage: python benchmarks/time_to_quality.py [--max-minutes 15] [--seed 0] [--out FILE]
(with GANKIT_QUICK=1 both train on 2,048 images: a smoke test of the script only)

The results go to ``benchmarks/results/time_to_quality.json`` (`gankit.bench_record`;
``--out`` names another file), which the README's table is written from.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from gankit import bench_record
from gankit.data.images import scale_images
from gankit.data.mnist import load_mnist
from gankit.evaluate import metrics
from gankit.evaluate.classifier import load_or_train_classifier
from gankit.evaluate.inference import predict_proba
from gankit.nets.sampling import balanced_labels, generate
from gankit.presets import get_preset
from gankit.train.loop import train_gan

THRESHOLDS = (0.95, 0.98, 0.99)
EVAL_LABELS = balanced_labels(2000)
LATENT = 128
BATCH = 64


def tarr_of(classifier, images: np.ndarray) -> float:
    """Success rate of 2,000 samples conditioned on `EVAL_LABELS`."""
    return metrics.tarr(predict_proba(classifier, images), EVAL_LABELS)["success_rate"]


def first_crossings(
    seconds: list[float], values: list[float], thresholds=THRESHOLDS, fmt: str = ".0%"
) -> dict[str, float | None]:
    """Cumulative training seconds at the first evaluation reaching each threshold (None:
    never), keyed by the threshold formatted with ``fmt``."""
    clock = np.cumsum(seconds)
    out = {}
    for t in thresholds:
        hit = [c for c, v in zip(clock, values, strict=True) if v >= t]
        out[format(t, fmt)] = float(hit[0]) if hit else None
    return out


def train_until(
    config, images, labels, measure, *, key: str, target: float, max_seconds: float,
    seed: int, name: str,
) -> dict:  # fmt: skip
    """Trains ``config`` with `train_gan` (in a temporary run directory), calling
    ``measure(generator) -> {key: value}`` after every epoch, until ``value >= target``,
    the config's epochs end or the training clock passes ``max_seconds`` (training steps
    only, not the measurements). Returns epochs, per-epoch seconds and values, and
    ``setup_seconds``: the time before the first epoch's steps (building the networks and
    their graphs; a self-conditioned GAN's k-means), which the step clock leaves out."""
    seconds, values, measuring = [], [], []
    start = time.perf_counter()
    setup = {}

    def timed(generator):
        t0 = time.perf_counter()
        out = measure(generator)
        measuring.append(time.perf_counter() - t0)
        return out

    def stop_when_done(epoch, row):
        if not seconds:
            setup["seconds"] = time.perf_counter() - start - row["seconds"] - measuring[0]
        seconds.append(row["seconds"])
        values.append(row[key])
        print(f"{name:24s} epoch {epoch:3d}  {sum(seconds):7.1f} s  {key} {row[key]:.4f}")
        if sum(seconds) >= max_seconds or row[key] >= target:
            raise _OverBudget

    with tempfile.TemporaryDirectory() as run_dir:
        try:
            train_gan(
                config,
                images,
                run_dir,
                labels=labels,
                seed=seed,
                progress=False,
                epoch_metrics=timed,
                callbacks=[stop_when_done],
            )
        except _OverBudget:
            pass
    return {"epochs": len(seconds), "of_epochs": config.train.epochs, "seconds": seconds,
            key: values, "setup_seconds": setup.get("seconds")}  # fmt: skip


def run_gankit(images, labels, classifier, max_seconds: float, seed: int) -> dict:
    def measure(generator):
        return {"tarr": tarr_of(classifier, generate(generator, labels=EVAL_LABELS, seed=seed + 1))}

    config = get_preset("cgan")  # GANKIT_QUICK=1: a smoke test on 2,048 images
    return train_until(
        config, images, labels, measure, key="tarr", target=max(THRESHOLDS),
        max_seconds=max_seconds, seed=seed, name="gankit",
    )  # fmt: skip


class _OverBudget(Exception):
    pass


def reference_models() -> tuple[keras.Model, keras.Model]:
    """The Keras example's G (input: noise ++ one-hot) and D (input: image ++ label maps)."""
    g_in = LATENT + 10
    generator = keras.Sequential(
        [
            keras.Input((g_in,)),
            keras.layers.Dense(7 * 7 * g_in),
            keras.layers.LeakyReLU(negative_slope=0.2),
            keras.layers.Reshape((7, 7, g_in)),
            keras.layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
            keras.layers.LeakyReLU(negative_slope=0.2),
            keras.layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
            keras.layers.LeakyReLU(negative_slope=0.2),
            keras.layers.Conv2D(1, 7, padding="same", activation="sigmoid"),
        ]
    )
    discriminator = keras.Sequential(
        [
            keras.Input((28, 28, 11)),
            keras.layers.Conv2D(64, 3, strides=2, padding="same"),
            keras.layers.LeakyReLU(negative_slope=0.2),
            keras.layers.Conv2D(128, 3, strides=2, padding="same"),
            keras.layers.LeakyReLU(negative_slope=0.2),
            keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(1),
        ]
    )
    return generator, discriminator


def run_reference(images01, labels, classifier, max_seconds: float, seed: int) -> dict:
    """The example's training loop; ``images01`` are float32 (N, 28, 28, 1) in [0, 1]."""
    keras.utils.set_random_seed(seed)
    g, d = reference_models()
    g_opt, d_opt = keras.optimizers.Adam(3e-4), keras.optimizers.Adam(3e-4)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(real_images, one_hot_labels):
        batch_size = tf.shape(real_images)[0]
        image_one_hot = tf.repeat(
            tf.repeat(one_hot_labels[:, None, None, :], 28, axis=1), 28, axis=2
        )
        z = tf.random.normal((batch_size, LATENT))
        fake = g(tf.concat([z, one_hot_labels], -1))
        fake_and_labels = tf.concat([fake, image_one_hot], -1)
        real_and_labels = tf.concat([real_images, image_one_hot], -1)
        combined = tf.concat([fake_and_labels, real_and_labels], 0)
        targets = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], 0)
        with tf.GradientTape() as tape:
            d_loss = bce(targets, d(combined))
        d_opt.apply_gradients(
            zip(tape.gradient(d_loss, d.trainable_weights), d.trainable_weights, strict=True)
        )
        z = tf.random.normal((batch_size, LATENT))
        misleading = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            fake = g(tf.concat([z, one_hot_labels], -1))
            g_loss = bce(misleading, d(tf.concat([fake, image_one_hot], -1)))
        g_opt.apply_gradients(
            zip(tape.gradient(g_loss, g.trainable_weights), g.trainable_weights, strict=True)
        )
        return d_loss, g_loss

    one_hot = np.eye(10, dtype=np.float32)[labels]
    dataset = (
        tf.data.Dataset.from_tensor_slices((images01, one_hot))
        .shuffle(1024, seed=seed)
        .batch(BATCH)
        .prefetch(tf.data.AUTOTUNE)
    )
    z_eval = np.random.default_rng(seed + 1).standard_normal((2000, LATENT)).astype(np.float32)
    eval_inputs = np.concatenate([z_eval, np.eye(10, dtype=np.float32)[EVAL_LABELS]], 1)
    seconds, tarrs = [], []
    while sum(seconds) < max_seconds and not (tarrs and tarrs[-1] >= max(THRESHOLDS)):
        t0 = time.perf_counter()
        for real, hot in dataset:
            train_step(real, hot)
        seconds.append(time.perf_counter() - t0)
        samples = np.asarray(g(eval_inputs, training=False)) * 2.0 - 1.0
        tarrs.append(tarr_of(classifier, samples))
        print(f"reference epoch {len(seconds):3d}  {sum(seconds):7.1f} s  TARR {tarrs[-1]:.4f}")
    return {"epochs": len(seconds), "seconds": seconds, "tarr": tarrs}


def parse_arguments(description: str, argv=None) -> argparse.Namespace:
    """``--max-minutes`` (per model, default 15), ``--seed`` and ``--out``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--max-minutes", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", default=None, help="the results file (default: benchmarks/results/...)"
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_arguments(__doc__.split("\n")[0], argv)
    record = bench_record.start(__file__, args)
    (x, y), _ = load_mnist(verbose=False)
    n = get_preset("cgan").train.n_train or len(x)
    x, y = x[:n], y[:n]
    classifier = load_or_train_classifier(verbose=False)
    budget = 60.0 * args.max_minutes
    gankit = run_gankit(scale_images(x), y, classifier, budget, args.seed)
    reference = run_reference(
        x[..., None].astype(np.float32) / 255.0, y, classifier, budget, args.seed
    )
    results = {}
    for name, run in (("gankit cgan", gankit), ("keras conditional_gan", reference)):
        run["seconds_to"] = first_crossings(run["seconds"], run["tarr"])
        run["best_tarr"] = max(run["tarr"])
        results[name] = run
    print(
        f"\n{'model':24s}"
        + "".join(f"{'TARR ' + k:>12s}" for k in results["gankit cgan"]["seconds_to"])
        + f"{'best':>9s}"
    )
    for name, run in results.items():
        cells = "".join(
            f"{'never' if v is None else f'{v:.0f} s':>12s}" for v in run["seconds_to"].values()
        )
        print(f"{name:24s}{cells}{run['best_tarr']:9.4f}")
    for key in results["gankit cgan"]["seconds_to"]:
        a, b = (
            results["gankit cgan"]["seconds_to"][key],
            results["keras conditional_gan"]["seconds_to"][key],
        )
        if a is not None and b is not None:
            print(f"time to TARR {key}: reference / gankit = {b / a:.1f}x")
    bench_record.write(record, {"max_minutes": args.max_minutes, "models": results}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
