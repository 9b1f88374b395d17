"""Q3: re-train the digit classifier on real and synthetic images, and measure it.

A run is a `RetrainConfig` (one cell of a table) and a seed. `run_cell` builds its
training sets (`gankit.retrain_sets`), trains a classifier with the reference
architecture and fresh weights under one of the `STRATEGIES`, and measures it on the
real test images. `run_study` runs configs x seeds, appending one JSON line per finished
run to a results file and skipping the runs already there, so a study that is stopped
resumes where it was. `mean_std_table` makes the "mean ± std over seeds" tables.

Each training phase is a fixed budget of optimiser steps (``steps``), not of epochs:
10 images and 60,000 images get the same number of updates, so few-shot sets are not
starved and a run's cost does not depend on the data size. Every ``eval_every`` steps
the loss on the real validation images (`gankit.retrain_sets.split_real`) is measured;
training stops after ``patience`` evaluations without improvement and the best weights
are restored. The test images are used once, to measure the final model.

Example (Table B: few real images per class, each strategy, 3 seeds)::

    configs = grid(["real", "augment", "mix", "synth_then_real", "real_then_elite"],
                   n_real=[1, 10, 100], n_synth=1000)
    results = run_study(configs, [0, 1, 2], "runs/q3/table_b.jsonl",
                        synthetic=generator, reference=load_or_train_classifier())
    write_table(mean_std_table(results, "n_real", "strategy"), "figures/q3_table_b")
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import keras
import numpy as np
import pandas as pd

from gankit.classifier import (
    IMAGE_SHAPE,
    REFERENCE,
    ClassifierConfig,
    accuracy,
    build_classifier,
    check_config,
    compile_classifier,
    config_to_dict,
)
from gankit.registry import RegistryWarning, append_row, read_rows
from gankit.report import MISSING, format_mean_std
from gankit.retrain_sets import (
    SYNTH_FULL_PER_CLASS,
    SyntheticPool,
    TrainingSets,
    build_augmenter,
    build_training_sets,
    check_size,
    derived_seed,
    one_hot,
    per_class_count,
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
    }
)
"""Strategy name -> what it trains on."""

_USES_SYNTHETIC = frozenset({"mix", "synth_then_real", "real_then_elite", "augment_mix", "synth"})
_USES_AUGMENTATION = frozenset({"augment", "augment_mix"})
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
    rotation_degrees: float = 10.0
    """Augmentation: maximum rotation, degrees."""
    zoom: float = 0.1
    """Augmentation: maximum zoom in or out (fraction)."""
    translate: float = 0.1
    """Augmentation: maximum shift (fraction of 28 px)."""
    contrast: float = 0.2
    """Augmentation: contrast factor in [1 - contrast, 1 + contrast]."""
    steps: int = 300
    """Optimiser steps of the (pre-)training phase (rounded up to ``eval_every``)."""
    finetune_steps: int = 150
    """Optimiser steps of the fine-tuning phase of two-phase strategies."""
    finetune_lr_factor: float = 0.3
    """Fine-tuning peak learning rate, as a fraction of the classifier's."""
    eval_every: int = 25
    """Steps between two validation measurements."""
    patience: int = 4
    """Validation measurements without a lower loss before a phase stops."""
    val_per_class: int = 10
    """Real validation images per class (held out of training); 0: no early stopping."""
    classifier: ClassifierConfig = RETRAIN_CLASSIFIER
    """Architecture and optimiser (its ``epochs`` is unused: ``steps`` is the budget)."""

    def quick(self) -> RetrainConfig:
        """This config with at most 40 + 20 steps, validated every 10 (``GANKIT_QUICK=1``)."""
        return dataclasses.replace(
            self,
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
    if (config.strategy == "synth") != (config.n_real == 0):
        need = "n_real=0" if config.strategy == "synth" else "n_real > 0"
        raise ValueError(f"strategy {config.strategy!r} needs {need}, got {config.n_real!r}")
    if config.mix_ratio is not None:
        if config.strategy not in _MIXES:
            raise ValueError(f"mix_ratio applies to {sorted(_MIXES)} only; set it to None")
        if not 0 < config.mix_ratio < 1:
            raise ValueError(f"mix_ratio must be in (0, 1) or None, got {config.mix_ratio}")
    if not 0 <= config.elite_threshold <= 1:
        raise ValueError(f"elite_threshold must be in [0, 1], got {config.elite_threshold}")
    augmentation = (config.rotation_degrees, config.zoom, config.translate, config.contrast)
    if min(augmentation) < 0:
        raise ValueError("rotation_degrees, zoom, translate and contrast must be >= 0")
    if config.strategy in _USES_AUGMENTATION and max(augmentation) == 0:
        raise ValueError(f"strategy {config.strategy!r} needs some augmentation (all are 0)")
    for name in ("steps", "finetune_steps", "eval_every", "patience"):
        value = getattr(config, name)
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
    "finetune_lr_factor",
)


