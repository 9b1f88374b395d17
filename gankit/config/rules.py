"""`validate(config)`: every rule a `GANConfig` must meet before its GAN is built or trained.

The rules are checked in this order and the first one broken is raised:

1. types: each field has its declared type (a bool is not a number; TypeError) and each
   number is finite (no NaN or infinite learning rate; ValueError);
2. the train section's own rules: ranges, choices, and the combinations of loss,
   balancing and update that train together;
3. rules across sections: the classifier loss, the class-head weights, WGAN-GP with
   batch norm in D;
4. the networks: the precision, G and D both conditional or neither, and each section's
   choices and sizes.

`gankit.nets.build_gan` and `gankit.train.loop.train_gan` call it, and every preset
passes it (tests/test_presets.py), so a bad preset fails in the tests rather than when
its training starts. The network builders keep their own checks for direct callers.
"""

from __future__ import annotations

import dataclasses
import math

from gankit.checks import N_CLASSES
from gankit.config.schema import (
    ACTIVATIONS,
    BALANCES,
    CLASS_HEAD_CONDITIONING,
    CODE_CLASSES,
    DISCRIMINATOR_CONDITIONING,
    GAN_LOSSES,
    GENERATOR_CONDITIONING,
    KINDS,
    NORMALIZATIONS,
    OPTIMIZERS,
    PRECISIONS,
    SECTIONS,
    UPDATES,
    UPSAMPLING,
    WGAN_LOSSES,
    DiscriminatorConfig,
    GANConfig,
    GeneratorConfig,
    TrainConfig,
    checked_value,
)


def validate(config: GANConfig) -> None:
    """Checks ``config`` against the rules of this module, in their order; None if it passes.

    Raises:
      TypeError: ``config`` is not a GANConfig or a field has the wrong type (e.g.
        ``train.epochs=True``), naming the field and its type.
      ValueError: the first broken rule, saying what to change: a non-finite number, a
        value out of range or not among the choices, or fields that do not go together
        (e.g. loss='wgan' without weight_clip, a conditional G with an unconditional D,
        loss='wgan-gp' with batch norm in D).
    """
    _check_types(config)
    _raise_first("invalid TrainConfig: ", _train_ranges(config.train))
    _raise_first("invalid TrainConfig: ", _train_combinations(config.train))
    _check_across_sections(config)
    _raise_first("", _network_rules(config))


def _raise_first(prefix: str, checks: list[tuple[bool, str]]) -> None:
    for ok, message in checks:
        if not ok:
            raise ValueError(f"{prefix}{message}")


def _check_types(config: GANConfig) -> None:
    if not isinstance(config, GANConfig):
        raise TypeError(f"config must be a GANConfig, got {type(config).__name__}")
    checked_value("name", config.name)
    for section, cls in SECTIONS.items():
        part = getattr(config, section)
        if not isinstance(part, cls):
            raise TypeError(f"config.{section} must be a {cls.__name__}, got {part!r}")
        for field in dataclasses.fields(cls):
            key, value = f"{section}.{field.name}", getattr(part, field.name)
            checked_value(key, value)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"invalid config: {key} must be a finite number, got {value!r}")


