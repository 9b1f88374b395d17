"""Fully connected (MLP) GAN builders: where most students start."""

from __future__ import annotations

import keras

from gankit.config.schema import (
    DISCRIMINATOR_CONDITIONING,
    GENERATOR_CONDITIONING,
    NORMALIZATIONS,
    UNLABELLED_CONDITIONING,
)
from gankit.nets.blocks import (
    activation,
    apply,
    check_choice,
    check_positive,
    dcgan_init,
    normalization,
)
from gankit.nets.conditioning import (
    N_CLASSES,
    ConditionalBatchNormalization,
    condition_flat,
    condition_noise,
    discriminator_outputs,
    discriminator_takes_labels,
    label_input,
)


def build_mlp_generator(
    latent_dim: int = 100,
    *,
    hidden: tuple[int, ...] = (256, 512, 1024),
    norm: str = "batch",
    act: str = "leaky_relu",
    leaky_slope: float = 0.2,
    conditioning: str = "none",
    n_classes: int = N_CLASSES,
    dtype=None,
    name: str = "mlp_generator",
) -> keras.Model:
    """An MLP generator: noise (batch, latent_dim) -> images (batch, 28, 28, 1) in (-1, 1);
    with ``conditioning`` ('concat', 'embedding', 'batchnorm'), inputs [noise, label].

    Dense layers of ``hidden`` units, each followed by ``norm`` ('batch' or 'none') and
    ``act``, then Dense(784, tanh) reshaped to 28x28x1.

    Raises:
      ValueError: for an empty ``hidden``, a non-positive size, an unknown option, or
        'batchnorm' conditioning without norm='batch'.
    """
    check_choice("norm", norm, tuple(n for n in NORMALIZATIONS if n != "virtual"))
    check_choice("conditioning", conditioning, GENERATOR_CONDITIONING)
    if conditioning == "batchnorm" and norm != "batch":
        raise ValueError("conditioning='batchnorm' needs norm='batch' (it replaces batch norm)")
    if not hidden:
        raise ValueError("hidden must name at least one layer width, e.g. (256, 512)")
    check_positive(latent_dim=latent_dim, **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
    z = keras.Input((latent_dim,), name="noise")
    labels = None if conditioning in UNLABELLED_CONDITIONING else label_input()
    x = condition_noise(z, labels, conditioning, dtype, n_classes)
    for units in hidden:
        x = keras.layers.Dense(units, kernel_initializer=dcgan_init(), dtype=dtype)(x)
        if conditioning == "batchnorm":
            x = ConditionalBatchNormalization(n_classes, dtype=dtype)([x, labels])
        else:
            x = apply(x, normalization(norm, reference_size=0, dtype=dtype))
        x = activation(act, leaky_slope, dtype)(x)
    x = keras.layers.Dense(
        784, activation="tanh", kernel_initializer=dcgan_init(), dtype="float32"
    )(x)
    x = keras.layers.Reshape((28, 28, 1), dtype="float32", name="image")(x)
    return keras.Model(z if labels is None else [z, labels], x, name=name)


def build_mlp_discriminator(
    *,
    hidden: tuple[int, ...] = (512, 256),
    dropout: float = 0.3,
    leaky_slope: float = 0.2,
    conditioning: str = "none",
    n_classes: int = N_CLASSES,
    dtype=None,
    name: str = "mlp_discriminator",
) -> keras.Model:
    """An MLP discriminator: images (batch, 28, 28, 1) in [-1, 1] -> logits (batch, 1);
    with ``conditioning`` ('concat', 'embedding', 'projection'), inputs [image, label];
    with 'acgan', the image alone and outputs [logit, class_logits (batch, 10)].

    Raises:
      ValueError: for an empty ``hidden``, a non-positive size or dropout outside [0, 1).
    """
    if not hidden:
        raise ValueError("hidden must name at least one layer width, e.g. (512, 256)")
    check_positive(**{f"hidden[{i}]": h for i, h in enumerate(hidden)})
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    check_choice("conditioning", conditioning, DISCRIMINATOR_CONDITIONING)
    images = keras.Input((28, 28, 1), name="image")
    labels = label_input() if discriminator_takes_labels(conditioning) else None
    x = keras.layers.Flatten(dtype=dtype)(images)
    x = condition_flat(x, labels, conditioning, dtype, n_classes)
    for units in hidden:
        x = keras.layers.Dense(units, kernel_initializer=dcgan_init(), dtype=dtype)(x)
        x = apply(
            x,
            activation("leaky_relu", leaky_slope, dtype),
            keras.layers.Dropout(dropout, dtype=dtype) if dropout else None,
        )
    outputs = discriminator_outputs(x, labels, conditioning, n_classes)
    return keras.Model(images if labels is None else [images, labels], outputs, name=name)
