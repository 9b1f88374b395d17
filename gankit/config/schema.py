"""The config schema: frozen dataclasses with working defaults, their JSON form and hash.

A `GANConfig` says everything needed to build and train a GAN. This module defines its
fields, the words its text fields accept (``GAN_LOSSES``, ``NORMALIZATIONS``, ...; the
builders and losses import them from here), each field's type (`field_types`,
`checked_value`), its JSON-ready dict (`to_dict`) and the hash that names run directories
(`config_hash`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from gankit.checks import N_CLASSES
from gankit.device import Device, resolve_precision


def is_quick() -> bool:
    """True when ``GANKIT_QUICK=1``: same code paths, less data and fewer epochs."""
    return os.environ.get("GANKIT_QUICK", "0") == "1"


KINDS = ("dcgan", "mlp")
"""``generator.kind`` and ``discriminator.kind``: convolutional or dense layers."""
NORMALIZATIONS = ("batch", "virtual", "none")
UPSAMPLING = ("transpose", "nearest", "bilinear")
ACTIVATIONS = ("relu", "leaky_relu")
GENERATOR_CONDITIONING = ("none", "concat", "embedding", "batchnorm", "code")
UNLABELLED_CONDITIONING = ("none", "code")
"""Generator conditionings of a GAN trained without labels (`GANConfig.conditional` False)."""
CODE_CLASSES = N_CLASSES
"""Categories of the 'code' conditioning's latent code (as many as D's class head)."""
DISCRIMINATOR_CONDITIONING = (
    "none",
    "concat",
    "embedding",
    "projection",
    "acgan",
    "projection_acgan",
)
CLASS_HEAD_CONDITIONING = ("acgan", "projection_acgan")
"""Discriminator conditionings with a class head (two outputs)."""
GAN_LOSSES = ("nonsaturating", "minimax", "hinge", "wgan", "wgan-gp")
WGAN_LOSSES = ("wgan", "wgan-gp")
OPTIMIZERS = ("adam", "rmsprop")
BALANCES = ("fixed", "dynamic")
UPDATES = ("alternating", "simultaneous")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
"""``train.precision``: 'auto' or a Keras dtype policy (`gankit.device` resolves 'auto')."""


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
    appended to z), 'embedding' (learned), 'batchnorm' (class-conditional batch norm).
    'code': no label, an unconditional GAN with InfoGAN's categorical code (Chen et al.
    2016): the one-hot of the largest of z's first 10 entries is appended to z (uniform
    over 10 categories), and D's class head ('acgan') learns to tell the code from G's
    fakes only, G to make it tellable; no real label is used."""


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
    r1_weight: float = 0.0
    """gamma of the R1 penalty (Mescheder et al. 2018): D's loss gains gamma / 2 times the
    mean over real images of ||grad_x D(x)||^2, so D stays flat on the data and G's
    gradients stop overshooting. 0: off. Not with WGAN losses (they have their own
    constraint) nor with batch norm in D (each score would depend on the batch)."""
    g_top_k: float = 1.0
    """Share of each fake batch whose adversarial loss G learns from: the fakes D scores as
    most real (top-k training, Sinha et al. 2020), so the gradients of G's worst samples,
    which point towards whatever mode is nearest, do not pull the good ones. 1.0: all."""
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
    self_conditioned: bool = False
    """A self-conditioned GAN (Liu et al. 2020): the training images' k-means clusters
    (`gankit.data.clusters.kmeans_labels`, ``clusters`` of them, no labels used) are the
    classes of a conditional GAN, and the trained generator draws its cluster from the
    noise with the clusters' frequencies (`gankit.nets.cluster_sampler`), so it is
    unconditional. Needs generator.conditioning and discriminator.conditioning; train_gan
    then takes no labels."""
    clusters: int = N_CLASSES
    """Self-conditioned GANs: the number of k-means clusters, the classes G and D are built
    for (more clusters: purer ones, each a narrower distribution). Leave it at N_CLASSES
    (10, the digits) otherwise."""
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
    precision: str = "auto"
    """'auto' (the fastest this device runs well: `gankit.device.auto_precision`),
    'float32', 'mixed_bfloat16' (bf16 compute, float32 weights; fast on CPUs with bf16
    instructions and GPUs of compute capability >= 8.0) or 'mixed_float16' (float16
    compute with dynamic loss scaling; fast on older NVIDIA GPUs such as the T4). 'auto'
    is resolved before a run is named (`config_hash`) or built, so a run directory and its
    config.json always name the concrete precision it was trained with."""
    jit_compile: bool = False
    """Compile each training round with XLA. Changes the numerics (fused kernels), so it is
    part of the hash. Off by default: on this project's 2-core CPU a round of the tuned
    DCGAN ran at 0.38-0.50x its speed without XLA in float32 and 0.37-0.44x in bfloat16
    (two runs of `benchmarks/precision_speed.py`); it may pay off on a GPU."""
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
        return self.generator.conditioning not in UNLABELLED_CONDITIONING

    @property
    def n_classes(self) -> int:
        """The classes G and D are built for: the digits, or a self-conditioned GAN's
        clusters."""
        return self.train.clusters if self.train.self_conditioned else N_CLASSES

    @property
    def takes_labels(self) -> bool:
        """True if training needs the images' labels: a conditional GAN that is not
        self-conditioned (which finds its own classes and is sampled unconditionally)."""
        return self.conditional and not self.train.self_conditioned


