"""The exponential moving average of a model's weights (Polyak averaging), which the GAN
trainer keeps of G and the semi-supervised GAN of its classifier."""

from __future__ import annotations

import keras
import tensorflow as tf


def average_model(model: keras.Model) -> keras.Model:
    """A clone of ``model`` holding a copy of its current weights, to average into."""
    average = keras.models.clone_model(model)
    average.set_weights(model.get_weights())
    return average


def update_moving_average(average: keras.Model, model: keras.Model, decay: float, step) -> None:
    """``average`` <- d * ``average`` + (1 - d) * ``model`` for the trainable weights, with
    d = min(decay, (1 + step) / (10 + step)); the non-trainable ones (batch-norm statistics,
    RNG states, fixed scales) are copied. Works inside a `tf.function`.

    The bias-free start of tf.train.ExponentialMovingAverage(num_updates=step): the
    effective decay grows from 0.1 to ``decay``, so early averages are not stuck at init.
    """
    t = tf.cast(step, tf.float32)
    d = tf.minimum(decay, (1.0 + t) / (10.0 + t))
    for avg, w in zip(average.trainable_variables, model.trainable_variables, strict=True):
        avg.assign(d * avg + (1.0 - d) * w)
    for avg, w in zip(average.non_trainable_variables, model.non_trainable_variables, strict=True):
        avg.assign(w)
