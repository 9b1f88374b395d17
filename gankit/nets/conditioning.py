"""How a class label enters a conditional GAN (Mirza & Osindero 2014; Miyato & Koyama 2018).

A conditional generator takes ``[noise (batch, latent_dim), label (batch,) int]`` and a
conditional discriminator ``[image (batch, 28, 28, 1), label (batch,) int]``. The label
reaches the networks in one of these ways:

- generator ``'concat'``: the one-hot label is concatenated to the noise;
- generator ``'embedding'``: a learned label embedding is concatenated to the noise;
- generator ``'batchnorm'``: the one-hot label is concatenated to the noise *and* every
  batch norm of G gets a per-class scale and shift (conditional batch norm, de Vries et
  al. 2017), so the class steers every layer, not only the first;
- discriminator ``'concat'``: the one-hot label as 10 constant image channels (the Keras
  ``conditional_gan`` example);
- discriminator ``'embedding'``: a learned 28x28 label map as one extra image channel;
- discriminator ``'projection'``: the logit gets the term ``<embed(y), h>`` where h is D's
  last feature vector (projection discriminator), instead of the label entering the input;
- discriminator ``'acgan'`` (auxiliary classifier GAN, Odena et al. 2017): D does not see
  the label; it takes the image alone and has two heads on its last features, the
  real/fake logit and 10 class logits (outputs ``[logit (batch, 1), class_logits (batch,
  10)]``). The trainer adds the class cross-entropy to D's and G's losses;
- discriminator ``'projection_acgan'``: the projection discriminator with the ACGAN's class
  head as well (inputs ``[image, label]``, outputs ``[logit, class_logits]``): the label
  enters the real/fake logit by projection, and the class head gives G a class loss.
"""

from __future__ import annotations

import keras
from keras import ops

from gankit.checks import N_CLASSES
from gankit.config.schema import (
    CLASS_HEAD_CONDITIONING,
    DISCRIMINATOR_CONDITIONING,
    GENERATOR_CONDITIONING,
)
from gankit.nets.blocks import check_choice, dcgan_init
from gankit.nets.layers import AppendLatentCode

_LABEL_NOT_IN_INPUT = ("none", "projection", "acgan", "projection_acgan")
_PROJECTED = ("projection", "projection_acgan")
EMBEDDING_DIM = 50


def discriminator_takes_labels(kind: str) -> bool:
    """True if a discriminator with conditioning ``kind`` has a label input (not 'none' or
    'acgan', whose D infers the class itself)."""
    check_choice("discriminator conditioning", kind, DISCRIMINATOR_CONDITIONING)
    return kind not in ("none", "acgan")


def label_input() -> keras.KerasTensor:
    """The integer class-label input, shape (batch,)."""
    return keras.Input((), dtype="int32", name="label")


def one_hot(labels, dtype=None, n_classes: int = N_CLASSES):
    """(batch,) int labels -> (batch, n_classes) one-hot floats, as a layer."""
    return keras.layers.CategoryEncoding(n_classes, output_mode="one_hot", dtype=dtype)(labels)


def condition_noise(z, labels, kind: str, dtype=None, n_classes: int = N_CLASSES):
    """The generator's first input: ``z`` alone, or ``z`` with the label appended (for
    'code': with the one-hot of its own latent code, `gankit.nets.layers.AppendLatentCode`)."""
    check_choice("generator conditioning", kind, GENERATOR_CONDITIONING)
    if kind == "none":
        return z
    if kind == "code":
        return AppendLatentCode(n_classes, dtype=dtype)(z)
    if kind == "embedding":
        code = keras.layers.Embedding(n_classes, EMBEDDING_DIM, dtype=dtype)(labels)
    else:
        code = one_hot(labels, dtype, n_classes)
    return keras.layers.Concatenate(dtype=dtype)([z, code])


def condition_image(images, labels, kind: str, dtype=None, n_classes: int = N_CLASSES):
    """The discriminator's first input: the image, or the image with label channels."""
    check_choice("discriminator conditioning", kind, DISCRIMINATOR_CONDITIONING)
    if kind in _LABEL_NOT_IN_INPUT:
        return images
    if kind == "concat":
        code = one_hot(labels, dtype, n_classes)
        maps = keras.layers.Reshape((1, 1, n_classes), dtype=dtype)(code)
        maps = keras.layers.UpSampling2D(28, dtype=dtype)(maps)
    else:
        maps = keras.layers.Embedding(n_classes, 28 * 28, dtype=dtype)(labels)
        maps = keras.layers.Reshape((28, 28, 1), dtype=dtype)(maps)
    return keras.layers.Concatenate(dtype=dtype)([images, maps])


