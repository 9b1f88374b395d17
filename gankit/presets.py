"""Named configurations: the notebooks and the command line train the same thing by name.

``get_preset(name)`` returns the full-mode config; ``get_preset(name, quick=True)`` (or
``GANKIT_QUICK=1``) the same model on fewer images and epochs.
"""

from __future__ import annotations

from gankit.config import GANConfig, is_quick, with_overrides

# The TensorFlow DCGAN tutorial: G Dense 7x7x256 -> ConvT 128 -> ConvT 64 -> ConvT 1,
# D Conv 64 -> Conv 128 -> Dense with dropout 0.3, Adam 1e-4, batch 256.
_TUTORIAL = {
    "generator.act": "leaky_relu",
    "generator.base_filters": 64,
    "generator.kernel_size": 5,
    "discriminator.base_filters": 64,
    "discriminator.kernel_size": 5,
    "discriminator.dropout": 0.3,
    "discriminator.norm": "none",
    "train.batch_size": 256,
    "train.g_lr": 1e-4,
    "train.d_lr": 1e-4,
    "train.g_beta1": 0.9,
    "train.d_beta1": 0.9,
    "train.update": "simultaneous",
    "train.epochs": 50,
}

# Q1's tuned DCGAN: half the tutorial's width with 4x4 kernels (about 3x faster on a CPU),
# batch norm in D instead of dropout (D learns fast enough to teach G in a few epochs),
# Adam 2e-4 / beta1 0.5 as in the DCGAN paper, and two G steps per D step (G was the
# slower learner: IS 7.8 vs 7.4 after 8 epochs with one).
_TUNED = {
    "generator.base_filters": 32,
    "generator.kernel_size": 4,
    "discriminator.base_filters": 32,
    "discriminator.kernel_size": 4,
    "discriminator.norm": "batch",
    "discriminator.dropout": 0.0,
    "train.batch_size": 128,
    "train.g_steps": 2,
    "train.epochs": 10,
}

# Fails on purpose: a small latent space, lr 10x the DCGAN paper's with beta1 0.95 and a
# one-layer D. Measured: D reaches ~99% accuracy on real and fake within two epochs, G's
# loss climbs past 10 (its gradient vanishes) and every sample is the same checkered blob.
_FAILING = {
    **_TUNED,
    "generator.latent_dim": 25,
    "train.g_steps": 1,
    "discriminator.depth": 1,
    "train.g_lr": 2e-3,
    "train.d_lr": 2e-3,
    "train.g_beta1": 0.95,
    "train.d_beta1": 0.95,
    "train.epochs": 2,
}

# Collapses on purpose: a 2-d latent space and two G steps per D step, so G keeps
# jumping to the few outputs that fool the current D (a handful of repeated shapes after
# two epochs on 20k images).
_COLLAPSE = {
    **_TUNED,
    "generator.latent_dim": 2,
    "train.g_steps": 2,
    "train.epochs": 2,
    "train.n_train": 20000,
}

# Q2's default conditional GAN: the tuned DCGAN at twice the width, the label as a learned
# embedding appended to z in G and through a projection discriminator (Miyato & Koyama
# 2018), an EMA of G's weights, a learning rate that decays linearly over the second half,
# and bfloat16 compute: 1.36x faster per epoch, which buys more epochs in the same time.
# Measured on 10,000 samples: bfloat16, 10 epochs, 678 s: TARR 98.9%, IS 9.82; float32,
# 8 epochs, 651 s: TARR 98.6%, IS 9.79. See notebooks/02_cgan_metrics.ipynb.
_CGAN = {
    **_TUNED,
    "generator.conditioning": "embedding",
    "discriminator.conditioning": "projection",
    "generator.base_filters": 64,
    "discriminator.base_filters": 64,
    "train.g_steps": 1,
    "train.ema_decay": 0.999,
    "train.lr_decay_start": 0.5,
    "train.epochs": 10,
    "train.precision": "mixed_bfloat16",
    "train.grid_size": 100,
}

# Q2's failures on purpose. A 1-d latent space: G can draw one curve through image space per
# class, so each class collapses to a few shapes (past reports: IS 4.26, TARR 21%).
_CGAN_LATENT1 = {**_CGAN, "generator.latent_dim": 1, "train.epochs": 3}

