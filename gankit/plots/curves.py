"""Report figures for the coursework, all in one house style.

Figures are matplotlib ``Figure`` objects (``plot_*``), saved with ``save_figure`` as
PNG + PDF. Every ``plot_*`` function draws inside ``house_style()`` (IEEE column sizes,
8-9 pt fonts, no top/right spines, constrained layout, one colour per quantity). Sample
grids as plain PNG/GIF files, written during training, are in ``gankit.plots.grids``.

Figures are built with ``matplotlib.figure.Figure`` directly, not pyplot: nothing is
registered globally, so they work headless and never pile up in long runs. In a notebook,
show one by leaving it as the cell's last expression or with ``display(fig)``.

Images are MNIST-like arrays of shape ``(N, H, W)`` or ``(N, H, W, 1)``: either float in
[-1, 1] (generator output, ``tanh``) or uint8 in [0, 255]; the dtype tells which.
"""

from __future__ import annotations

import functools
import math
import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike
from PIL import Image

from gankit.checks import positive_int as check_positive_int
from gankit.io import atomic_write
from gankit.plots.grids import image_grid, images_to_uint8

__all__ = [
    "COLORS",
    "COLUMN_WIDTH_IN",
    "FULL_WIDTH_IN",
    "HOUSE_RC",
    "house_style",
    "plot_class_fractions",
    "plot_epoch_grids",
    "plot_histories",
    "plot_history",
    "plot_image_grid",
    "plot_metric_bars",
    "save_figure",
]

COLUMN_WIDTH_IN = 3.5  # IEEE two-column layout: one column
FULL_WIDTH_IN = 7.16  # IEEE two-column layout: both columns (figure*)

# Okabe-Ito colours: distinct for colour-blind readers and in greyscale print.
COLORS: Mapping[str, str] = MappingProxyType(
    {
        "real": "#0072B2",  # blue: anything measured on real images
        "fake": "#D55E00",  # vermillion: anything measured on generated images
        "d": "#000000",  # black: discriminator total
        "g": "#009E73",  # green: generator
        "bar": "#56B4E9",  # sky blue: metric bars
        "chance": "#888888",  # grey: reference lines
    }
)
_RUN_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_RUN_LINESTYLES = ("-", "--", ":", "-.")

HOUSE_RC: Mapping[str, Any] = MappingProxyType(
    {
        "font.size": 8,
        "axes.titlesize": 9,
        "axes.labelsize": 8,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
        "figure.titlesize": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.linewidth": 0.6,
        "axes.grid": True,
        "grid.linewidth": 0.4,
        "grid.alpha": 0.35,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.major.size": 2.5,
        "ytick.major.size": 2.5,
        "lines.linewidth": 1.1,
        "lines.markersize": 3,
        "legend.frameon": False,
        "legend.handlelength": 1.6,
        "legend.columnspacing": 1.0,
        "figure.constrained_layout.use": True,
        "figure.dpi": 100,
        "image.cmap": "gray",
        "image.interpolation": "none",
        # TrueType fonts in PDF/PS: required by IEEE PDF eXpress (no Type 3 fonts).
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "savefig.bbox": None,
    }
)

_HISTORY_LABELS = MappingProxyType(
    {
        "d_loss_real": "D loss (real)",
        "d_loss_fake": "D loss (fake)",
        "d_loss": "D loss",
        "g_loss": "G loss",
        "d_acc_real": "D accuracy (real)",
        "d_acc_fake": "D accuracy (fake)",
    }
)
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

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def house_style() -> Iterator[None]:
    """Context in which matplotlib uses the house style (``HOUSE_RC``).

    Every ``plot_*`` function and ``save_figure`` already use it; use it yourself for a
    custom figure::

        with house_style():
            fig = Figure(figsize=(COLUMN_WIDTH_IN, 2.2))
            ...

    Global ``rcParams`` are restored on exit.
    """
    with rc_context(dict(HOUSE_RC)):
        yield


