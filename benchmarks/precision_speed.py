"""Training speed of the tuned DCGAN by precision and XLA, on this machine, in one process.

Trains `dcgan_tuned` with ``train.precision`` float32 and 'auto' (what `gankit.device`
picks here), each without and with ``train.jit_compile``, on the same real MNIST images.
Runs alternate (float32, auto, float32 + XLA, auto + XLA, float32, ...) so that a change
in the machine's load hits all of them alike; the first epoch of each run (tracing, XLA
compilation) is dropped and the medians over the repeats are compared as ratios.

Usage: python benchmarks/precision_speed.py [--repeats 2] [--steps 100] [--epochs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gankit import device
from gankit.config import with_overrides
from gankit.data.images import scale_images
from gankit.data.mnist import load_mnist
from gankit.presets import get_preset
from gankit.train.loop import train_gan

VARIANTS = {
    "float32": {"train.precision": "float32"},
    "auto": {"train.precision": "auto"},
    "float32 + XLA": {"train.precision": "float32", "train.jit_compile": True},
    "auto + XLA": {"train.precision": "auto", "train.jit_compile": True},
}


def seconds_per_round(images, epochs: int, overrides: dict) -> list[float]:
    """Seconds per training round of each epoch of one run of the tuned DCGAN."""
    base = get_preset("dcgan_tuned", quick=False)
    cfg = with_overrides(base, {**overrides, "train.epochs": epochs, "train.n_train": None})
    with tempfile.TemporaryDirectory() as run_dir:
        result = train_gan(cfg, images, run_dir, seed=0, progress=False, verbose=False)
    rounds = len(images) // cfg.train.batch_size
    return [s / rounds for s in result.history["seconds"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=100, help="rounds per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (first dropped)")
    args = parser.parse_args()
    here = device.probe()
    auto = device.resolve_precision("auto")
    print(f"device: {here.describe()}; 'auto' is {auto} here")
    batch = get_preset("dcgan_tuned", quick=False).train.batch_size
    (x_train, _), _ = load_mnist(verbose=False)
    images = scale_images(x_train[: args.steps * batch])
    runs: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for rep in range(args.repeats):
        for name, overrides in VARIANTS.items():
            per_round = seconds_per_round(images, args.epochs, overrides)
            runs[name].append(statistics.median(per_round[1:]))
            print(f"repeat {rep + 1}: {name:14s} {1000 * runs[name][-1]:7.1f} ms/round", flush=True)
    med = {name: statistics.median(v) for name, v in runs.items()}
    print(
        f"\nmedian ms per round over {args.repeats} repeats ({args.steps} rounds of "
        f"{batch}, epochs 2..{args.epochs} of each run):"
    )
    for name, value in med.items():
        print(f"  {name:14s} {1000 * value:7.1f}")
    print(f"  speed auto ({auto}) / float32: {med['float32'] / med['auto']:.2f}x")
    print(f"  speed float32 XLA / float32:   {med['float32'] / med['float32 + XLA']:.2f}x")
    print(f"  speed auto XLA / auto:         {med['auto'] / med['auto + XLA']:.2f}x")


if __name__ == "__main__":
    main()
