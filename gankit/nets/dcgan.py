"""DCGAN generator and discriminator builders (Radford et al. 2016) for 28x28x1 images.

Both builders take arguments, not copies: one function covers the TensorFlow tutorial's
DCGAN, deeper/wider variants, three upsampling schemes and three normalisations.
"""

from __future__ import annotations

import keras
import numpy as np

from gankit.config.schema import (
    DISCRIMINATOR_CONDITIONING,
    GENERATOR_CONDITIONING,
    NORMALIZATIONS,
    UNLABELLED_CONDITIONING,
    UPSAMPLING,
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
    condition_image,
    condition_noise,
    discriminator_outputs,
    discriminator_takes_labels,
    label_input,
)
from gankit.nets.layers import DropReference, PrependReference


def build_generator(
    latent_dim: int = 100,
    *,
    base_filters: int = 64,
    depth: int = 2,
    kernel_size: int = 5,
    upsampling: str = "transpose",
    norm: str = "batch",
    dropout: float = 0.0,
    act: str = "relu",
    leaky_slope: float = 0.2,
    reference_size: int = 32,
    conditioning: str = "none",
    n_classes: int = N_CLASSES,
    seed: int = 0,
    dtype=None,
    name: str = "generator",
) -> keras.Model:
    """A DCGAN generator: noise (batch, latent_dim) -> images (batch, 28, 28, 1) in (-1, 1);
    with ``conditioning``, inputs [noise, label (batch,) int] (a conditional DCGAN).

    Layout (``depth`` = 2, ``base_filters`` = 64 is the TensorFlow DCGAN tutorial)::

        Dense 7*7*(base*2^depth) -> norm -> act -> reshape 7x7
        depth blocks: conv(base*2^(depth-1-i)), stride 1 except the last (x2) -> norm -> act
        output: x2 up-conv to 1 channel, tanh (float32 even under mixed precision)

    Args:
      upsampling: 'transpose' (strided Conv2DTranspose), or 'nearest' / 'bilinear'
        (UpSampling2D then a stride-1 Conv2D, which avoids checkerboard artefacts).
      norm: 'batch', 'virtual' (VBN with a fixed reference batch of ``reference_size``
        noise vectors drawn with ``seed``) or 'none'.
      conditioning: 'none', 'concat', 'embedding' or 'batchnorm' (see
        `gankit.nets.conditioning`); 'batchnorm' needs norm='batch'. 'code': no label
        input, z's own categorical code appended (an InfoGAN-style unconditional G).
      dtype: a Keras dtype policy name, e.g. 'mixed_bfloat16', or None for float32.

    Raises:
      ValueError: for an unknown option, a non-positive size, or 'batchnorm' conditioning
        without norm='batch'.
    """
    # One function on purpose: the layers read top to bottom as in a keras-io example.
    check_choice("upsampling", upsampling, UPSAMPLING)
    check_choice("norm", norm, NORMALIZATIONS)
    check_choice("conditioning", conditioning, GENERATOR_CONDITIONING)
    if conditioning == "batchnorm" and norm != "batch":
        raise ValueError("conditioning='batchnorm' needs norm='batch' (it replaces batch norm)")
    check_positive(
        latent_dim=latent_dim, base_filters=base_filters, depth=depth, kernel_size=kernel_size
    )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    use_bias = norm == "none"

    def up_conv(filters, stride, *, bias=use_bias, out_dtype=dtype, act_name=None, name=None):
        conv_args = dict(
            padding="same",
            use_bias=bias,
            kernel_initializer=dcgan_init(),
            activation=act_name,
            dtype=out_dtype,
            name=name,
        )
        if stride == 1 or upsampling == "transpose":
            return [keras.layers.Conv2DTranspose(filters, kernel_size, strides=stride, **conv_args)]
        return [
            keras.layers.UpSampling2D(2, interpolation=upsampling, dtype=dtype),
            keras.layers.Conv2D(filters, kernel_size, **conv_args),
        ]

    z = keras.Input((latent_dim,), name="noise")
    label_in = None if conditioning in UNLABELLED_CONDITIONING else label_input()
    labels, x = label_in, z
    if norm == "virtual":
        reference = np.random.default_rng(seed).standard_normal((reference_size, latent_dim))
        x = PrependReference((reference_size, latent_dim), reference, name="reference_noise")(x)
        if labels is not None:
            labels = _prepend_reference_labels(labels, np.arange(reference_size) % n_classes)
    x = condition_noise(x, labels, conditioning, dtype, n_classes)

    def block(x):
        if conditioning == "batchnorm":
            x = ConditionalBatchNormalization(n_classes, dtype=dtype)([x, labels])
        else:
            x = apply(x, normalization(norm, reference_size=reference_size, dtype=dtype))
        return apply(
            x,
            activation(act, leaky_slope, dtype),
            keras.layers.Dropout(dropout, dtype=dtype) if dropout else None,
        )

    x = keras.layers.Dense(
        7 * 7 * base_filters * 2**depth,
        use_bias=use_bias,
        kernel_initializer=dcgan_init(),
        dtype=dtype,
    )(x)
    x = block(x)
    x = keras.layers.Reshape((7, 7, base_filters * 2**depth), dtype=dtype)(x)
    for i in range(depth):
        stride = 2 if i == depth - 1 else 1
        x = block(apply(x, *up_conv(base_filters * 2 ** (depth - 1 - i), stride)))
    # The output conv keeps its bias (no norm follows) and runs in float32.
    x = apply(x, *up_conv(1, 2, bias=True, out_dtype="float32", act_name="tanh", name="image"))
    if norm == "virtual":
        x = DropReference(reference_size, name="drop_reference")(x)
    return keras.Model(z if label_in is None else [z, label_in], x, name=name)


