"""Q1's tuning study: one change at a time against the best unconditional GAN (the
self-conditioned one), over seeds, through the sweep machinery, then the best change
retrained at the full budget.

Sweeps, all `gankit.experiments.sweep.run_sweep` runs (resumable, locked, recorded in the
registry ``root/results.jsonl``), so the notebook and the command line share them::

    python -m gankit sweep dcgan_self_conditioned --seeds 0 \
        --runs '{"10": {"train.clusters": 10}, "30": {"train.clusters": 30}}'
    python -m gankit sweep dcgan_study --runs q1-tuning --seeds 0,1,2   # `tuning_specs`
    python -m gankit sweep dcgan_self_conditioned --seeds 0,1,2 \
        --runs '{"baseline": {}, "<best change>": {...}}'             # `validation_specs`

1. `self_conditioned_specs`: the self-conditioned GAN (no labels, the CGAN recipe on k-means
   clusters) at its full budget for each number of clusters and seed; notebook 01 chooses
   the number on the validation criterion (`best_change` of their `tuning_table`).
2. `tuning_specs`: every row of `gankit.presets.DCGAN_TUNING` on the study budget (preset
   ``dcgan_study``: the self-conditioned GAN for fewer epochs) for each seed.
   `tuning_table` gives each row's mean ± std over seeds.
3. `best_change`: the row with the lowest mean FID against the real *training* reference
   of the evaluation protocol (`gankit.evaluate.protocol`): a validation criterion, the
   test images are never used to choose. `validation_specs` retrains it and the baseline
   at the full budget (preset ``dcgan_self_conditioned``) for each seed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from gankit.experiments.sweep_grid import RunSpec, expand_list
from gankit.presets import DCGAN_TUNING, get_preset

BASELINE = "baseline"
"""The row of `DCGAN_TUNING` that changes nothing."""
STUDY_PRESET = "dcgan_study"
"""The self-conditioned GAN on the study's budget (fewer epochs)."""
FULL_PRESET = "dcgan_self_conditioned"
"""The study's baseline at the full budget."""
TUNED_DCGAN = "tuned DCGAN (no clusters)"
"""The label of the plain tuned DCGAN's runs (preset ``dcgan_tuned``) in `tuned_dcgan_specs`."""
CRITERION = "fid"
"""Chosen on: FID of 10,000 samples against the first 10,000 training images (lower wins)."""
TABLE_METRICS = ("inception_score", "fid", "recall", "classes_covered")


def tuning_specs(
    seeds: Sequence[int], *, rows: Sequence[str] | None = None, quick: bool | None = None
) -> list[RunSpec]:
    """One run per row of `DCGAN_TUNING` (or of its ``rows``, e.g. a few for a smoke test)
    and seed, on the study budget (seed-major, so the first seed of every row finishes
    before the second starts).

    Raises:
      ValueError: bad seeds (none, negative or repeated), or a row that is not in
        `DCGAN_TUNING`.
    """
    _check_rows("rows", rows or ())
    chosen = {row: DCGAN_TUNING[row] for row in (rows or DCGAN_TUNING)}
    return expand_list(get_preset(STUDY_PRESET, quick=quick), chosen, seeds)


def validation_specs(
    change: str, seeds: Sequence[int], *, quick: bool | None = None
) -> list[RunSpec]:
    """The baseline (preset ``dcgan_self_conditioned``) and the baseline with the row
    ``change`` of `DCGAN_TUNING`, at the full budget, for each seed.

    Raises:
      ValueError: ``change`` is not a row of `DCGAN_TUNING` (the message lists them), or
        bad seeds.
    """
    _check_rows("change", [change])
    rows = {BASELINE: {}, change: DCGAN_TUNING[change]}
    return expand_list(get_preset(FULL_PRESET, quick=quick), rows, seeds)


def self_conditioned_specs(
    seeds: Sequence[int], clusters: Sequence[int] | None = None, *, quick: bool | None = None
) -> list[RunSpec]:
    """The self-conditioned GAN (preset ``dcgan_self_conditioned``: the CGAN recipe on the
    images' k-means clusters, sampled unconditionally) at its full budget, for each number
    of ``clusters`` (default: the preset's) and seed, labelled by `self_conditioned_label`.

    Raises:
      ValueError: bad seeds, no or repeated cluster counts, or a count below 2.
    """
    preset = get_preset(FULL_PRESET, quick=quick)
    clusters = [preset.train.clusters] if clusters is None else list(clusters)
    if not clusters or len(set(clusters)) != len(clusters):
        raise ValueError(
            f"clusters must be distinct numbers of clusters, e.g. [10, 30]; got {clusters}"
        )
    runs = {self_conditioned_label(k): {"train.clusters": k} for k in clusters}
    return expand_list(preset, runs, seeds)


