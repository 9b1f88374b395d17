"""Q3 studies: many retraining runs and their results file.

`run_study` runs configs x seeds (each run is `gankit.studies.retrain.run_cell`),
appending one JSON line per finished run to a results file and skipping the runs already
there, so a study that is stopped resumes where it was. `load_results` reads the file back,
one row per run; the tables of the report are made from it by `gankit.studies.retrain_tables`.

The synthetic images usually come from a CGAN trained on all 60k real images, which the
few-shot classifiers never see: `train_fewshot_generator` trains the fair comparison, a
GAN on exactly the real training images of one run seed.

Example (Table B: few real images per class, each strategy, 3 seeds)::

    configs = retrain_plan.grid(["real", "augment", "mix", "synth_then_real", "real_then_elite"],
                   n_real=[1, 10, 100], n_synth=1000)
    results = run_study(configs, [0, 1, 2], "runs/q3/results.jsonl",
                        synthetic=generator, reference=load_or_train_classifier())
    table = retrain_tables.mean_std_table(results, "strategy", "n_real")
    write_table(table, "figures/q3_table_b")
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gankit.io import CutOffLineWarning, append_json_line, atomic_write, read_json_lines
from gankit.paths import display_path
from gankit.studies.retrain import (
    RetrainConfig,
    check_retrain_config,
    run_cell,
    run_key,
    synth_per_class,
)
from gankit.studies.retrain_sets import (
    SyntheticPool,
    split_real,
    synth_count,
)

# ------------------------------------------------------------------------------- study


def run_study(
    configs: Sequence[RetrainConfig],
    seeds: Sequence[int],
    results_path: str | os.PathLike[str],
    *,
    data=None,
    synthetic: Any = None,
    reference: Any = None,
    progress: bool = True,
    verbose: bool = True,
) -> pd.DataFrame:
    """Runs every config for every seed, skipping runs already in ``results_path``.

    Runs go seed by seed (all cells of seed 0 first), so a stopped study already has whole
    tables at fewer seeds, and each seed's synthetic images are drawn once. Each finished
    run is appended at once to the JSON-lines file ``results_path`` (one atomic line, see
    `gankit.io.append_json_line`); a run already there (same
    `gankit.studies.retrain.run_key`) is skipped. An exception stops the study; what
    finished is kept.

    Args:
        configs, seeds: the grid; duplicates are run once.
        data, synthetic, reference: as `gankit.studies.retrain.run_cell`.
        progress: a tqdm bar over the runs to do.
        verbose: print one line per finished run.

    Returns:
        `load_results` restricted to this grid: one row per (config, seed).

    Raises:
        ValueError, TypeError: an invalid config or seed, or as `gankit.studies.retrain.run_cell`.
    """
    configs, seeds = list(configs), [int(s) for s in seeds]
    if not configs or not seeds:
        raise ValueError("give at least one config and one seed")
    for config in configs:
        check_retrain_config(config)
    grid = list(dict.fromkeys((seed, config) for seed in seeds for config in configs))
    _drop_cut_off_line(results_path)
    done = {row["run_id"] for row in read_json_lines(results_path) if row.get("status") == "ok"}
    todo = [(seed, config) for seed, config in grid if run_key(config, seed) not in done]
    if verbose:
        n_done, where = len(grid) - len(todo), display_path(results_path)
        print(f"retrain: {n_done} of {len(grid)} runs already in {where}")
    _check_needs([config for _, config in todo], synthetic, reference)
    if todo and data is None:
        from gankit.data.mnist import load_mnist

        data = load_mnist(verbose=False)
    # One draw per seed, the size of the largest cell of the whole grid, so that a
    # resumed study draws the same images as an uninterrupted one.
    n_max = max(synth_per_class(c) for c in configs)
    pool = synthetic
    if n_max and synthetic is not None and not isinstance(synthetic, SyntheticPool):
        pool = SyntheticPool(synthetic, n_max)
    from tqdm.auto import tqdm

    for number, (seed, config) in enumerate(tqdm(todo, desc="retrain", disable=not progress)):
        row = run_cell(config, seed, data=data, synthetic=pool, reference=reference)
        append_json_line(results_path, row)
        if verbose:
            print(
                f"retrain [{number + 1}/{len(todo)}] {describe(config)} seed={seed}: "
                f"test {row['test_accuracy']:.2%} in {row['seconds']:.1f} s"
            )
    keys = {run_key(config, seed) for seed, config in grid}
    results = load_results(results_path)
    return results[results["run_id"].isin(keys)].reset_index(drop=True)


def run_by_source(
    configs: Sequence[RetrainConfig],
    seeds: Sequence[int],
    results_path: str | os.PathLike[str],
    sources: Mapping[str, Any],
    **kwargs: Any,
) -> pd.DataFrame:
    """`run_study` for configs of several synthetic sources: the configs of each source
    (in order of first appearance) with ``sources[config.source]`` as ``synthetic``.

    Raises:
        ValueError: a config's source is not in ``sources``, or as `run_study`.
    """
    by_source: dict[str, list[RetrainConfig]] = {}
    for config in configs:
        by_source.setdefault(config.source, []).append(config)
    missing = sorted(set(by_source) - set(sources))
    if missing:
        raise ValueError(f"no generator given for source(s) {missing}; sources: {list(sources)}")
    return pd.concat(
        [
            run_study(group, seeds, results_path, synthetic=sources[name], **kwargs)
            for name, group in by_source.items()
        ],
        ignore_index=True,
    )


def _check_needs(configs: Sequence[RetrainConfig], synthetic: Any, reference: Any) -> None:
    """Raises ValueError before any run if a config lacks its generator or reference."""
    if synthetic is None and any(synth_per_class(c) for c in configs):
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
        CutOffLineWarning,
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
    """The finished runs in the results file, one row per run (the latest if repeated).

    Besides the fields of each row (see `gankit.studies.retrain.run_cell`) there are two columns
    for plots: ``real_per_class`` (real training images per class the run had, the mean
    over classes for a percentage) and ``synth_per_class`` (synthetic images per class
    asked for, before any elite filter).
    """
    rows = [row for row in read_json_lines(path) if row.get("status") == "ok"]
    rows = list({row["run_id"]: row for row in rows}.values())
    if not rows:
        return pd.DataFrame(columns=["run_id", "seed"])
    results = pd.DataFrame(rows)
    if "n_train_real" in results:
        results["real_per_class"] = results["n_train_real"] / 10
    if "n_synth" in results:
        results["synth_per_class"] = [synth_count(n) for n in results["n_synth"]]
    return results


# ----------------------------------------------------------------------- the fair GAN


def train_fewshot_generator(
    config,
    data,
    *,
    n_real: int | str,
    seed: int,
    val_per_class: int = RetrainConfig.val_per_class,
    repeats: int = 20,
    run_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
):
    """Trains the conditional GAN of ``config`` on the real training images of the
    retraining runs seeded ``seed`` with ``n_real`` per class, and nothing else.

    The images are `gankit.studies.retrain_sets.split_real`'s training subset for ``seed``: the
    same ones the classifiers of that seed train on, without their validation images. So
    classifiers fed with this GAN's images have seen no other real image, directly or
    through the GAN (the fair comparison with real-only training).

    One epoch shows the subset ``repeats`` times (in one shuffled order), so that the
    trainer's per-epoch bookkeeping (checkpoint, sample grid) is not paid every few steps.
    ``config.train.n_train`` must be None.

    Args:
        config: a conditional `gankit.config.GANConfig` (e.g. preset "cgan_fewshot10").
        data: ``((x_train, y_train), _)`` uint8, as `gankit.data.mnist.load_mnist` returns.
        n_real, val_per_class, seed: as the `gankit.studies.retrain.RetrainConfig` runs it is for.
        repeats: passes over the subset per epoch (>= 1).
        run_dir: default `gankit.paths.run_dir_for` ``(config, seed)``. A run dir
            records its subset (``real_subset.json``) and is resumed only for the same one.
        progress: progress bars.

    Returns:
        `gankit.train.loop.TrainResult` (a finished run is loaded, not trained again).

    Raises:
        ValueError: an unconditional config, ``n_train`` set, ``repeats`` < 1, or a run
            dir that holds another subset.
    """
    from gankit import paths
    from gankit.data.images import scale_images
    from gankit.train.loop import train_gan

    if not config.takes_labels:
        raise ValueError(
            "the fair generator must be conditional on the digits (it is asked for classes), "
            "not unconditional or self-conditioned"
        )
    if config.train.n_train is not None:
        raise ValueError("set train.n_train=None: the subset is chosen by n_real and seed")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be an int >= 1, got {repeats!r}")
    (x_train, y_train), _ = data
    subset = split_real(y_train, n_real, val_per_class, seed).train
    run_dir = Path(run_dir) if run_dir is not None else paths.run_dir_for(config, seed)
    record = {
        "n_real": n_real,
        "val_per_class": val_per_class,
        "seed": int(seed),
        "repeats": repeats,
        "indices": [int(i) for i in np.sort(subset)],
    }
    record_path = run_dir / "real_subset.json"
    if record_path.exists() and json.loads(record_path.read_text()) != record:
        raise ValueError(f"{run_dir} was trained on another real subset; choose another run_dir")
    with atomic_write(record_path) as file:
        file.write(json.dumps(record) + "\n")
    images = np.tile(scale_images(x_train[subset]), (repeats, 1, 1, 1))
    labels = np.tile(y_train[subset], repeats)
    return train_gan(config, images, run_dir, labels=labels, seed=seed, progress=progress)
