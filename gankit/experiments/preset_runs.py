"""Presets trained by name in their own run directories: what the notebooks train.

- `train_preset`: trains a preset (or a config) in ``gankit.paths.run_dir_for(config,
  seed)``: a finished run is reloaded, an interrupted one resumed; prints one summary line.
- `tarr_per_epoch`: the per-epoch metric the notebooks log for conditional GANs, the
  reference classifier's success rate on a few class-balanced samples.
- `default_cgans`: the default CGAN of each seed with that log (Q3's synthetic sources).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from gankit import paths, presets
from gankit.config import GANConfig
from gankit.train.loop import TrainResult, train_gan

EPOCH_TARR_SAMPLES = 2000
"""Samples behind the per-epoch TARR (200 per class): cheap enough to run every epoch."""


def tarr_per_epoch(
    classifier: keras.Model, *, n: int = EPOCH_TARR_SAMPLES, seed: int = 1
) -> Callable[[keras.Model], dict[str, float]]:
    """``generator -> {"tarr": success rate}`` of ``n`` class-balanced samples drawn with
    ``seed``, for ``train_gan(epoch_metrics=...)``. The notebooks pass ``seed=SEED + 1``, so
    the logged samples differ from the final evaluation's (seed ``SEED``).

    Raises:
      ValueError: if n < 1 (when called: for an unconditional generator).
    """
    from gankit.evaluate.suite import classify_samples

    if n < 1:
        raise ValueError(f"n must be >= 1 sample, got {n}")

    def tarr(generator: keras.Model) -> dict[str, float]:
        samples = classify_samples(generator, classifier, n=n, seed=seed)
        return {"tarr": samples.tarr["success_rate"]}

    return tarr


def train_preset(
    preset: str | GANConfig,
    images: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    seed: int = 0,
    progress: bool = True,
    epoch_metrics: Callable[[keras.Model], Mapping[str, float]] | None = None,
    verbose: bool = True,
    **train_kwargs: Any,
) -> TrainResult:
    """Trains (or resumes, or reloads) ``preset`` in its own run directory.

    Args:
      preset: a preset name (`gankit.presets.preset_names`; quick mode shrinks it) or a
        `GANConfig`.
      images: float32 (N, 28, 28[, 1]) in [-1, 1].
      labels: (N,) classes 0-9; passed to conditional configs only, so the same call
        serves both kinds.
      seed: seeds the run (weights, data order, noise) and names its directory.
      epoch_metrics: logged after every epoch, e.g. `tarr_per_epoch(classifier)`.
      verbose: print epochs, training minutes and the median images/s.
      train_kwargs: passed on to `gankit.train.loop.train_gan` (e.g. ``classifier=``).

    Raises:
      ValueError: an unknown preset name, a conditional config without ``labels``, or as
        `train_gan`.
    """
    config = presets.get_preset(preset) if isinstance(preset, str) else preset
    if not isinstance(config, GANConfig):
        raise TypeError(f"preset must be a preset name or a GANConfig, got {type(preset)}")
    if config.takes_labels and labels is None:
        raise ValueError(f"{config.name!r} is a conditional GAN: pass the training labels")
    result = train_gan(
        config,
        images,
        paths.run_dir_for(config, seed),
        labels=labels if config.takes_labels else None,
        seed=seed,
        progress=progress,
        epoch_metrics=epoch_metrics,
        **train_kwargs,
    )
    if verbose:
        speed = result.history["images_per_second"].median()
        print(
            f"{config.name}: {len(result.history)} epochs, {result.train_seconds / 60:.1f} "
            f"min of training ({speed:.0f} images/s)"
        )
    return result


def default_cgans(
    seeds: Sequence[int],
    images: np.ndarray,
    labels: np.ndarray,
    classifier: keras.Model,
    *,
    quick: bool | None = None,
    progress: bool = True,
) -> list[TrainResult]:
    """The default CGAN (preset ``cgan``) of each of ``seeds``, trained, resumed or
    reloaded by `train_preset`, with the per-epoch TARR log of ``classifier`` (samples of
    seed + 1): the log is the same whichever notebook or command trains a shared run first.

    Args:
      images: (N, 28, 28) training images in [-1, 1]; labels: (N,) digits.
    """
    return [
        train_preset(
            presets.get_preset("cgan", quick=quick),
            images,
            labels,
            seed=seed,
            progress=progress,
            verbose=False,
            epoch_metrics=tarr_per_epoch(classifier, seed=seed + 1),
        )
        for seed in seeds
    ]