def retrain_config_to_dict(config: RetrainConfig) -> dict[str, Any]:
    """Every field as plain JSON (the classifier config as a nested dict)."""
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    # 10 and 10.0 are the same setting and must give the same run key
    fields.update({name: float(fields[name]) for name in _FLOAT_FIELDS})
    if fields["mix_ratio"] is not None:
        fields["mix_ratio"] = float(fields["mix_ratio"])
    return {**fields, "classifier": config_to_dict(config.classifier)}


def run_key(config: RetrainConfig, seed: int) -> str:
    """16 hex digits of SHA-256 over every field, the seed and `RESULTS_FORMAT_VERSION`."""
    payload = {"config": retrain_config_to_dict(config), "seed": int(seed)}
    payload["format"] = RESULTS_FORMAT_VERSION
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def grid(
    strategies: Sequence[str], n_real: Sequence[int | str], *, n_synth: int | str = 0, **fields
) -> list[RetrainConfig]:
    """A config per (n_real, strategy), n_real-major: the rows x columns of a table.

    Strategies that use synthetic images get ``n_synth``, the others 0; ``fields`` go to
    every config (e.g. ``steps=300``). The synthetic-only "synth" takes no ``n_real``:
    make its config directly.

    Raises:
        ValueError: "synth" in ``strategies``, or an invalid config.
    """
    if "synth" in strategies:
        raise ValueError(
            '"synth" has no n_real: use RetrainConfig(strategy="synth", n_real=0, ...)'
        )
    configs = [
        RetrainConfig(
            strategy=strategy,
            n_real=n,
            n_synth=n_synth if strategy in _USES_SYNTHETIC else 0,
            **fields,
        )
        for n in n_real
        for strategy in strategies
    ]
    for config in configs:
        check_retrain_config(config)
    return configs


# ---------------------------------------------------------------------------- training


