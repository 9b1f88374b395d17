"""Named configurations: the notebooks and the command line train the same thing by name.

``get_preset(name)`` returns the full-mode config; ``get_preset(name, quick=True)`` (or
``GANKIT_QUICK=1``) the same model on fewer images and epochs.
"""

from __future__ import annotations

import re

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
    "train.precision": "float32",  # the tutorial's numerics, whatever the device
}

# Presets whose committed results (notebooks 01 and 02, the README's Q1 and Q2 rows) were
# trained in float32 before precision 'auto' existed keep it, so their runs keep their
# directories and their numbers stay reproducible; the others take 'auto' (bfloat16 on
# CPUs with bf16 instructions and recent GPUs, float16 on older GPUs, else float32).
_FLOAT32 = {"train.precision": "float32"}

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

# Q1's best DCGAN: what made the CGAN good, carried over (64 filters in G and D, an EMA of
# G's weights, the learning rate falling linearly to 0 over the second half, precision
# 'auto', one G step per D step), with Adam at 5e-4 (faster than 2e-4 at every epoch of a
# 5-epoch budget). The rest is _TUNED's.
_DCGAN_BEST = {
    **_TUNED,
    "generator.base_filters": 64,
    "discriminator.base_filters": 64,
    "train.g_steps": 1,
    "train.g_lr": 5e-4,
    "train.d_lr": 5e-4,
    "train.ema_decay": 0.999,
    "train.lr_decay_start": 0.5,
    "train.epochs": 10,
}
DCGAN_STUDY_EPOCHS = 3
"""Epochs of each run of Q1's tuning study (preset 'dcgan_study'): the self-conditioned GAN
draws recognisable digits by then (measured, seed 0: IS 8.93 on 10,000 samples, real test
9.83; run_archive/q1)."""

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

# The projection CGAN, the base of Q2's default: the tuned DCGAN at twice the width, the
# label as a learned embedding appended to z in G and through a projection discriminator
# (Miyato & Koyama 2018), an EMA of G's weights, a learning rate that decays linearly over
# the second half, and precision 'auto' (the default: bfloat16 compute on CPUs with bf16
# instructions, where it is faster per epoch and buys more epochs in the same time).
_CGAN_PROJECTION = {
    **_TUNED,
    "generator.conditioning": "embedding",
    "discriminator.conditioning": "projection",
    "generator.base_filters": 64,
    "discriminator.base_filters": 64,
    "train.g_steps": 1,
    "train.ema_decay": 0.999,
    "train.lr_decay_start": 0.5,
    "train.epochs": 10,
    "train.grid_size": 100,
}