def _styled(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` inside ``house_style()`` (fonts, spines, layout are read at creation)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with house_style():
            return func(*args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------------------
# Image figures
# --------------------------------------------------------------------------------------
def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _root_figure(ax: Axes) -> Figure:
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    return figure


_PDF_IMAGE_MIN_PIXELS = 1200  # embed grids at least this wide/tall: sharp in any PDF viewer


def _show_grid(ax: Axes, grid: np.ndarray) -> None:
    """Show a uint8 grid with axes in grid pixel units, no ticks, no frame."""
    # interpolation="none" puts the pixels into the PDF as they are, but many viewers then
    # smooth them when zooming; enlarging first (nearest) keeps the digits crisp everywhere.
    factor = max(1, math.ceil(_PDF_IMAGE_MIN_PIXELS / max(grid.shape)))
    sharp = np.repeat(np.repeat(grid, factor, axis=0), factor, axis=1)
    h, w = grid.shape
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)  # keep coordinates in original pixels
    ax.imshow(sharp, cmap="gray", vmin=0, vmax=255, interpolation="none", extent=extent)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


@_styled
def plot_image_grid(
    images: ArrayLike,
    *,
    ncol: int | None = None,
    title: str | None = None,
    row_labels: Sequence[object] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Figure of a sample grid, one column wide (or drawn into ``ax``).

    Args:
        images: see ``gankit.plots.grids.images_to_uint8``.
        ncol: tiles per row; default ``ceil(sqrt(N))``, or ``N // len(row_labels)``.
        title: axes title.
        row_labels: one label per row, shown down the left side; for per-class grids pass
            images ordered class by class and ``row_labels=range(10)``.
        ax: draw here instead of in a new figure.

    Returns:
        The figure that holds the axes.

    Raises:
        ValueError: ``row_labels`` does not match the number of rows.
    """
    tiles = images_to_uint8(images)
    n, h = tiles.shape[:2]
    if row_labels is not None:
        row_labels = [str(label) for label in row_labels]
        if not row_labels:
            raise ValueError("row_labels is empty: pass one label per row, or None")
        if ncol is None:
            if n % len(row_labels):
                raise ValueError(
                    f"{n} images do not split evenly into {len(row_labels)} rows; pass ncol"
                )
            ncol = n // len(row_labels)
    pad = 2
    grid = image_grid(tiles, ncol=ncol, pad=pad)
    if row_labels is not None:
        nrow = (grid.shape[0] - pad) // (h + pad)
        if len(row_labels) != nrow:
            raise ValueError(
                f"row_labels has {len(row_labels)} labels but the grid has {nrow} rows"
            )
    if ax is None:
        label_margin = 0.2 if row_labels is not None else 0.0  # inches taken by the labels
        image_width = COLUMN_WIDTH_IN - label_margin
        height = image_width * grid.shape[0] / grid.shape[1] + (0.25 if title else 0.05)
        fig = _new_figure(COLUMN_WIDTH_IN, height)
        ax = fig.add_subplot()
    _show_grid(ax, grid)
    if row_labels is not None:
        centres = [pad + i * (h + pad) + (h - 1) / 2 for i in range(len(row_labels))]
        ax.set_yticks(centres, row_labels)
        ax.tick_params(axis="y", length=0, pad=2)
    if title:
        ax.set_title(title)
    return _root_figure(ax)


def _load_png_grey(path: str | os.PathLike[str]) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("L"))


def _epoch_from_name(path: str | os.PathLike[str]) -> int | None:
    """Last number in the file name: ``samples_epoch_012.png`` -> 12."""
    numbers_in_name = re.findall(r"\d+", Path(path).stem)
    return int(numbers_in_name[-1]) if numbers_in_name else None


def _epoch_panels(
    grids: Mapping[int, Any] | Sequence[str | os.PathLike[str]], ncol: int | None
) -> list[tuple[str, np.ndarray]]:
    """(title, uint8 grid) per panel, in epoch order."""
    if isinstance(grids, Mapping):
        items = sorted(grids.items(), key=lambda kv: kv[0])
        panels = []
        for epoch, value in items:
            if isinstance(value, str | os.PathLike):
                grid = _load_png_grey(value)
            else:
                grid = image_grid(value, ncol=ncol)
            panels.append((f"epoch {epoch}", grid))
        return panels
    if isinstance(grids, str | os.PathLike) or not isinstance(grids, Sequence):
        raise TypeError("grids must be a dict {epoch: images} or a list of PNG paths")
    epochs = [_epoch_from_name(p) for p in grids]
    order = list(range(len(grids)))
    if all(e is not None for e in epochs):  # "epoch_10" must come after "epoch_2"
        order.sort(key=lambda i: epochs[i])
    return [
        (
            f"epoch {epochs[i]}" if epochs[i] is not None else Path(grids[i]).stem,
            _load_png_grey(grids[i]),
        )
        for i in order
    ]


@_styled
def plot_epoch_grids(
    grids: Mapping[int, Any] | Sequence[str | os.PathLike[str]],
    *,
    ncol: int | None = None,
    panels_per_row: int | None = None,
    title: str | None = None,
) -> Figure:
    """Sample grids at several epochs side by side, epoch as each panel's title.

    Args:
        grids: ``{epoch: images}`` (arrays as for ``gankit.plots.grids.image_grid``, or PNG
            paths), or a list of PNG grid files whose names end in the epoch
            (``epoch_005.png``).
        ncol: tiles per row inside each grid made from arrays.
        panels_per_row: wrap after this many panels; default all in one row.
        title: figure title.

    Returns:
        Figure with one axes per epoch; full page width when there are more than 2.
    """
    panels = _epoch_panels(grids, ncol)
    if not panels:
        raise ValueError("grids is empty: pass at least one epoch")
    n = len(panels)
    per_row = n
    if panels_per_row is not None:
        per_row = min(check_positive_int(panels_per_row, "panels_per_row"), n)
    nrows = math.ceil(n / per_row)
    width = FULL_WIDTH_IN if per_row > 2 else COLUMN_WIDTH_IN
    h, w = panels[0][1].shape
    panel_height = width / per_row * h / w
    fig = _new_figure(width, nrows * (panel_height + 0.16) + (0.25 if title else 0.05))
    for i, (panel_title, grid) in enumerate(panels):
        ax = fig.add_subplot(nrows, per_row, i + 1)
        _show_grid(ax, grid)
        ax.set_title(panel_title, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------------------
# Training curves
# --------------------------------------------------------------------------------------
def _history_frame(history: Any, what: str = "history") -> pd.DataFrame:
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


def _numeric_column(df: pd.DataFrame, column: str) -> np.ndarray:
    try:
        return pd.to_numeric(df[column]).to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError) as err:
        raise ValueError(f"column {column!r} must hold numbers ({err})") from err


def _x_axis(df: pd.DataFrame) -> tuple[np.ndarray, str]:
    """x values and label: ``epoch`` if it increases every row (per-epoch logs, or
    fractional epochs like 1.25 in per-step logs), else ``step``, else the row number."""
    if "epoch" in df.columns:
        epoch = _numeric_column(df, "epoch")
        if len(epoch) == 1 or np.all(np.diff(epoch) > 0):
            return epoch, "epoch"
    if "step" in df.columns:
        return _numeric_column(df, "step"), "step"
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


def _legend_above(ax: Axes, max_columns: int = 4) -> None:
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=min(len(handles), max_columns),
            borderaxespad=0.2,
        )


def _integer_ticks_if_whole(ax: Axes, x: np.ndarray) -> None:
    """Per-epoch logs: ticks 1, 2, 3 rather than 1.0, 1.5, 2.0."""
    finite = x[np.isfinite(x)]
    if len(finite) and np.all(finite == np.round(finite)):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _style_accuracy_axis(ax: Axes) -> None:
    ax.axhline(0.5, color=COLORS["chance"], linestyle="--", linewidth=0.8, zorder=0)
    ax.set_ylim(-0.03, 1.03)  # a little room so curves at exactly 0 or 1 stay visible
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1])


@_styled
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
    df = _history_frame(history)
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
    fig = _new_figure(COLUMN_WIDTH_IN, 0.4 + 1.7 * len(panels))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (lines, ylabel) in zip(axes, panels, strict=True):
        for column, label, color in lines:
            if column in df.columns:
                y = _numeric_column(df, column)
                _plot_curve(ax, x, y, color=color, label=label, smooth=smooth)
        if lines is _ACC_LINES:
            _style_accuracy_axis(ax)
        ax.set_ylabel(ylabel)
        _legend_above(ax)
    axes[-1].set_xlabel(xlabel)
    _integer_ticks_if_whole(axes[-1], x)
    if title:
        fig.suptitle(title)
    return fig


@_styled
def plot_histories(
    histories: Mapping[str, Any],
    column: str,
    *,
    title: str | None = None,
    smooth: int | None = None,
) -> Figure:
    """One curve of ``column`` per run, to compare configurations.

    Args:
        histories: ``{run name: history}``, each history as for ``plot_history``.
        column: e.g. ``"g_loss"`` or ``"d_acc_fake"`` (accuracy gets a [0, 1] axis).
        smooth: moving-average window in rows.

    Runs without ``column`` are skipped with a warning.

    Raises:
        ValueError: no run has ``column``, or runs disagree on epoch vs step for x.
    """
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError("histories must be a non-empty dict {run name: history}")
    smooth = _check_smooth(smooth)
    curves = []
    for name, history in histories.items():
        df = _history_frame(history)
        if column not in df.columns:
            warnings.warn(f"run {name!r} has no column {column!r}; skipped", stacklevel=3)
            continue
        x, xlabel = _x_axis(df)
        curves.append((str(name), x, _numeric_column(df, column), xlabel))
    if not curves:
        raise ValueError(f"no run has the column {column!r}")
    xlabels = {c[3] for c in curves}
    if len(xlabels) > 1:
        raise ValueError(
            f"runs use different x axes {sorted(xlabels)}; log the same `epoch` or `step` "
            "column in every run"
        )
    legend_rows = math.ceil(len(curves) / 2)
    fig = _new_figure(COLUMN_WIDTH_IN, 2.2 + 0.17 * legend_rows)
    ax = fig.add_subplot()
    for i, (name, x, y, _) in enumerate(curves):
        color = _RUN_COLORS[i % len(_RUN_COLORS)]
        linestyle = _RUN_LINESTYLES[(i // len(_RUN_COLORS)) % len(_RUN_LINESTYLES)]
        _plot_curve(ax, x, y, color=color, label=name, smooth=smooth, linestyle=linestyle)
    if column.startswith("d_acc"):
        _style_accuracy_axis(ax)
    ax.set_xlabel(curves[0][3])
    _integer_ticks_if_whole(ax, np.concatenate([c[1] for c in curves]))
    ax.set_ylabel(_HISTORY_LABELS.get(column, column))
    # Run names are long: two columns below the axes, where they never squeeze the plot.
    fig.legend(loc="outside lower center", ncols=min(2, len(curves)), frameon=False)
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------------------
# Metric bars
# --------------------------------------------------------------------------------------
@_styled
def plot_metric_bars(
    table: pd.DataFrame | Sequence[Mapping[str, Any]],
    metric: str,
    *,
    label_col: str = "run",
    err_col: str | None = None,
    title: str | None = None,
) -> Figure:
    """Horizontal bars of ``metric`` per row of ``table``, first row on top, values printed.

    Args:
        table: DataFrame or list of dicts, one row per run.
        metric: numeric column to plot (e.g. ``"fid"``); missing values print "n/a".
        label_col: column naming each bar.
        err_col: optional column of error-bar half-widths (e.g. std over seeds).

    Raises:
        ValueError: a named column is missing or not numeric.
    """
    df = _history_frame(table, what="table")
    for name in (metric, label_col, err_col):
        if name is not None and name not in df.columns:
            raise ValueError(f"table has no column {name!r}; columns are {list(df.columns)}")
    values = _numeric_column(df, metric)
    errors = _numeric_column(df, err_col) if err_col else None
    labels = [str(v) for v in df[label_col]]
    y = np.arange(len(df))
    fig = _new_figure(COLUMN_WIDTH_IN, 0.6 + 0.28 * len(df) + (0.25 if title else 0.0))
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
    ax.set_xlabel(metric)
    if title:
        ax.set_title(title)
    return fig


@_styled
def plot_class_fractions(fractions: Mapping[str, ArrayLike], *, title: str | None = None) -> Figure:
    """Grouped bars of the fraction of samples per predicted class, one group per digit.

    The mode-collapse picture for unconditional GANs: real data sits near 0.1 everywhere
    (dashed line); a collapsed generator piles its samples into a few classes.

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
    fig = _new_figure(COLUMN_WIDTH_IN, 1.9 + (0.25 if title else 0.0))
    ax = fig.add_subplot()
    width = 0.8 / len(arrays)
    for i, (label, values) in enumerate(arrays.items()):
        ax.bar(
            np.arange(c) + (i - (len(arrays) - 1) / 2) * width,
            values,
            width,
            label=label,
            color=_RUN_COLORS[i % len(_RUN_COLORS)],
            edgecolor="none",
        )
    ax.axhline(1.0 / c, color=COLORS["chance"], linestyle="--", linewidth=0.8)
    ax.set_xticks(np.arange(c))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("fraction of samples")
    ax.grid(axis="x", visible=False)
    _legend_above(ax)
    if title:
        ax.set_title(title)
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


# --------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------
_KNOWN_SUFFIXES = {".png", ".pdf", ".svg", ".eps", ".ps", ".jpg", ".jpeg", ".pgf", ".tif", ".tiff"}


def save_figure(
    fig: Figure,
    stem: str | os.PathLike[str],
    formats: Sequence[str] = ("png", "pdf"),
    dpi: int = 150,
    *,
    close: bool = False,
) -> list[Path]:
    """Save ``fig`` as ``stem.png``, ``stem.pdf`` (one file per format), atomically.

    PDFs embed TrueType fonts (``pdf.fonttype`` 42) and carry no creation date, so
    re-running a notebook does not change committed PDFs.

    Args:
        stem: output path without suffix, e.g. ``"figures/dcgan_losses"``; folders are made.
        formats: file formats matplotlib knows (``"png"``, ``"pdf"``, ``"svg"``, ...).
        dpi: resolution of raster output.
        close: also ``plt.close(fig)`` (only matters for pyplot-made figures).

    Returns:
        The written paths, in ``formats`` order.

    Raises:
        ValueError: ``stem`` has a file suffix, or a format is unknown.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    stem_str = os.fspath(stem)
    suffix = Path(stem_str).suffix.lower()
    if suffix in _KNOWN_SUFFIXES:
        raise ValueError(
            f"stem must not have a file suffix, got {stem_str!r}; pass "
            f"{stem_str[: -len(suffix)]!r} and choose formats=..."
        )
    if isinstance(formats, str):
        formats = (formats,)
    supported = fig.canvas.get_supported_filetypes()
    unknown = [f for f in formats if f not in supported]
    if unknown:
        raise ValueError(f"unknown format(s) {unknown}; choose from {sorted(supported)}")
    paths = []
    with house_style():  # pdf.fonttype is read at save time
        for fmt in formats:
            # Append, not with_suffix: a stem like "run_lr0.5" must not lose its ".5".
            path = Path(f"{stem_str}.{fmt}")
            metadata = {"CreationDate": None} if fmt == "pdf" else None
            with atomic_write(path, "wb") as f:
                fig.savefig(f, format=fmt, dpi=dpi, metadata=metadata)
            paths.append(path)
    if close:
        import matplotlib.pyplot as plt  # only here: the rest of the module avoids pyplot

        plt.close(fig)
    return paths
