"""Report figures of training curves: one run's losses and D accuracy, or runs compared.

Histories are what the trainers return and write (``history.csv``, ``steps.csv``): a
DataFrame, dict of lists, list of dicts or Keras ``History``, one row per epoch or step.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from gankit.checks import positive_int as check_positive_int
from gankit.plots.style import (
    COLORS,
    COLUMN_WIDTH_IN,
    RUN_COLORS,
    RUN_LINESTYLES,
    figure_title,
    legend_above,
    metric_label,
    new_figure,
    styled,
    title_lines,
    wrap_text,
)

__all__ = [
    "history_frame",
    "integer_ticks_if_whole",
    "numeric_column",
    "plot_histories",
    "plot_history",
]

# (column, legend label, colour) for the two panels of plot_history.
_LOSS_LINES = (
    ("d_loss_real", "D (real)", COLORS["real"]),
    ("d_loss_fake", "D (fake)", COLORS["fake"]),
    ("d_loss", "D (total)", COLORS["d"]),
    ("g_loss", "G", COLORS["g"]),
)
_ACC_LINES = (
    ("d_acc_real", "real", COLORS["real"]),
    ("d_acc_fake", "fake", COLORS["fake"]),
)
_MARKERS_UP_TO = 30  # draw point markers on short (per-epoch) curves only


def history_frame(history: Any, what: str = "history") -> pd.DataFrame:
    """DataFrame from a DataFrame, dict of lists, list of dicts or Keras ``History``.

    ``what`` names the argument in error messages.
    """
    if isinstance(history, pd.DataFrame):
        df = history
    elif isinstance(getattr(history, "history", None), Mapping):  # keras.callbacks.History
        df = pd.DataFrame(dict(history.history))
    elif isinstance(history, Mapping):
        try:
            df = pd.DataFrame(dict(history))
        except ValueError as err:
            raise ValueError(f"{what} columns must all have the same length ({err})") from err
    elif isinstance(history, Sequence) and all(isinstance(r, Mapping) for r in history):
        df = pd.DataFrame(list(history))
    else:
        raise TypeError(
            f"{what} must be a pandas DataFrame, a dict of lists or a list of dicts, "
            f"got {type(history).__name__}"
        )
    if len(df) == 0:
        raise ValueError(f"{what} is empty: pass at least one row")
    return df


def numeric_column(df: pd.DataFrame, column: str) -> np.ndarray:
    try:
        return pd.to_numeric(df[column]).to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError) as err:
        raise ValueError(f"column {column!r} must hold numbers ({err})") from err


def _x_axis(df: pd.DataFrame) -> tuple[np.ndarray, str]:
    """x values and label: ``epoch`` if it increases every row (per-epoch logs, or
    fractional epochs like 1.25 in per-step logs), else ``step``, else the row number."""
    if "epoch" in df.columns:
        epoch = numeric_column(df, "epoch")
        if len(epoch) == 1 or np.all(np.diff(epoch) > 0):
            return epoch, "epoch"
    if "step" in df.columns:
        return numeric_column(df, "step"), "step"
    if "epoch" in df.columns:  # integer epoch repeated on per-step rows: count the rows
        return np.arange(len(df), dtype=float), "step"
    return np.arange(1, len(df) + 1, dtype=float), "epoch"  # e.g. Keras History: row = epoch


def _check_smooth(smooth: int | None) -> int:
    return 1 if smooth is None else check_positive_int(smooth, "smooth")


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average; the ends average over the points that exist."""
    return pd.Series(values).rolling(window, min_periods=1, center=True).mean().to_numpy()


def _plot_curve(
    ax: Axes,
    x: np.ndarray,
    y: np.ndarray,
    *,
    color: str,
    label: str,
    smooth: int,
    linestyle: str = "-",
) -> None:
    """One curve; with ``smooth > 1`` the raw values are drawn faint behind the average."""
    keep = np.isfinite(x) & np.isfinite(y)  # per-epoch columns in per-step logs have gaps
    x, y = x[keep], y[keep]
    if len(x) == 0:
        return
    if smooth > 1 and len(y) > 1:
        ax.plot(x, y, color=color, alpha=0.25, linewidth=0.6, linestyle=linestyle)
        ax.plot(x, _moving_average(y, smooth), color=color, label=label, linestyle=linestyle)
    else:
        marker = "o" if len(x) <= _MARKERS_UP_TO else None
        ax.plot(x, y, color=color, label=label, linestyle=linestyle, marker=marker)


def integer_ticks_if_whole(ax: Axes, x: np.ndarray) -> None:
    """Per-epoch logs: ticks 1, 2, 3 rather than 1.0, 1.5, 2.0."""
    finite = x[np.isfinite(x)]
    if len(finite) and np.all(finite == np.round(finite)):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _style_accuracy_axis(ax: Axes) -> None:
    ax.axhline(0.5, color=COLORS["chance"], linestyle="--", linewidth=0.8, zorder=0)
    ax.set_ylim(-0.03, 1.03)  # a little room so curves at exactly 0 or 1 stay visible
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1])


