"""The house style of every report figure: IEEE sizes, fonts, colours, and saving.

Every ``plot_*`` function in ``gankit.plots`` draws inside ``house_style()`` (IEEE column
sizes, 8-9 pt fonts, no top/right spines, constrained layout, one colour per quantity),
through the ``styled`` decorator, on a figure from ``new_figure``. ``save_figure`` writes
PNG + PDF. Axes and legends name metrics through ``metric_label`` (one table of human
names and units), and titles are wrapped to the figure's width by ``figure_title``.

Figures are built with ``matplotlib.figure.Figure`` directly, not pyplot: nothing is
registered globally, so they work headless and never pile up in long runs. In a notebook,
show one by leaving it as the cell's last expression or with ``display(fig)``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar

from matplotlib import rc_context, rcParams
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath

from gankit.io import atomic_write
from gankit.report import METRIC_LABELS, metric_label

__all__ = [
    "COLORS",
    "COLUMN_WIDTH_IN",
    "ERROR_LABELS",
    "FULL_WIDTH_IN",
    "HOUSE_RC",
    "METRIC_LABELS",
    "RUN_COLORS",
    "RUN_LINESTYLES",
    "error_label_for",
    "figure_title",
    "house_style",
    "legend_above",
    "metric_label",
    "new_figure",
    "root_figure",
    "save_figure",
    "styled",
    "title_lines",
    "wrap_text",
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
RUN_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
RUN_LINESTYLES = ("-", "--", ":", "-.")

# What an error column of the metric suite measures, for error-bar captions.
ERROR_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "inception_score_std": "± std over 10 splits",
        "kid_std": "± std over 100 subsets",
    }
)

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


def error_label_for(err_col: str) -> str:
    """What the error bars from ``err_col`` are, e.g. ``"± std over 10 splits"`` for
    ``inception_score_std``; an unknown column is named by its label."""
    return ERROR_LABELS.get(err_col.lower(), f"± {metric_label(err_col)}")


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


def styled(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` inside ``house_style()`` (fonts, spines, layout are read at creation)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with house_style():
            return func(*args, **kwargs)

    return wrapper


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def root_figure(ax: Axes) -> Figure:
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    return figure


def legend_above(ax: Axes, max_columns: int = 4) -> None:
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=min(len(handles), max_columns),
            borderaxespad=0.2,
        )


def wrap_text(text: str, width_in: float, fontsize: float) -> str:
    """``text`` broken at spaces into lines at most ``width_in`` inches wide at
    ``fontsize`` points (measured with the house font); existing line breaks are kept."""
    font = FontProperties(size=fontsize)

    def width_pt(line: str) -> float:
        return TextPath((0, 0), line, prop=font).get_extents().width if line.strip() else 0.0

    limit = 72.0 * width_in
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if current and width_pt(candidate) > limit:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return "\n".join(lines)


def figure_title(fig: Figure, title: str | None, *, margin_in: float = 0.1) -> None:
    """``title`` as the figure's title (above every axes and legend), wrapped to the
    figure's width so no line is clipped; nothing for ``None`` or ``""``."""
    if title:
        size = float(rcParams["figure.titlesize"])
        fig.suptitle(wrap_text(title, fig.get_figwidth() - 2 * margin_in, size), fontsize=size)


def title_lines(title: str | None, width_in: float, fontsize: float = 9.0) -> int:
    """Lines ``title`` takes when wrapped to ``width_in``: figures add height for them."""
    return len(wrap_text(title, width_in - 0.2, fontsize).split("\n")) if title else 0


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
