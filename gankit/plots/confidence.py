"""The classifier's confidence on real and on synthetic images: two histograms with the
same bins and y scale, in the house style of ``gankit.plots.style``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from gankit.checks import N_CLASSES
from gankit.plots.style import (
    COLORS,
    COLUMN_WIDTH_IN,
    figure_title,
    new_figure,
    styled,
    title_lines,
)

__all__ = ["plot_confidence_histograms"]


def _confidences(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or len(arr) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
        raise ValueError(
            f"{name} must be confidences in [0, 1] (gankit.studies.embeddings.confidence)"
        )
    return arr


_SURE = 0.99  # confidences above this all fall into the last of 20 linear bins


@styled
def plot_confidence_histograms(
    conf_real: ArrayLike,
    conf_synthetic: ArrayLike,
    *,
    title: str | None = None,
    bins: int = 20,
    log_y: bool = False,
    labels: tuple[str, str] = ("real", "synthetic"),
    doubt_axis: bool | None = None,
) -> Figure:
    """Histograms of the classifier's confidence, real and synthetic in two panels.

    Both panels share the bins and the y scale, so their heights compare directly. Each
    panel's title gives its count and mean confidence. When most images are near-certain
    the histogram is drawn over the doubt ``1 - confidence`` on a log axis (bins equal in
    log), which spreads 0.99, 0.999 and 0.9999 apart; otherwise over the confidence
    (``bins`` equal widths over [0.1, 1]: the max softmax of 10 classes is never below
    0.1).

    Args:
        conf_real, conf_synthetic: (N,) and (M,) confidences in [0, 1]
            (``gankit.studies.embeddings.confidence``).
        title: figure title (e.g. which classifier), wrapped to the figure's width.
        bins: number of bins.
        log_y: logarithmic counts, to see the few low-confidence images next to the
            mass near 1.
        labels: panel names.
        doubt_axis: draw over ``1 - confidence`` (True) or the confidence (False);
            default True when over half of all confidences exceed 0.99.

    Raises:
        ValueError: empty or non-1-D inputs, values outside [0, 1], or bins < 1.
    """
    sets = [_confidences(conf_real, "conf_real"), _confidences(conf_synthetic, "conf_synthetic")]
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive int, got {bins!r}")
    if doubt_axis is None:
        doubt_axis = bool(np.mean(np.concatenate(sets) > _SURE) > 0.5)
    shown, edges, xlabel = _confidence_bins(sets, bins, doubt_axis)
    lines = title_lines(title, COLUMN_WIDTH_IN)
    fig = new_figure(COLUMN_WIDTH_IN, 2.1 + 0.17 * lines)
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    for ax, values, raw, label, color in zip(
        axes, shown, sets, labels, (COLORS["real"], COLORS["fake"]), strict=True
    ):
        ax.hist(values, bins=edges, color=color, edgecolor="white", linewidth=0.3)
        ax.set_title(f"{label}\nn = {len(raw)}, mean {raw.mean():.3f}", fontsize=8)
        ax.grid(axis="x", visible=False)
        if doubt_axis:
            ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
    fig.supxlabel(xlabel, fontsize=8)  # one label under both panels: they share x
    axes[0].set_ylabel("images")
    figure_title(fig, title)
    return fig


def _confidence_bins(
    sets: Sequence[np.ndarray], bins: int, doubt_axis: bool
) -> tuple[list[np.ndarray], np.ndarray, str]:
    """The values drawn, the shared bin edges and the x label."""
    if not doubt_axis:
        low = min(1.0 / N_CLASSES, *(float(s.min()) for s in sets))
        return list(sets), np.linspace(low, 1.0, bins + 1), "confidence (max softmax)"
    # float32 softmax rounds to 1 within ~6e-8: floor the doubt there to keep it on a log axis
    doubts = [np.maximum(1.0 - s, 1e-7) for s in sets]
    low = min(float(d.min()) for d in doubts)
    edges = np.geomspace(10 ** np.floor(np.log10(low)), 1.0 - 1.0 / N_CLASSES, bins + 1)
    return doubts, edges, "1 − confidence (log; 0.01 = 99 % sure)"
