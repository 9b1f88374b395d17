"""The optimisers of the GAN trainer and their learning-rate schedule.

`make_optimizer` builds Adam or RMSprop by name (`OPTIMIZERS`); `HoldThenLinearDecay` holds
the learning rate, then lowers it linearly to 0 by the last step.
"""

from __future__ import annotations

import keras
import tensorflow as tf


class HoldThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """``lr`` for the first ``start`` fraction of ``total_steps``, then linearly down to 0.

    Keyed on the optimiser's own step counter, which checkpoints hold, so resume is exact.
    """

    def __init__(self, lr: float, total_steps: int, start: float):
        self.lr, self.total_steps, self.start = float(lr), max(int(total_steps), 1), start

    def __call__(self, step):
        begin = self.start * self.total_steps
        done = (tf.cast(step, tf.float32) - begin) / max(self.total_steps - begin, 1.0)
        return self.lr * (1.0 - tf.clip_by_value(done, 0.0, 1.0))

    def get_config(self):
        return {"lr": self.lr, "total_steps": self.total_steps, "start": self.start}


def make_optimizer(
    name: str, lr, beta1: float, beta2: float, loss_scaling: bool = False
) -> keras.optimizers.Optimizer:
    """The optimiser ``name`` (one of `OPTIMIZERS`) with learning rate (or schedule) ``lr``;
    the betas are Adam's (RMSprop ignores them). With ``loss_scaling`` (float16 training)
    it is wrapped in a `keras.optimizers.LossScaleOptimizer` (dynamic scale, starting at
    2**15): multiply the loss by ``optimizer.scale_loss`` inside the tape, then apply."""
    if name == "rmsprop":
        # rho 0.99: PyTorch's default, which the WGAN reference code ran with (Keras: 0.9).
        optimizer = keras.optimizers.RMSprop(lr, rho=0.99)
    else:
        optimizer = keras.optimizers.Adam(lr, beta_1=beta1, beta_2=beta2)
    return keras.optimizers.LossScaleOptimizer(optimizer) if loss_scaling else optimizer
