"""From the results registry to the report: tables over seeds and metric-vs-parameter plots.

The registry (`gankit.experiments.registry.load_registry`) has one row per run; a sweep varies some
config fields and repeats each config over seeds. This module groups runs by the fields
that vary, reports each metric as mean ± standard deviation over the seeds (sample std,
ddof = 1; one seed shows the mean alone) and draws the metric against a parameter with
the standard deviation as error bars::

    df = load_registry("runs/quick/results.jsonl")
    write_sweep_tables(df, "figures/lr_batch")           # .csv, .md, .tex (booktabs)
    fig = plot_metric_vs_param(df, "train.g_lr", "fid", hue="train.batch_size")
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gankit.io import atomic_write
from gankit.plots.style import (
    COLORS,
    COLUMN_WIDTH_IN,
    RUN_COLORS,
    figure_title,
    house_style,
    metric_label,
    title_lines,
)
from gankit.report import format_mean_std, write_table

DEFAULT_METRICS = ("tarr", "inception_score", "fid", "kid", "classes_covered")
"""Metrics tabulated when none are named (those the registry has values of)."""
CONFIG_PREFIXES = ("generator.", "discriminator.", "train.")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _check_frame(df: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected the registry DataFrame (load_registry), got {type(df)}")
    for column in ("run_id", "status", "seed"):
        if column not in df.columns:
            raise ValueError(
                f"the registry table has no {column!r} column; load it with "
                "gankit.experiments.registry.load_registry"
            )
    return df


def _check_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        known = sorted(c for c in df.columns if c.startswith(CONFIG_PREFIXES) or c == "name")
        raise ValueError(f"unknown {what} {missing}; the registry has e.g. {known[:12]}")


def varying_params(df: pd.DataFrame) -> list[list[str]]:
    """Config columns that differ between runs, in groups that always vary together.

    E.g. ``[["train.g_lr", "train.d_lr"], ["train.batch_size"]]`` for a sweep that set
    both learning rates to the same value. ``name`` counts if nothing else varies.
    """
    df = _check_frame(df)
    columns = [c for c in df.columns if c.startswith(CONFIG_PREFIXES)]
    # In the order the sweep gave its axes (e.g. learning rate before batch size).
    order = _override_order(df)
    columns.sort(key=lambda c: order.index(c) if c in order else len(order))
    varying = [c for c in columns if df[c].astype(str).nunique() > 1]
    groups: list[list[str]] = []
    for column in varying:
        codes = df[column].astype(str).factorize()[0]
        for group in groups:
            if np.array_equal(df[group[0]].astype(str).factorize()[0], codes):
                group.append(column)
                break
        else:
            groups.append([column])
    if not groups and df["name"].astype(str).nunique() > 1:
        groups = [["name"]]
    return groups


def _override_order(df: pd.DataFrame) -> list[str]:
    order: list[str] = []
    for text in df["overrides"].dropna() if "overrides" in df else []:
        order += [key for key in json.loads(text) if key not in order]
    return order


def present_metrics(df: pd.DataFrame, metrics: Sequence[str] | None = None) -> list[str]:
    """``metrics``, checked against the columns; default: `DEFAULT_METRICS` that exist."""
    if metrics is None:  # e.g. tarr is NaN for unconditional GANs: leave it out
        return [
            m
            for m in DEFAULT_METRICS
            if m in df.columns and pd.to_numeric(df[m], errors="coerce").notna().any()
        ]
    _check_columns(df, metrics, "metrics")
    return list(metrics)


def _group_keys(df: pd.DataFrame, by: Sequence[str] | None) -> list[str]:
    if by is None:
        return [group[0] for group in varying_params(df)]
    _check_columns(df, by, "parameters")
    return list(by)


def summarise(
    df: pd.DataFrame, *, by: Sequence[str] | None = None, metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per configuration: ``by`` columns, ``seeds`` (finished runs), ``failed``,
    then ``<metric>_mean`` and ``<metric>_std`` over the finished runs, ``<metric>_floor``
    (the real test images' value, `gankit.evaluate.protocol`) when the registry has
    ``real_test.<metric>``, and the mean ``train_seconds``. Sorted by ``by``.

    Args:
      by: columns that identify a configuration; default: one of each `varying_params`
        group (all runs form one row if nothing varies).
      metrics: default: `DEFAULT_METRICS` present in ``df``.

    Raises:
      ValueError: an unknown column, or no runs.
    """
    df = _check_frame(df)
    if df.empty:
        raise ValueError("the registry has no runs yet: run `gankit sweep` or `gankit train`")
    by = _group_keys(df, by)
    metrics = present_metrics(df, metrics)
    rows = []
    groups = df.groupby(by, dropna=False, sort=True) if by else [((), df)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        ok = part[part["status"] == "ok"]
        row = dict(zip(by, key, strict=True))
        row["seeds"] = len(ok)
        row["failed"] = int((part["status"] == "failed").sum())
        for metric in metrics:
            values = pd.to_numeric(ok[metric], errors="coerce").dropna()
            row[f"{metric}_mean"] = values.mean() if len(values) else np.nan
            row[f"{metric}_std"] = values.std(ddof=1) if len(values) > 1 else np.nan
            floor = _floor(ok, metric)
            if floor is not None:
                row[f"{metric}_floor"] = floor
        if "train_seconds" in ok:
            row["train_seconds"] = pd.to_numeric(ok["train_seconds"], errors="coerce").mean()
        rows.append(row)
    return pd.DataFrame(rows)


def _floor(runs: pd.DataFrame, metric: str) -> float | None:
    """Mean of ``real_test.<metric>`` (the real floor each evaluation reports beside the
    generated value) over ``runs``; None when the registry has no such column."""
    column = f"real_test.{metric}"
    if column not in runs:
        return None
    values = pd.to_numeric(runs[column], errors="coerce").dropna()
    return float(values.mean()) if len(values) else np.nan


def _header(df: pd.DataFrame, column: str) -> str:
    """A ``by`` column's header: linked fields joined, e.g. 'train.g_lr = train.d_lr'."""
    for group in varying_params(df):
        if group[0] == column:
            return " = ".join(group)
    return column


def decimals_for(values: Sequence[float], significant: int = 4) -> int:
    """Decimals that give a typical (median) |value| about ``significant`` digits, 0 to 4:
    1444.1 -> 0, 7.812 -> 3, 0.0421 -> 4."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    if not finite:
        return 3
    magnitude = math.floor(math.log10(float(np.median(finite))))
    return int(min(4, max(0, significant - 1 - magnitude)))


def _parameter_text(value: object) -> str:
    # Parameters are printed as given (1e-4, not 0.000), whatever the float format.
    return f"{value:g}" if isinstance(value, float) else str(value)


def format_summary(
    summary: pd.DataFrame, df: pd.DataFrame, *, digits: int | None = None
) -> pd.DataFrame:
    """`summarise`'s table for reading: parameters as given, metrics as 'mean ± std' (with
    ``digits`` decimals; default per metric, by `decimals_for`), linked parameters named
    together, ``failed`` only if a run failed, each metric's real floor beside it (column
    ``<metric> floor``) when known, seconds as whole numbers."""
    metrics = [c[: -len("_mean")] for c in summary.columns if c.endswith("_mean")]
    by = list(summary.columns[: summary.columns.get_loc("seeds")])
    out = pd.DataFrame({_header(df, c): summary[c].map(_parameter_text) for c in by})
    out["seeds"] = summary["seeds"]
    if summary["failed"].any():
        out["failed"] = summary["failed"]
    for metric in metrics:
        means, stds = summary[f"{metric}_mean"], summary[f"{metric}_std"]
        places = decimals_for(list(means)) if digits is None else digits
        out[metric] = [format_mean_std(m, s, places) for m, s in zip(means, stds, strict=True)]
        if f"{metric}_floor" in summary:
            out[f"{metric} floor"] = [f"{v:.{places}f}" for v in summary[f"{metric}_floor"]]
    if "train_seconds" in summary:
        out["train s"] = summary["train_seconds"].round(0).astype("Int64")
    return out


def runs_table(
    df: pd.DataFrame, *, by: Sequence[str] | None = None, metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per run (every seed): ``by`` columns, seed, status, metrics, seconds, error."""
    df = _check_frame(df)
    by = _group_keys(df, by)
    metrics = present_metrics(df, metrics)
    columns = [*by, "seed", "status", *metrics, "train_seconds", "wall_seconds", "error"]
    table = df[[c for c in columns if c in df.columns]]
    return table.sort_values([*by, "seed"]).reset_index(drop=True)