def _phases(config: RetrainConfig, sets: TrainingSets) -> list[tuple[str, list, int, float]]:
    """``(name, parts, steps, learning-rate factor)`` of each phase of the strategy."""
    real, synth, strategy = sets.real, sets.synthetic, config.strategy
    if strategy in ("real", "augment"):
        return [("train", [real], config.steps, 1.0)]
    if strategy in _MIXES:
        return [("train", [real, synth], config.steps, 1.0)]
    if strategy == "synth":
        return [("train", [synth], config.steps, 1.0)]
    first, second = (synth, real) if strategy == "synth_then_real" else (real, synth)
    return [
        ("pretrain", [first], config.steps, 1.0),
        ("finetune", [second], config.finetune_steps, config.finetune_lr_factor),
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
                monitor="val_loss", patience=config.patience, restore_best_weights=True
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
        data: ``((x_train, y_train), (x_test, y_test))`` uint8 as `gankit.data.load_mnist`
            returns (loaded if None); training and validation use the train part only.
        synthetic: a conditional generator, a callable ``source(labels, seed) -> images``
            or a `gankit.retrain_sets.SyntheticPool` (shared by the runs of a study).
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
        from gankit.data import load_mnist

        data = load_mnist(verbose=False)
    (x_train, y_train), (x_test, y_test) = data
    if synthetic is not None and not isinstance(synthetic, SyntheticPool):
        synthetic = SyntheticPool(synthetic, _synth_per_class(config) or 1)
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
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def _synth_per_class(config: RetrainConfig) -> int:
    if config.strategy not in _USES_SYNTHETIC:
        return 0
    return per_class_count(config.n_synth, SYNTH_FULL_PER_CLASS, "n_synth")


# ------------------------------------------------------------------------------- study


def run_study(
    configs: Sequence[RetrainConfig],
    seeds: Sequence[int],
    results_path: str | os.PathLike[str],
    *,
    data=None,
    synthetic: Any = None,
    reference: keras.Model | None = None,
    progress: bool = True,
    verbose: bool = True,
) -> pd.DataFrame:
    """Runs every config for every seed, skipping runs already in ``results_path``.

    Runs go seed by seed (all cells of seed 0 first), so a stopped study already has whole
    tables at fewer seeds, and each seed's synthetic images are drawn once. Each finished
    run is appended at once to the JSON-lines file ``results_path`` (one atomic line, see
    `gankit.registry.append_row`); a run already there (same `run_key`) is skipped. An
    exception stops the study; what finished is kept.

    Args:
        configs, seeds: the grid; duplicates are run once.
        data, synthetic, reference: as `run_cell`.
        progress: a tqdm bar over the runs to do.
        verbose: print one line per finished run.

    Returns:
        `load_results` restricted to this grid: one row per (config, seed).

    Raises:
        ValueError, TypeError: an invalid config or seed, or as `run_cell`.
    """
    configs, seeds = list(configs), [int(s) for s in seeds]
    if not configs or not seeds:
        raise ValueError("give at least one config and one seed")
    for config in configs:
        check_retrain_config(config)
    grid = list(dict.fromkeys((seed, config) for seed in seeds for config in configs))
    _drop_cut_off_line(results_path)
    done = {row["run_id"] for row in read_rows(results_path) if row.get("status") == "ok"}
    todo = [(seed, config) for seed, config in grid if run_key(config, seed) not in done]
    if verbose:
        print(f"retrain: {len(grid) - len(todo)} of {len(grid)} runs already in {results_path}")
    _check_needs([config for _, config in todo], synthetic, reference)
    if todo and data is None:
        from gankit.data import load_mnist

        data = load_mnist(verbose=False)
    # One draw per seed, the size of the largest cell of the whole grid, so that a
    # resumed study draws the same images as an uninterrupted one.
    n_max = max(_synth_per_class(c) for c in configs)
    pool = synthetic
    if n_max and synthetic is not None and not isinstance(synthetic, SyntheticPool):
        pool = SyntheticPool(synthetic, n_max)
    from tqdm.auto import tqdm

    for number, (seed, config) in enumerate(tqdm(todo, desc="retrain", disable=not progress)):
        row = run_cell(config, seed, data=data, synthetic=pool, reference=reference)
        append_row(results_path, row)
        if verbose:
            print(
                f"retrain [{number + 1}/{len(todo)}] {describe(config)} seed={seed}: "
                f"test {row['test_accuracy']:.2%} in {row['seconds']:.1f} s"
            )
    keys = {run_key(config, seed) for seed, config in grid}
    results = load_results(results_path)
    return results[results["run_id"].isin(keys)].reset_index(drop=True)


def _check_needs(configs: Sequence[RetrainConfig], synthetic: Any, reference: Any) -> None:
    """Raises ValueError before any run if a config lacks its generator or reference."""
    if synthetic is None and any(c.strategy in _USES_SYNTHETIC for c in configs):
        raise ValueError("some runs use synthetic images: pass synthetic= (a generator)")
    if reference is None and any(c.strategy == "real_then_elite" for c in configs):
        raise ValueError("'real_then_elite' needs reference= (load_or_train_classifier())")


def _drop_cut_off_line(path: str | os.PathLike[str]) -> None:
    """Removes a last line that lacks its newline (a run cut off while being recorded),
    with a warning, so that the next append starts a line of its own; that run is then
    simply run again."""
    path = Path(path)
    if not path.exists():
        return
    content = path.read_bytes()
    if not content or content.endswith(b"\n"):
        return
    keep = content.rfind(b"\n") + 1
    warnings.warn(
        f"{path}: dropped a cut-off last line ({len(content) - keep} bytes); "
        "that run will be run again",
        RegistryWarning,
        stacklevel=3,
    )
    with open(path, "r+b") as file:
        file.truncate(keep)


def describe(config: RetrainConfig) -> str:
    """A short label, e.g. "mix real=10 synth=1000 ratio=0.5"."""
    text = f"{config.strategy} real={config.n_real}"
    if config.n_synth:
        text += f" synth={config.n_synth}"
    if config.mix_ratio is not None:
        text += f" ratio={config.mix_ratio}"
    return text


def load_results(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The finished runs in the results file, one row per run (the latest if repeated)."""
    rows = [row for row in read_rows(path) if row.get("status") == "ok"]
    rows = list({row["run_id"]: row for row in rows}.values())
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=["run_id", "seed"])


# ------------------------------------------------------------------------------ tables


def aggregate(results: pd.DataFrame, by: Sequence[str], value: str = "test_accuracy"):
    """Mean, standard deviation (over seeds, ddof 1) and count of ``value`` per group.

    Groups keep the order in which they first appear in ``results``.

    Raises:
        ValueError: a column of ``by`` or ``value`` is not in ``results``.
    """
    missing = [c for c in [*by, value] if c not in results.columns]
    if missing:
        raise ValueError(f"results have no column(s) {missing}; columns: {list(results.columns)}")
    grouped = results.groupby(list(by), sort=False, dropna=False)[value]
    return grouped.agg(mean="mean", std="std", n="count").reset_index()


def mean_std_table(
    results: pd.DataFrame,
    index: str,
    columns: str | None = None,
    *,
    value: str = "test_accuracy",
    scale: float = 100.0,
    digits: int = 2,
    min_seeds: int = 3,
) -> pd.DataFrame:
    """A table of "mean ± std" text: a row per ``index`` value, a column per ``columns``
    value (or one column named ``value``), in order of first appearance.

    ``scale`` multiplies the numbers (100: accuracy in %). A cell with fewer than
    ``min_seeds`` seeds says so ("97.12 ± 0.20 (n=2)"); a missing cell is `MISSING`.
    Write it with ``gankit.report.write_table(table, stem)``.

    Raises:
        ValueError: as `aggregate`.
    """
    by = [index] if columns is None else [index, columns]
    stats = aggregate(results, by, value)
    cells: dict[tuple[Any, Any], str] = {}
    for row in stats.itertuples(index=False):
        text = format_mean_std(row.mean * scale, row.std * scale, digits)
        if row.n < min_seeds:
            text += f" (n={row.n})"
        cells[(getattr(row, index), getattr(row, columns) if columns else value)] = text
    rows = list(dict.fromkeys(stats[index]))
    heads = list(dict.fromkeys(stats[columns])) if columns else [value]
    table = [{index: r, **{str(h): cells.get((r, h), MISSING) for h in heads}} for r in rows]
    return pd.DataFrame(table)
