"""Q3 figures: they draw the mean over seeds with its band, on tiny fake results frames."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from gankit.plots.retrain import plot_accuracy_vs_real, plot_gain_vs_synthetic


def fake_results():
    """3 seeds of real-only and augmentation at 1, 10 and 100 real images per class,
    and one fair-CGAN strategy at 10 only."""
    rows = []
    for strategy, base in (("real only", 0.5), ("augmentation", 0.6)):
        for per_class in (1, 10, 100):
            for seed, noise in enumerate((-0.02, 0.0, 0.02)):
                accuracy = base + 0.1 * np.log10(per_class) + noise
                rows.append({"strategy": strategy, "real_per_class": float(per_class),
                             "seed": seed, "test_accuracy": accuracy})  # fmt: skip
    for seed in range(3):
        rows.append({"strategy": "fair", "real_per_class": 10.0, "seed": seed,
                     "test_accuracy": 0.9})  # fmt: skip
    return pd.DataFrame(rows)


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_accuracy_vs_real_draws_the_mean_of_each_strategy_with_a_band():
    fig = plot_accuracy_vs_real(fake_results(), references={"all 60k real": 0.99}, title="t")
    ax = fig.axes[0]
    lines = lines_by_label(ax)
    assert {"real only", "augmentation", "fair", "all 60k real"} <= set(lines)
    np.testing.assert_allclose(lines["real only"].get_ydata(), [50, 60, 70])  # in %
    np.testing.assert_allclose(lines["augmentation"].get_xdata(), [1, 10, 100])
    assert lines["all 60k real"].get_ydata()[0] == pytest.approx(99)
    assert ax.get_xscale() == "log"
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2  # one per strategy with several sizes; "fair" has an error bar
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "10", "100"]


def test_accuracy_vs_real_rejects_empty_or_incomplete_results():
    with pytest.raises(ValueError, match="non-empty"):
        plot_accuracy_vs_real(pd.DataFrame())
    with pytest.raises(ValueError, match="real_per_class"):
        plot_accuracy_vs_real(fake_results().drop(columns="real_per_class"))


def test_gain_vs_synthetic_has_a_line_per_real_set_size_and_a_zero_line():
    rows = [
        {"n_real": n_real, "synth_per_class": synth, "seed": seed, "gain": gain + noise}
        for n_real, gain in ((10, 0.15), ("10%", 0.001))
        for synth in (100, 600, 6000)
        for seed, noise in enumerate((-0.01, 0.0, 0.01))
    ]
    fig = plot_gain_vs_synthetic(pd.DataFrame(rows))
    ax = fig.axes[0]
    lines = lines_by_label(ax)
    assert {"10 real / class", "10% of the real images"} <= set(lines)
    np.testing.assert_allclose(lines["10 real / class"].get_ydata(), [15, 15, 15])
    assert any(list(line.get_ydata()) == [0, 0] for line in ax.get_lines())  # no-gain line
    assert ax.get_ylabel() == "gain over real only (points)"
    with pytest.raises(ValueError, match="gain"):
        plot_gain_vs_synthetic(pd.DataFrame(rows).drop(columns="gain"))


def test_the_legend_says_what_the_band_is_only_when_there_is_one():
    fig = plot_accuracy_vs_real(fake_results())
    assert "shaded: ± 1 std over seeds" in [t.get_text() for t in fig.legends[0].get_texts()]
    one_seed = fake_results().query("seed == 0")
    fig = plot_accuracy_vs_real(one_seed)
    assert all("std" not in t.get_text() for t in fig.legends[0].get_texts())