def _train_ranges(cfg: TrainConfig) -> list[tuple[bool, str]]:
    """(ok, message) for each of the train section's fields on its own."""
    return [
        (cfg.epochs >= 1, "epochs must be >= 1"),
        (cfg.batch_size >= 2, "batch_size must be >= 2"),
        (
            cfg.n_train is None or cfg.n_train >= cfg.batch_size,
            "n_train must be None or >= batch_size",
        ),
        (cfg.loss in GAN_LOSSES, f"loss must be one of {GAN_LOSSES}"),
        (min(cfg.g_lr, cfg.d_lr) > 0, "learning rates must be > 0"),
        (
            all(0 <= b < 1 for b in (cfg.g_beta1, cfg.d_beta1, cfg.g_beta2, cfg.d_beta2)),
            "Adam betas must be in [0, 1)",
        ),
        (0.5 < cfg.real_label <= 1.0, "real_label must be in (0.5, 1]; 0.9 smooths"),
        (0 <= cfg.flip_probability < 0.5, "flip_probability must be in [0, 0.5)"),
        (0 < cfg.g_top_k <= 1, f"g_top_k must be in (0, 1] (1: every fake), got {cfg.g_top_k}"),
        (cfg.d_steps >= 1 and cfg.g_steps >= 1, "d_steps and g_steps must be >= 1"),
        (cfg.update in UPDATES, "update must be 'alternating' or 'simultaneous'"),
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


def _train_combinations(cfg: TrainConfig) -> list[tuple[bool, str]]:
    """(ok, message) for the train fields that must go together: WGAN losses and their
    constraint, and dynamic balancing."""
    wgan = cfg.loss in WGAN_LOSSES
    dynamic = cfg.balance == "dynamic"
    return [
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
        (cfg.r1_weight >= 0, f"r1_weight must be >= 0 (0: off), got {cfg.r1_weight}"),
        (cfg.clusters >= 2, f"clusters must be >= 2 (k-means clusters), got {cfg.clusters}"),
        (
            not wgan or cfg.r1_weight == 0,
            "r1_weight is a penalty for a classifier D: a WGAN critic has its own constraint",
        ),
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


def _check_across_sections(config: GANConfig) -> None:
    """The train fields that depend on the networks: the classifier loss and the class-head
    weights need a conditional GAN of the right kind, WGAN-GP and R1 a D without batch norm
    (batch norm makes each score depend on the whole batch, so the per-example gradient
    the penalty constrains is not D's: Gulrajani et al. 2017, section 4)."""
    train, conditioning = config.train, config.discriminator.conditioning
    class_head = conditioning in CLASS_HEAD_CONDITIONING
    if train.self_conditioned and not config.conditional:
        raise ValueError(
            "invalid config: self_conditioned=True trains a conditional GAN on the images' "
            "clusters: set generator.conditioning and discriminator.conditioning (e.g. the "
            "'cgan' preset's)"
        )
    if train.clusters != N_CLASSES and not train.self_conditioned:
        raise ValueError(
            f"invalid config: clusters={train.clusters} is the number of k-means clusters of "
            "a self-conditioned GAN: set train.self_conditioned=True, or leave clusters at "
            f"{N_CLASSES}"
        )
    if train.self_conditioned and train.classifier_loss_weight > 0:
        raise ValueError(
            "invalid config: self_conditioned=True with classifier_loss_weight > 0 would ask "
            "the frozen digit classifier for clusters it does not know: set one of them off"
        )
    if train.classifier_loss_weight > 0:
        if not config.conditional:
            raise ValueError(
                "invalid config: classifier_loss_weight > 0 needs a conditional GAN (the "
                "loss compares the classifier's verdict with the label asked for): set "
                "generator.conditioning and discriminator.conditioning"
            )
        if class_head:
            raise ValueError(
                "invalid config: an 'acgan' discriminator already gives G a class loss "
                "(its own class head); use classifier_loss_weight=0 with it, or another "
                "discriminator.conditioning with the frozen classifier's loss"
            )
    for name, what in [
        ("acgan_fake_class_weight", "the fake images' term of D's class loss"),
        ("acgan_class_weight", "the class-head term of G's loss"),
    ]:
        if getattr(train, name) != 1.0 and not class_head:
            raise ValueError(
                f"invalid config: {name} weighs {what} with a class-head discriminator "
                f"({', '.join(CLASS_HEAD_CONDITIONING)}); with discriminator.conditioning="
                f"{conditioning!r} leave it at 1.0"
            )
    penalties = [
        (train.r1_weight > 0, "r1_weight > 0", "the R1 penalty", ""),
        (train.loss == "wgan-gp", "loss='wgan-gp'", "the gradient penalty",
         "; Gulrajani et al. use no normalisation or layer norm in the critic"),
    ]  # fmt: skip
    for used, setting, penalty, source in penalties:
        if used and config.discriminator.norm == "batch":
            raise ValueError(
                f"invalid config: {setting} with discriminator.norm='batch' breaks {penalty} "
                f"(each score depends on the whole batch{source}): set "
                "discriminator.norm='none'"
            )


def _network_rules(config: GANConfig) -> list[tuple[bool, str]]:
    """(ok, message) for what building G and D needs: the precision, the conditioning
    pairing, then each network's section."""
    g, d, precision = config.generator, config.discriminator, config.train.precision
    return [
        (
            precision in PRECISIONS,
            f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}",
        ),
        (
            (g.conditioning == "none") == (d.conditioning == "none"),
            "generator.conditioning and discriminator.conditioning must both be 'none' "
            f"(a GAN) or both set (a conditional GAN); got {g.conditioning!r} and "
            f"{d.conditioning!r}",
        ),
        (
            (g.conditioning == "code") <= (d.conditioning == "acgan"),
            "generator.conditioning='code' needs discriminator.conditioning='acgan' (its "
            f"class head tells the code from the fakes); got {d.conditioning!r}",
        ),
        (
            g.conditioning != "code" or g.latent_dim >= CODE_CLASSES,
            f"generator.conditioning='code' takes its code from the first {CODE_CLASSES} entries "
            f"of z: generator.latent_dim must be >= {CODE_CLASSES}, got {g.latent_dim}",
        ),
        *_generator_rules(g),
        *_discriminator_rules(d),
    ]


def _generator_rules(g: GeneratorConfig) -> list[tuple[bool, str]]:
    return [
        (g.kind in KINDS, f"generator.kind must be 'dcgan' or 'mlp', got {g.kind!r}"),
        _choice("generator.upsampling", g.upsampling, UPSAMPLING),
        _choice("generator.norm", g.norm, NORMALIZATIONS),
        (
            g.kind == "dcgan" or g.norm != "virtual",
            "generator.norm='virtual' needs generator.kind='dcgan'; use 'batch' or 'none'",
        ),
        _choice("generator.act", g.act, ACTIVATIONS),
        _choice("generator.conditioning", g.conditioning, GENERATOR_CONDITIONING),
        (
            g.conditioning != "batchnorm" or g.norm == "batch",
            "generator.conditioning='batchnorm' needs generator.norm='batch' (it replaces "
            "batch norm)",
        ),
        *_sizes("generator", g, ("latent_dim", "base_filters", "depth", "kernel_size")),
    ]


def _discriminator_rules(d: DiscriminatorConfig) -> list[tuple[bool, str]]:
    return [
        (d.kind in KINDS, f"discriminator.kind must be 'dcgan' or 'mlp', got {d.kind!r}"),
        _choice("discriminator.norm", d.norm, NORMALIZATIONS),
        _choice("discriminator.conditioning", d.conditioning, DISCRIMINATOR_CONDITIONING),
        (d.leaky_slope >= 0, f"discriminator.leaky_slope must be >= 0, got {d.leaky_slope}"),
        *_sizes("discriminator", d, ("base_filters", "depth", "kernel_size")),
    ]


def _choice(key: str, value: str, choices: tuple[str, ...]) -> tuple[bool, str]:
    return value in choices, f"{key} must be one of {', '.join(choices)}; got {value!r}"


def _sizes(
    section: str, net: GeneratorConfig | DiscriminatorConfig, names: tuple[str, ...]
) -> list[tuple[bool, str]]:
    """The sizes ``names`` and every width of ``hidden`` >= 1, and dropout in [0, 1)."""
    return [
        *(
            (getattr(net, name) >= 1, f"{section}.{name} must be >= 1, got {getattr(net, name)}")
            for name in names
        ),
        (
            len(net.hidden) > 0 and min(net.hidden) >= 1,
            f"{section}.hidden must be widths >= 1 (at least one), got {list(net.hidden)}",
        ),
        (0 <= net.dropout < 1, f"{section}.dropout must be in [0, 1), got {net.dropout}"),
    ]
