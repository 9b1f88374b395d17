"""Keras model builders: DCGAN and MLP generators/discriminators, and their custom layers."""

from gankit.nets.dcgan import build_discriminator, build_generator
from gankit.nets.factory import build_gan
from gankit.nets.layers import VirtualBatchNormalization
from gankit.nets.mlp import build_mlp_discriminator, build_mlp_generator

__all__ = [
    "VirtualBatchNormalization",
    "build_discriminator",
    "build_gan",
    "build_generator",
    "build_mlp_discriminator",
    "build_mlp_generator",
]
