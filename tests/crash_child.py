"""The trainer runs that the crash-recovery tests stop and resume, importable and runnable.

``python tests/crash_child.py gan|semi RUN_DIR`` trains the tiny GAN of `tiny_gan` (3
epochs on 128 images) or a tiny semi-supervised GAN (3 epochs on 48 images) in RUN_DIR,
with op determinism on, resuming what is there. It prints "training" once TensorFlow is
imported, so a killer can aim at training rather than start-up. Set GANKIT_FAULT_AT (see
`gankit.train.run_dir`) to stop it at a write point.
"""

import sys

import numpy as np
import tensorflow as tf
from tiny_gan import TINY_GAN

from gankit.config import GANConfig, with_overrides
from gankit.train import semi_supervised as ssl

GAN = with_overrides(GANConfig(name="tiny"), {**TINY_GAN, "train.epochs": 3})
IMAGES = np.tanh(np.random.default_rng(0).standard_normal((128, 28, 28, 1))).astype("float32")
SEMI = ssl.SemiSupervisedConfig(
    epochs=3, batch_size=16, latent_dim=8, g_filters=4, d_filters=4, dropout=0.3, input_noise=0.1
)
UNLABELLED = np.random.default_rng(0).uniform(-1, 1, (48, 28, 28, 1)).astype(np.float32)


def train(kind: str, run_dir):
    """The `train_gan` or `train_semi_supervised` result of the ``kind`` ('gan' | 'semi')
    run in ``run_dir``, with op determinism (process-wide) on for both."""
    tf.config.experimental.enable_op_determinism()
    if kind == "gan":
        from gankit.train.loop import train_gan

        return train_gan(GAN, IMAGES, run_dir, seed=1, progress=False, deterministic=True)
    labelled, labels = UNLABELLED[:20], np.arange(20) % 10
    return ssl.train_semi_supervised(
        SEMI, UNLABELLED, labelled, labels, run_dir, seed=3, progress=False
    )


if __name__ == "__main__":
    print("training", flush=True)
    train(sys.argv[1], sys.argv[2])