def tuned_dcgan_specs(seeds: Sequence[int], *, quick: bool | None = None) -> list[RunSpec]:
    """The plain tuned DCGAN (preset ``dcgan_tuned``: no clusters, no labels) for each
    seed, labelled `TUNED_DCGAN`: the model self-conditioning is measured against (its
    runs are the ones `gankit.experiments.preset_runs.train_preset` trains).

    Raises:
      ValueError: bad seeds.
    """
    return expand_list(get_preset("dcgan_tuned", quick=quick), {TUNED_DCGAN: {}}, seeds)


def self_conditioned_label(clusters: int) -> str:
    """The label of the self-conditioned runs with ``clusters`` clusters in tables."""
    return f"self-conditioned, {clusters} clusters"


def generator_of(
    spec: RunSpec, *, root: str | os.PathLike[str] | None = None, quick: bool | None = None
):
    """The final generator of the finished run of ``spec`` (`gankit.train.loop.load_generator`).

    Raises:
      FileNotFoundError: the run has not finished.
    """
    from gankit.train.loop import load_generator

    return load_generator(_root(root, quick) / spec.run_id)


def _check_rows(what: str, names: Sequence[str]) -> None:
    unknown = [name for name in names if name not in DCGAN_TUNING]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; the rows are: {', '.join(DCGAN_TUNING)}")


def _root(root: str | os.PathLike[str] | None, quick: bool | None) -> Path:
    from gankit.paths import runs_dir

    return Path(root) if root is not None else runs_dir(quick)