def _prepend_reference_labels(labels, reference_labels: np.ndarray):
    """VBN's reference batch needs labels too: fixed ones are prepended like the reference."""
    reference = np.asarray(reference_labels, np.float32)
    return PrependReference(reference.shape, reference, name="reference_labels")(labels)


def build_discriminator(
    *,
    base_filters: int = 64,
    depth: int = 2,
    kernel_size: int = 5,
    norm: str = "none",
    dropout: float = 0.3,
    leaky_slope: float = 0.2,
    reference_images=None,
    reference_labels=None,
    conditioning: str = "none",
    n_classes: int = N_CLASSES,
    dtype=None,
    name: str = "discriminator",
) -> keras.Model:
    """A DCGAN discriminator: images (batch, 28, 28, 1) in [-1, 1] -> logits (batch, 1);
    with ``conditioning``, inputs [image, label (batch,) int]; with 'acgan', the image
    alone and outputs [logit, class_logits (batch, 10)].

    Layout (``depth`` = 2, ``base_filters`` = 64, norm 'none', dropout 0.3 is the
    TensorFlow DCGAN tutorial)::

        depth blocks: Conv2D(base*2^i, stride 2) -> norm (not on the first) -> LeakyReLU
                      -> dropout
        Flatten -> Dense(1) logit (float32)

    Args:
      norm: 'none', 'batch' or 'virtual'. 'virtual' needs ``reference_images``, a fixed
        batch of real images (R, 28, 28, 1) in [-1, 1] that is prepended to every batch
        (and, when conditional, their ``reference_labels`` (R,)).
      conditioning: 'none', 'concat', 'embedding', 'projection' or 'acgan' (see
        `gankit.nets.conditioning`).
      dtype: a Keras dtype policy name, e.g. 'mixed_bfloat16', or None for float32.

    Raises:
      ValueError: for an unknown option, a non-positive size, or 'virtual' without
        ``reference_images`` of shape (R, 28, 28, 1) (and labels (R,) when conditional).
    """
    check_choice("norm", norm, NORMALIZATIONS)
    check_choice("conditioning", conditioning, DISCRIMINATOR_CONDITIONING)
    check_positive(base_filters=base_filters, depth=depth, kernel_size=kernel_size)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    images = keras.Input((28, 28, 1), name="image")
    label_in = label_input() if discriminator_takes_labels(conditioning) else None
    x, labels = images, label_in
    reference_size = 0
    if norm == "virtual":
        ref = None if reference_images is None else np.asarray(reference_images, np.float32)
        if ref is None or ref.ndim != 4 or ref.shape[1:] != (28, 28, 1):
            raise ValueError(
                "norm='virtual' needs reference_images of shape (R, 28, 28, 1) "
                "in [-1, 1]: pass a fixed batch of real training images"
            )
        reference_size = ref.shape[0]
        x = PrependReference(ref.shape, ref, name="reference_images")(x)
        if labels is not None:
            if reference_labels is None or np.shape(reference_labels) != (reference_size,):
                raise ValueError(
                    f"a conditional D with norm='virtual' needs reference_labels of shape "
                    f"({reference_size},): the labels of reference_images"
                )
            labels = _prepend_reference_labels(labels, reference_labels)
    x = condition_image(x, labels, conditioning, dtype, n_classes)
    for i in range(depth):
        x = keras.layers.Conv2D(
            base_filters * 2**i,
            kernel_size,
            strides=2,
            padding="same",
            kernel_initializer=dcgan_init(),
            dtype=dtype,
        )(x)
        # No normalisation on D's input layer (Radford et al. 2016, section 3).
        x = apply(
            x,
            normalization(norm, reference_size=reference_size, dtype=dtype) if i else None,
            activation("leaky_relu", leaky_slope, dtype),
            keras.layers.Dropout(dropout, dtype=dtype) if dropout else None,
        )
    x = keras.layers.Flatten(dtype=dtype)(x)
    outputs = discriminator_outputs(x, labels, conditioning, n_classes)
    if norm == "virtual":
        drop = DropReference(reference_size, name="drop_reference")
        outputs = [drop(o) for o in outputs] if isinstance(outputs, list) else drop(outputs)
    return keras.Model(images if label_in is None else [images, label_in], outputs, name=name)
