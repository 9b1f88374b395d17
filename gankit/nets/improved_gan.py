"""The MNIST networks of Salimans et al. 2016 ("Improved techniques for training GANs"):
the small MLPs their semi-supervised GAN reaches 99% test accuracy with 100 labels.

From their reference code (openai/improved-gan, mnist_svhn_cifar10/
train_mnist_feature_matching.py):

- G: uniform noise (100) -> Dense 500, batch norm (no scale), softplus -> the same again ->
  Dense 784 with weight normalisation, sigmoid.
- D: Gaussian noise (sigma 0.3) on the pixels -> weight-normalised Dense layers of 1000,
  500, 250, 250, 250 units with ReLU, each followed by Gaussian noise (sigma 0.5) ->
  weight-normalised Dense 10 (class logits). Feature matching compares the last 250 ReLU
  outputs. Weight norm with data-dependent initialisation on 500 real images.

Two translations keep gankit's conventions: images stay in [-1, 1] (G's sigmoid output s
becomes 2s - 1 = tanh(a / 2), and D maps pixels back to the paper's [0, 1] scale before
its input noise, so sigma 0.3 means what it meant there), and G takes gankit's standard
normal noise z, turned into the paper's uniform noise by the normal CDF, Phi(z) ~ U(0, 1),
so `gankit.nets.sampling.generate` draws from it like from any other generator.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from gankit.checks import N_CLASSES
from gankit.nets.blocks import check_positive
from gankit.nets.layers import WeightNormDense

D_HIDDEN = (1000, 500, 250, 250, 250)
G_HIDDEN = (500, 500)


@keras.saving.register_keras_serializable(package="gankit")
class NormalToUniform(keras.layers.Layer):
    """Phi(z), the standard normal CDF, elementwise: N(0, 1) noise -> U(0, 1) noise."""

    def call(self, inputs):
        return 0.5 * (1.0 + ops.erf(inputs / np.sqrt(2.0).astype(np.float32)))


def build_improved_gan_generator(
    latent_dim: int = 100, *, hidden: tuple[int, ...] = G_HIDDEN, name: str = "mlp_wn_generator"
) -> keras.Model:
    """The paper's MNIST generator: noise (batch, latent_dim) ~ N(0, 1) -> images
    (batch, 28, 28, 1) in (-1, 1).

    Raises:
      ValueError: for a non-positive size or an empty ``hidden``.
    """
    if not hidden:
        raise ValueError("hidden must name at least one layer width, e.g. (500, 500)")
    check_positive(latent_dim=latent_dim, **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
    z = keras.Input((latent_dim,), name="noise")
    x = NormalToUniform(name="uniform_noise")(z)
    for i, units in enumerate(hidden):
        # No bias and no BN scale, as their nn.batch_norm(..., g=None): BN's shift is the bias.
        x = keras.layers.Dense(units, use_bias=False, name=f"dense_{i}")(x)
        x = keras.layers.BatchNormalization(
            momentum=0.9, epsilon=1e-6, scale=False, name=f"bn_{i}"
        )(x)
        x = keras.layers.Activation("softplus")(x)
    x = WeightNormDense(784, activation="sigmoid", train_scale=True, name="pixels")(x)
    # 2 * sigmoid - 1: the paper's [0, 1] pixels on gankit's [-1, 1] scale.
    x = keras.layers.Rescaling(2.0, offset=-1.0, dtype="float32")(x)
    x = keras.layers.Reshape((28, 28, 1), dtype="float32", name="image")(x)
    return keras.Model(z, x, name=name)


def build_improved_gan_discriminator(
    *,
    hidden: tuple[int, ...] = D_HIDDEN,
    input_noise: float = 0.3,
    hidden_noise: float = 0.5,
    name: str = "mlp_wn_discriminator",
) -> keras.Model:
    """The paper's MNIST discriminator: images (batch, 28, 28, 1) in [-1, 1] ->
    [class logits (batch, 10), features (batch, hidden[-1])], the features being the last
    hidden layer's ReLU outputs (before its noise), which feature matching compares.

    The Gaussian noise layers (``input_noise`` on [0, 1]-scaled pixels, ``hidden_noise``
    after each hidden layer) act only in training. Call `initialize_from_data` before
    training, as the paper does.

    Raises:
      ValueError: for an empty ``hidden``, a non-positive width or a negative noise.
    """
    if not hidden:
        raise ValueError("hidden must name at least one layer width, e.g. (1000, 500)")
    check_positive(**{f"hidden[{i}]": h for i, h in enumerate(hidden)})
    if input_noise < 0 or hidden_noise < 0:
        raise ValueError(f"noise must be >= 0, got {input_noise}, {hidden_noise}")
    images = keras.Input((28, 28, 1), name="image")
    x = keras.layers.Flatten()(images)
    x = keras.layers.Rescaling(0.5, offset=0.5, name="pixels_01")(x)  # the paper's [0, 1]
    x = keras.layers.GaussianNoise(input_noise)(x) if input_noise else x
    for i, units in enumerate(hidden):
        features = WeightNormDense(units, activation="relu", name=f"hidden_{i}")(x)
        x = keras.layers.GaussianNoise(hidden_noise)(features) if hidden_noise else features
    logits = WeightNormDense(N_CLASSES, train_scale=True, name="class_logits")(x)
    return keras.Model(images, [logits, features], name=name)


def initialize_from_data(model: keras.Model, inputs) -> None:
    """Data-dependent initialisation of every `WeightNormDense` in ``model``, in order: each
    gets the activations of ``inputs`` as they reach it through the layers already set
    (noise layers in training mode, as in the paper). ``model`` must be a chain (each
    layer feeds the next), as the builders above make.

    Raises:
      ValueError: if ``model`` is not a chain of single-input layers.
    """
    x = ops.convert_to_tensor(inputs)
    for layer in model.layers[1:]:
        if len(layer._inbound_nodes) != 1 or isinstance(layer.input, (list, tuple)):
            raise ValueError(f"{model.name} is not a chain of layers; cannot initialise it")
        if isinstance(layer, WeightNormDense):
            layer.initialize_from_data(x)
        x = layer(x, training=True)