SECTIONS = {
    "generator": GeneratorConfig,
    "discriminator": DiscriminatorConfig,
    "train": TrainConfig,
}
"""The sections of a `GANConfig` by name (its other field is ``name``)."""


def to_dict(config: GANConfig) -> dict[str, Any]:
    """A JSON-ready dict of ``config`` (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


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
    ("train", "jit_compile"): False,
    ("train", "g_top_k"): 1.0,
    ("train", "r1_weight"): 0.0,
    ("train", "self_conditioned"): False,
    ("train", "clusters"): N_CLASSES,
}


def resolved(config: GANConfig, device: Device | None = None) -> GANConfig:
    """``config`` with ``train.precision='auto'`` replaced by the precision it means on
    ``device`` (default: this process's, `gankit.device.probe`); other configs unchanged."""
    precision = resolve_precision(config.train.precision, device)
    if precision == config.train.precision:
        return config
    return dataclasses.replace(config, train=dataclasses.replace(config.train, precision=precision))


def config_hash(config: GANConfig) -> str:
    """A short stable hash of everything in ``config`` except its name.

    'auto' precision is hashed as the precision it resolves to on this machine (`resolved`):
    a run directory names its numerics, so a run is never resumed with other ones, and a
    config that says 'auto' keeps the hash it had when it named that precision itself.
    """
    data = to_dict(resolved(config))
    data.pop("name")
    for (section, key), default in _HASHED_ONLY_IF_CHANGED.items():
        if data[section][key] == default:
            del data[section][key]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]


def field_types(key: str) -> set[str] | None:
    """The type names of config field ``key`` ('name' or 'section.field'), as declared
    (e.g. {'int', 'None'} for ``train.n_train``); None for an unknown key."""
    if key == "name":
        return {"str"}
    section, _, name = key.partition(".")
    cls = SECTIONS.get(section)
    annotations = {f.name: f.type for f in dataclasses.fields(cls)} if cls else {}
    if name not in annotations:
        return None
    # Annotations are strings (postponed evaluation), e.g. "int | None", "tuple[int, ...]".
    return {part.strip().split("[")[0] for part in str(annotations[name]).split("|")}


def checked_value(key: str, value: Any) -> Any:
    """``value`` for the known config field ``key`` after checking its type, as the field
    stores it: an int passes for a float field (as a float), a list for a tuple field (as
    a tuple of ints). A bool is not a number.

    Raises:
      TypeError: a value of the wrong type, naming the field's type and an example.
      ValueError: a key that names no field (`gankit.config.overrides` says which are
        close).
    """
    if key == "name":
        if not isinstance(value, str) or not value:
            raise TypeError(f"name must be a non-empty string, got {value!r}")
        return value
    types = field_types(key)
    if types is None:
        raise ValueError(f"unknown config key {key!r}")
    if not _matches(value, types):
        raise TypeError(
            f"{key} expects {' or '.join(sorted(types))}, got {value!r} "
            f"({type(value).__name__}); e.g. {key}={_example(types)}"
        )
    if "tuple" in types and isinstance(value, list | tuple):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise TypeError(f"{key} expects a list of ints, got {value!r}")
        return tuple(value)
    if "float" in types and "int" not in types and _matches(value, {"int"}):
        return float(value)
    return value


def _matches(value: Any, types: set[str]) -> bool:
    checks = {
        "None": value is None,
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "str": isinstance(value, str),
        "tuple": isinstance(value, list | tuple),
    }
    return any(checks.get(t, True) for t in types)


def _example(types: set[str]) -> str:
    for kind, text in (("tuple", "[256,512]"), ("float", "0.0002"), ("int", "2")):
        if kind in types:
            return text
    return "none" if types == {"None"} else "text"
