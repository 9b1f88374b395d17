"""Builds the generator and discriminator a `GANConfig` describes."""

from __future__ import annotations

import keras
import numpy as np

from gankit.config import GANConfig, validate
from gankit.device import resolve_precision
from gankit.nets.dcgan import build_discriminator, build_generator
from gankit.nets.mlp import build_mlp_discriminator, build_mlp_generator


def build_gan(
    config: GANConfig,
    *,
    seed: int = 0,
    reference_images: np.ndarray | None = None,
    reference_labels: np.ndarray | None = None,
) -> tuple[keras.Model, keras.Model]:
    """(generator, discriminator) for ``config``, weights drawn from ``seed``, computing in
    its precision ('auto': the one `gankit.device` picks for this machine).

    ``reference_images`` (R, 28, 28, 1) in [-1, 1] (and, for a conditional GAN, their
    ``reference_labels`` (R,)) are needed only for a discriminator with ``norm='virtual'``.

    Raises:
      ValueError: for a config that `gankit.config.validate` rejects (e.g. an unknown
        kind, precision or architecture option, or a GAN where only one of G and D is
        conditional), or norm='virtual' in D without ``reference_images``.
      TypeError: for a config field of the wrong type.
    """
    validate(config)
    g, d = config.generator, config.discriminator
    precision = resolve_precision(config.train.precision)
    dtype = None if precision == "float32" else precision
    keras.utils.set_random_seed(seed)
    if g.kind == "dcgan":
        generator = build_generator(
            g.latent_dim,
            base_filters=g.base_filters,
            depth=g.depth,
            kernel_size=g.kernel_size,
            upsampling=g.upsampling,
            norm=g.norm,
            dropout=g.dropout,
            act=g.act,
            conditioning=g.conditioning,
            n_classes=config.n_classes,
            seed=seed,
            dtype=dtype,
        )
    else:
        generator = build_mlp_generator(
            g.latent_dim,
            hidden=g.hidden,
            norm=g.norm,
            act=g.act,
            conditioning=g.conditioning,
            n_classes=config.n_classes,
            dtype=dtype,
        )
    if d.kind == "dcgan":
        discriminator = build_discriminator(
            base_filters=d.base_filters,
            depth=d.depth,
            kernel_size=d.kernel_size,
            norm=d.norm,
            dropout=d.dropout,
            leaky_slope=d.leaky_slope,
            reference_images=reference_images,
            reference_labels=reference_labels,
            conditioning=d.conditioning,
            n_classes=config.n_classes,
            dtype=dtype,
        )
    else:
        discriminator = build_mlp_discriminator(
            hidden=d.hidden,
            dropout=d.dropout,
            leaky_slope=d.leaky_slope,
            conditioning=d.conditioning,
            n_classes=config.n_classes,
            dtype=dtype,
        )
    return generator, discriminator
