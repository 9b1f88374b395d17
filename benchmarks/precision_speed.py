"""Per-round time of the tuned DCGAN by precision and XLA, on this machine, in one process.

Builds the compiled training round of `dcgan_tuned` (`gankit.train.steps.GANSteps`, what
`train_gan` runs) four times: ``train.precision`` float32 and 'auto' (what
`gankit.device` picks here), each without and with ``train.jit_compile``. After a warm-up
(tracing, XLA compilation) it runs them in interleaved blocks of ``--block`` rounds on
the same real MNIST batches, one block of each per cycle, and times each block (the last
round's log is fetched, so the time covers the work). On a machine shared with other
jobs the load changes slowly compared with a cycle, so the ratio of two variants within
one cycle is what is compared: the median over the cycles. The per-cycle times, the
medians and the ratios go to ``benchmarks/results/precision_speed.json``
(`gankit.bench_record`), which the README's XLA paragraph is written from.

Usage: python benchmarks/precision_speed.py [--cycles 15] [--block 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

from gankit import bench_record, device
from gankit.config import resolved, with_overrides
from gankit.data.images import scale_images
from gankit.data.mnist import load_mnist
from gankit.nets import build_gan
from gankit.presets import get_preset
from gankit.train.steps import GANSteps

VARIANTS = {
    "float32": {"train.precision": "float32"},
    "auto": {"train.precision": "auto"},
    "float32 + XLA": {"train.precision": "float32", "train.jit_compile": True},
    "auto + XLA": {"train.precision": "auto", "train.jit_compile": True},
}
RATIOS = [("auto", "float32"), ("float32 + XLA", "float32"), ("auto + XLA", "auto")]


def round_step(overrides: dict):
    """The compiled round of the tuned DCGAN with ``overrides``, seed 0."""
    config = resolved(with_overrides(get_preset("dcgan_tuned", quick=False), overrides))
    steps = GANSteps(*build_gan(config, seed=0), config.train, seed=0)
    return steps.round_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=15)
    parser.add_argument("--block", type=int, default=10, help="rounds per timed block")
    args = parser.parse_args()
    record = bench_record.start(__file__, args)
    auto = device.resolve_precision("auto")
    print(f"device: {device.probe().describe()}; 'auto' is {auto} here", flush=True)
    batch = get_preset("dcgan_tuned", quick=False).train.batch_size
    (x_train, _), _ = load_mnist(verbose=False)
    images = scale_images(x_train[: args.block * batch]).reshape(args.block, 1, batch, 28, 28, 1)
    batches = [tf.constant(b) for b in images]
    labels = tf.zeros((1, batch), tf.int32)
    steps = {name: round_step(overrides) for name, overrides in VARIANTS.items()}
    counter = 0

    def block(step) -> float:
        nonlocal counter
        t0 = time.perf_counter()
        for real in batches:
            log = step(real, labels, tf.constant(counter, tf.int64))
            counter += 1
        float(log["g_loss"].numpy())
        return (time.perf_counter() - t0) / len(batches)

    for step in steps.values():
        block(step)  # tracing and compilation
    times: dict[str, list[float]] = {name: [] for name in steps}
    for cycle in range(args.cycles):
        for name, step in steps.items():
            times[name].append(block(step))
        line = "  ".join(f"{n} {1000 * t[-1]:6.1f}" for n, t in times.items())
        print(f"cycle {cycle + 1:2d} ms/round: {line}", flush=True)
    rounds = f"{args.cycles} cycles of {args.block} rounds (batch {batch})"
    print(f"\nmedian ms per round over {rounds}:")
    median_ms = {name: 1000 * statistics.median(values) for name, values in times.items()}
    for name, value in median_ms.items():
        print(f"  {name:14s} {value:7.1f}")
    ratios = {}
    for fast, slow in RATIOS:
        ratio = statistics.median(np.array(times[slow]) / np.array(times[fast]))
        ratios[f"{fast} / {slow}"] = ratio
        print(f"  speed {fast} / {slow}: {ratio:.2f}x (median of per-cycle ratios)")
    bench_record.write(
        record,
        {
            "batch": batch,
            "auto_precision": auto,
            "device": device.probe().describe(),
            "ms_per_round": {n: [1000 * t for t in v] for n, v in times.items()},
            "median_ms_per_round": median_ms,
            "speed_ratio": ratios,
        },
    )


if __name__ == "__main__":
    main()
