"""The InfoGAN-style categorical code of an unconditional GAN (generator.conditioning
'code' with an 'acgan' discriminator): G reads its code from its own noise, D's class head
learns to tell it from the fakes, and no real label is used."""

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from tiny_gan import TINY_GAN

from gankit.config import GANConfig, validate, with_overrides
from gankit.nets import build_gan
from gankit.nets.layers import AppendLatentCode, latent_code
from gankit.train.loop import train_gan
from gankit.train.steps import GANSteps

IMAGES = np.tanh(np.random.default_rng(0).standard_normal((128, 28, 28, 1))).astype("float32")
INFO = with_overrides(
    GANConfig(name="infogan"),
    {
        **TINY_GAN,
        "generator.latent_dim": 12,
        "generator.conditioning": "code",
        "discriminator.conditioning": "acgan",
        "discriminator.dropout": 0.0,
        "train.epochs": 1,
    },
)


def test_the_code_is_the_one_hot_of_the_largest_of_the_first_ten_noise_entries():
    z = np.zeros((2, 12), np.float32)
    z[0, 3], z[0, 11] = 2.0, 9.0  # entry 11 is past the code's 10: not a category
    z[1, 9] = 0.5
    out = keras.ops.convert_to_numpy(AppendLatentCode(10)(z))
    np.testing.assert_array_equal(out[:, :12], z)
    np.testing.assert_array_equal(out[:, 12:], np.eye(10, dtype=np.float32)[[3, 9]])
    draws = np.random.default_rng(0).standard_normal((100_000, 12)).astype(np.float32)
    counts = np.bincount(keras.ops.convert_to_numpy(latent_code(draws, 10)), minlength=10)
    assert np.all(np.abs(counts / 100_000 - 0.1) < 0.005)  # uniform over the categories


def test_a_code_gan_is_unconditional_and_needs_a_class_head_discriminator():
    assert not INFO.conditional
    g, d = build_gan(INFO, seed=0)
    assert len(g.inputs) == 1 and len(d.inputs) == 1 and len(d.outputs) == 2
    with pytest.raises(ValueError, match=r"needs discriminator\.conditioning='acgan'"):
        validate(with_overrides(INFO, {"discriminator.conditioning": "projection"}))
    with pytest.raises(ValueError, match="latent_dim must be >= 10"):
        validate(with_overrides(INFO, {"generator.latent_dim": 8}))
    with pytest.raises(ValueError, match="unconditional"):
        train_gan(INFO, IMAGES, "unused", labels=np.zeros(128, np.int32), progress=False)


def test_a_code_generator_saves_and_loads(tmp_path):
    g, _ = build_gan(INFO, seed=0)
    g.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras", safe_mode=True)
    z = np.random.default_rng(1).standard_normal((4, 12)).astype(np.float32)
    np.testing.assert_allclose(loaded(z), g(z), atol=1e-6)


def test_the_class_head_learns_the_codes_of_the_fakes_only():
    g, d = build_gan(INFO, seed=0)
    steps = GANSteps(g, d, INFO.train, seed=0)
    z = tf.constant(np.random.default_rng(2).standard_normal((32, 12)).astype(np.float32))
    codes = steps._labels_of(z, tf.zeros(32, tf.int32))
    np.testing.assert_array_equal(codes, np.argmax(z.numpy()[:, :10], axis=1))
    real, fake = tf.constant(IMAGES[:32]), tf.constant(-IMAGES[32:64])
    log, _, _ = steps._d_losses(real, fake, codes, 0, 0)
    fake_classes = d(fake, training=True)[1]
    expected = keras.losses.sparse_categorical_crossentropy(codes, fake_classes, from_logits=True)
    assert float(log["d_class_loss"]) == pytest.approx(float(np.mean(expected)), rel=1e-5)
    accuracy = np.mean(fake_classes.numpy().argmax(axis=1) == codes.numpy())
    assert float(log["d_class_acc"]) == pytest.approx(accuracy)


def test_a_code_gan_trains_and_resumes_exactly(tmp_path):
    cfg = with_overrides(INFO, {"train.epochs": 2})

    def crash_after_epoch_one(epoch, row):
        if epoch == 1:
            raise KeyboardInterrupt

    def train(run_dir, **kwargs):
        return train_gan(cfg, IMAGES, run_dir, seed=1, progress=False, deterministic=True,
                         **kwargs)  # fmt: skip

    straight = train(tmp_path / "straight")
    assert np.all(np.isfinite(straight.steps[["d_class_loss", "g_class_loss"]]))
    assert np.all(straight.steps["g_class_loss"] > 0)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "resumed", callbacks=[crash_after_epoch_one])
    resumed = train(tmp_path / "resumed")
    for a, b in zip(straight.generator.get_weights(), resumed.generator.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(straight.steps, resumed.steps)