# A too-small MLP CGAN with lr 5e-3 and beta1 0.95, as in a past report (IS 4.40): one
# hidden layer of 128 units in G and in D, one-hot labels concatenated.
_CGAN_MLP_FAILING = {
    "generator.kind": "mlp",
    "discriminator.kind": "mlp",
    "generator.hidden": [128],
    "discriminator.hidden": [128],
    "generator.conditioning": "concat",
    "discriminator.conditioning": "concat",
    "train.g_lr": 5e-3,
    "train.d_lr": 5e-3,
    "train.g_beta1": 0.95,
    "train.d_beta1": 0.95,
    "train.epochs": 5,
    "train.grid_size": 100,
}

# Where students start: an MLP CGAN with one-hot labels concatenated (G 256-512-1024,
# D 512-256 with dropout), Adam 2e-4 / beta1 0.5.
_CGAN_MLP = {
    "generator.kind": "mlp",
    "discriminator.kind": "mlp",
    "generator.conditioning": "concat",
    "discriminator.conditioning": "concat",
    "train.epochs": 10,
    "train.grid_size": 100,
}

_PRESETS: dict[str, dict] = {
    "dcgan_tutorial": _TUTORIAL,
    "dcgan_tuned": _TUNED,
    "dcgan_failing": _FAILING,
    "dcgan_collapse": _COLLAPSE,
    "mlp_gan": {"generator.kind": "mlp", "discriminator.kind": "mlp", "train.epochs": 10},
    "cgan": _CGAN,
    "cgan_smoothing": {**_CGAN, "train.real_label": 0.9},
    "cgan_latent1": _CGAN_LATENT1,
    "cgan_mlp_failing": _CGAN_MLP_FAILING,
    "cgan_mlp": _CGAN_MLP,
}

_QUICK = {"train.n_train": 2048, "train.epochs": 1}

# Q1's comparison: one change at a time against the tuned DCGAN, on the same budget.
DCGAN_VARIANTS: dict[str, dict] = {
    "tuned": {},
    "G wider (64)": {"generator.base_filters": 64},
    "D wider (64)": {"discriminator.base_filters": 64},
    "D shallow (1 block)": {"discriminator.depth": 1},
    "G deeper (3 blocks)": {"generator.depth": 3},
    "batch 64": {"train.batch_size": 64},
    "batch 256": {"train.batch_size": 256},
    "lr 1e-3": {"train.g_lr": 1e-3, "train.d_lr": 1e-3},
    "latent 10": {"generator.latent_dim": 10},
    "label smoothing 0.9": {"train.real_label": 0.9},
    "virtual batch norm (G)": {"generator.norm": "virtual"},
    "D:G 1:1": {"train.g_steps": 1},
    "D:G 2:1": {"train.d_steps": 2, "train.g_steps": 1},
    "D:G 1:3": {"train.g_steps": 3},
    "minimax loss": {"train.loss": "minimax"},
}


def dcgan_variants(*, epochs: int, n_train: int | None) -> dict[str, GANConfig]:
    """Q1's comparison configs (`DCGAN_VARIANTS` applied to the tuned DCGAN), each trained
    for ``epochs`` epochs on ``n_train`` images, named ``dcgan_variant_<i>``."""
    base = with_overrides(
        get_preset("dcgan_tuned", quick=False), {"train.epochs": epochs, "train.n_train": n_train}
    )
    return {
        label: with_overrides(base, {**changes, "name": f"dcgan_variant_{i:02d}"})
        for i, (label, changes) in enumerate(DCGAN_VARIANTS.items())
    }


def preset_names() -> list[str]:
    """The names `get_preset` accepts."""
    return sorted(_PRESETS)


def get_preset(name: str, *, quick: bool | None = None) -> GANConfig:
    """The config called ``name``; ``quick`` (default: GANKIT_QUICK) shrinks data and epochs.

    Raises:
      ValueError: for an unknown name, listing the known ones.
    """
    if name not in _PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(preset_names())}")
    config = with_overrides(GANConfig(name=name), _PRESETS[name])
    quick = is_quick() if quick is None else quick
    return with_overrides(config, _QUICK) if quick else config