def write_sweep_tables(
    df: pd.DataFrame,
    stem: str | os.PathLike[str],
    *,
    by: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    caption: str | None = None,
    label: str | None = None,
    digits: int | None = None,
) -> dict[str, Path]:
    """Writes the summary (``stem.md``/``.tex`` as 'mean ± std', ``stem.csv`` with mean and
    std as numbers) and every run (``stem_runs.csv/.md/.tex``). Returns paths by name
    (``md``, ``tex``, ``csv``, ``runs_md``, ...).

    Raises:
      ValueError: an unknown column, or no runs.
    """
    summary = summarise(df, by=by, metrics=metrics)
    n_seeds = int(summary["seeds"].max()) if len(summary) else 0
    caption = caption or (
        f"Mean ± standard deviation over {n_seeds} seed{'s' * (n_seeds != 1)} per configuration."
    )
    paths = write_table(
        format_summary(summary, df, digits=digits), stem, caption=caption, label=label
    )
    # The csv is for re-analysis: numbers, not "mean ± std" text.
    with atomic_write(paths["csv"]) as f:
        summary.to_csv(f, index=False, lineterminator="\n")
    runs = write_table(
        runs_table(df, by=by, metrics=metrics),
        f"{os.fspath(stem)}_runs",
        caption="Every run of the sweep.",
    )
    return {**paths, **{f"runs_{k}": v for k, v in runs.items()}}


