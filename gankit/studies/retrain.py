"""Q3: re-train the digit classifier on real and synthetic images, and measure it.

A run is a `RetrainConfig` (one cell of a table) and a seed. `run_cell` builds its
training sets (`gankit.studies.retrain_sets`), trains a classifier with the reference
architecture and fresh weights under one of the `STRATEGIES`, and measures it on the
real test images. Many runs, their resumable results file and the "mean ± std over
seeds" tables are in `gankit.studies.retrain_study`.

Each training phase is a fixed budget of optimiser steps (``steps``), not of epochs:
10 images and 60,000 images get the same number of updates, so few-shot sets are not
starved and a run's cost does not depend on the data size. Every ``eval_every`` steps
the loss on the real validation images (`gankit.studies.retrain_sets.split_real`) is measured;
training stops after ``patience`` evaluations without improvement (or runs its whole
schedule, with ``patience=None``) and the best weights
are restored. The test images are used once, to measure the final model.

Example (one cell, one seed)::

    row = run_cell(RetrainConfig(strategy="mix", n_real=10, n_synth=1000), seed=0,
                   synthetic=generator)
    row["test_accuracy"]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import keras
import numpy as np

from gankit.data.augment import build_augmenter
from gankit.evaluate.classifier import build_classifier, compile_classifier
from gankit.evaluate.classifier_config import (
    REFERENCE,
    ClassifierConfig,
    check_config,
    config_to_dict,
)
from gankit.evaluate.inference import IMAGE_SHAPE, accuracy
from gankit.processes import load_average
from gankit.studies.retrain_sets import (
    SyntheticPool,
    TrainingSets,
    build_training_sets,
    check_size,
    derived_seed,
    one_hot,
    synth_count,
    training_stream,
)

STRATEGIES: Mapping[str, str] = MappingProxyType(
    {
        "real": "real images only (the baseline)",
        "mix": "real and synthetic images in one training set",
        "synth_then_real": "pre-train on synthetic images, fine-tune on real ones",
        "real_then_elite": "pre-train on real images, fine-tune on elite synthetic ones",
        "augment": "real images with rotation, zoom, translation and contrast (benchmark)",
        "augment_mix": "augmentation and mixing together",
        "synth": "synthetic images only (classification accuracy score); n_real=0",
        "augment_synth": "synthetic images only, with the augmentation; n_real=0",
    }
)
"""Strategy name -> what it trains on."""

_SYNTHETIC_ONLY = frozenset({"synth", "augment_synth"})
_USES_SYNTHETIC = frozenset({"mix", "synth_then_real", "real_then_elite", "augment_mix"})
_USES_SYNTHETIC |= _SYNTHETIC_ONLY
_USES_AUGMENTATION = frozenset({"augment", "augment_mix", "augment_synth"})
_MIXES = frozenset({"mix", "augment_mix"})

RETRAIN_CLASSIFIER = dataclasses.replace(REFERENCE, translate_pixels=0)
"""The reference architecture without its built-in random shifts: augmentation belongs
to the "augment" strategies only, so that "real" is a plain baseline."""

RESULTS_FORMAT_VERSION = 1
"""Part of every run key: bump it when training changes in a way the config does not show."""


@dataclass(frozen=True)
class RetrainConfig:
    """One cell of a Q3 table: what to train on, how, and with which budget."""

    strategy: str = "real"
    """One of `STRATEGIES`."""
    n_real: int | str = 10
    """Real training images per class (int), or a percentage of each class ("10%")."""
    n_synth: int | str = 0
    """Synthetic images per class (int), or a percentage of 6000 per class ("100%" =
    60k, as many as the real training set). Must be 0 for "real" and "augment"."""
    source: str = "cgan"
    """Name of the synthetic source (e.g. the generator's preset); part of the run key,
    so results of different generators never mix."""
    mix_ratio: float | None = None
    """"mix" strategies: share of real images in each batch, in (0, 1), drawn with
    replacement from each set; None: one shuffled set (real images are a share of
    n_real / (n_real + n_synth))."""
    elite_threshold: float = 0.9
    """"real_then_elite": keep a synthetic image if the reference classifier gives its
    label a probability >= this (and no other class more)."""
    elite_fraction: float | None = None
    """"real_then_elite": None, or keep at most this share of each class's synthetic
    images, those to which the reference classifier gives their label the highest
    probability (a confident CGAN passes almost any threshold; a fraction filters)."""
    rotation_degrees: float = 10.0
    """Augmentation: maximum rotation, degrees."""
    zoom: float = 0.1
    """Augmentation: maximum zoom in or out (fraction)."""
    translate: float = 0.1
    """Augmentation: maximum shift (fraction of 28 px)."""
    contrast: float = 0.2
    """Augmentation: contrast factor in [1 - contrast, 1 + contrast]."""
    elastic_alpha: float = 0.0
    """Augmentation: scale (pixels) of the elastic distortion's smoothed displacements
    (`gankit.data.augment.ElasticDistortion`, sigma 4 px; Simard et al. 2003: 34); 0: none."""
    steps: int = 300
    """Optimiser steps of the (pre-)training phase (rounded up to ``eval_every``); with
    ``real_passes``, the least a phase trains."""
    real_passes: float | None = None
    """None: ``steps`` (and ``finetune_steps``) are each phase's budget, whatever the data
    size. A number: each phase's budget is the steps its batches need to show every image
    of its set this many times (of its real images, for a mix), at least ``steps`` (or
    ``finetune_steps``): a real set of 60k then trains for epochs, not for a fixed 300
    steps, and a mix sees its real images as often as real only does."""
    finetune_steps: int = 150
    """Optimiser steps of the fine-tuning phase of two-phase strategies."""
    finetune_lr_factor: float = 0.3
    """Fine-tuning peak learning rate, as a fraction of the classifier's."""
    eval_every: int = 25
    """Steps between two validation measurements."""
    patience: int | None = 4
    """Validation measurements without a lower loss before a phase stops; None: no early
    stop, the phase trains its whole budget (its learning-rate schedule to the end) and
    keeps the weights of the lowest validation loss."""
    val_per_class: int = 10
    """Real validation images per class (held out of training); 0: no early stopping."""
    classifier: ClassifierConfig = RETRAIN_CLASSIFIER
    """Architecture and optimiser (its ``epochs`` is unused: ``steps`` is the budget)."""

    def quick(self) -> RetrainConfig:
        """This config with at most 40 + 20 steps (no ``real_passes``), validated every 10
        (``GANKIT_QUICK=1``)."""
        return dataclasses.replace(
            self,
            real_passes=None,
            steps=min(self.steps, 40),
            finetune_steps=min(self.finetune_steps, 20),
            eval_every=min(self.eval_every, 10),
        )


def check_retrain_config(config: RetrainConfig) -> None:
    """Raises ValueError (or TypeError) naming the field that is out of range."""
    if not isinstance(config, RetrainConfig):
        raise TypeError(f"expected a RetrainConfig, got {type(config).__name__}")
    if config.strategy not in STRATEGIES:
        raise ValueError(
            f"strategy must be one of {', '.join(STRATEGIES)}; got {config.strategy!r}"
        )
    check_size(config.n_real, "n_real")
    check_size(config.n_synth, "n_synth")
    uses_synth = config.strategy in _USES_SYNTHETIC
    if uses_synth == (config.n_synth == 0):
        need = "n_synth > 0" if uses_synth else "n_synth=0"
        raise ValueError(f"strategy {config.strategy!r} needs {need}, got {config.n_synth!r}")
    if (config.strategy in _SYNTHETIC_ONLY) != (config.n_real == 0):
        need = "n_real=0" if config.strategy in _SYNTHETIC_ONLY else "n_real > 0"
        raise ValueError(f"strategy {config.strategy!r} needs {need}, got {config.n_real!r}")
    if config.mix_ratio is not None:
        if config.strategy not in _MIXES:
            raise ValueError(f"mix_ratio applies to {sorted(_MIXES)} only; set it to None")
        if not 0 < config.mix_ratio < 1:
            raise ValueError(f"mix_ratio must be in (0, 1) or None, got {config.mix_ratio}")
    if not 0 <= config.elite_threshold <= 1:
        raise ValueError(f"elite_threshold must be in [0, 1], got {config.elite_threshold}")
    if config.elite_fraction is not None and not 0 < config.elite_fraction <= 1:
        raise ValueError(f"elite_fraction must be in (0, 1] or None, got {config.elite_fraction}")
    if config.real_passes is not None and not (
        isinstance(config.real_passes, numbers.Real) and config.real_passes > 0
    ):
        raise ValueError(f"real_passes must be a number > 0 or None, got {config.real_passes!r}")
    augmentation = (
        config.rotation_degrees,
        config.zoom,
        config.translate,
        config.contrast,
        config.elastic_alpha,
    )
    if min(augmentation) < 0:
        raise ValueError(
            "rotation_degrees, zoom, translate, contrast and elastic_alpha must be >= 0"
        )
    if config.strategy in _USES_AUGMENTATION and max(augmentation) == 0:
        raise ValueError(f"strategy {config.strategy!r} needs some augmentation (all are 0)")
    for name in ("steps", "finetune_steps", "eval_every", "patience"):
        value = getattr(config, name)
        if name == "patience" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if not config.finetune_lr_factor > 0:
        raise ValueError(f"finetune_lr_factor must be > 0, got {config.finetune_lr_factor}")
    check_size(config.val_per_class, "val_per_class")
    if isinstance(config.val_per_class, str):
        raise TypeError("val_per_class must be an int (images per class)")
    if not isinstance(config.source, str) or not config.source:
        raise ValueError("source must be a non-empty name of the synthetic source")
    check_config(config.classifier)


_FLOAT_FIELDS = (
    "elite_threshold",
    "rotation_degrees",
    "zoom",
    "translate",
    "contrast",
    "elastic_alpha",
    "finetune_lr_factor",
)
_ADDED_LATER: Mapping[str, Any] = MappingProxyType({"elastic_alpha": 0.0})
"""Fields added after results were recorded, with their defaults: a config at the default
leaves the field out of its dict, so its run key stays that of its finished runs."""


def retrain_config_to_dict(config: RetrainConfig) -> dict[str, Any]:
    """Every field as plain JSON (the classifier config as a nested dict)."""
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    # 10 and 10.0 are the same setting and must give the same run key
    fields.update({name: float(fields[name]) for name in _FLOAT_FIELDS})
    for name in ("mix_ratio", "elite_fraction", "real_passes"):
        if fields[name] is not None:
            fields[name] = float(fields[name])
    for name, default in _ADDED_LATER.items():
        if fields[name] == default:
            del fields[name]
    return {**fields, "classifier": config_to_dict(config.classifier)}


def run_key(config: RetrainConfig, seed: int) -> str:
    """16 hex digits of SHA-256 over every field, the seed and `RESULTS_FORMAT_VERSION`."""
    payload = {"config": retrain_config_to_dict(config), "seed": int(seed)}
    payload["format"] = RESULTS_FORMAT_VERSION
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------- training


def phase_steps(config: RetrainConfig, floor: int, n_first: int, n_second: int = 0) -> int:
    """The step budget of a phase that trains on a set of ``n_first`` images (the real
    ones, for a mix with ``n_second`` synthetic ones): ``floor`` without
    ``config.real_passes``, else the steps whose batches show the ``n_first`` images
    ``real_passes`` times (in expectation, for a mix at ``mix_ratio``), at least ``floor``.
    """
    if config.real_passes is None or n_first == 0:
        return floor
    batch = config.classifier.batch_size
    if n_second == 0:
        first_per_step = batch
    elif config.mix_ratio is not None:
        first_per_step = batch * config.mix_ratio
    else:
        first_per_step = batch * n_first / (n_first + n_second)
    return max(floor, math.ceil(config.real_passes * n_first / first_per_step))


def _phases(config: RetrainConfig, sets: TrainingSets) -> list[tuple[str, list, int, float]]:
    """``(name, parts, steps, learning-rate factor)`` of each phase of the strategy."""
    real, synth, strategy = sets.real, sets.synthetic, config.strategy

    def budget(floor, first, second=None):
        return phase_steps(config, floor, len(first[0]), 0 if second is None else len(second[0]))

    if strategy in ("real", "augment"):
        return [("train", [real], budget(config.steps, real), 1.0)]
    if strategy in _MIXES:
        return [("train", [real, synth], budget(config.steps, real, synth), 1.0)]
    if strategy in _SYNTHETIC_ONLY:
        return [("train", [synth], budget(config.steps, synth), 1.0)]
    first, second = (synth, real) if strategy == "synth_then_real" else (real, synth)
    return [
        ("pretrain", [first], budget(config.steps, first), 1.0),
        (
            "finetune",
            [second],
            budget(config.finetune_steps, second),
            config.finetune_lr_factor,
        ),
    ]


def _fit_phase(trainer, parts, config, sets, *, steps, lr_factor, seed) -> dict[str, Any]:
    """Trains ``trainer`` for up to ``steps`` steps (early-stopped); returns what it did."""
    chunks = math.ceil(steps / config.eval_every)
    classifier = config.classifier
    schedule = dataclasses.replace(classifier, learning_rate=classifier.learning_rate * lr_factor)
    compile_classifier(trainer, schedule, chunks * config.eval_every)  # a fresh optimiser
    validation, callbacks = None, []
    if sets.validation is not None:
        validation = (sets.validation[0], one_hot(sets.validation[1]))
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=chunks if config.patience is None else config.patience,
                restore_best_weights=True,
            )
        )
    started = time.perf_counter()
    ratio = config.mix_ratio if len(parts) == 2 else None
    history = trainer.fit(
        training_stream(parts, classifier.batch_size, seed, ratio),
        shuffle=False,  # the stream is shuffled already
        steps_per_epoch=config.eval_every,
        epochs=chunks,
        validation_data=validation,
        callbacks=callbacks,
        verbose=0,
    )
    losses = history.history.get("val_loss")
    best = int(np.argmin(losses)) + 1 if losses else len(history.epoch)
    return {
        "steps_budget": chunks * config.eval_every,
        "steps_run": len(history.epoch) * config.eval_every,
        "best_step": best * config.eval_every,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _build_models(config: RetrainConfig, seed: int) -> tuple[keras.Model, keras.Model]:
    """``(classifier, trainer)``: the trainer puts the augmentation in front, if any."""
    model = build_classifier(config.classifier)
    if config.strategy not in _USES_AUGMENTATION:
        return model, model
    augment = build_augmenter(
        rotation_degrees=config.rotation_degrees,
        zoom=config.zoom,
        translate=config.translate,
        contrast=config.contrast,
        elastic_alpha=config.elastic_alpha,
        seed=derived_seed(seed, "augment"),
    )
    inputs = keras.Input(IMAGE_SHAPE, name="images")
    return model, keras.Model(inputs, model(augment(inputs)), name="augmented_classifier")


def run_cell(
    config: RetrainConfig,
    seed: int = 0,
    *,
    data=None,
    synthetic: Any = None,
    reference: keras.Model | None = None,
) -> dict[str, Any]:
    """Trains one classifier of ``config`` and measures it on the real test images.

    Args:
        config: the cell.
        seed: seeds the real split, the synthetic draw, weights, data order, augmentation.
        data: ``((x_train, y_train), (x_test, y_test))`` uint8 as `gankit.data.mnist.load_mnist`
            returns (loaded if None); training and validation use the train part only.
        synthetic: a conditional generator, a callable ``source(labels, seed) -> images``
            or a `gankit.studies.retrain_sets.SyntheticPool` (shared by the runs of a study).
        reference: the classifier trained on real data, for "real_then_elite".

    Returns:
        A JSON-ready row: ``run_id``, ``status`` "ok", the config's fields, ``seed``,
        ``test_accuracy`` and ``val_accuracy`` (fractions), set sizes ``n_train_real``,
        ``n_train_synth``, ``n_val``, ``elite_kept_fraction``, ``phases`` (steps run,
        best step and seconds of each), ``train_seconds``, ``synth_seconds``, ``seconds``
        (the whole run) and the 1-minute ``load_average``.

    Raises:
        ValueError, TypeError: an invalid config or seed, or a missing ``synthetic`` /
            ``reference`` the strategy needs.
    """
    check_retrain_config(config)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    started = time.perf_counter()
    if data is None:
        from gankit.data.mnist import load_mnist

        data = load_mnist(verbose=False)
    (x_train, y_train), (x_test, y_test) = data
    if synthetic is not None and not isinstance(synthetic, SyntheticPool):
        synthetic = SyntheticPool(synthetic, synth_per_class(config) or 1)
    sets = build_training_sets(
        x_train,
        y_train,
        n_real=config.n_real,
        val_per_class=config.val_per_class,
        seed=seed,
        n_synth=config.n_synth,
        pool=synthetic,
        reference=reference,
        elite_threshold=config.elite_threshold if config.strategy == "real_then_elite" else None,
        elite_fraction=config.elite_fraction,
    )

    keras.utils.set_random_seed(seed)
    model, trainer = _build_models(config, seed)
    phases = {}
    for name, parts, steps, lr_factor in _phases(config, sets):
        phase_seed = derived_seed(seed, name)  # each phase its own data order
        phases[name] = _fit_phase(
            trainer, parts, config, sets, steps=steps, lr_factor=lr_factor, seed=phase_seed
        )
    val = sets.validation
    return {
        "run_id": run_key(config, seed),
        "status": "ok",
        **retrain_config_to_dict(config),
        "seed": int(seed),
        "test_accuracy": accuracy(model, x_test, y_test),
        "val_accuracy": accuracy(model, *val) if val is not None else None,
        "n_train_real": len(sets.real[0]),
        "n_train_synth": len(sets.synthetic[0]),
        "n_val": 0 if val is None else len(val[0]),
        "elite_kept_fraction": sets.elite_kept_fraction,
        "phases": phases,
        "train_seconds": round(sum(p["seconds"] for p in phases.values()), 2),
        "synth_seconds": round(sets.synth_seconds, 2),
        "seconds": round(time.perf_counter() - started, 2),
        "load_average": load_average(),
    }


def synth_per_class(config: RetrainConfig) -> int:
    """Synthetic images per class the run of ``config`` draws (0 if its strategy uses none)."""
    if config.strategy not in _USES_SYNTHETIC:
        return 0
    return synth_count(config.n_synth)
