"""Figures for the GAN variants, in the house style of ``gankit.plots.style``.

- `plot_power_spectra`: mean log power spectra side by side (real vs each upsampling
  scheme), with a second row of differences from the reference set: checkerboard
  artefacts are the bright edges and corners (the Nyquist frequency).
- `plot_radial_profiles`: the same spectra as curves against spatial frequency.
- `plot_interpolation_strips`: one row of images per interpolation method.
- `plot_wasserstein_vs_quality`: the critic's Wasserstein estimate per epoch against a
  sample-quality metric (FID, IS) on a second y axis, one panel per metric.

Every function returns a ``matplotlib.figure.Figure`` built without pyplot; save with
``gankit.plots.style.save_figure(fig, "figures/q5_spectra")``. Spectra come from
`gankit.studies.spectrum.mean_power_spectrum`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from gankit.plots.curves import history_frame, integer_ticks_if_whole, numeric_column
from gankit.plots.samples import plot_image_grid
from gankit.plots.style import (
    COLORS,
    COLUMN_WIDTH_IN,
    FULL_WIDTH_IN,
    RUN_COLORS,
    figure_title,
    legend_above,
    metric_label,
    new_figure,
    styled,
    title_lines,
    wrap_text,
)
from gankit.studies.spectrum import radial_profile

__all__ = [
    "plot_interpolation_strips",
    "plot_power_spectra",
    "plot_radial_profiles",
    "plot_wasserstein_vs_quality",
]


def _check_spectra(spectra: Mapping[str, ArrayLike]) -> dict[str, np.ndarray]:
    if not isinstance(spectra, Mapping) or not spectra:
        raise ValueError("spectra must be a non-empty mapping name -> (H, W) spectrum")
    out = {str(k): np.asarray(v, np.float64) for k, v in spectra.items()}
    shapes = {v.shape for v in out.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"spectra must all be 2-D of one shape, got {sorted(shapes)}")
    return out


@styled
def plot_power_spectra(
    spectra: Mapping[str, ArrayLike], *, reference: str | None = "real", title: str | None = None
) -> Figure:
    """Mean log10 power spectra side by side, full width, one shared colour scale.

    Args:
      spectra: name -> centred (H, W) spectrum, e.g. ``{"real": ..., "transpose": ...}``.
      reference: a key of ``spectra``: a second row shows each other spectrum minus it
        (red: more power than the reference), titled with the mean absolute difference
        (`gankit.studies.spectrum.spectrum_distance`). None: no second row.

    Raises:
      ValueError: for an empty mapping, spectra of different shapes, or an unknown
        ``reference``.
    """
    spectra = _check_spectra(spectra)
    if reference is not None and reference not in spectra:
        raise ValueError(f"reference {reference!r} is not one of {list(spectra)}")
    others = [k for k in spectra if k != reference] if reference is not None else []
    rows = 2 if others else 1
    n = len(spectra)
    fig = new_figure(FULL_WIDTH_IN, 1.6 * rows + 0.17 * title_lines(title, FULL_WIDTH_IN))
    axes = fig.subplots(rows, n, squeeze=False)
    values = np.stack(list(spectra.values()))
    vmin, vmax = np.percentile(values, 1), values.max()
    for ax, (name, s) in zip(axes[0], spectra.items(), strict=True):
        image = ax.imshow(s, vmin=vmin, vmax=vmax, cmap="magma")
        ax.set_title(name)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.9, label="log$_{10}$ power")
    if others:
        diffs = {k: spectra[k] - spectra[reference] for k in others}
        limit = max(np.abs(d).max() for d in diffs.values()) or 1.0
        # The difference of each spectrum sits under it; the reference's slot stays empty.
        below = dict(zip(spectra, axes[1], strict=True))
        below[reference].set_visible(False)
        for name, d in diffs.items():
            ax = below[name]
            image = ax.imshow(d, vmin=-limit, vmax=limit, cmap="RdBu_r")
            panel_title = f"{name} − {reference}: {np.mean(np.abs(d)):.2f}"
            ax.set_title(wrap_text(panel_title, 0.8 * FULL_WIDTH_IN / n, 9.0))
        fig.colorbar(image, ax=axes[1].tolist(), shrink=0.9, label="difference (decades)")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    figure_title(fig, title)
    return fig


@styled
def plot_radial_profiles(spectra: Mapping[str, ArrayLike], *, title: str | None = None) -> Figure:
    """Radially averaged log power against spatial frequency (cycles per pixel).

    The dotted line marks the Nyquist frequency 0.5 of one axis; beyond it only the
    corners of the spectrum remain (both axes near Nyquist), where checkerboards show.

    Raises:
      ValueError: for an empty mapping or spectra of different shapes.
    """
    spectra = _check_spectra(spectra)
    size = next(iter(spectra.values())).shape[0]
    legend_rows = -(-len(spectra) // 4)
    fig = new_figure(
        COLUMN_WIDTH_IN, 2.2 + 0.17 * (legend_rows + title_lines(title, COLUMN_WIDTH_IN))
    )
    ax = fig.add_subplot()
    for i, (name, s) in enumerate(spectra.items()):
        profile = radial_profile(s)
        color = COLORS["real"] if name == "real" else RUN_COLORS[(i + 1) % len(RUN_COLORS)]
        ax.plot(np.arange(len(profile)) / size, profile, color=color, label=name)
    ax.axvline(0.5, color=COLORS["chance"], linestyle=":", linewidth=0.8)
    ax.set_xlabel("spatial frequency (cycles/pixel)")
    ax.set_ylabel("log$_{10}$ power")
    legend_above(ax)  # outside the curves, under the title
    figure_title(fig, title)
    return fig


@styled
def plot_interpolation_strips(
    strips: Mapping[str, ArrayLike], *, title: str | None = None, wide: bool = True
) -> Figure:
    """One row per method (labelled on the left), e.g. ``{"slerp": ..., "lerp": ...,
    "pixel": ...}``, each an image array (steps, 28, 28[, 1]) of the same length.

    Args:
      wide: full page width (default) or one column.

    Raises:
      ValueError: for an empty mapping or strips of different lengths.
    """
    if not isinstance(strips, Mapping) or not strips:
        raise ValueError("strips must be a non-empty mapping method -> images (steps, H, W)")
    arrays = [np.asarray(v) for v in strips.values()]
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"every strip must have the same number of images, got {lengths}")
    steps = lengths.pop()
    width = FULL_WIDTH_IN if wide else COLUMN_WIDTH_IN
    height = (width - 0.6) * len(arrays) / steps + 0.1 + 0.18 * title_lines(title, width)
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    images = np.concatenate([a.reshape(a.shape[:3]) for a in arrays])
    plot_image_grid(images, ncol=steps, row_labels=list(strips), ax=ax, title=title)
    return fig


@styled
def plot_wasserstein_vs_quality(
    history: Any,
    metrics: str | Sequence[str] = ("fid",),
    *,
    wasserstein: str = "wasserstein",
    title: str | None = None,
    metric_note: str | None = None,
) -> Figure:
    """The critic's Wasserstein estimate per epoch (left axis) against sample quality
    (right axis), one panel per metric column of ``history``.

    Arjovsky et al. (2017, figure 3) show the estimate falling as samples improve; read
    the two curves together: a falling estimate with a falling FID (or rising IS) means
    the critic's number tracks quality.

    Args:
      history: the epoch history of `gankit.train.loop.train_gan` (DataFrame, dict of lists
        or list of dicts) with ``epoch``, ``wasserstein`` and the metric columns (from
        ``epoch_metrics``).
      metrics: column name(s), e.g. ``("fid", "is")``.
      metric_note: a second line under each metric's axis label, e.g. ``"per-epoch meter,
        1,000 samples"``: logged metrics are not the final protocol's numbers.

    Raises:
      ValueError: if a column is missing. TypeError: for another history type.
    """
    df = history_frame(history)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    missing = [c for c in ["epoch", wasserstein, *metrics] if c not in df.columns]
    if not metrics or missing:
        raise ValueError(
            f"history lacks column(s) {missing or ['<a metric>']}; it has {list(df.columns)}"
        )
    epoch = numeric_column(df, "epoch")
    w = numeric_column(df, wasserstein)
    width = COLUMN_WIDTH_IN * min(len(metrics), 2)
    fig = new_figure(width, 2.3 + 0.17 * title_lines(title, width))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, column in zip(axes, metrics, strict=True):
        left = ax.plot(epoch, w, color=COLORS["d"], marker="o", label="Wasserstein estimate")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric_label(wasserstein), color=COLORS["d"])
        integer_ticks_if_whole(ax, epoch)
        twin = ax.twinx()
        twin.spines["right"].set_visible(True)
        twin.grid(False)
        label = metric_label(column)
        note = "" if metric_note is None else f" ({metric_note})"
        axis_label = wrap_text(label + note, 0.55 * fig.get_figheight(), 8.0)
        values = numeric_column(df, column)
        right = twin.plot(
            epoch, values, color=COLORS["fake"], marker="s", linestyle="--", label=label
        )
        twin.set_ylabel(axis_label, color=COLORS["fake"])
        twin.tick_params(axis="y", colors=COLORS["fake"])
        lines = left + right
        ax.legend(
            lines,
            [line.get_label() for line in lines],
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=2,
            borderaxespad=0.2,
        )
    figure_title(fig, title)
    return fig
