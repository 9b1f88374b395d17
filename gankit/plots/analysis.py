"""Figures for the PCA baseline and the embedding study, in the house style of
``gankit.plots.style`` (same fonts, sizes, colours and ``save_figure``).

- `plot_embedding_2d`: real and synthetic embeddings in 2-D, colour = digit, marker =
  real (o) or synthetic (x).
- `plot_confidence_histograms`: the classifier's confidence on real and on synthetic
  images, two panels with the same bins and y scale (kept in ``gankit.plots.confidence``,
  importable from here).
- `plot_reconstructions`: the same images reconstructed from k = 5, 20, ... components.
- `plot_explained_variance`: cumulative explained variance against k.
- `plot_sample_grids`: sample grids of several models side by side (PCA vs GANs by eye).

Every function returns a ``matplotlib.figure.Figure`` built without pyplot and uses no
global state; save with ``gankit.plots.style.save_figure(fig, "figures/q4_tsne")``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike

from gankit.checks import N_CLASSES, positive_int
from gankit.data.grids import image_grid, images_to_uint8
from gankit.plots.confidence import plot_confidence_histograms
from gankit.plots.samples import panel_figure, panels_per_row_for, plot_image_grid, tile_counts
from gankit.plots.style import (
    COLORS,
    COLUMN_WIDTH_IN,
    FULL_WIDTH_IN,
    RUN_COLORS,
    figure_title,
    new_figure,
    root_figure,
    styled,
    title_lines,
    wrap_text,
)

__all__ = [
    "DIGIT_COLORS",
    "plot_confidence_histograms",
    "plot_embedding_2d",
    "plot_embedding_maps",
    "plot_explained_variance",
    "plot_reconstructions",
    "plot_sample_grids",
]

# Ten qualitative colours (matplotlib's tab10), one per digit; only colour tells digits
# apart, so marker shape stays free for real vs synthetic.
DIGIT_COLORS: tuple[str, ...] = tuple(
    "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in colormaps["tab10"](i)[:3]))
    for i in range(N_CLASSES)
)
_REAL_MARKER, _SYNTHETIC_MARKER = "o", "x"


# --------------------------------------------------------------------------- validation


def _points(points: ArrayLike) -> np.ndarray:
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) == 0:
        raise ValueError(f"points must be (N, 2) with N >= 1, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("points contain NaN or inf")
    return arr


def _per_point(values: ArrayLike, n: int, name: str, kind: str) -> np.ndarray:
    """``values`` as a 1-D (n,) array of ints 0-9 (kind "digit") or bools (kind "bool")."""
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one per point, got {arr.shape}")
    if kind == "bool":
        if arr.dtype != bool:
            raise TypeError(f"{name} must be booleans (True = synthetic), got dtype {arr.dtype}")
        return arr
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be integers 0-9, got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= N_CLASSES:
        raise ValueError(f"{name} must be in 0-9, got values in [{arr.min()}, {arr.max()}]")
    return arr


# ---------------------------------------------------------------------------- embeddings


def _marker_size(n: int) -> float:
    """Scatter marker area (pt²): readable for 200 points, not a blob at 2000."""
    return 14.0 if n <= 400 else 5.0


@styled
def plot_embedding_2d(
    points: ArrayLike,
    digits: ArrayLike,
    is_synthetic: ArrayLike,
    *,
    title: str | None = None,
    method: str = "t-SNE",
    ax: Axes | None = None,
) -> Figure:
    """Scatter of 2-D embeddings: colour = digit, o = real, x = synthetic.

    Args:
        points: (N, 2), e.g. ``gankit.studies.embeddings.project_2d`` output.
        digits: int (N,) digit 0-9 of each point.
        is_synthetic: bool (N,), True for generated images.
        title: axes title.
        method: names the axes ("t-SNE" -> "t-SNE 1", "t-SNE 2"; "PCA" -> "PC 1", ...).
        ax: draw here (e.g. one panel of a t-SNE | PCA figure) instead of a new figure.

    Returns:
        The figure; its legend (above the axes) lists the ten digits and the two markers.

    Raises:
        ValueError / TypeError: shapes, dtypes or digit values that do not fit.
    """
    xy = _points(points)
    digit = _per_point(digits, len(xy), "digits", "digit")
    fake = _per_point(is_synthetic, len(xy), "is_synthetic", "bool")
    if ax is None:
        ax = new_figure(COLUMN_WIDTH_IN, 3.3).add_subplot()
    colors = np.asarray(DIGIT_COLORS)[digit]
    size = _marker_size(len(xy))
    # real first, synthetic on top: the x markers stay visible over the filled circles
    ax.scatter(*xy[~fake].T, c=colors[~fake], s=size, marker=_REAL_MARKER, linewidths=0)
    ax.scatter(*xy[fake].T, c=colors[fake], s=size * 1.3, marker=_SYNTHETIC_MARKER, lw=0.8)
    prefix = "PC" if method.upper() == "PCA" else method
    ax.set_xlabel(f"{prefix} 1")
    ax.set_ylabel(f"{prefix} 2")
    ax.legend(
        handles=_embedding_legend_handles(),
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=6,
        borderaxespad=0.2,
        handletextpad=0.2,
        columnspacing=0.8,
    )
    if title:
        width = root_figure(ax).get_figwidth() * ax.get_position().width
        ax.set_title(wrap_text(title, width, 9.0), pad=30)  # above the two legend rows
    return root_figure(ax)


_MAP_TITLES = {"tsne": "t-SNE", "pca": "PCA"}


@styled
def plot_embedding_maps(
    maps: Mapping[str, ArrayLike],
    digits: ArrayLike,
    is_synthetic: ArrayLike,
    *,
    caption: str = "",
    height: float = 3.6,
) -> Figure:
    """`plot_embedding_2d` panels side by side at full IEEE width, one per 2-D map of the
    same points (e.g. ``{"tsne": ..., "pca": ...}`` from
    ``gankit.studies.embeddings.project_2d``).

    Args:
        maps: ``{method: (N, 2) points}``, drawn left to right; "tsne" and "pca" are
            titled "t-SNE" and "PCA", other keys as given.
        digits, is_synthetic: as `plot_embedding_2d`, shared by every map.
        caption: appended to each panel's title, e.g. "200 real + 200 synthetic".
        height: figure height in inches.

    Raises:
        ValueError: no maps, or as `plot_embedding_2d`.
    """
    if not maps:
        raise ValueError("maps is empty: pass at least one {method: points}")
    fig = new_figure(FULL_WIDTH_IN, height)
    for ax, (method, points) in zip(
        np.atleast_1d(fig.subplots(1, len(maps))), maps.items(), strict=True
    ):
        label = _MAP_TITLES.get(method, method)
        title = f"{label}: {caption}" if caption else label
        plot_embedding_2d(points, digits, is_synthetic, method=label, ax=ax, title=title)
    return fig


def _embedding_legend_handles() -> list[Line2D]:
    def handle(marker: str, color: str, label: str) -> Line2D:
        return Line2D([], [], linestyle="", marker=marker, color=color, label=label)

    digits = [handle("s", DIGIT_COLORS[d], str(d)) for d in range(N_CLASSES)]
    return [
        *digits,
        handle(_REAL_MARKER, "#444444", "real"),
        handle(_SYNTHETIC_MARKER, "#444444", "synthetic"),
    ]


# ------------------------------------------------------------------------------ PCA


def plot_reconstructions(
    originals: ArrayLike,
    reconstructions_by_k: Mapping[int, ArrayLike],
    *,
    title: str | None = None,
) -> Figure:
    """The original images in the top row, then one row per component count k.

    Args:
        originals: (N, 28, 28[, 1]) float in [-1, 1] or uint8; N = 6-10 reads well.
        reconstructions_by_k: {k: (N, 28, 28[, 1]) reconstructions}, e.g.
            ``{k: pca.reconstruct(originals, k) for k in (5, 20, 50, 200)}``; rows in
            increasing k.
        title: axes title.

    Raises:
        ValueError: no reconstructions, or a row with another number of images.
    """
    if not isinstance(reconstructions_by_k, Mapping) or not reconstructions_by_k:
        raise ValueError("reconstructions_by_k must be a non-empty dict {k: images}")
    first = images_to_uint8(originals)
    rows, names = [first], ["original"]
    for k in sorted(reconstructions_by_k):
        row = images_to_uint8(reconstructions_by_k[k])
        if row.shape != first.shape:
            raise ValueError(
                f"reconstructions for k={k} have shape {row.shape}, originals {first.shape}"
            )
        rows.append(row)
        names.append(f"k={k}")
    return plot_image_grid(np.concatenate(rows), ncol=len(first), row_labels=names, title=title)


def _variance_curves(ratio) -> dict[str, np.ndarray]:
    """{label: (D,) ratios} from (D,), (C, D) (rows are digits) or a {label: (D,)} dict."""
    if isinstance(ratio, Mapping):
        curves = {str(k): np.asarray(v, dtype=float) for k, v in ratio.items()}
    else:
        arr = np.asarray(ratio, dtype=float)
        if arr.ndim == 1:
            curves = {"": arr}
        elif arr.ndim == 2:
            curves = {str(i): row for i, row in enumerate(arr)}
        else:
            raise ValueError(f"ratio must be (D,) or (C, D), got shape {arr.shape}")
    if not curves:
        raise ValueError("ratio is empty: pass explained_variance_ratio of a fitted PCA")
    for label, values in curves.items():
        if values.ndim != 1 or len(values) == 0 or not np.all(np.isfinite(values)):
            raise ValueError(f"ratio {label!r} must be a non-empty finite 1-D array")
        if values.min() < 0 or values.sum() > 1 + 1e-6:
            raise ValueError(f"ratio {label!r} must be shares >= 0 summing to at most 1")
    return curves


@styled
def plot_explained_variance(
    ratio,
    *,
    marks: Sequence[float] = (0.9, 0.95, 0.99),
    title: str | None = None,
) -> Figure:
    """Cumulative explained variance against the number of components k (log x axis).

    Args:
        ratio: (D,) ``explained_variance_ratio``; or (C, D), one curve per digit (a
            per-class model's ratio); or {label: (D,)} to compare models.
        marks: fractions drawn as dashed lines; with one curve, each is labelled with
            the smallest k that reaches it.
        title: axes title.

    Raises:
        ValueError: empty, non-finite or negative ratios, or marks outside (0, 1].
    """
    curves = _variance_curves(ratio)
    if any(not 0 < m <= 1 for m in marks):
        raise ValueError(f"marks must be fractions in (0, 1], got {list(marks)}")
    legend = 0.25 if len(curves) > 1 else 0.0
    fig = new_figure(COLUMN_WIDTH_IN, 2.2 + legend + 0.17 * title_lines(title, COLUMN_WIDTH_IN))
    ax = fig.add_subplot()
    palette = DIGIT_COLORS if len(curves) > len(RUN_COLORS) else RUN_COLORS
    for i, (label, values) in enumerate(curves.items()):
        k = np.arange(1, len(values) + 1)
        color = palette[i % len(palette)] if len(curves) > 1 else COLORS["real"]
        ax.plot(k, np.cumsum(values), color=color, label=label or None, linewidth=1.0)
    for mark in marks:
        ax.axhline(mark, color=COLORS["chance"], linestyle="--", linewidth=0.7, zorder=0)
    if len(curves) == 1:
        _label_marks(ax, np.cumsum(next(iter(curves.values()))), marks)
    ax.set_xscale("log")
    ax.set_xlabel("number of components k")
    ax.set_ylabel("explained variance")
    ax.set_ylim(0, 1.02)
    if isinstance(ratio, Mapping) and len(curves) > 1:
        fig.legend(loc="outside lower center", ncols=min(3, len(curves)), frameon=False)
    elif len(curves) > 1:  # one curve per digit
        fig.legend(
            loc="outside lower center",
            ncols=math.ceil(len(curves) / 2),
            title="digit",
            handlelength=1.0,
            frameon=False,
        )
    figure_title(fig, title)
    return fig


def _label_marks(ax: Axes, cumulative: np.ndarray, marks: Sequence[float]) -> None:
    """A dot where the curve first reaches each mark, and the k of each in a text box
    (the marks lie too close together to label them on the curve)."""
    lines = []
    for mark in sorted(marks):
        reached = np.flatnonzero(cumulative >= mark - 1e-9)
        if not len(reached):
            continue
        k = int(reached[0]) + 1
        ax.plot([k], [cumulative[k - 1]], marker="o", color=COLORS["real"], markersize=3)
        lines.append(f"{mark:.0%}: k = {k}")
    if lines:
        ax.text(0.97, 0.05, "\n".join(lines), transform=ax.transAxes, ha="right", va="bottom")


# --------------------------------------------------------------------------- samples


@styled
def plot_sample_grids(
    samples: Mapping[str, ArrayLike],
    *,
    ncol: int | None = None,
    title: str | None = None,
    panels_per_row: int | None = None,
) -> Figure:
    """Sample grids of several models, each titled with its name, in rows of as many
    panels as keep a tile readable in print (``gankit.plots.samples.panels_per_row_for``).

    Args:
        samples: {model name: (N, 28, 28[, 1]) images}, e.g. ``{"PCA (k=87)": ...,
            "CGAN": ...}``; for per-class models order the images digit by digit.
        ncol: tiles per row in every grid; default ``ceil(sqrt(N))``.
        title: figure title, wrapped to the figure's width.
        panels_per_row: models per row of panels; default from the tile width.

    Returns:
        Column width for up to 2 models a row, full page width beyond.

    Raises:
        ValueError: no models, or a non-positive ``panels_per_row``.
    """
    if not isinstance(samples, Mapping) or not samples:
        raise ValueError("samples must be a non-empty dict {model name: images}")
    panels = [(str(name), image_grid(images, ncol=ncol)) for name, images in samples.items()]
    if panels_per_row is None:
        per_row = panels_per_row_for(len(panels), max(tile_counts(g)[1] for _, g in panels))
    else:
        per_row = min(positive_int(panels_per_row, "panels_per_row"), len(panels))
    return panel_figure(panels, per_row, title)
