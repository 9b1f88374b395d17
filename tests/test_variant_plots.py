"""Variant figures: spectra, radial profiles, interpolation strips and the Wasserstein
estimate against quality draw what they are given and save. Headless (Agg)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from gankit.plots import variants as variant_plots
from gankit.plots.style import save_figure
from gankit.studies.spectrum import mean_power_spectrum

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(-1, 1, (8, 28, 28, 1))
CHECKER = np.where(np.indices((28, 28)).sum(0) % 2 == 0, 0.2, -0.2)[None, ..., None]
SPECTRA = {
    "real": mean_power_spectrum(IMAGES),
    "transpose": mean_power_spectrum(np.clip(IMAGES + CHECKER, -1, 1)),
    "nearest": mean_power_spectrum(IMAGES[::-1] * 0.9),
}


def _saves(fig, tmp_path):
    assert isinstance(fig, Figure)
    paths = save_figure(fig, tmp_path / "fig")
    assert all(p.stat().st_size > 0 for p in paths)


def test_power_spectra_with_differences_from_the_reference(tmp_path):
    fig = variant_plots.plot_power_spectra(SPECTRA, title="spectra")
    images = [ax for ax in fig.axes if ax.get_images() and ax.get_visible()]
    assert len(images) == 3 + 2  # three spectra, two differences from "real"
    titles = [ax.get_title() for ax in images]
    assert titles[:3] == ["real", "transpose", "nearest"]
    diff = np.mean(np.abs(SPECTRA["transpose"] - SPECTRA["real"]))
    assert f"transpose − real: {diff:.2f}" in titles
    _saves(fig, tmp_path)
    alone = variant_plots.plot_power_spectra(SPECTRA, reference=None)
    assert len([ax for ax in alone.axes if ax.get_images()]) == 3
    with pytest.raises(ValueError, match="reference"):
        variant_plots.plot_power_spectra(SPECTRA, reference="bilinear")
    with pytest.raises(ValueError, match="one shape"):
        variant_plots.plot_power_spectra({"a": np.zeros((28, 28)), "b": np.zeros((14, 14))})


def test_radial_profiles_one_line_per_set(tmp_path):
    fig = variant_plots.plot_radial_profiles(SPECTRA)
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if line.get_label() in SPECTRA]
    assert [line.get_label() for line in lines] == list(SPECTRA)
    assert lines[0].get_xdata()[-1] == pytest.approx(20 / 28)
    _saves(fig, tmp_path)


def test_interpolation_strips_one_labelled_row_per_method(tmp_path):
    strips = {m: RNG.uniform(-1, 1, (6, 28, 28, 1)) for m in ("slerp", "lerp", "pixel")}
    fig = variant_plots.plot_interpolation_strips(strips, title="3 to 8")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["slerp", "lerp", "pixel"]
    grid = ax.get_images()[0].get_extent()
    assert grid[1] - grid[0] == pytest.approx(6 * 30 + 2)  # 6 tiles of 28 + padding 2
    _saves(fig, tmp_path)
    with pytest.raises(ValueError, match="same number"):
        variant_plots.plot_interpolation_strips({"a": IMAGES, "b": IMAGES[:3]})


def test_wasserstein_against_fid_and_is_on_twin_axes(tmp_path):
    history = pd.DataFrame(
        {
            "epoch": [1, 2, 3, 4],
            "wasserstein": [3.0, 2.0, 1.5, 1.2],
            "fid": [80.0, 40.0, 25.0, 20.0],
            "is": [5.0, 7.5, 8.4, 8.9],
        }
    )
    fig = variant_plots.plot_wasserstein_vs_quality(history, ("fid", "is"))
    assert len(fig.axes) == 4  # two panels, each with its twin
    left, twin = fig.axes[0], fig.axes[2]
    np.testing.assert_array_equal(left.get_lines()[0].get_ydata(), history["wasserstein"])
    np.testing.assert_array_equal(twin.get_lines()[0].get_ydata(), history["fid"])
    assert twin.get_ylabel() == "FID"
    _saves(fig, tmp_path)
    with pytest.raises(ValueError, match="lacks column"):
        variant_plots.plot_wasserstein_vs_quality(history, "kid")