def run_study(
    specs: Sequence[RunSpec],
    *,
    quick: bool | None = None,
    root: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Trains and evaluates every run of ``specs`` not finished yet (`run_sweep` with
    `gankit.experiments.run.TrainAndEvaluate`: resumable, recorded in ``root``'s registry,
    shared with ``gankit sweep``) and returns their registry rows (`runs_of`).

    Args:
      root: the runs folder (default `gankit.paths.runs_dir` of ``quick``, as in
        `step_logs` and `coverage_by_epoch`).
      progress: one line per run trained now (run, status, seconds, IS, FID), then how
        many were finished before.
    """
    from gankit.config import is_quick
    from gankit.experiments.registry import REGISTRY_NAME
    from gankit.experiments.run import TrainAndEvaluate
    from gankit.experiments.sweep import run_sweep
    from gankit.paths import display_path

    quick = is_quick() if quick is None else quick
    root = _root(root, quick)

    def report(outcome, done, total):
        if progress and outcome.status != "skipped":
            print(outcome.progress_line(done, total), flush=True)

    outcomes = run_sweep(specs, TrainAndEvaluate(quick=quick), root=root, on_outcome=report)
    if progress:
        counts = {s: sum(o.status == s for o in outcomes) for s in ("skipped", "ok", "failed")}
        registry = display_path(root / REGISTRY_NAME)  # no path of this machine in outputs
        print(f"{len(specs)} runs: {counts['skipped']} finished before, {counts['ok']} trained "
              f"now, {counts['failed']} failed (registry {registry})")  # fmt: skip
    return runs_of(specs, root / REGISTRY_NAME)


def step_logs(
    specs: Sequence[RunSpec], labels: Sequence[str], *, seed: int,
    root: str | os.PathLike[str] | None = None, quick: bool | None = None,
) -> dict[str, pd.DataFrame]:  # fmt: skip
    """The step logs (``steps.csv``: losses, D accuracies, G's gradient norm per round) of
    the runs of ``specs`` with these ``labels`` and ``seed``, by label.

    Raises:
      ValueError: a label with no such run in ``specs``.
      FileNotFoundError: a run not trained yet.
    """
    from gankit.io import read_csv_exact

    root = _root(root, quick)
    by_label = _specs_by_label(specs, labels, seed)
    return {label: read_csv_exact(root / by_label[label].run_id / "steps.csv") for label in labels}


def coverage_by_epoch(
    specs: Sequence[RunSpec], labels: Sequence[str], classifier, *, seed: int,
    root: str | os.PathLike[str] | None = None, quick: bool | None = None,
) -> pd.DataFrame:  # fmt: skip
    """How many digits each epoch's sample grid shows (``samples/epoch_###.png``: the
    run's fixed noise, ``train.grid_size`` samples of G's EMA, classified by
    ``classifier``), for the runs of ``specs`` with these ``labels`` and ``seed``.

    Returns:
      one row per run and epoch: ``label``, ``epoch``, ``classes_covered`` (classes with at
      least 1% of the grid, `gankit.evaluate.metrics.class_coverage`) and
      ``kl_to_uniform`` (nats) of the grid's class histogram.

    Raises:
      ValueError: a label with no such run in ``specs``.
    """
    from gankit.evaluate.inference import predict_proba
    from gankit.evaluate.metrics import class_coverage

    root = _root(root, quick)
    by_label = _specs_by_label(specs, labels, seed)
    rows = []
    for label in labels:
        for epoch, tiles in _epoch_grids(by_label[label], root):
            coverage = class_coverage(predict_proba(classifier, tiles))
            rows.append({"label": label, "epoch": epoch,
                         "classes_covered": coverage["n_covered"],
                         "kl_to_uniform": coverage["kl_to_uniform"]})  # fmt: skip
    return pd.DataFrame(rows, columns=["label", "epoch", "classes_covered", "kl_to_uniform"])


def last_grid(
    spec: RunSpec, *, root: str | os.PathLike[str] | None = None, quick: bool | None = None
):
    """The tiles of the last epoch's sample grid of the run of ``spec``: uint8
    (``train.grid_size``, 28, 28), the run's fixed noise through G's EMA (conditional
    runs: the classes or clusters in order, `gankit.train.loop`). Needs no weights, so it
    works on archived runs (`gankit.experiments.archive`).

    Raises:
      FileNotFoundError: the run has no sample grid (not trained, or archived without its
        ``grids``).
    """
    paths = _grid_paths(spec, _root(root, quick))
    if not paths:
        raise FileNotFoundError(f"no sample grid in {_root(root, quick) / spec.run_id}/samples")
    return _read_grid(spec, paths[-1])


def _epoch_grids(spec: RunSpec, root: Path):
    """(epoch, tiles) of each ``samples/epoch_###.png`` of the run of ``spec``, in order."""
    for path in _grid_paths(spec, root):
        yield int(path.stem.split("_")[1]), _read_grid(spec, path)


def _grid_paths(spec: RunSpec, root: Path) -> list[Path]:
    """The ``samples/epoch_###.png`` files of the run of ``spec``, in epoch order."""
    return sorted((root / spec.run_id / "samples").glob("epoch_*.png"))


def _read_grid(spec: RunSpec, path: Path):
    """The tiles of one epoch grid of the run of ``spec`` (conditional: class columns)."""
    from gankit.data.grids import read_image_grid
    from gankit.train.loop import GRID_CLASS_COLUMNS

    ncol = GRID_CLASS_COLUMNS if spec.config.conditional else None
    return read_image_grid(path, spec.config.train.grid_size, ncol=ncol)


def _specs_by_label(specs: Sequence[RunSpec], labels: Sequence[str], seed: int) -> dict:
    by_label = {spec.label: spec for spec in specs if spec.seed == seed}
    missing = [label for label in labels if label not in by_label]
    if missing:
        raise ValueError(f"no run of seed {seed} labelled {missing}; labels: {list(by_label)}")
    return by_label


def runs_of(specs: Sequence[RunSpec], registry: str | os.PathLike[str]) -> pd.DataFrame:
    """The registry rows (`gankit.experiments.registry.load_registry`, latest row per run)
    of the runs in ``specs``, with each run's label from its spec (rows recorded by another
    sweep may carry another label). Runs not recorded yet are absent."""
    from gankit.experiments.registry import load_registry

    df = load_registry(Path(registry)) if Path(registry).exists() else pd.DataFrame()
    labels = {spec.run_id: spec.label for spec in specs}
    if df.empty:
        return df
    df = df[df["run_id"].isin(labels)].copy()
    df["label"] = df["run_id"].map(labels)
    return df.reset_index(drop=True)


def tuning_table(runs: pd.DataFrame, order: Sequence[str] = tuple(DCGAN_TUNING)) -> pd.DataFrame:
    """One row per label of ``runs`` (`runs_of`), in ``order``: seeds finished, then
    ``<metric>_mean``/``_std``/``_floor`` of `TABLE_METRICS` and the mean training seconds
    (`gankit.experiments.sweep_report.summarise`).

    Raises:
      ValueError: no runs.
    """
    from gankit.experiments.sweep_report import summarise

    summary = summarise(runs, by=["label"], metrics=list(TABLE_METRICS))
    rank = {label: i for i, label in enumerate(order)}
    summary = summary.sort_values("label", key=lambda s: s.map(lambda v: rank.get(v, len(rank))))
    return summary.reset_index(drop=True)


def best_change(table: pd.DataFrame, *, min_seeds: int = 1) -> str:
    """The label of ``table`` (`tuning_table`) with the lowest mean `CRITERION` among rows
    with at least ``min_seeds`` finished seeds; the baseline if no change beats it.

    Raises:
      ValueError: no row has ``min_seeds`` seeds.
    """
    ready = table[table["seeds"] >= min_seeds]
    if ready.empty:
        raise ValueError(f"no row of the study has {min_seeds} finished seed(s) yet")
    return str(ready.loc[ready[f"{CRITERION}_mean"].idxmin(), "label"])