def condition_flat(features, labels, kind: str, dtype=None, n_classes: int = N_CLASSES):
    """An MLP discriminator's input: flattened image features with the label appended."""
    check_choice("discriminator conditioning", kind, DISCRIMINATOR_CONDITIONING)
    if kind in _LABEL_NOT_IN_INPUT:
        return features
    if kind == "embedding":
        code = keras.layers.Embedding(n_classes, EMBEDDING_DIM, dtype=dtype)(labels)
    else:
        code = one_hot(labels, dtype, n_classes)
    return keras.layers.Concatenate(dtype=dtype)([features, code])


def projection_logit(features, labels, kind: str, name: str = "logit", n_classes: int = N_CLASSES):
    """D's logit from its last features (batch, F): Dense(1), plus <embed(y), h> for
    ``kind='projection'`` or 'projection_acgan' (Miyato & Koyama 2018, eq. 3). Always
    float32."""
    logit = keras.layers.Dense(1, kernel_initializer=dcgan_init(), dtype="float32", name=name)
    if kind not in _PROJECTED:
        return logit(features)
    features = keras.layers.Activation("linear", dtype="float32")(features)
    embedded = keras.layers.Embedding(
        n_classes,
        features.shape[-1],
        embeddings_initializer=dcgan_init(),
        dtype="float32",
        name="class_projection",
    )(labels)
    inner = keras.layers.Dot(axes=1, dtype="float32")([embedded, features])
    return keras.layers.Add(dtype="float32", name=f"{name}_projected")([logit(features), inner])


def discriminator_outputs(features, labels, kind: str, n_classes: int = N_CLASSES):
    """D's outputs from its last features: the logit of `projection_logit`, or for
    ``kind='acgan'`` or 'projection_acgan' the list ``[logit, class_logits (batch,
    n_classes)]`` (both float32)."""
    logit = projection_logit(features, labels, kind, n_classes=n_classes)
    if kind not in CLASS_HEAD_CONDITIONING:
        return logit
    class_logits = keras.layers.Dense(
        n_classes, kernel_initializer=dcgan_init(), dtype="float32", name="class_logits"
    )(features)
    return [logit, class_logits]


@keras.saving.register_keras_serializable(package="gankit")
class ConditionalBatchNormalization(keras.layers.Layer):
    """Batch norm whose scale and shift depend on the class (de Vries et al. 2017).

    ``y = (1 + gamma[label]) * BN(x) + beta[label]`` with BN without its own scale/shift;
    gamma and beta start at zero, so the layer starts as plain batch norm.
    Call on ``[x (batch, ..., C), labels (batch,) int]``; output has the shape of x.
    """

    def __init__(self, n_classes: int = N_CLASSES, momentum: float = 0.9, **kwargs):
        super().__init__(**kwargs)
        self.n_classes = int(n_classes)
        self.momentum = float(momentum)
        self.norm = keras.layers.BatchNormalization(
            momentum=momentum, center=False, scale=False, dtype=self.dtype_policy
        )

    def build(self, input_shape):
        x_shape = input_shape[0]
        channels = x_shape[-1]
        self.norm.build(x_shape)
        self.gamma = self.add_weight(
            shape=(self.n_classes, channels), initializer="zeros", name="gamma"
        )
        self.beta = self.add_weight(
            shape=(self.n_classes, channels), initializer="zeros", name="beta"
        )

    def call(self, inputs, training=None):
        x, labels = inputs
        x = self.norm(x, training=training)
        labels = ops.cast(labels, "int32")
        gamma = ops.cast(ops.take(self.gamma, labels, axis=0), x.dtype)
        beta = ops.cast(ops.take(self.beta, labels, axis=0), x.dtype)
        shape = (-1,) + (1,) * (len(x.shape) - 2) + (x.shape[-1],)
        return x * (1.0 + ops.reshape(gamma, shape)) + ops.reshape(beta, shape)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "n_classes": self.n_classes, "momentum": self.momentum}
