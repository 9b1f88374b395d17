"""Figures of the Q3 retraining study: test accuracy against the number of real images per
class (a line per strategy), and the accuracy gain over real-only training against the
amount of synthetic images (a line per real-set size).

Same house style as `gankit.plots.style`; every function returns a matplotlib ``Figure``.
They take the per-run results (`gankit.studies.retrain_study.load_results`, one row per run
and seed) and draw the mean over seeds with a band of ± one standard deviation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from gankit.plots.style import (
    COLORS,
    COLUMN_WIDTH_IN,
    RUN_COLORS,
    RUN_LINESTYLES,
    figure_title,
    new_figure,
    styled,
    title_lines,
)

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_HALF_WIDTH_CHARS = 30  # legend labels longer than this take the figure's whole width


def _check_columns(results: pd.DataFrame, columns: Sequence[str]) -> None:
    if not isinstance(results, pd.DataFrame) or results.empty:
        raise ValueError("results must be a non-empty DataFrame, one row per run")
    missing = [c for c in columns if c not in results.columns]
    if missing:
        raise ValueError(f"results have no column(s) {missing}; columns: {list(results.columns)}")


def _line_stats(results: pd.DataFrame, line: str, x: str, value: str) -> list[tuple[Any, Any]]:
    """``[(line value, stats)]`` in order of first appearance; stats has x, mean, std, n
    sorted by x (std 0 where there is one seed)."""
    lines = []
    for key in dict.fromkeys(results[line]):
        runs = results[results[line] == key]
        values = pd.to_numeric(runs[value], errors="coerce")
        xs = pd.to_numeric(runs[x], errors="coerce")
        frame = pd.DataFrame({"x": xs, "v": values}).dropna()
        if frame.empty:
            continue
        stats = frame.groupby("x")["v"].agg(mean="mean", std="std", n="count").reset_index()
        lines.append((key, stats.fillna({"std": 0.0}).sort_values("x")))
    if not lines:
        raise ValueError(f"no run has numbers in both {x!r} and {value!r}")
    return lines


def _draw_lines(ax: Axes, lines: list[tuple[Any, pd.DataFrame]], scale: float, labels) -> None:
    for i, (key, stats) in enumerate(lines):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        linestyle = RUN_LINESTYLES[(i // len(RUN_COLORS)) % len(RUN_LINESTYLES)]
        mean, std = stats["mean"].to_numpy() * scale, stats["std"].to_numpy() * scale
        xs = stats["x"].to_numpy(dtype=np.float64)
        label = labels(key)
        marker = _MARKERS[i % len(_MARKERS)]
        ax.plot(xs, mean, color=color, marker=marker, linestyle=linestyle, label=label)
        if len(xs) > 1:
            ax.fill_between(xs, mean - std, mean + std, color=color, alpha=0.18, linewidth=0)
        else:  # a single point: its spread as an error bar
            ax.errorbar(xs, mean, yerr=std, color=color, capsize=2, linewidth=0.8)


def _log_x(ax: Axes, xs: np.ndarray) -> None:
    """Log x axis with plain-number ticks at the values that occur (1, 10, 100, 590...)."""
    ax.set_xscale("log")
    ticks = np.unique(xs[xs > 0])
    if len(ticks) <= 8:
        ax.set_xticks(ticks)
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


@styled
def plot_accuracy_vs_real(
    results: pd.DataFrame,
    *,
    line: str = "strategy",
    x: str = "real_per_class",
    value: str = "test_accuracy",
    references: Mapping[str, float] | None = None,
    title: str | None = None,
) -> Figure:
    """Test accuracy (%) against real training images per class (log scale), a line per
    value of ``line`` (the strategies), shaded ± one std over seeds.

    Args:
        results: one row per run, with columns ``line``, ``x`` and ``value`` (fractions).
        references: ``{label: accuracy}`` drawn as dashed grey lines, e.g. the reference
            classifier trained on all 60k real images.

    Raises:
        ValueError: empty results or a missing column.
    """
    _check_columns(results, [line, x, value])
    lines = _line_stats(results, line, x, value)
    n_labels = len(lines) + len(references or {})
    extra = 0.17 * title_lines(title, COLUMN_WIDTH_IN) + 0.17 * _spread_shown(lines)
    fig = new_figure(COLUMN_WIDTH_IN, 2.5 + 0.15 * n_labels + extra)
    ax = fig.add_subplot()
    _draw_lines(ax, lines, 100.0, str)
    for i, (label, accuracy) in enumerate((references or {}).items()):
        style = ("--", ":", "-.")[i % 3]
        ax.axhline(100 * accuracy, color=COLORS["chance"], linestyle=style, linewidth=0.8,
                   label=label)  # fmt: skip
    return _finish(fig, ax, lines, "real training images per class", "test accuracy (%)", title)


def _finish(fig: Figure, ax: Axes, lines, xlabel: str, ylabel: str, title: str | None) -> Figure:
    """The common end of the line plots: log x over every line's points, axis labels, the
    legend below, the title."""
    _log_x(ax, np.concatenate([s["x"].to_numpy(dtype=np.float64) for _, s in lines]))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _legend_below(fig, _spread_shown(lines))
    figure_title(fig, title)
    return fig


def _spread_shown(lines: list[tuple[Any, pd.DataFrame]]) -> bool:
    """True when some point has more than one seed, so a band or error bar is drawn."""
    return any((stats["n"] > 1).any() for _, stats in lines)


def _legend_below(fig: Figure, spread: bool) -> None:
    """Legend under the axes: two columns, or one if a label would not fit in half; a
    last entry says what the shading is when there is any."""
    handles, labels = fig.axes[0].get_legend_handles_labels()
    if spread:
        handles.append(Patch(color=COLORS["chance"], alpha=0.35, linewidth=0))
        labels.append("shaded: ± 1 std over seeds")
    ncols = 1 if max(map(len, labels), default=0) > _HALF_WIDTH_CHARS else 2
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, frameon=False)


def _gain_label(n_real: Any) -> str:
    if isinstance(n_real, str):
        return f"{n_real} of the real images"
    return f"{n_real} real / class"


@styled
def plot_gain_vs_synthetic(
    gains: pd.DataFrame,
    *,
    line: str = "n_real",
    x: str = "synth_per_class",
    value: str = "gain",
    title: str | None = None,
) -> Figure:
    """Accuracy gain over real-only training (percentage points) against synthetic
    images per class (log scale), a line per value of ``line`` (the real-set sizes),
    shaded ± one std over seeds; a grey line at 0 (no gain).

    Args:
        gains: one row per run with its ``gain`` (a fraction), as from
            `gankit.studies.retrain_tables.paired_gain` of one strategy.

    Raises:
        ValueError: empty gains or a missing column.
    """
    _check_columns(gains, [line, x, value])
    lines = _line_stats(gains, line, x, value)
    extra = 0.17 * title_lines(title, COLUMN_WIDTH_IN) + 0.17 * _spread_shown(lines)
    fig = new_figure(COLUMN_WIDTH_IN, 2.5 + 0.15 * ((len(lines) + 1) // 2) + extra)
    ax = fig.add_subplot()
    ax.axhline(0.0, color=COLORS["chance"], linestyle="--", linewidth=0.8, zorder=0)
    _draw_lines(ax, lines, 100.0, _gain_label if line == "n_real" else str)
    return _finish(
        fig, ax, lines, "synthetic training images per class", "gain over real only (points)", title
    )
