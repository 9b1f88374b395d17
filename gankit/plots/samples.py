"""Report figures of generated images: one sample grid, or grids across epochs.

Images are MNIST-like arrays of shape ``(N, H, W)`` or ``(N, H, W, 1)``: either float in
[-1, 1] (generator output, ``tanh``) or uint8 in [0, 255]; the dtype tells which. Sample
grids as plain PNG/GIF files, written during training, are in ``gankit.data.grids``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from PIL import Image

from gankit.checks import positive_int as check_positive_int
from gankit.data.grids import image_grid, images_to_uint8
from gankit.plots.style import (
    COLUMN_WIDTH_IN,
    FULL_WIDTH_IN,
    figure_title,
    new_figure,
    root_figure,
    styled,
    title_lines,
    wrap_text,
)

__all__ = [
    "crop_tile_rows",
    "panel_figure",
    "panels_per_row_for",
    "plot_epoch_grids",
    "plot_image_grid",
    "show_grid",
    "tile_counts",
]

_PDF_IMAGE_MIN_PIXELS = 1200  # embed grids at least this wide/tall: sharp in any PDF viewer
MIN_TILE_IN = 0.17  # a 28-pixel digit drawn narrower than this (4.3 mm) is hard to read


def show_grid(ax: Axes, grid: np.ndarray) -> None:
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


def _tile_spans(is_pad: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of non-padding lines."""
    inside = np.concatenate([[0], (~is_pad).astype(np.int8), [0]])
    change = np.diff(inside)
    starts, stops = np.flatnonzero(change == 1), np.flatnonzero(change == -1)
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _pad_lines(grid: np.ndarray, axis: int) -> np.ndarray:
    """Rows (axis 1) or columns (axis 0) made only of the border's grey level."""
    return np.all(grid == grid[0, 0], axis=axis)


def tile_counts(grid: np.ndarray) -> tuple[int, int]:
    """(rows, columns) of tiles in a grid from ``gankit.data.grids.image_grid`` (found
    from its padding lines); (1, 1) for an image without padding."""
    return max(1, len(_tile_spans(_pad_lines(grid, 1)))), max(
        1, len(_tile_spans(_pad_lines(grid, 0)))
    )


def crop_tile_rows(grid: np.ndarray, rows: int | None) -> np.ndarray:
    """The first ``rows`` rows of tiles of a padded grid (with the padding below them);
    the grid itself for ``None`` or when it has no more rows."""
    if rows is None:
        return grid
    spans = _tile_spans(_pad_lines(grid, 1))
    if len(spans) <= rows:
        return grid
    return grid[: spans[rows][0]]


def panels_per_row_for(n_panels: int, tiles_across: int, width: float = FULL_WIDTH_IN) -> int:
    """Panels in a row so each tile is at least ``MIN_TILE_IN`` wide at ``width`` inches,
    with the rows as even as possible (6 panels that fit 4 a row: 2 rows of 3)."""
    fit = max(1, int(width / (max(tiles_across, 1) * MIN_TILE_IN)))
    rows = math.ceil(n_panels / fit)
    return math.ceil(n_panels / rows)


def evenly_spaced(n: int, k: int | None) -> list[int]:
    """``k`` indices of ``range(n)`` spread evenly, first and last included (all if
    ``k`` is None or at least ``n``)."""
    if k is None or k >= n:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)}) if k > 1 else [n - 1]


@styled
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
        images: see ``gankit.data.grids.images_to_uint8``.
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
        lines = title_lines(title, COLUMN_WIDTH_IN)
        height = image_width * grid.shape[0] / grid.shape[1] + 0.05 + 0.18 * lines
        fig = new_figure(COLUMN_WIDTH_IN, height)
        ax = fig.add_subplot()
    show_grid(ax, grid)
    if row_labels is not None:
        centres = [pad + i * (h + pad) + (h - 1) / 2 for i in range(len(row_labels))]
        ax.set_yticks(centres, row_labels)
        ax.tick_params(axis="y", length=0, pad=2)
    if title:
        fig = root_figure(ax)
        width = fig.get_figwidth() * ax.get_position().width
        ax.set_title(wrap_text(title, width, float(ax.title.get_fontsize())))
    return root_figure(ax)


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


@styled
def plot_epoch_grids(
    grids: Mapping[int, Any] | Sequence[str | os.PathLike[str]],
    *,
    ncol: int | None = None,
    panels_per_row: int | None = None,
    title: str | None = None,
    max_panels: int | None = 6,
    tile_rows: int | None = 4,
) -> Figure:
    """Sample grids at several epochs, epoch as each panel's title, sized to be read in
    print: at most ``max_panels`` epochs (spread evenly, first and last included), each
    cut to its first ``tile_rows`` rows of tiles, and as many panels a row as keep a tile
    at least ``MIN_TILE_IN`` wide.

    Args:
        grids: ``{epoch: images}`` (arrays as for ``gankit.data.grids.image_grid``, or PNG
            paths), or a list of PNG grid files whose names end in the epoch
            (``epoch_005.png``).
        ncol: tiles per row inside each grid made from arrays.
        panels_per_row: wrap after this many panels; default from the tile width.
        title: figure title, wrapped to the figure's width.
        max_panels: epochs shown at most; None shows every epoch.
        tile_rows: rows of tiles kept of each grid (every column stays, so a grid with a
            class per column keeps every class); None keeps the whole grid.

    Returns:
        Figure with one axes per shown epoch; full page width when more than 2 a row.

    Raises:
        ValueError: no grids, or a non-positive ``panels_per_row``, ``max_panels`` or
            ``tile_rows``.
    """
    panels = _epoch_panels(grids, ncol)
    if not panels:
        raise ValueError("grids is empty: pass at least one epoch")
    if max_panels is not None:
        max_panels = check_positive_int(max_panels, "max_panels")
    if tile_rows is not None:
        tile_rows = check_positive_int(tile_rows, "tile_rows")
    panels = [panels[i] for i in evenly_spaced(len(panels), max_panels)]
    panels = [(name, crop_tile_rows(grid, tile_rows)) for name, grid in panels]
    n = len(panels)
    if panels_per_row is None:
        per_row = panels_per_row_for(n, tile_counts(panels[0][1])[1])
    else:
        per_row = min(check_positive_int(panels_per_row, "panels_per_row"), n)
    return panel_figure(panels, per_row, title)


def panel_figure(
    panels: Sequence[tuple[str, np.ndarray]], per_row: int, title: str | None
) -> Figure:
    """uint8 grids in rows of ``per_row`` panels, each titled by its name (8 pt), under a
    figure title; full page width beyond 2 a row. Call it inside ``house_style()``."""
    nrows = math.ceil(len(panels) / per_row)
    width = FULL_WIDTH_IN if per_row > 2 else COLUMN_WIDTH_IN
    label_lines = max(name.count("\n") + 1 for name, _ in panels)
    aspect = max(g.shape[0] / g.shape[1] for _, g in panels)
    panel_height = (width / per_row - 0.05) * aspect + 0.05 + 0.15 * label_lines
    height = nrows * panel_height + 0.05 + 0.18 * title_lines(title, width)
    fig = new_figure(width, height)
    for i, (panel_title, grid) in enumerate(panels):
        ax = fig.add_subplot(nrows, per_row, i + 1)
        show_grid(ax, grid)
        ax.set_title(panel_title, fontsize=8)
    figure_title(fig, title)
    return fig