# The default CGAN: the projection CGAN above plus a 10-class head on D's features, trained
# on real images only, whose cross-entropy on G's fakes enters G's loss at weight 0.3 (a
# weak ACGAN term: it sharpens the class without the full ACGAN's loss of variety). Measured
# on 10,000 samples, seed 0, 10 epochs: projection only TARR 98.90%, IS 9.82, FID 14.3,
# recall 0.77; with the class head TARR 99.49%, IS 9.91, FID 12.6, recall 0.77.
_CGAN = {
    **_CGAN_PROJECTION,
    "discriminator.conditioning": "projection_acgan",
    "train.acgan_fake_class_weight": 0.0,
    "train.acgan_class_weight": 0.3,
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

# Q3's fair comparison: the default CGAN trained only on the 10 real images per class a
# few-shot classifier gets (train it with gankit.studies.retrain_study.train_fewshot_generator,
# which passes that stratified subset, repeated 20 times per epoch; n_train stays None).
# Batch 32 so 100 images still give many steps; 15 epochs = 300 passes,
# ~930 steps, about a minute on 2 cores. Measured (seed 0's subset, projection D before the
# class head): TARR 97% on 1,000 samples; label smoothing 0.9 with dropout 0.3 in D was
# worse (88%).
_CGAN_FEWSHOT10 = {
    **_CGAN,
    "train.batch_size": 32,
    "train.epochs": 15,
}

# The further thoughts: the projection CGAN (the default without its class head) with a
# class loss for G, same budget. ACGAN (Odena et al. 2017): D sees the image only and has a
# second, 10-class head; G minimises that head's cross-entropy on its fakes. The head learns
# from real images only: trained on the fakes too (Odena et al.), it classified them at
# ~100% from the first epoch and stopped pushing G (10 epochs: TARR 98.5%, IS 9.79, FID
# 33.9; real only: 99.7%, 9.92, 26.7). The classifier-loss CGAN keeps the projection D and
# adds the frozen reference classifier's cross-entropy to G's loss, at the same weight 1:
# the two differ in who classifies.
_ACGAN = {
    **_CGAN_PROJECTION,
    "discriminator.conditioning": "acgan",
    "train.acgan_fake_class_weight": 0.0,
}
_CGAN_CLASSIFIER_LOSS = {**_CGAN_PROJECTION, "train.classifier_loss_weight": 1.0}

# Q1's best unconditional GAN, self-conditioned (Liu et al. 2020): the default CGAN's recipe
# trained with each image's k-means cluster (first 50 principal components, no labels) as
# its class, sampled unconditionally (the cluster drawn from the noise with the clusters'
# frequencies). Notebook 01 chooses the number of clusters on the validation FID (seed 0,
# 10 epochs, 10,000 samples against the training images; floor 5.1): 10 clusters 47.6,
# 30: 19.4, 50: 15.6, 100: 9.5, 200: 7.6, 300: 8.1.
SELF_CONDITIONED_CLUSTERS = 200
_SELF_CONDITIONED = {
    **_CGAN,
    "train.self_conditioned": True,
    "train.clusters": SELF_CONDITIONED_CLUSTERS,
}

_PRESETS: dict[str, dict] = {
    "dcgan_tutorial": _TUTORIAL,
    "dcgan_tuned": _DCGAN_BEST,
    "dcgan_study": {**_SELF_CONDITIONED, "train.epochs": DCGAN_STUDY_EPOCHS},
    "dcgan_failing": {**_FAILING, **_FLOAT32},
    "dcgan_collapse": {**_COLLAPSE, **_FLOAT32},
    "mlp_gan": {"generator.kind": "mlp", "discriminator.kind": "mlp", "train.epochs": 10},
    "cgan": _CGAN,
    "dcgan_self_conditioned": _SELF_CONDITIONED,
    "cgan_projection": _CGAN_PROJECTION,
    "cgan_smoothing": {**_CGAN, "train.real_label": 0.9},
    "cgan_latent1": _CGAN_LATENT1,
    "cgan_mlp_failing": {**_CGAN_MLP_FAILING, **_FLOAT32},
    "cgan_mlp": {**_CGAN_MLP, **_FLOAT32},
    "cgan_fewshot10": _CGAN_FEWSHOT10,
    "acgan": _ACGAN,
    "cgan_classifier_loss": _CGAN_CLASSIFIER_LOSS,
}

_QUICK = {"train.n_train": 2048, "train.epochs": 1}

# Q1's tuning study: one change at a time against the best unconditional GAN (the
# self-conditioned one), every row the same budget (preset 'dcgan_study'), over seeds. The
# rows are what the brief names (depth and width of G and D, batch size, learning rates and
# betas, latent size, one-sided label smoothing, label noise, virtual batch norm, the D:G
# update ratio and the loss) and what the recipe took from the conditional GAN (the EMA of
# G, the learning-rate decay, D's class head).
DCGAN_TUNING: dict[str, dict] = {
    "baseline": {},
    "no EMA of G": {"train.ema_decay": 0.0},
    "constant lr": {"train.lr_decay_start": 1.0},
    "no class head in D": {
        "discriminator.conditioning": "projection",
        "train.acgan_class_weight": 1.0,  # the defaults: no class loss without a head
        "train.acgan_fake_class_weight": 1.0,
    },
    "G narrower (32)": {"generator.base_filters": 32},
    "D narrower (32)": {"discriminator.base_filters": 32},
    "G deeper (3 blocks)": {"generator.depth": 3},
    "D deeper (3 blocks)": {"discriminator.depth": 3},
    "batch 64": {"train.batch_size": 64},
    "batch 256": {"train.batch_size": 256},
    "lr 1e-4": {"train.g_lr": 1e-4, "train.d_lr": 1e-4},
    "lr 5e-4": {"train.g_lr": 5e-4, "train.d_lr": 5e-4},
    "beta1 0.9": {"train.g_beta1": 0.9, "train.d_beta1": 0.9},
    "latent 10": {"generator.latent_dim": 10},
    "label smoothing 0.9": {"train.real_label": 0.9},
    "label noise 5%": {"train.flip_probability": 0.05},
    "virtual batch norm (G)": {"generator.norm": "virtual"},
    "D:G 2:1": {"train.d_steps": 2},
    "D:G 1:2": {"train.g_steps": 2},
    "minimax loss": {"train.loss": "minimax"},
}

SWEEP_RUNS: dict[str, dict[str, dict]] = {"q1-tuning": DCGAN_TUNING}
"""Named run lists for ``gankit sweep CONFIG --runs NAME`` (besides a JSON file)."""


# Variants from the literature. WGAN (Arjovsky et al. 2017, algorithm 1): the
# critic's weights clipped to [-0.01, 0.01], RMSprop 5e-5, 5 critic updates per G update.
_WGAN = {
    "train.loss": "wgan",
    "train.optimizer": "rmsprop",
    "train.g_lr": 5e-5,
    "train.d_lr": 5e-5,
    "train.weight_clip": 0.01,
    "train.d_steps": 5,
    "train.g_steps": 1,
}
# WGAN-GP (Gulrajani et al. 2017): gradient penalty lambda 10, 5 critic updates, Adam 1e-4
# with betas (0.5, 0.9) as in their MNIST code, and no batch norm in the critic (it would
# make each score depend on the batch, so the penalised gradient is not the critic's).
_WGAN_GP = {
    "train.loss": "wgan-gp",
    "train.gp_weight": 10.0,
    "train.g_lr": 1e-4,
    "train.d_lr": 1e-4,
    "train.g_beta1": 0.5,
    "train.d_beta1": 0.5,
    "train.g_beta2": 0.9,
    "train.d_beta2": 0.9,
    "train.d_steps": 5,
    "train.g_steps": 1,
    "discriminator.norm": "none",
}
# WGAN-GP with a critic and optimisers that learn on this budget: the papers' critic
# without batch norm, one conv block deeper (3) and 64 filters wide, G 64 filters,
# one critic update per G update with the critic's lr 4x G's (two time-scale rule,
# Heusel et al. 2017) instead of 5 critic updates, betas (0.5, 0.9), an EMA of G and the lr
# falling to 0 over the second half, float32 (the penalty's second derivatives). Measured
# with 5 critic updates at Adam 2e-4 and the 2-block critic it drew noise; in bfloat16 with
# beta1 0 the critic collapsed.
_WGAN_GP_TUNED = {
    **_WGAN_GP,
    "generator.base_filters": 64,
    "discriminator.base_filters": 64,
    "discriminator.depth": 3,
    "train.d_steps": 1,
    "train.g_steps": 1,
    "train.d_lr": 4e-4,
    "train.ema_decay": 0.999,
    "train.lr_decay_start": 0.5,
    "train.precision": "float32",
}
# Dynamic balancing: D again (up to 5 times in a row) while its per-example loss is above
# ln 2 (a D at chance), then G again while its loss is above 1.
_DYNAMIC = {
    "train.balance": "dynamic",
    "train.d_steps": 1,
    "train.g_steps": 1,
    "train.d_loss_threshold": 0.693,
    "train.g_loss_threshold": 1.0,
    "train.max_consecutive": 5,
}

VARIANT_STUDIES: dict[str, dict[str, tuple[str, dict]]] = {
    "loss": {
        "DCGAN": ("dcgan_tuned", {}),
        "DCGAN + WGAN": ("dcgan_tuned", _WGAN),
        "DCGAN + WGAN-GP": ("dcgan_tuned", _WGAN_GP),
        "DCGAN + WGAN-GP, tuned critic": ("dcgan_tuned", _WGAN_GP_TUNED),
        "CGAN": ("cgan_projection", {}),
        "CGAN + WGAN": ("cgan_projection", _WGAN),
        "CGAN + WGAN-GP": ("cgan_projection", _WGAN_GP),
        "CGAN + WGAN-GP, tuned critic": ("cgan_projection", _WGAN_GP_TUNED),
    },
    "upsampling": {
        "transpose": ("dcgan_tuned", {}),
        "nearest": ("dcgan_tuned", {"generator.upsampling": "nearest"}),
        "bilinear": ("dcgan_tuned", {"generator.upsampling": "bilinear"}),
    },
    "balancing": {
        "fixed 1:1 (tuned)": ("dcgan_tuned", {}),
        "fixed 1:2": ("dcgan_tuned", {"train.g_steps": 2}),
        "fixed 2:1": ("dcgan_tuned", {"train.d_steps": 2, "train.g_steps": 1}),
        "dynamic": ("dcgan_tuned", {**_DYNAMIC, "train.lr_decay_start": 1.0}),
    },
    "latent": {
        "2": ("dcgan_tuned", {"generator.latent_dim": 2}),
        "10": ("dcgan_tuned", {"generator.latent_dim": 10}),
        "100": ("dcgan_tuned", {}),
        "200": ("dcgan_tuned", {"generator.latent_dim": 200}),
    },
}
"""The variant studies: ``{study: {label: (base preset, changes)}}``, one change at a time
against the tuned DCGAN (or the projection CGAN: the default CGAN without its class head,
so the losses are compared with the adversarial loss alone). D:G ratios are written D
first."""

# 6 epochs on 20k images: six points per metric trajectory, and the 14 distinct runs of
# notebooks/05_variants.ipynb stay within a notebook's budget on 2 CPU cores.
VARIANT_BUDGETS: dict[str, dict[str, int]] = {
    "dcgan_tuned": {"train.n_train": 20000, "train.epochs": 6},
    "cgan_projection": {"train.n_train": 20000, "train.epochs": 6},
}
"""Full-mode budget of every variant of a base preset (all variants of one base train on
the same images for the same epochs, so the tuned DCGAN's run is shared by the studies)."""


def gan_variants(study: str, *, quick: bool | None = None) -> dict[str, GANConfig]:
    """The configs of ``study`` (a key of `VARIANT_STUDIES`) by label, on the budget
    of `VARIANT_BUDGETS`; ``quick`` (default: GANKIT_QUICK) shrinks it as `get_preset` does.

    A variant is named ``variant_<base>`` (the base itself, shared by the studies) or
    ``variant_<study>_<label>``, e.g. ``variant_loss_dcgan_wgan_gp``.

    Raises:
      ValueError: for an unknown study, listing the known ones.
    """
    if study not in VARIANT_STUDIES:
        raise ValueError(f"unknown study {study!r}; known: {', '.join(VARIANT_STUDIES)}")
    quick = is_quick() if quick is None else quick
    configs = {}
    for label, (base, changes) in VARIANT_STUDIES[study].items():
        slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
        name = f"variant_{study}_{slug}" if changes else f"variant_{base}"
        config = with_overrides(get_preset(base, quick=False), VARIANT_BUDGETS[base])
        config = with_overrides(config, {**changes, "name": name})
        configs[label] = with_overrides(config, _QUICK) if quick else config
    return configs


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
