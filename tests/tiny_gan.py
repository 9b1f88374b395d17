"""The tiny GAN of the unit tests: a few filters per layer, so one epoch on 128 images
takes about a second. Tests start from it and change what they are about."""

TINY_GAN = {
    "generator.latent_dim": 8,
    "generator.base_filters": 4,
    "generator.depth": 1,
    "generator.kernel_size": 3,
    "discriminator.base_filters": 4,
    "discriminator.depth": 1,
    "discriminator.kernel_size": 3,
    "train.batch_size": 32,
    "train.epochs": 2,
    "train.grid_size": 4,
    # The unit tests' numerics must not depend on the machine ('auto' would pick bf16 on a
    # CPU with bf16 instructions); tests of 'auto' mock the device.
    "train.precision": "float32",
}
