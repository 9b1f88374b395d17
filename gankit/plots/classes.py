"""Figures for class-conditional samples: the confusion matrix of asked vs seen class,
per-class success rates, and captioned samples (e.g. the misclassified ones).

Same house style as `gankit.plots.style`; every function returns a matplotlib ``Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from gankit.data.grids import images_to_uint8
from gankit.plots.style import COLUMN_WIDTH_IN, FULL_WIDTH_IN, new_figure, styled

N_CLASSES = 10


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

    Each cell shows the percentage of the row; the diagonal is the per-class success rate.
    A logarithmic colour scale makes rare confusions visible next to a ~99% diagonal.

    Args:
        confusion: (C, C) counts, e.g. ``gankit.evaluate.metrics.tarr(...)["confusion"]``.

    Raises:
        ValueError: not a square matrix of non-negative counts.
    """
    from matplotlib.colors import LogNorm

    m = _check_confusion(confusion)
    rows = m.sum(axis=1, keepdims=True)
    pct = np.divide(100.0 * m, rows, out=np.zeros_like(m), where=rows > 0)
    fig = new_figure(COLUMN_WIDTH_IN, COLUMN_WIDTH_IN * 0.92 + (0.2 if title else 0.0))
    ax = fig.add_subplot()
    shown = np.where(pct > 0, pct, np.nan)
    image = ax.imshow(shown, cmap="Blues", norm=LogNorm(vmin=0.01, vmax=100))
    n = len(m)
    for i in range(n):
        for j in range(n):
            if pct[i, j] > 0:
                text = f"{pct[i, j]:.1f}" if pct[i, j] < 99.95 else "100"
                colour = "white" if pct[i, j] > 30 else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize=5, color=colour)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    ax.grid(False)
    fig.colorbar(image, ax=ax, shrink=0.8, label="% of row")
    if title:
        ax.set_title(title)
    return fig


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
    accuracy on real test images).

    Raises:
        ValueError: no models, or a model without one value per class.
    """
    if not rates:
        raise ValueError("rates is empty: pass {model name: (10,) per-class rates}")
    values = {name: np.asarray(v, dtype=np.float64) for name, v in rates.items()}
    for name, v in values.items():
        if v.shape != (N_CLASSES,):
            raise ValueError(f"{name!r} needs {N_CLASSES} per-class values, got {v.shape}")
    fig = new_figure(FULL_WIDTH_IN, 2.0 + (0.2 if title else 0.0))
    ax = fig.add_subplot()
    width = 0.8 / len(values)
    x = np.arange(N_CLASSES)
    for k, (name, v) in enumerate(values.items()):
        ax.bar(x - 0.4 + width * (k + 0.5), v, width, label=name)
    if reference is not None:
        ax.axhline(reference, color="black", linestyle="--", linewidth=0.8)
    lowest = min(float(np.nanmin(v)) for v in values.values())
    ax.set_ylim(max(0.0, lowest - 0.05), 1.0)
    ax.set_xticks(x)
    ax.set_xlabel("digit")
    ax.set_ylabel(ylabel)
    ax.legend(loc="lower left", ncols=min(len(values), 4), fontsize=6)
    if title:
        ax.set_title(title)
    return fig


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
    fig = new_figure(FULL_WIDTH_IN, nrow * cell * 1.15 + (0.25 if title else 0.0))
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(tiles):
            ax.imshow(tiles[k], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_title(captions[k], fontsize=6, pad=1)
    if title:
        fig.suptitle(title)
    return fig
