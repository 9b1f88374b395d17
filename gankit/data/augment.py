"""Random distortions of images in gankit's format, active only in training: the classical
augmentation of Q3 (`build_augmenter`) and Simard et al.'s elastic distortion
(`ElasticDistortion`).

Images are float (batch, 28, 28, channels) in [-1, 1] with a background of -1, so pixels
moved in from outside the image are -1.
"""

from __future__ import annotations

import math

import keras
from keras import ops

BACKGROUND = -1.0
"""The value of an empty pixel: what distortions move in from outside the image."""

ELASTIC_SIGMA = 4.0
"""Standard deviation (pixels) of the Gaussian that smooths an elastic displacement field:
Simard et al. 2003's value for 28 x 28 digits."""


class ElasticDistortion(keras.layers.Layer):
    """Elastic distortion (Simard, Steinkraus & Platt 2003, "Best practices for
    convolutional neural networks applied to visual document analysis").

    For each image, two fields of displacements drawn uniformly from [-1, 1] per pixel
    are smoothed by a Gaussian of standard deviation ``sigma`` pixels and scaled by
    ``alpha`` pixels; each output pixel is the input sampled (bilinearly) at its position
    plus that displacement, the background outside the image. Strokes bend and thicken
    locally as a hand's would; ``alpha=34, sigma=4`` is the paper's setting for MNIST.

    Input and output: (batch, height, width, channels). Identity when not training.
    """

    def __init__(self, alpha: float, sigma: float = ELASTIC_SIGMA, seed: int | None = None,
                 **kwargs):  # fmt: skip
        """Raises: ValueError if ``alpha`` < 0 or ``sigma`` <= 0."""
        super().__init__(**kwargs)
        if not alpha >= 0:
            raise ValueError(f"alpha must be >= 0 pixels, got {alpha}")
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0 pixels, got {sigma}")
        self.alpha = float(alpha)
        self.sigma = float(sigma)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        radius = math.ceil(3 * self.sigma)
        taps = [math.exp(-0.5 * (i / self.sigma) ** 2) for i in range(-radius, radius + 1)]
        self._taps = [t / sum(taps) for t in taps]

    def call(self, inputs, training=None):
        if not training or self.alpha == 0:
            return inputs
        images = ops.cast(inputs, "float32")
        batch, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
        noise = keras.random.uniform((batch, height, width, 2), -1.0, 1.0, seed=self.seed_generator)
        dy, dx = ops.unstack(self._smooth(noise) * self.alpha, 2, axis=-1)
        rows = ops.cast(ops.arange(height), "float32")[None, :, None] + dy
        cols = ops.cast(ops.arange(width), "float32")[None, None, :] + dx
        out = ops.clip(_bilinear(images, rows, cols), BACKGROUND, 1.0)  # float round-off
        return ops.cast(out, inputs.dtype)

    def _smooth(self, fields):
        """The Gaussian blur of each of the two displacement fields (zero outside)."""
        taps = ops.convert_to_tensor(self._taps, "float32")
        along_rows = ops.tile(ops.reshape(taps, (-1, 1, 1, 1)), (1, 1, 2, 1))
        along_cols = ops.tile(ops.reshape(taps, (1, -1, 1, 1)), (1, 1, 2, 1))
        fields = ops.depthwise_conv(fields, along_rows, padding="same")
        return ops.depthwise_conv(fields, along_cols, padding="same")

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "sigma": self.sigma,
                "seed": self.seed}  # fmt: skip


def _bilinear(images, rows, cols):
    """``images`` (b, h, w, c) sampled at float positions ``rows``, ``cols`` (b, h, w);
    positions outside the image read `BACKGROUND`."""
    height, width, channels = images.shape[1], images.shape[2], images.shape[3]
    flat = ops.reshape(images, (-1, height * width, channels))
    top, left = ops.floor(rows), ops.floor(cols)
    out = 0.0
    for row, row_weight in ((top, 1.0 - (rows - top)), (top + 1.0, rows - top)):
        for col, col_weight in ((left, 1.0 - (cols - left)), (left + 1.0, cols - left)):
            inside = (row >= 0) & (row <= height - 1) & (col >= 0) & (col <= width - 1)
            index = ops.clip(row, 0, height - 1) * width + ops.clip(col, 0, width - 1)
            index = ops.reshape(ops.cast(index, "int32"), (-1, height * width, 1))
            values = ops.take_along_axis(flat, ops.tile(index, (1, 1, channels)), axis=1)
            values = ops.reshape(values, (-1, height, width, channels))
            values = ops.where(inside[..., None], values, BACKGROUND)
            out = out + (row_weight * col_weight)[..., None] * values
    return out


def build_augmenter(
    *,
    rotation_degrees: float,
    zoom: float,
    translate: float,
    contrast: float,
    seed: int,
    elastic_alpha: float = 0.0,
) -> keras.Sequential:
    """Random rotation, zoom, translation, elastic distortion and contrast, active only in
    training. A parameter of 0 leaves its layer out.

    Args:
        rotation_degrees: maximum rotation either way, in degrees.
        zoom: maximum zoom in or out, as a fraction of the size (0.1 = 10 %).
        translate: maximum shift either way, as a fraction of the size (0.1 = 2.8 px).
        contrast: contrast factor drawn from [1 - contrast, 1 + contrast].
        seed: seeds each layer.
        elastic_alpha: `ElasticDistortion`'s scale of the smoothed displacements, pixels
            (with ``sigma`` `ELASTIC_SIGMA`).

    Raises:
        ValueError: a negative parameter.
    """
    params = {
        "rotation_degrees": rotation_degrees,
        "zoom": zoom,
        "translate": translate,
        "contrast": contrast,
        "elastic_alpha": elastic_alpha,
    }
    for name, value in params.items():
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    layers = keras.layers
    fill = {"fill_mode": "constant", "fill_value": BACKGROUND}
    steps: list[keras.layers.Layer] = []
    if rotation_degrees:
        steps.append(layers.RandomRotation(rotation_degrees / 360, seed=seed, **fill))
    if zoom:
        steps.append(layers.RandomZoom(zoom, seed=seed + 1, **fill))
    if translate:
        steps.append(layers.RandomTranslation(translate, translate, seed=seed + 2, **fill))
    if elastic_alpha:
        steps.append(ElasticDistortion(elastic_alpha, seed=seed + 4))
    if contrast:
        steps.append(layers.RandomContrast(contrast, value_range=(-1.0, 1.0), seed=seed + 3))
    return keras.Sequential(steps, name="augment")