@styled
def plot_history(history: Any, *, title: str | None = None, smooth: int | None = None) -> Figure:
    """Training curves: losses on top, D accuracy on real and fake below.

    Args:
        history: DataFrame, dict of lists or list of dicts with any of ``epoch`` or
            ``step``, ``d_loss_real``, ``d_loss_fake``, ``d_loss``, ``g_loss``,
            ``d_acc_real``, ``d_acc_fake``; missing columns are skipped (a panel with no
            columns is left out). The x axis is ``epoch`` when it increases every row
            (so fractional epochs such as 1.25 in per-step logs work), else ``step``.
        title: figure title.
        smooth: moving-average window in rows for noisy per-step logs; the raw curve is
            drawn faint behind.

    Returns:
        One-column figure with 1 or 2 axes sharing x.

    Raises:
        ValueError: none of the loss/accuracy columns is present, or a column is not numeric.
    """
    df = history_frame(history)
    smooth = _check_smooth(smooth)
    panels = [
        (lines, ylabel)
        for lines, ylabel in ((_LOSS_LINES, "loss"), (_ACC_LINES, "D accuracy"))
        if any(column in df.columns for column, _, _ in lines)
    ]
    if not panels:
        expected = ", ".join(c for c, _, _ in (*_LOSS_LINES, *_ACC_LINES))
        raise ValueError(f"history has none of the columns {expected}; got {list(df.columns)}")
    x, xlabel = _x_axis(df)
    fig = new_figure(
        COLUMN_WIDTH_IN, 0.4 + 1.7 * len(panels) + 0.17 * title_lines(title, COLUMN_WIDTH_IN)
    )
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (lines, ylabel) in zip(axes, panels, strict=True):
        for column, label, color in lines:
            if column in df.columns:
                y = numeric_column(df, column)
                _plot_curve(ax, x, y, color=color, label=label, smooth=smooth)
        if lines is _ACC_LINES:
            _style_accuracy_axis(ax)
        ax.set_ylabel(ylabel)
        legend_above(ax)
    axes[-1].set_xlabel(xlabel)
    integer_ticks_if_whole(axes[-1], x)
    figure_title(fig, title)
    return fig


@styled
def plot_histories(
    histories: Mapping[str, Any],
    column: str,
    *,
    title: str | None = None,
    smooth: int | None = None,
    ylabel: str | None = None,
    log_y: bool = False,
) -> Figure:
    """One curve of ``column`` per run, to compare configurations.

    Args:
        histories: ``{run name: history}``, each history as for ``plot_history``.
        column: e.g. ``"g_loss"`` or ``"d_acc_fake"`` (accuracy gets a [0, 1] axis); the
            y axis is named by ``style.metric_label(column)``.
        smooth: moving-average window in rows.
        ylabel: the y axis label instead, e.g. to say that a metric is the per-epoch
            meter: ``"FID (per-epoch meter, 1,000 samples)"``.
        log_y: a logarithmic y axis, for a column whose runs differ by orders of magnitude
            (e.g. ``"g_grad_norm"``); its values must be > 0.

    Runs without ``column`` are skipped with a warning.

    Raises:
        ValueError: no run has ``column``, runs disagree on epoch vs step for x, or
            ``log_y`` with a value <= 0.
    """
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError("histories must be a non-empty dict {run name: history}")
    smooth = _check_smooth(smooth)
    curves = []
    for name, history in histories.items():
        df = history_frame(history)
        if column not in df.columns:
            warnings.warn(f"run {name!r} has no column {column!r}; skipped", stacklevel=3)
            continue
        x, xlabel = _x_axis(df)
        curves.append((str(name), x, numeric_column(df, column), xlabel))
    if not curves:
        raise ValueError(f"no run has the column {column!r}")
    xlabels = {c[3] for c in curves}
    if len(xlabels) > 1:
        raise ValueError(
            f"runs use different x axes {sorted(xlabels)}; log the same `epoch` or `step` "
            "column in every run"
        )
    legend_rows = math.ceil(len(curves) / 2)
    fig = new_figure(
        COLUMN_WIDTH_IN, 2.2 + 0.17 * (legend_rows + title_lines(title, COLUMN_WIDTH_IN))
    )
    ax = fig.add_subplot()
    for i, (name, x, y, _) in enumerate(curves):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        linestyle = RUN_LINESTYLES[(i // len(RUN_COLORS)) % len(RUN_LINESTYLES)]
        _plot_curve(ax, x, y, color=color, label=name, smooth=smooth, linestyle=linestyle)
    if column.startswith("d_acc"):
        _style_accuracy_axis(ax)
    if log_y:
        if any(np.nanmin(np.asarray(c[2], float)) <= 0 for c in curves):
            raise ValueError(f"log_y needs {column!r} > 0 in every run; use log_y=False")
        ax.set_yscale("log")
    ax.set_xlabel(curves[0][3])
    integer_ticks_if_whole(ax, np.concatenate([c[1] for c in curves]))
    # A long label (a per-epoch meter's) wraps to the axes' height instead of leaving the figure.
    label = metric_label(column) if ylabel is None else ylabel
    ax.set_ylabel(wrap_text(label, 0.6 * fig.get_figheight(), float(rcParams["axes.labelsize"])))
    # Run names are long: two columns below the axes, where they never squeeze the plot.
    fig.legend(loc="outside lower center", ncols=min(2, len(curves)), frameon=False)
    figure_title(fig, title)
    return fig
