"""Training GANs on MNIST, from the losses to a run directory.

- `gankit.train.losses`: the GAN losses (BCE, minimax, hinge, Wasserstein), D's targets,
  accuracies, class cross-entropies and WGAN-GP's gradient penalty.
- `gankit.train.optimizers`: Adam or RMSprop by name and the learning-rate schedule.
- `gankit.train.averaging`: the moving average of a model's weights (G's EMA, the
  semi-supervised classifier's Polyak average).
- `gankit.train.steps`: `GANSteps`, the compiled D and G updates of one round and their
  named step log (`STEP_COLUMNS`).
- `gankit.train.run_dir`: `RunDir`, the run directory every trainer keeps (config.json,
  CSV logs, checkpoints, crash-consistent epochs, resume) and `TrainingDivergedError`.
- `gankit.train.checkpoints`: which checkpoints a run directory holds and whether each
  reads back whole (a damaged state file is rebuilt from the checkpoint files).
- `gankit.train.loop`: `train_gan`, `TrainResult` and `load_generator`: trains a
  `GANConfig`, with samples, early stopping and an exact resume.
- `gankit.train.semi_supervised`: a semi-supervised GAN whose discriminator is a digit
  classifier (Salimans et al. 2016), with gankit's DCGAN pair or the paper's MLPs
  (config and presets in `gankit.config.semi_supervised`).

`train_gan`, `TrainResult`, `TrainingDivergedError` and `load_generator` can be imported
from here. They are imported on first use, so importing a module of this package (say
`gankit.train.losses`) does not load the trainer and cannot close an import cycle.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "train_gan": "gankit.train.loop",
    "TrainResult": "gankit.train.loop",
    "load_generator": "gankit.train.loop",
    "TrainingDivergedError": "gankit.train.run_dir",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gankit.train' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
