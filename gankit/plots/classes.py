"""Figures for class-conditional samples: the confusion matrix of asked vs seen class,
per-class success rates, and captioned samples (e.g. the misclassified ones).

Same house style as `gankit.plots.style`; every function returns a matplotlib ``Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from numpy.typing import ArrayLike

from gankit.checks import N_CLASSES
from gankit.data.grids import images_to_uint8
from gankit.plots.style import (
    COLUMN_WIDTH_IN,
    FULL_WIDTH_IN,
    figure_title,
    legend_above,
    new_figure,
    styled,
    title_lines,
)


def _check_confusion(confusion: ArrayLike) -> np.ndarray:
    m = np.asarray(confusion)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 2:
        raise ValueError(f"confusion must be a square (C, C) matrix, got shape {m.shape}")
    if not np.issubdtype(m.dtype, np.number) or np.any(m < 0) or not np.all(np.isfinite(m)):
        raise ValueError("confusion must hold non-negative finite counts")
    return m.astype(np.float64)


@styled
def plot_confusion_matrix(
    confusion: ArrayLike,
    *,
    title: str | None = None,
    row_label: str = "conditioning label",
    col_label: str = "classifier's prediction",
) -> Figure:
    """Row-normalised confusion matrix (rows = asked class, columns = predicted class).

    Each cell shows the percentage of the row (".4" for 0.4 %); the diagonal is the
    per-class success rate. A logarithmic colour scale makes rare confusions visible next to a ~99%
    diagonal.

    Args:
        confusion: (C, C) counts, e.g. ``gankit.evaluate.metrics.tarr(...)["confusion"]``.

    Raises:
        ValueError: not a square matrix of non-negative counts.
    """
    from matplotlib.colors import LogNorm

    m = _check_confusion(confusion)
    rows = m.sum(axis=1, keepdims=True)
    pct = np.divide(100.0 * m, rows, out=np.zeros_like(m), where=rows > 0)
    extra = 0.17 * title_lines(title, COLUMN_WIDTH_IN)
    fig = new_figure(COLUMN_WIDTH_IN, COLUMN_WIDTH_IN * 0.86 + extra)
    ax = fig.add_subplot()
    shown = np.where(pct > 0, pct, np.nan)
    image = ax.imshow(shown, cmap="Blues", norm=LogNorm(vmin=0.01, vmax=100))
    n = len(m)
    for i in range(n):
        for j in range(n):
            if pct[i, j] > 0:
                colour = "white" if pct[i, j] > 30 else "black"
                ax.text(j, i, _cell_text(pct[i, j]), ha="center", va="center", color=colour)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    ax.grid(False)
    # A slim colour bar leaves the cells wide enough for "99.4" at 8 pt.
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, aspect=30, label="% of row")
    figure_title(fig, title)
    return fig


def _cell_text(pct: float) -> str:
    """A cell's percentage in at most 4 characters, so 8 pt text fits a one-column cell:
    "99.4", "100", "3.2", ".4" (no leading zero)."""
    if pct >= 99.95:
        return "100"
    return f"{pct:.1f}".removeprefix("0")


_ZOOM_FROM = 0.9  # rates all at or above this get an axis zoomed to their range


@styled
def plot_per_class_rates(
    rates: Mapping[str, ArrayLike],
    *,
    title: str | None = None,
    ylabel: str = "success rate",
    reference: float | None = None,
) -> Figure:
    """Grouped bars of a per-class rate (e.g. TARR per digit), one group per digit and one
    bar per model; an optional dashed line at ``reference`` (e.g. the classifier's
    accuracy on real test images). Rates are fractions, shown as percent on the axis.

    Differences near 100 % stay visible: when every rate is at least 0.9 the axis runs
    from just below the lowest rate to 100 %; when only some models are that high, a
    second panel below repeats the bars zoomed to their range. The legend sits above the
    bars, under the title.

    Raises:
        ValueError: no models, or a model without one value per class.
    """
    if not rates:
        raise ValueError("rates is empty: pass {model name: (10,) per-class rates}")
    values = {name: np.asarray(v, dtype=np.float64) for name, v in rates.items()}
    for name, v in values.items():
        if v.shape != (N_CLASSES,):
            raise ValueError(f"{name!r} needs {N_CLASSES} per-class values, got {v.shape}")
    lows = [float(np.nanmin(v)) for v in values.values()]
    high = [low for low in lows if low >= _ZOOM_FROM]
    panels = 2 if high and len(high) < len(lows) else 1
    legend_rows = -(-len(values) // 4)
    height = 0.6 + 1.5 * panels + 0.17 * (legend_rows + title_lines(title, FULL_WIDTH_IN))
    fig = new_figure(FULL_WIDTH_IN, height)
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    for ax in axes:
        _rate_bars(ax, values, reference)
        ax.set_ylabel(ylabel)
    if high:
        _zoom(axes[-1], min(high), max(1.0, *(float(np.nanmax(v)) for v in values.values())))
        if panels == 2:
            axes[-1].set_ylabel(f"{ylabel},\nzoomed")
    if panels == 1 and not high:
        axes[0].set_ylim(max(0.0, min(lows) - 0.05), 1.0)
    axes[-1].set_xticks(np.arange(N_CLASSES))
    axes[-1].set_xlabel("digit")
    legend_above(axes[0])
    figure_title(fig, title)
    return fig


def _rate_bars(ax: Axes, values: Mapping[str, np.ndarray], reference: float | None) -> None:
    width = 0.8 / len(values)
    x = np.arange(N_CLASSES)
    for k, (name, v) in enumerate(values.items()):
        ax.bar(x - 0.4 + width * (k + 0.5), v, width, label=name)
    if reference is not None:
        ax.axhline(reference, color="black", linestyle="--", linewidth=0.8)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))


def _zoom(ax: Axes, lowest: float, top: float) -> None:
    """y from a little below ``lowest`` (on a 0.5 % step) to ``top``."""
    span = max(top - lowest, 0.01)
    ax.set_ylim(np.floor((lowest - 0.1 * span) * 200) / 200, top)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=1 if span < 0.05 else 0))


@styled
def plot_captioned_images(
    images: ArrayLike,
    captions: Sequence[str],
    *,
    ncol: int = 10,
    title: str | None = None,
) -> Figure:
    """Images in a grid with a small caption above each (e.g. "asked 4 / seen 9").

    Raises:
        ValueError: no images, or a caption count that differs from the image count.
    """
    tiles = images_to_uint8(images)  # raises for no images
    if len(captions) != len(tiles):
        raise ValueError(f"{len(tiles)} images but {len(captions)} captions")
    ncol = min(ncol, len(tiles))
    nrow = -(-len(tiles) // ncol)
    cell = FULL_WIDTH_IN / ncol
    extra = 0.17 * title_lines(title, FULL_WIDTH_IN)
    fig = new_figure(FULL_WIDTH_IN, nrow * cell * 1.2 + extra)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(tiles):
            ax.imshow(tiles[k], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_title(captions[k], fontsize=8, pad=1)
    figure_title(fig, title)
    return fig
