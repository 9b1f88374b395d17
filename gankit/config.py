"""Experiment configuration: frozen dataclasses with working defaults, presets by name.

A `GANConfig` says everything needed to build and train a GAN; it round-trips through
JSON (``to_dict`` / ``from_dict``) and is changed with ``with_overrides(config,
{"train.g_lr": 1e-3})`` rather than by editing code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any


def is_quick() -> bool:
    """True when ``GANKIT_QUICK=1``: same code paths, less data and fewer epochs."""
    return os.environ.get("GANKIT_QUICK", "0") == "1"


@dataclass(frozen=True)
class GeneratorConfig:
    """Generator architecture (see `gankit.nets.build_generator`)."""

    kind: str = "dcgan"
    """'dcgan' (convolutional) or 'mlp' (dense layers)."""
    latent_dim: int = 100
    """Size of the noise vector z ~ N(0, I)."""
    base_filters: int = 64
    """dcgan: filters of the last hidden block; earlier blocks double it."""
    depth: int = 2
    """dcgan: number of hidden conv blocks after the 7x7 dense projection."""
    kernel_size: int = 5
    upsampling: str = "transpose"
    """dcgan: 'transpose', 'nearest' or 'bilinear' (+ conv)."""
    norm: str = "batch"
    """'batch', 'virtual' (dcgan only) or 'none'."""
    dropout: float = 0.0
    act: str = "relu"
    """'relu' (DCGAN paper) or 'leaky_relu' (TensorFlow tutorial)."""
    hidden: tuple[int, ...] = (256, 512, 1024)
    """mlp: widths of the hidden dense layers."""
    conditioning: str = "none"
    """'none' (a GAN) or, for a conditional GAN, how the label enters G: 'concat' (one-hot
    appended to z), 'embedding' (learned), 'batchnorm' (class-conditional batch norm)."""


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Discriminator architecture (see `gankit.nets.build_discriminator`)."""

    kind: str = "dcgan"
    """'dcgan' (convolutional) or 'mlp' (dense layers)."""
    base_filters: int = 64
    """dcgan: filters of the first conv block; later blocks double it."""
    depth: int = 2
    """dcgan: number of stride-2 conv blocks."""
    kernel_size: int = 5
    norm: str = "none"
    """'none', 'batch' or 'virtual' (a fixed batch of real images as reference)."""
    dropout: float = 0.3
    leaky_slope: float = 0.2
    hidden: tuple[int, ...] = (512, 256)
    """mlp: widths of the hidden dense layers."""
    conditioning: str = "none"
    """'none' or, for a conditional GAN, how the label enters D: 'concat' (one-hot image
    channels), 'embedding' (a learned label channel), 'projection' (Miyato & Koyama 2018),
    'acgan' (Odena et al. 2017: D sees the image only and has a second head that
    classifies it; its cross-entropy is added to D's loss on real (and fake) images and to
    G's loss), or 'projection_acgan' (the projection D with the ACGAN's class head too)."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train: losses, optimisers, balancing, tricks, budget."""

    epochs: int = 10
    """Passes over the training images."""
    batch_size: int = 128
    n_train: int | None = None
    """Train on the first n training images (None: all 60,000)."""
    loss: str = "nonsaturating"
    """'nonsaturating' (-log D(G(z))), 'minimax' (log(1 - D(G(z)))), 'hinge', 'wgan'
    (Arjovsky et al. 2017: critic loss mean D(fake) - mean D(real), G loss -mean D(fake);
    needs ``weight_clip``) or 'wgan-gp' (the same plus ``gp_weight`` times the gradient
    penalty of Gulrajani et al. 2017). WGAN losses take no label smoothing or flips."""
    optimizer: str = "adam"
    """'adam' (with the betas below) or 'rmsprop' (rho 0.99 as in the WGAN reference code;
    the betas are then unused). Both use ``g_lr`` and ``d_lr``."""
    weight_clip: float = 0.0
    """loss='wgan': after every critic update each trainable weight of D is clipped to
    [-weight_clip, weight_clip] (0.01 in Arjovsky et al.). 0: off; other losses need 0."""
    gp_weight: float = 10.0
    """loss='wgan-gp': weight of the gradient penalty (lambda = 10 in Gulrajani et al.).
    Unused by the other losses."""
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    g_beta1: float = 0.5
    d_beta1: float = 0.5
    g_beta2: float = 0.999
    d_beta2: float = 0.999
    real_label: float = 1.0
    """D's target for real images; 0.9 is one-sided label smoothing."""
    flip_probability: float = 0.0
    """Probability of swapping an example's real/fake target for D (label noise)."""
    d_steps: int = 1
    """D updates per round (each on a new real batch)."""
    g_steps: int = 1
    """G updates per round."""
    balance: str = "fixed"
    """'fixed': exactly ``d_steps`` D and ``g_steps`` G updates per round. 'dynamic': at
    least ``d_steps`` D updates, more (each on a new real batch) while D's loss is above
    ``d_loss_threshold``, at most ``max_consecutive``; then the same for G with
    ``g_steps`` and ``g_loss_threshold``. Not for WGAN losses (their scale is arbitrary)."""
    d_loss_threshold: float = 0.693
    """balance='dynamic': D is updated again while its loss on the batch it just trained
    on, (d_loss_real + d_loss_fake) / 2, is above this (0.693 = ln 2: a D at chance)."""
    g_loss_threshold: float = 1.0
    """balance='dynamic': G is updated again while its loss is above this."""
    max_consecutive: int = 5
    """balance='dynamic': at most this many consecutive D (and G) updates per round."""
    update: str = "alternating"
    """'alternating' (D then G, G sees the updated D) or 'simultaneous' (one forward pass
    updates both, as in the TensorFlow tutorial; needs d_steps = g_steps = 1)."""
    early_stopping_monitor: str | None = None
    """A column of the epoch history (e.g. 'g_loss' or a metric from ``epoch_metrics``)."""
    early_stopping_mode: str = "min"
    early_stopping_patience: int = 3
    lr_decay_start: float = 1.0
    """Fraction of training after which both learning rates fall linearly to 0 at the last
    step (e.g. 0.5: constant for the first half, then linear decay). 1.0: constant."""
    ema_decay: float = 0.0
    """Exponential moving average of G's weights (e.g. 0.999): samples, metrics and the
    saved generator then use the average, which is smoother than the last step. 0: off."""
    classifier_loss_weight: float = 0.0
    """Conditional GANs: G's loss gains this weight times the cross-entropy of a frozen
    pretrained classifier (`gankit.evaluate.classifier`) between its prediction on each generated
    image and the label asked for, so that samples keep their class. 0: off. Not with an
    'acgan' discriminator (which has its own class head)."""
    acgan_fake_class_weight: float = 1.0
    """'acgan' discriminators: weight of the class cross-entropy on G's fakes in D's loss
    (1: Odena et al. 2017, the head learns from real and fake images). 0: the head learns
    from real images only, so it stays a classifier of real digits and G's class loss keeps
    pulling its fakes towards them; with 1 the head soon classifies G's own fakes perfectly
    and that pull fades. Must be 1 for other discriminators ('projection_acgan' too)."""
    acgan_class_weight: float = 1.0
    """Discriminators with a class head ('acgan', 'projection_acgan'): weight of that head's
    cross-entropy on G's fakes in G's loss (1: Odena et al. 2017). Must be 1 for others."""
    precision: str = "float32"
    """'float32' or 'mixed_bfloat16' (faster on CPUs with bf16 support)."""
    grid_size: int = 64
    """Samples from a fixed noise saved every epoch (a square number reads best)."""


