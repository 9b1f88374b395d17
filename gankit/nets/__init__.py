"""Keras model builders: DCGAN and MLP generators/discriminators (unconditional and
conditional), their custom layers, and `cluster_sampler` (a self-conditioned GAN's
generator sampled unconditionally)."""

from gankit.nets.cluster_sampler import ClusterFromNoise, cluster_sampler
from gankit.nets.conditioning import ConditionalBatchNormalization
from gankit.nets.dcgan import build_discriminator, build_generator
from gankit.nets.factory import build_gan
from gankit.nets.layers import VirtualBatchNormalization
from gankit.nets.mlp import build_mlp_discriminator, build_mlp_generator

__all__ = [
    "ClusterFromNoise",
    "ConditionalBatchNormalization",
    "VirtualBatchNormalization",
    "build_discriminator",
    "build_gan",
    "build_generator",
    "build_mlp_discriminator",
    "build_mlp_generator",
    "cluster_sampler",
]
