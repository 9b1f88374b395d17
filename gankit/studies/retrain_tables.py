"""The numbers of the Q3 report from the retraining results (one row per run and seed, from
`gankit.studies.retrain_study.load_results`): `select` the runs of a table, `aggregate` or
`mean_std_table` them ("mean ± std over seeds"), `paired_gain` (each run's accuracy minus
that of the real-only run with the same real images: the gain synthetic images bring), and
`readable` labels for tables and legends; `coverage_table` summarises how many training images a
few-shot generator's samples spread over.

Example (Table B: few real images per class, each strategy, 3 seeds)::

    results = run_study(configs, [0, 1, 2], "runs/q3/results.jsonl", ...)
    table = mean_std_table(results, "strategy", "n_real")
    write_table(table, "figures/q3_table_b")
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gankit.report import MISSING, format_mean_std

STRATEGY_LABELS: Mapping[str, str] = {
    "real": "real only",
    "augment": "augmentation",
    "mix": "real + synthetic",
    "augment_mix": "augmentation + synthetic",
    "synth_then_real": "synthetic, then real",
    "real_then_elite": "real, then elite synthetic",
    "synth": "synthetic only",
    "augment_synth": "synthetic only + augmentation",
}
"""Short names of `gankit.studies.retrain.STRATEGIES` for tables and legends (see `readable`)."""

NO_SOURCE = "none"
"""What `readable` shows as the source of runs that use no synthetic images."""

_PAIR_ON = ("n_real", "seed", "val_per_class", "steps")


def select(results: pd.DataFrame, **equals: Any) -> pd.DataFrame:
    """The rows whose column ``name`` equals ``value`` for every ``name=value`` given;
    a list (or tuple) of values matches any of them, None a missing value. E.g.
    ``select(results, strategy=["real", "mix"], n_real=[10, "10%"], mix_ratio=None)``.

    Raises:
        ValueError: a column is not in ``results``.
    """
    keep = np.ones(len(results), dtype=bool)
    for name, value in equals.items():
        if name not in results.columns:
            raise ValueError(f"results have no column {name!r}; columns: {list(results.columns)}")
        values = list(value) if isinstance(value, list | tuple) else [value]
        keep &= np.array([_is_one_of(v, values) for v in results[name]], dtype=bool)
    return results[keep].reset_index(drop=True)


def _is_one_of(value: Any, values: list) -> bool:
    """10 and 10.0 match (pandas may turn ints into floats), 10 and "10" do not; None
    matches a missing value (pandas turns None into NaN next to numbers)."""
    for v in values:
        if v is None:
            if _is_missing(value):
                return True
        elif isinstance(v, str) == isinstance(value, str) and v == value:
            return True
    return False


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


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
    index: str | Sequence[str],
    columns: str | None = None,
    *,
    value: str = "test_accuracy",
    scale: float = 100.0,
    digits: int = 2,
    min_seeds: int = 3,
    rows: Sequence[Any] | None = None,
    heads: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """A table of "mean ± std" text: a row per ``index`` value, a column per ``columns``
    value (or one column named ``value``).

    ``index`` may be several columns (e.g. ``["strategy", "source"]``): the table then
    starts with one column each. Rows and columns come in order of first appearance, or
    in the order of ``rows`` (index values; tuples for several index columns) and
    ``heads`` (``columns`` values), which may name cells that have no runs.

    ``scale`` multiplies the numbers (100: accuracy in %). A cell with fewer than
    ``min_seeds`` seeds says so ("97.12 ± 0.20 (n=2)"); a missing cell is `MISSING`.
    Write it with ``gankit.report.write_table(table, stem)``.

    Raises:
        ValueError: as `aggregate`.
    """
    keys = [index] if isinstance(index, str) else list(index)
    by = keys if columns is None else [*keys, columns]
    stats = aggregate(results, by, value)
    cells: dict[tuple[Any, Any], str] = {}
    for row in stats.to_dict("records"):
        text = format_mean_std(row["mean"] * scale, row["std"] * scale, digits)
        if row["n"] < min_seeds:
            text += f" (n={row['n']})"
        cells[(_row_key(row, keys), row[columns] if columns else value)] = text
    if rows is None:
        rows = list(dict.fromkeys(_row_key(row, keys) for row in stats.to_dict("records")))
    elif len(keys) == 1:
        rows = [(r,) for r in rows]
    if heads is None:
        heads = list(dict.fromkeys(stats[columns])) if columns else [value]
    table = [
        {**dict(zip(keys, r, strict=True)), **{str(h): cells.get((r, h), MISSING) for h in heads}}
        for r in map(tuple, rows)
    ]
    return pd.DataFrame(table, columns=[*keys, *map(str, heads)])


def steps_table(results: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """How long each cell trained, mean over its seeds: optimiser steps run (all phases;
    batch 128), passes over its real images (real images seen / real training images),
    the step whose weights were kept (last phase: lowest validation loss) and minutes.

    Raises:
        ValueError: a column of ``by`` or ``phases`` is not in ``results``.
    """
    missing = [c for c in [*by, "phases", "n_train_real", "train_seconds"] if c not in results]
    if missing:
        raise ValueError(f"results have no column(s) {missing}; columns: {list(results.columns)}")
    per_run = results[list(by)].copy()
    phases = [list(p.values()) for p in results["phases"]]
    per_run["steps run"] = [sum(p["steps_run"] for p in ph) for ph in phases]
    per_run["kept step (last phase)"] = [ph[-1]["best_step"] for ph in phases]
    per_run["minutes"] = results["train_seconds"].to_numpy(dtype=np.float64) / 60
    real = results["n_train_real"].to_numpy(dtype=np.float64)
    seen = [_real_images_seen(run) for run in results.to_dict("records")]
    per_run["passes over real"] = np.where(real > 0, np.asarray(seen) / np.maximum(real, 1), np.nan)
    columns = ["steps run", "passes over real", "kept step (last phase)", "minutes"]
    return per_run.groupby(list(by), sort=False, dropna=False)[columns].mean().reset_index()


def _real_images_seen(run: Mapping[str, Any]) -> float:
    """Real images in the batches of a run's phases: a mix's share of each batch is its
    ``mix_ratio``, else the real share of the set; a synthetic phase shows none."""
    real, synth = run["n_train_real"], run["n_train_synth"]
    batch = (run.get("classifier") or {}).get("batch_size", 128)
    ratio = run.get("mix_ratio")
    mix_share = real / max(real + synth, 1) if ratio is None or _is_missing(ratio) else ratio
    share_by_phase = {
        "synth": {"train": 0.0},
        "augment_synth": {"train": 0.0},
        "synth_then_real": {"pretrain": 0.0, "finetune": 1.0},
        "real_then_elite": {"pretrain": 1.0, "finetune": 0.0},
        "mix": {"train": mix_share},
        "augment_mix": {"train": mix_share},
    }.get(run["strategy"], {"train": 1.0})
    return sum(
        phase["steps_run"] * batch * share_by_phase.get(name, 1.0)
        for name, phase in run["phases"].items()
    )


def _row_key(row: Mapping[str, Any], keys: Sequence[str]) -> tuple:
    return tuple(row[k] for k in keys)


def paired_gain(
    results: pd.DataFrame,
    baseline: str = "real",
    *,
    value: str = "test_accuracy",
    pair_on: Sequence[str] = _PAIR_ON,
) -> pd.DataFrame:
    """The runs of other strategies than ``baseline``, each with a column ``gain``: its
    ``value`` minus that of the ``baseline`` run with the same ``pair_on`` values.

    Runs of one seed and ``n_real`` train on the same real images and stop early on the
    same validation images, so the difference is what the strategy (and its synthetic
    images) adds; its spread over seeds is smaller than that of either accuracy. Runs
    without a baseline partner are left out.

    Raises:
        ValueError: a column of ``pair_on``, ``value`` or "strategy" is missing, or the
            baseline has two runs with the same ``pair_on`` values.
    """
    missing = [c for c in [*pair_on, value, "strategy"] if c not in results.columns]
    if missing:
        raise ValueError(f"results have no column(s) {missing}; columns: {list(results.columns)}")
    is_base = results["strategy"] == baseline
    base = results.loc[is_base, [*pair_on, value]].rename(columns={value: "_baseline"})
    base_keys = [tuple(map(str, k)) for k in base[list(pair_on)].itertuples(index=False)]
    if len(set(base_keys)) < len(base_keys):
        raise ValueError(f"several {baseline!r} runs share their {list(pair_on)} values")
    lookup = dict(zip(base_keys, base["_baseline"], strict=True))
    others = results.loc[~is_base].copy()
    # matched as text, so that 10 and "10%" never meet while a pandas dtype change of a
    # column (int -> object) does not break the pairing
    keys = [tuple(map(str, k)) for k in others[list(pair_on)].itertuples(index=False)]
    partner = np.array([lookup.get(k, np.nan) for k in keys], dtype=np.float64)
    others["gain"] = others[value].to_numpy(dtype=np.float64) - partner
    return others[np.isfinite(partner)].reset_index(drop=True)


def readable(
    results: pd.DataFrame,
    sources: Mapping[str, str] | None = None,
    strategies: Mapping[str, str] = STRATEGY_LABELS,
) -> pd.DataFrame:
    """A copy for tables and legends: strategies by their short names (with the share of
    real images in each batch if a ``mix_ratio`` is set, so that mixes of different
    ratios never share a row), sources by the names in ``sources`` (others unchanged), and
    `NO_SOURCE` as the source of runs that use no synthetic images (their ``source``
    field is a default, not a generator)."""
    shown = results.copy()
    if "source" in shown and "n_synth" in shown:
        shown["source"] = [
            NO_SOURCE if n == 0 else (sources or {}).get(s, s)
            for s, n in zip(shown["source"], shown["n_synth"], strict=True)
        ]
    if "strategy" in shown:
        ratios = shown["mix_ratio"] if "mix_ratio" in shown else [None] * len(shown)
        shown["strategy"] = [
            strategies.get(s, s) + ("" if pd.isna(r) else f" ({r:.0%} real)")
            for s, r in zip(shown["strategy"], ratios, strict=True)
        ]
    return shown


LABELS_USED_ALL = "all 60,000"
"""What `few_label_table` shows as the labels a CGAN-based row used: the default CGAN
learnt from every labelled training image, so its samples carry all 60,000 labels."""


def few_label_table(
    cells: Sequence[Mapping[str, Any]],
    n_real: int,
    extra: Mapping[str, tuple[float, float, int, str]] | None = None,
    full_label_sources: Sequence[str] = ("default CGAN",),
) -> pd.DataFrame:
    """Q3's rows with ``n_real`` real images per class, beside ``extra`` rows, as one table.

    Args:
      cells: the aggregated Q3 cells, as notebook 03 writes them into ``results.json``
        (section ``q3``, key ``cells``): dicts with ``strategy``, ``n_real``, ``n_synth``,
        ``source``, ``mean``, ``std`` (fractions) and ``n`` (seeds).
      n_real: real images per class of the rows to keep (e.g. 10).
      extra: rows to add, {name: (mean, std, n, labels used)}, mean and std fractions.
      full_label_sources: sources whose generator learnt from all 60k labels.

    Returns:
      Columns ``method``, ``synthetic source``, ``labels used``, ``test accuracy (%)``
      ("mean ± std") and ``seeds``, best first.

    Raises:
      ValueError: no cell has ``n_real`` real images per class (run notebook 03 first).
    """
    rows = []
    for cell in cells:
        if str(cell["n_real"]) != str(n_real):
            continue
        source = cell["source"]
        used = LABELS_USED_ALL if source in full_label_sources else f"{10 * n_real}"
        rows.append((cell["strategy"], source, used, cell["mean"], cell["std"], cell["n"]))
    if not rows:
        raise ValueError(
            f"no Q3 result with {n_real} real images per class; run notebook 03 (it writes "
            "them into figures/results.json) before this table"
        )
    for name, (mean, std, n, used) in (extra or {}).items():
        rows.append((name, NO_SOURCE, used, mean, std, n))
    table = pd.DataFrame(
        rows, columns=["method", "synthetic source", "labels used", "mean", "std", "seeds"]
    )
    table = table.sort_values("mean", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(
        3,
        "test accuracy (%)",
        [
            format_mean_std(100 * m, 100 * s, digits=2)
            for m, s in zip(table["mean"], table["std"], strict=True)
        ],
    )
    return table.drop(columns=["mean", "std"])


COVERAGE_COLUMNS: Mapping[str, str] = {
    "effective_images": "effective images (mean over digits)",
    "effective_images_min": "fewest effective images (a digit)",
    "images_used": "images used (mean over digits)",
    "top_share": "largest share of one image (mean)",
}
"""Columns of `coverage_table`, from `gankit.evaluate.diversity.training_coverage`'s keys."""