@dataclass(frozen=True)
class GANConfig:
    """A complete GAN experiment: architecture of G and D, and how to train them."""

    name: str = "dcgan"
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    @property
    def conditional(self) -> bool:
        """True for a class-conditional GAN (G and D both take labels)."""
        return self.generator.conditioning != "none"


_SECTIONS = {
    "generator": GeneratorConfig,
    "discriminator": DiscriminatorConfig,
    "train": TrainConfig,
}


def to_dict(config: GANConfig) -> dict[str, Any]:
    """A JSON-ready dict of ``config`` (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def from_dict(data: dict[str, Any]) -> GANConfig:
    """The inverse of `to_dict`. Raises ValueError for unknown sections or keys."""
    unknown = set(data) - {"name", *_SECTIONS}
    if unknown:
        raise ValueError(
            f"unknown config sections {sorted(unknown)}; expected name, {', '.join(_SECTIONS)}"
        )
    parts = {}
    for section, cls in _SECTIONS.items():
        values = dict(data.get(section, {}))
        _check_keys(cls, values, section)
        parts[section] = cls(**{k: _coerce(cls, k, v) for k, v in values.items()})
    return GANConfig(name=data.get("name", "dcgan"), **parts)


# Fields added after runs were already named by their hash: at these values they are left
# out of the hash, so a run directory of an older gankit keeps its name.
_HASHED_ONLY_IF_CHANGED = {
    ("generator", "conditioning"): "none",
    ("discriminator", "conditioning"): "none",
    ("train", "lr_decay_start"): 1.0,
    ("train", "optimizer"): "adam",
    ("train", "weight_clip"): 0.0,
    ("train", "gp_weight"): 10.0,
    ("train", "balance"): "fixed",
    ("train", "d_loss_threshold"): 0.693,
    ("train", "g_loss_threshold"): 1.0,
    ("train", "max_consecutive"): 5,
    ("train", "classifier_loss_weight"): 0.0,
    ("train", "acgan_fake_class_weight"): 1.0,
    ("train", "acgan_class_weight"): 1.0,
}


def config_hash(config: GANConfig) -> str:
    """A short stable hash of everything in ``config`` except its name."""
    data = to_dict(config)
    data.pop("name")
    for (section, key), default in _HASHED_ONLY_IF_CHANGED.items():
        if data[section][key] == default:
            del data[section][key]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]


def with_overrides(config: GANConfig, overrides: dict[str, Any]) -> GANConfig:
    """``config`` with dotted keys replaced, e.g. {"train.g_lr": 1e-3, "name": "fast"}.

    Raises:
      ValueError: for an unknown key, naming the valid ones.
      TypeError: for a value of the wrong type (e.g. a string for a float).
    """
    parts = {s: getattr(config, s) for s in _SECTIONS}
    name = config.name
    for key, value in overrides.items():
        if key == "name":
            name = str(value)
            continue
        section, _, attr = key.partition(".")
        if section not in _SECTIONS or not attr:
            raise ValueError(
                f"unknown config key {key!r}: use 'section.field' with section "
                f"one of {', '.join(_SECTIONS)}"
            )
        _check_keys(_SECTIONS[section], {attr: value}, section)
        parts[section] = dataclasses.replace(
            parts[section], **{attr: _coerce(_SECTIONS[section], attr, value)}
        )
    return GANConfig(name=name, **parts)


def _check_keys(cls, values: dict, section: str) -> None:
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - valid
    if unknown:
        raise ValueError(
            f"unknown {section} field(s) {sorted(unknown)}; valid: {', '.join(sorted(valid))}"
        )


def _coerce(cls, key: str, value: Any) -> Any:
    """Checks ``value`` against the field's default type; ints pass for floats."""
    default = next(f for f in dataclasses.fields(cls) if f.name == key).default
    if isinstance(default, tuple) and isinstance(value, list | tuple):
        return tuple(value)
    if isinstance(default, bool) or default is None or isinstance(value, type(default)):
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise TypeError(
        f"{cls.__name__}.{key} expects {type(default).__name__}, "
        f"got {value!r} ({type(value).__name__})"
    )
