"""Report figures of bar charts: a metric per run, and class fractions per run.

Tables are DataFrames or lists of dicts, one row per run (``gankit.report`` builds them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from gankit.plots.curves import history_frame, numeric_column
from gankit.plots.style import (
    COLORS,
    COLUMN_WIDTH_IN,
    RUN_COLORS,
    error_label_for,
    figure_title,
    legend_above,
    metric_label,
    new_figure,
    styled,
    title_lines,
)

__all__ = ["plot_class_fractions", "plot_metric_bars"]


@styled
def plot_metric_bars(
    table: pd.DataFrame | Sequence[Mapping[str, Any]],
    metric: str,
    *,
    label_col: str = "run",
    err_col: str | None = None,
    title: str | None = None,
    error_label: str | None = None,
    floor: float | None = None,
) -> Figure:
    """Horizontal bars of ``metric`` per row of ``table``, first row on top, values printed.

    The x axis is named by ``metric_label(metric)``; with error bars a second line says
    what they are. The title spans the figure, wrapped to its width.

    Args:
        table: DataFrame or list of dicts, one row per run.
        metric: numeric column to plot (e.g. ``"fid"``); missing values print "n/a".
        label_col: column naming each bar.
        err_col: optional column of error-bar half-widths (e.g. std over seeds).
        error_label: what the error bars are, e.g. ``"± std over 3 seeds"``; default
            from ``style.ERROR_LABELS`` (``inception_score_std``: "± std over 10 splits").
        floor: the metric of real images against the real reference at the same sample
            count (e.g. FID's floor): a dashed line, and "(floor 5.1)" in the axis label.

    Raises:
        ValueError: a named column is missing or not numeric.
    """
    df = history_frame(table, what="table")
    for name in (metric, label_col, err_col):
        if name is not None and name not in df.columns:
            raise ValueError(f"table has no column {name!r}; columns are {list(df.columns)}")
    values = numeric_column(df, metric)
    errors = numeric_column(df, err_col) if err_col else None
    labels = [str(v) for v in df[label_col]]
    y = np.arange(len(df))
    if errors is not None and error_label is None:
        error_label = error_label_for(err_col)
    height = 0.6 + 0.28 * len(df) + 0.17 * title_lines(title, COLUMN_WIDTH_IN)
    fig = new_figure(COLUMN_WIDTH_IN, height + (0.15 if errors is not None else 0.0))
    ax = fig.add_subplot()
    ax.barh(
        y,
        np.nan_to_num(values),
        xerr=None if errors is None else np.nan_to_num(errors),
        color=COLORS["bar"],
        edgecolor="none",
        height=0.65,
        error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"},
    )
    ax.set_yticks(y, labels)
    ax.invert_yaxis()  # first row of the table at the top
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    _annotate_bars(ax, y, values, errors)
    xlabel = metric_label(metric)
    if floor is not None:
        ax.axvline(floor, color=COLORS["chance"], linestyle="--", linewidth=0.8, zorder=0)
        xlabel = f"{xlabel} (floor {_short_number(floor)})"
    ax.set_xlabel(xlabel if errors is None else f"{xlabel}\n(error bars: {error_label})")
    figure_title(fig, title)
    return fig


@styled
def plot_class_fractions(fractions: Mapping[str, ArrayLike], *, title: str | None = None) -> Figure:
    """Grouped bars of the fraction of samples per predicted class, one group per digit.

    The mode-collapse picture for unconditional GANs: real data sits near 0.1 everywhere
    (dashed line); a collapsed generator piles its samples into a few classes. The legend
    sits between the axes and the figure title.

    Args:
        fractions: {run label: (C,) fractions summing to 1} (e.g. class_coverage output).

    Raises:
        ValueError: no runs, or runs with different class counts.
    """
    if not fractions:
        raise ValueError("fractions is empty; pass {label: per-class fractions}")
    arrays = {k: np.asarray(v, dtype=float) for k, v in fractions.items()}
    n_classes = {a.shape for a in arrays.values()}
    if len(n_classes) != 1 or len(next(iter(n_classes))) != 1:
        raise ValueError(f"every entry must be a 1-D array of the same length, got {n_classes}")
    c = len(next(iter(arrays.values())))
    fig = new_figure(COLUMN_WIDTH_IN, 2.0 + 0.17 * title_lines(title, COLUMN_WIDTH_IN))
    ax = fig.add_subplot()
    width = 0.8 / len(arrays)
    for i, (label, values) in enumerate(arrays.items()):
        ax.bar(
            np.arange(c) + (i - (len(arrays) - 1) / 2) * width,
            values,
            width,
            label=label,
            color=RUN_COLORS[i % len(RUN_COLORS)],
            edgecolor="none",
        )
    ax.axhline(1.0 / c, color=COLORS["chance"], linestyle="--", linewidth=0.8)
    ax.set_xticks(np.arange(c))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("fraction of samples")
    ax.grid(axis="x", visible=False)
    legend_above(ax)
    figure_title(fig, title)  # above the legend, which sits above the axes
    return fig


def _short_number(value: float) -> str:
    """3 significant digits, without switching to 1.23e+03 for large values."""
    if abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _annotate_bars(ax: Axes, y: np.ndarray, values: np.ndarray, errors: np.ndarray | None) -> None:
    """Print each value just past its bar (and error bar); widen x so the text fits."""
    reach = np.abs(np.nan_to_num(values))
    if errors is not None:
        reach = reach + np.abs(np.nan_to_num(errors))
    span = float(reach.max()) if reach.max() > 0 else 1.0
    offset = 0.02 * span
    for yi, v, r in zip(y, values, reach, strict=True):
        if not np.isfinite(v):
            ax.text(offset, yi, "n/a", va="center", ha="left")
        elif v < 0:
            ax.text(-(r + offset), yi, _short_number(v), va="center", ha="right")
        else:
            ax.text(r + offset, yi, _short_number(v), va="center", ha="left")
    # Room for the labels: about 18 % of the longest bar on the side(s) bars point to.
    low, high = ax.get_xlim()
    if np.any(values < 0):
        low = min(low, -1.18 * span)
    if not np.all(values < 0):
        high = max(high, 1.18 * span)
    ax.set_xlim(low, high)