def coverage_table(coverages: Mapping[str, Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """One row per sample set of `gankit.evaluate.diversity.training_coverage` results.

    Args:
      coverages: {row name: training_coverage(...) result}, e.g. a fair CGAN's samples and
        the real test images assigned to the same training images.

    Returns:
      Index: the row names; columns `COVERAGE_COLUMNS`' values: means over the digits that
      have samples (classes without samples, NaN in the result, are left out), and the
      smallest ``effective_images`` of a digit.

    Raises:
      ValueError: no rows, or a result without samples in any class.
    """
    if not coverages:
        raise ValueError("coverage_table needs at least one training_coverage result")
    rows = {}
    for name, cov in coverages.items():
        effective = np.asarray(cov["effective_images"], dtype=float)
        has = ~np.isnan(effective)
        if not has.any():
            raise ValueError(f"{name!r}: no class has samples; pass labels of drawn classes")
        rows[name] = {
            COVERAGE_COLUMNS["effective_images"]: effective[has].mean(),
            COVERAGE_COLUMNS["effective_images_min"]: effective[has].min(),
            COVERAGE_COLUMNS["images_used"]: np.asarray(cov["images_used"])[has].mean(),
            COVERAGE_COLUMNS["top_share"]: np.asarray(cov["top_share"], float)[has].mean(),
        }
    return pd.DataFrame.from_dict(rows, orient="index")