def _x_positions(values: pd.Series) -> tuple[np.ndarray, list[str] | None, bool]:
    """Numeric x (and log scale if positive values span 10x or more), or category slots."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        x = numeric.to_numpy(float)
        log = bool((x > 0).all() and x.max() / x.min() >= 10)
        return x, None, log
    categories = sorted(values.astype(str).unique())
    return values.astype(str).map(categories.index).to_numpy(float), categories, False


def plot_metric_vs_param(
    df: pd.DataFrame,
    param: str,
    metric: str,
    *,
    hue: str | None = None,
    title: str | None = None,
) -> Figure:
    """``metric`` (mean over seeds, error bars: std) against ``param``, one line per value of
    ``hue``. Only finished runs count. A log x axis is used when ``param`` spans 10x or more.
    The y axis is named by ``gankit.plots.style.metric_label`` and says what the error bars
    are; the real floor (``real_test.<metric>``), when the registry has it, is a dashed line
    named in the axis label. The legend sits above the axes, under the title.

    Raises:
      ValueError: an unknown column, or no finished run.
    """
    df = _check_frame(df)
    _check_columns(df, [param, metric] + ([hue] if hue else []), "columns")
    ok = df[df["status"] == "ok"].copy()
    ok[metric] = pd.to_numeric(ok[metric], errors="coerce")
    ok = ok.dropna(subset=[metric])
    if ok.empty:
        raise ValueError(f"no finished run has a value of {metric!r}")
    x_all, categories, log = _x_positions(ok[param])
    ok["_x"] = x_all
    lines = [(None, ok)] if hue is None else list(ok.groupby(hue, sort=True))
    with house_style():
        height = 2.4 + 0.17 * title_lines(title, COLUMN_WIDTH_IN) + (0.35 if hue else 0.0)
        fig = Figure(figsize=(COLUMN_WIDTH_IN, height), layout="constrained")
        ax = fig.add_subplot()
        for i, (value, part) in enumerate(lines):
            stats = part.groupby("_x")[metric].agg(["mean", "std", "count"]).sort_index()
            ax.errorbar(
                stats.index,
                stats["mean"],
                yerr=stats["std"].fillna(0.0),
                label=None if hue is None else f"{value}",
                color=RUN_COLORS[i % len(RUN_COLORS)],
                marker=_MARKERS[i % len(_MARKERS)],
                capsize=2.5,
                elinewidth=0.8,
            )
        if log:
            ax.set_xscale("log")
        x_ticks = np.unique(x_all)
        ax.set_xticks(x_ticks, categories or [f"{v:g}" for v in x_ticks])
        ax.minorticks_off()
        ax.set_xlabel(_header(df, param))
        ylabel = metric_label(metric)
        floor = _floor(ok, metric)
        if floor is not None and np.isfinite(floor):
            ax.axhline(floor, color=COLORS["chance"], linestyle="--", linewidth=0.8, zorder=0)
            ylabel = f"{ylabel} (floor {floor:.3g})"
        ax.set_ylabel(f"{ylabel}\n(mean ± std over seeds)")
        if hue is not None:
            ax.legend(
                title=_header(df, hue),
                loc="lower left",
                bbox_to_anchor=(0.0, 1.0),
                ncol=min(len(lines), 4),
                borderaxespad=0.2,
            )
        figure_title(fig, title)
    return fig


def write_sweep_report(
    df: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    by: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    stem: str = "sweep",
    caption: str | None = None,
) -> dict[str, Path]:
    """The tables of `write_sweep_tables` as ``out_dir/<stem>.*`` and, per metric, a plot
    against the first parameter (one line per value of the others) as
    ``out_dir/<stem>_<metric>.png/.pdf``. Returns every written path by name.

    Raises:
      ValueError: an unknown column, or no runs.
    """
    from gankit.plots.style import save_figure

    out_dir = Path(out_dir)
    by = _group_keys(_check_frame(df), by)
    metrics = present_metrics(df, metrics)
    paths = write_sweep_tables(df, out_dir / stem, by=by, metrics=metrics, caption=caption)
    if not by or not (df["status"] == "ok").any():
        return paths  # nothing to plot against, or nothing finished
    hue = by[1] if len(by) > 1 else None
    if len(by) > 2:  # one line per combination of the other parameters
        hue = ", ".join(by[1:])
        df = df.assign(**{hue: df[by[1:]].astype(str).agg(", ".join, axis=1)})
    for metric in metrics:
        if pd.to_numeric(df[metric], errors="coerce").notna().any():
            fig = plot_metric_vs_param(df, by[0], metric, hue=hue)
            for path in save_figure(fig, out_dir / f"{stem}_{metric}"):
                paths[f"{metric}_{path.suffix[1:]}"] = path
    return paths
