"""How an epoch's real batches reach the compiled round step, and its step logs come back.

`Rounds` plans an epoch (batches per round and per epoch); `Batches` serves a round's real
batches from the host (numpy, copied in each round) or from tensors kept on the device
(gathered there); `run_epoch` runs the rounds of one epoch in the data order of ``(seed,
epoch)`` and returns their step logs.

Both paths feed the same indices into the same compiled step, so they train the same
weights and log the same values. On the device path the logs stay on the device and are
fetched every ``fetch_every`` rounds, so a GPU is not stopped after every round to copy
13 scalars; the host path fetches after every round. Dynamic balancing fetches after
every round on both: where the next round's batches start depends on how many D updates
the last one made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from gankit.config import TrainConfig
from gankit.train.steps import STEP_COLUMNS

DEVICE_FETCH_EVERY = 25
"""Rounds between fetches of the step logs on the device path (by default)."""


@dataclass(frozen=True)
class Rounds:
    """How the real batches of an epoch feed the rounds of `GANSteps.round_step`."""

    batch_size: int
    window: int
    """Real batches a round gets: one per possible D update (d_steps, or with dynamic
    balancing max_consecutive, of which it uses as many as D needed)."""
    n_batches: int
    """Real batches per epoch."""
    rounds: int
    """Rounds per epoch with fixed balancing."""
    max_rounds: int
    """A bound on the rounds of an epoch: the round indices (which key the noise) of epoch
    e start at (e - 1) * max_rounds."""
    dynamic: bool = False
    """balance='dynamic': a round uses between d_steps and ``window`` real batches."""

    @classmethod
    def of(cls, cfg: TrainConfig, n_images: int) -> Rounds:
        """Raises ValueError if ``n_images`` cannot fill one round."""
        dynamic = cfg.balance == "dynamic"
        window = cfg.max_consecutive if dynamic else cfg.d_steps
        per_round = cfg.batch_size * window
        if n_images < per_round:
            what = "max_consecutive" if dynamic else "d_steps"
            raise ValueError(
                f"{n_images} images cannot fill one round of {what} x batch_size "
                f"= {per_round}; lower batch_size or {what}"
            )
        n_batches = n_images // cfg.batch_size
        rounds = n_batches // window
        max_rounds = n_batches if dynamic else rounds
        return cls(cfg.batch_size, window, n_batches, rounds, max_rounds, dynamic)


class Batches:
    """The training images (N, 28, 28, 1) float32 and labels (N,) int32, served by index.

    ``on_device=False``: numpy arrays, a round's batches copied to TensorFlow each round.
    ``on_device=True``: both kept as tensors on TensorFlow's default device (the first GPU
    if there is one: MNIST takes 188 MB) and a round's batches gathered there.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, *, on_device: bool):
        self.n = len(images)
        self.on_device = on_device
        if on_device:
            # An op's output lives on the device it ran on; a tf.constant would stay in
            # host memory and be copied again by every gather.
            self.images = tf.identity(tf.constant(images))
            self.labels = tf.identity(tf.constant(labels))
        else:
            self.images, self.labels = images, labels

    def take(self, idx: np.ndarray) -> tuple[tf.Tensor, tf.Tensor]:
        """The images (window, batch, 28, 28, 1) and labels (window, batch) at ``idx``
        (window, batch) of int indices."""
        if self.on_device:
            return tf.gather(self.images, idx), tf.gather(self.labels, idx)
        return tf.constant(self.images[idx]), tf.constant(self.labels[idx])


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The permutation of the ``n`` training images that epoch ``epoch`` reads them in."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def run_epoch(round_step, data: Batches, epoch, seed, plan: Rounds, check, bar, fetch_every=1):
    """Runs the rounds of ``epoch`` while a full window of unused real batches is left.

    Args:
      check: called as ``check(log, step)`` with each round's step log and its index in
        the epoch, in order, as soon as it is fetched (it raises on a NaN).
      fetch_every: rounds between fetches of the step logs (1: after every round; dynamic
        balancing always fetches after every round).

    Returns:
      (logs, used): the rounds' step logs (dicts of numpy float32 keyed by `STEP_COLUMNS`)
      and the number of real batches D trained on.
    """
    order = epoch_order(seed, epoch, data.n)
    batches = order[: plan.n_batches * plan.batch_size].reshape(plan.n_batches, plan.batch_size)
    every = 1 if plan.dynamic else max(1, int(fetch_every))
    logs, pending, used = [], [], 0  # used: real batches of the fetched rounds

    def fits(more: int) -> bool:  # with fixed balancing a pending round used `window`
        return used + plan.window * (len(pending) + more) <= plan.n_batches

    while fits(1):
        start = used + plan.window * len(pending)
        round_index = (epoch - 1) * plan.max_rounds + len(logs) + len(pending)
        out = round_step(
            *data.take(batches[start : start + plan.window]), tf.constant(round_index, tf.int64)
        )
        pending.append(tf.stack([out[name] for name in STEP_COLUMNS]))
        if len(pending) < every and fits(1):
            continue
        for values in tf.stack(pending).numpy():
            log = dict(zip(STEP_COLUMNS, values, strict=True))
            check(log, len(logs))
            logs.append(log)
            used += int(log["d_updates"])
            bar.update(int(log["d_updates"]))
            if len(logs) % 10 == 1:
                bar.set_postfix(postfix(logs[-50:]), refresh=False)
        pending = []
    return logs, used


def postfix(logs: list[dict]) -> dict[str, str]:
    """The progress bar's summary of recent step logs."""
    recent = {name: np.mean([log[name] for log in logs]) for name in STEP_COLUMNS}
    return {
        "d_loss": f"{recent['d_loss_real'] + recent['d_loss_fake']:.3f}",
        "g_loss": f"{recent['g_loss']:.3f}",
        "D(real)": f"{recent['d_acc_real']:.2f}",
        "D(fake)": f"{recent['d_acc_fake']:.2f}",
        "W": f"{recent['wasserstein']:.3f}",
        "D:G": f"{recent['d_updates']:.1f}:{recent['g_updates']:.1f}",
    }
