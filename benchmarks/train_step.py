"""Images per second of gankit's trainer vs the TensorFlow DCGAN tutorial's training loop.

Both train the tutorial's architecture (G: Dense 7x7x256 -> ConvT 128 -> ConvT 64 -> ConvT 1;
D: Conv 64 -> Conv 128 -> Dense; batch 256; Adam 1e-4) on real MNIST in the same process.
The reference is the tutorial's code: a ``tf.data`` pipeline and one ``tf.function`` step
with two tapes. gankit runs its own `train_gan` (with its logging, NaN checks and
per-step host sync); its epoch time counts the steps only, like the reference's.
Runs alternate (reference, gankit, gankit bf16, reference, ...) and the first epoch of
each run (tracing) is dropped; the medians of the repeats are compared as ratios. Every
epoch's images/s, the medians and the ratios go to ``benchmarks/results/train_step.json``
(`gankit.bench_record`), which the README's table is written from.

Usage: python benchmarks/train_step.py [--repeats 3] [--steps 40] [--epochs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

from gankit import bench_record
from gankit.config import GANConfig, with_overrides
from gankit.data.images import scale_images
from gankit.data.mnist import load_mnist
from gankit.train.loop import train_gan

BATCH = 256
TUTORIAL = with_overrides(
    GANConfig(name="tutorial"),
    {
        "generator.act": "leaky_relu",
        "generator.base_filters": 64,
        "generator.depth": 2,
        "generator.kernel_size": 5,
        "discriminator.base_filters": 64,
        "discriminator.depth": 2,
        "discriminator.kernel_size": 5,
        "discriminator.dropout": 0.3,
        "discriminator.norm": "none",
        "train.batch_size": BATCH,
        "train.g_lr": 1e-4,
        "train.d_lr": 1e-4,
        "train.g_beta1": 0.9,
        "train.d_beta1": 0.9,
        "train.update": "simultaneous",
        "train.grid_size": 16,
    },
)


def reference_epochs(images: np.ndarray, epochs: int) -> list[float]:
    """The tutorial's loop, verbatim in substance; returns images/s of each epoch."""

    def make_generator_model():
        return keras.Sequential(
            [
                keras.Input((100,)),
                keras.layers.Dense(7 * 7 * 256, use_bias=False),
                keras.layers.BatchNormalization(),
                keras.layers.LeakyReLU(),
                keras.layers.Reshape((7, 7, 256)),
                keras.layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
                keras.layers.BatchNormalization(),
                keras.layers.LeakyReLU(),
                keras.layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
                keras.layers.BatchNormalization(),
                keras.layers.LeakyReLU(),
                keras.layers.Conv2DTranspose(
                    1, 5, strides=2, padding="same", use_bias=False, activation="tanh"
                ),
            ]
        )

    def make_discriminator_model():
        return keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                keras.layers.Conv2D(64, 5, strides=2, padding="same"),
                keras.layers.LeakyReLU(),
                keras.layers.Dropout(0.3),
                keras.layers.Conv2D(128, 5, strides=2, padding="same"),
                keras.layers.LeakyReLU(),
                keras.layers.Dropout(0.3),
                keras.layers.Flatten(),
                keras.layers.Dense(1),
            ]
        )

    generator, discriminator = make_generator_model(), make_discriminator_model()
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    generator_optimizer = keras.optimizers.Adam(1e-4)
    discriminator_optimizer = keras.optimizers.Adam(1e-4)

    @tf.function
    def train_step(batch):
        noise = tf.random.normal([BATCH, 100])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(batch, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
            disc_loss = cross_entropy(tf.ones_like(real_output), real_output) + cross_entropy(
                tf.zeros_like(fake_output), fake_output
            )
        gen_grads = gen_tape.gradient(gen_loss, generator.trainable_variables)
        disc_grads = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        # zip without strict=: the tutorial's code, verbatim.
        generator_optimizer.apply_gradients(
            zip(gen_grads, generator.trainable_variables)  # noqa: B905
        )
        discriminator_optimizer.apply_gradients(
            zip(disc_grads, discriminator.trainable_variables)  # noqa: B905
        )

    dataset = (
        tf.data.Dataset.from_tensor_slices(images)
        .shuffle(len(images))
        .batch(BATCH, drop_remainder=True)
    )
    rates = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for batch in dataset:
            train_step(batch)
        # The tutorial never reads a value back; wait for the last step before stopping.
        _ = generator.trainable_variables[0].numpy()
        rates.append(len(images) // BATCH * BATCH / (time.perf_counter() - t0))
    return rates


def gankit_epochs(images: np.ndarray, epochs: int, precision: str) -> list[float]:
    cfg = with_overrides(TUTORIAL, {"train.epochs": epochs, "train.precision": precision})
    with tempfile.TemporaryDirectory() as run_dir:
        result = train_gan(cfg, images, run_dir, seed=0, progress=False)
    return list(result.history["images_per_second"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40, help="steps per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (first dropped)")
    args = parser.parse_args()
    record = bench_record.start(__file__, args)
    (x_train, _), _ = load_mnist(verbose=False)
    images = scale_images(x_train[: args.steps * BATCH])
    runs = {"reference": [], "gankit": [], "gankit_bf16": []}
    epochs = {name: [] for name in runs}
    for rep in range(args.repeats):
        for name in runs:
            if name == "reference":
                rates = reference_epochs(images, args.epochs)
            else:
                precision = "mixed_bfloat16" if name.endswith("bf16") else "float32"
                rates = gankit_epochs(images, args.epochs, precision)
            epochs[name].append(rates)
            runs[name].append(statistics.median(rates[1:]))
            print(f"repeat {rep + 1}: {name:12s} {runs[name][-1]:7.0f} images/s", flush=True)
    med = {name: statistics.median(v) for name, v in runs.items()}
    print(
        f"\nmedian images/s over {args.repeats} repeats ({args.steps} steps of {BATCH}, "
        f"epochs 2..{args.epochs} of each run):"
    )
    ratios = {name: value / med["reference"] for name, value in med.items()}
    for name, value in med.items():
        print(f"  {name:12s} {value:7.0f}   ratio to reference {ratios[name]:.2f}x")
    bf16_over_float32 = med["gankit_bf16"] / med["gankit"]
    print(f"  bf16 over gankit float32: {bf16_over_float32:.2f}x")
    bench_record.write(
        record,
        {
            "batch": BATCH,
            "epoch_images_per_second": epochs,
            "repeat_images_per_second": runs,
            "median_images_per_second": med,
            "ratio_to_reference": ratios,
            "bf16_over_float32": bf16_over_float32,
        },
    )


if __name__ == "__main__":
    main()
