"""Tests for the report figures of gankit.plots (style, samples, curves, bars). Headless (Agg)."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: tests run without a display

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from PIL import Image

from gankit.data import grids
from gankit.plots import bars, curves, samples, style


def _float_digits(n: int, size: int = 28, seed: int = 0) -> np.ndarray:
    """n deterministic float images in [-1, 1], shape (n, size, size, 1)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, size, size, 1)).astype(np.float32)


def _per_step_history(steps: int = 200, steps_per_epoch: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    step = np.arange(1, steps + 1)
    return pd.DataFrame(
        {
            "step": step,
            "epoch": step / steps_per_epoch,  # fractional epochs: 0.025, 0.05, ...
            "d_loss_real": 0.6 + 0.1 * rng.standard_normal(steps),
            "d_loss_fake": 0.5 + 0.1 * rng.standard_normal(steps),
            "d_loss": 1.1 + 0.1 * rng.standard_normal(steps),
            "g_loss": 1.0 + 0.2 * rng.standard_normal(steps),
            "d_acc_real": rng.uniform(0.5, 1, steps),
            "d_acc_fake": rng.uniform(0.3, 0.9, steps),
        }
    )


def _assert_saves(fig: Figure, stem) -> None:
    paths = style.save_figure(fig, stem)
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    for p in paths:
        assert p.exists() and p.stat().st_size > 0


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------
def test_plot_image_grid_with_row_labels(tmp_path):
    fig = samples.plot_image_grid(_float_digits(30), row_labels=range(10), title="per class")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(d) for d in range(10)]
    assert ax.get_title() == "per class"
    assert fig.get_figwidth() == pytest.approx(style.COLUMN_WIDTH_IN)
    _assert_saves(fig, tmp_path / "grid")


def test_plot_image_grid_draws_into_a_given_axes():
    fig = Figure()
    ax1, ax2 = fig.subplots(1, 2)
    assert samples.plot_image_grid(_float_digits(4), ax=ax2) is fig
    assert len(ax2.images) == 1 and len(ax1.images) == 0


def test_plot_image_grid_row_labels_must_match_rows():
    with pytest.raises(ValueError, match="split evenly"):
        samples.plot_image_grid(_float_digits(7), row_labels=range(2))
    with pytest.raises(ValueError, match="row_labels is empty"):
        samples.plot_image_grid(_float_digits(6), row_labels=[])
    with pytest.raises(ValueError, match="3 rows"):
        samples.plot_image_grid(_float_digits(6), ncol=2, row_labels=range(2))


def test_plot_history_per_step_fractional_epochs(tmp_path):
    history = _per_step_history()
    fig = curves.plot_history(history, title="DCGAN", smooth=10)
    assert isinstance(fig, Figure)
    loss_ax, acc_ax = fig.axes
    assert acc_ax.get_xlabel() == "epoch"
    # Smoothing: a faint raw line behind each of the 4 smoothed loss lines.
    assert len(loss_ax.lines) == 8
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == [
        "D (real)",
        "D (fake)",
        "D (total)",
        "G",
    ]
    np.testing.assert_allclose(loss_ax.lines[0].get_xdata(), history["epoch"])
    # Accuracy panel: [0, 1] with a dashed line at 0.5.
    low, high = acc_ax.get_ylim()
    assert low <= 0 and high >= 1 and high < 1.1
    assert any(
        line.get_linestyle() == "--" and set(line.get_ydata()) == {0.5} for line in acc_ax.lines
    )
    _assert_saves(fig, tmp_path / "history")


def test_plot_history_with_missing_columns_skips_them():
    per_epoch = {"epoch": [1, 2, 3], "g_loss": [1.0, 0.9, 0.8], "d_loss": [1.3, 1.2, 1.1]}
    fig = curves.plot_history(per_epoch)
    assert len(fig.axes) == 1  # no accuracy columns: no accuracy panel
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["D (total)", "G"]
    assert ax.get_xlabel() == "epoch"


def test_plot_history_accepts_a_keras_history_object():
    # Like what keras.Model.fit returns: per-epoch lists in .history, no epoch column.
    history = SimpleNamespace(history={"d_loss": [1.3, 1.2, 1.1], "g_loss": [0.7, 0.8, 0.9]})
    (ax,) = curves.plot_history(history).axes
    assert ax.get_xlabel() == "epoch"
    assert ax.lines[0].get_xdata().tolist() == [1, 2, 3]
    assert all(float(t).is_integer() for t in ax.get_xticks())


def test_plot_history_uses_step_when_epoch_repeats():
    history = {"epoch": [0, 0, 1, 1], "step": [10, 20, 30, 40], "d_acc_fake": [0.1, 0.2, 0.3, 0.4]}
    fig = curves.plot_history(history)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "step"
    assert ax.lines[0].get_xdata().tolist() == [10, 20, 30, 40]


def test_plot_history_skips_gaps_in_sparse_columns():
    history = {"step": [1, 2, 3, 4], "g_loss": [1.0, np.nan, 0.8, np.nan]}
    (ax,) = curves.plot_history(history).axes
    assert ax.lines[0].get_xdata().tolist() == [1, 3]


def test_plot_history_rejects_unknown_columns_and_bad_input():
    with pytest.raises(ValueError, match="none of the columns"):
        curves.plot_history({"epoch": [1], "loss": [0.1]})
    with pytest.raises(ValueError, match="same length"):
        curves.plot_history({"epoch": [1, 2], "g_loss": [0.1]})
    with pytest.raises(TypeError, match="DataFrame"):
        curves.plot_history(42)
    with pytest.raises(ValueError, match="smooth"):
        curves.plot_history({"g_loss": [1.0]}, smooth=0)


def test_plot_histories_one_line_per_run(tmp_path):
    runs = {"lr=1e-4": _per_step_history(), "lr=2e-4": _per_step_history(100)}
    fig = curves.plot_histories(runs, "d_acc_fake", title="D accuracy on fake")
    (ax,) = fig.axes
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(runs)
    assert ax.get_ylabel() == "D accuracy (fake)"
    _assert_saves(fig, tmp_path / "histories")


def test_plot_histories_warns_about_and_skips_runs_without_the_column():
    runs = {"a": {"epoch": [1, 2], "g_loss": [1.0, 0.5]}, "b": {"epoch": [1, 2], "d_loss": [1, 1]}}
    with pytest.warns(UserWarning, match="'b' has no column 'g_loss'"):
        fig = curves.plot_histories(runs, "g_loss")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a"]
    with pytest.raises(ValueError, match="no run has"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curves.plot_histories(runs, "d_acc_real")


def test_plot_histories_log_axis_for_norms_that_span_orders_of_magnitude():
    runs = {
        "a": {"epoch": [1, 2], "g_grad_norm": [40.0, 0.1]},
        "b": {"epoch": [1, 2], "g_grad_norm": [1, 2]},
    }
    (ax,) = curves.plot_histories(runs, "g_grad_norm", log_y=True).axes
    assert ax.get_yscale() == "log"
    assert curves.plot_histories(runs, "g_grad_norm").axes[0].get_yscale() == "linear"
    runs["b"]["g_grad_norm"] = [0.0, 1.0]
    with pytest.raises(ValueError, match="log_y needs 'g_grad_norm' > 0"):
        curves.plot_histories(runs, "g_grad_norm", log_y=True)


def test_plot_epoch_grids_from_arrays(tmp_path):
    grids = {10: _float_digits(16, seed=2), 1: _float_digits(16, seed=1), 5: _float_digits(16)}
    fig = samples.plot_epoch_grids(grids, title="samples")
    assert [ax.get_title() for ax in fig.axes] == ["epoch 1", "epoch 5", "epoch 10"]
    assert fig.get_figwidth() == pytest.approx(style.FULL_WIDTH_IN)
    _assert_saves(fig, tmp_path / "epochs")


def test_plot_epoch_grids_from_pngs_sorts_by_epoch_number(tmp_path):
    pngs = [
        grids.save_image_grid(_float_digits(4, seed=e), tmp_path / f"epoch_{e}.png")
        for e in (10, 2)
    ]
    fig = samples.plot_epoch_grids(pngs, panels_per_row=1)
    assert [ax.get_title() for ax in fig.axes] == ["epoch 2", "epoch 10"]
    assert fig.get_figwidth() == pytest.approx(style.COLUMN_WIDTH_IN)


def test_plot_metric_bars_with_error_bars(tmp_path):
    table = pd.DataFrame(
        {"run": ["dcgan", "cgan", "cgan+ls"], "fid": [30.0, 25.0, np.nan], "std": [1, 2, np.nan]}
    )
    fig = bars.plot_metric_bars(table, "fid", err_col="std", title="FID")
    (ax,) = fig.axes
    assert len(ax.patches) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["dcgan", "cgan", "cgan+ls"]
    assert ax.yaxis_inverted()  # first row on top
    assert any(isinstance(c, ErrorbarContainer) for c in ax.containers)
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["30", "25", "n/a"]
    _assert_saves(fig, tmp_path / "bars")


def test_plot_metric_bars_labels_negative_and_large_values():
    table = {"run": ["a", "b"], "delta": [-0.25, 1234.5]}
    (ax,) = bars.plot_metric_bars(table, "delta").axes
    assert [t.get_text() for t in ax.texts] == ["-0.25", "1234"]
    low, high = ax.get_xlim()
    assert low < -0.25 and high > 1234.5


def test_plot_metric_bars_accepts_records_and_checks_columns():
    records = [{"name": "a", "is": 2.0}, {"name": "b", "is": 3.0}]
    fig = bars.plot_metric_bars(records, "is", label_col="name")
    assert len(fig.axes[0].patches) == 2
    with pytest.raises(ValueError, match="no column 'fid'"):
        bars.plot_metric_bars(records, "fid", label_col="name")


# --------------------------------------------------------------------------------------
# Style and saving
# --------------------------------------------------------------------------------------
def test_house_style_does_not_leak_into_global_rcparams():
    before = dict(matplotlib.rcParams)
    curves.plot_history({"g_loss": [1.0, 0.5]})
    assert dict(matplotlib.rcParams) == before


def test_figures_use_house_style():
    fig = curves.plot_history({"epoch": [1, 2], "g_loss": [1.0, 0.5]})
    ax = fig.axes[0]
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert ax.xaxis.label.get_fontsize() == 8
    assert fig.get_layout_engine() is not None


def test_save_figure_pdf_is_truetype_dated_never_and_reproducible(tmp_path):
    def make() -> Figure:
        return curves.plot_history({"epoch": [1, 2, 3], "g_loss": [1.0, 0.5, 0.7]})

    a = style.save_figure(make(), tmp_path / "a", formats=("pdf",))[0]
    b = style.save_figure(make(), tmp_path / "b", formats=["pdf"])[0]
    data = a.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"/CreationDate" not in data
    assert b"/Type3" not in data  # pdf.fonttype 42: TrueType, as IEEE PDF eXpress wants
    assert data == b.read_bytes()


def test_save_figure_paths_and_errors(tmp_path):
    fig = curves.plot_history({"g_loss": [1.0, 0.5]})
    paths = style.save_figure(fig, tmp_path / "new" / "run_lr0.5", dpi=50, close=True)
    assert [p.name for p in paths] == ["run_lr0.5.png", "run_lr0.5.pdf"]
    with Image.open(paths[0]) as im:
        assert im.size == (round(fig.get_figwidth() * 50), round(fig.get_figheight() * 50))
    with pytest.raises(ValueError, match="suffix"):
        style.save_figure(fig, tmp_path / "x.png")
    with pytest.raises(ValueError, match="unknown format"):
        style.save_figure(fig, tmp_path / "x", formats=("docx",))


def test_plot_class_fractions_groups_bars_per_class(tmp_path):
    fractions = {"real": np.full(10, 0.1), "collapsed": np.eye(10)[3]}
    fig = bars.plot_class_fractions(fractions, title="coverage")
    ax = fig.axes[0]
    assert len(ax.patches) == 20
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights[-1] == pytest.approx(1.0) and heights[0] == 0.0
    assert len(style.save_figure(fig, tmp_path / "cov")) == 2
    with pytest.raises(ValueError, match="same length"):
        bars.plot_class_fractions({"a": np.ones(10) / 10, "b": np.ones(5) / 5})
    with pytest.raises(ValueError, match="empty"):
        bars.plot_class_fractions({})


def test_metric_label_names_metrics_and_keeps_unknown_columns():
    assert style.metric_label("fid") == "FID"
    assert style.metric_label("inception_score") == "Inception score"
    assert style.metric_label("kl_to_uniform") == "KL to uniform"
    assert style.metric_label("class accuracy") == "class accuracy"
    assert style.metric_label("inception_score floor") == "Inception score floor"
    assert style.error_label_for("inception_score_std") == "± std over 10 splits"
    with pytest.raises(TypeError, match="str"):
        style.metric_label(3)


def test_wrap_text_breaks_long_titles_at_the_width():
    title = "Reference classifier: 100 real and 100 synthetic images, a long title"
    wrapped = style.wrap_text(title, 2.0, 9)
    assert "\n" in wrapped and wrapped.replace("\n", " ") == title
    assert style.wrap_text("short", 3.5, 9) == "short"
    assert style.title_lines(None, 3.5) == 0


def test_plot_metric_bars_labels_the_metric_and_its_error_bars():
    table = pd.DataFrame({"run": ["a", "b"], "inception_score": [5.0, 6.0],
                          "inception_score_std": [0.1, 0.2]})  # fmt: skip
    fig = bars.plot_metric_bars(table, "inception_score", err_col="inception_score_std")
    assert fig.axes[0].get_xlabel() == "Inception score\n(error bars: ± std over 10 splits)"
    fig = bars.plot_metric_bars(
        table, "inception_score", err_col="inception_score_std", error_label="± std over 3 seeds"
    )
    assert fig.axes[0].get_xlabel().endswith("(error bars: ± std over 3 seeds)")
    assert bars.plot_metric_bars(table, "inception_score").axes[0].get_xlabel() == (
        "Inception score"
    )


def test_plot_epoch_grids_shows_at_most_max_panels_of_tile_rows():
    epochs = {e: _float_digits(64, seed=e) for e in range(1, 11)}
    fig = samples.plot_epoch_grids(epochs, ncol=8)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "epoch 1" and titles[-1] == "epoch 10" and len(titles) == 6
    everything = samples.plot_epoch_grids(epochs, ncol=8, max_panels=None, tile_rows=None)
    assert len(everything.axes) == 10
    grid = grids.image_grid(_float_digits(64), ncol=8)
    assert samples.tile_counts(grid) == (8, 8)
    assert samples.tile_counts(samples.crop_tile_rows(grid, 4)) == (4, 8)
    assert samples.panels_per_row_for(6, 10) == 3 and samples.panels_per_row_for(2, 10) == 2


def test_plot_metric_bars_draws_and_names_the_floor():
    table = pd.DataFrame({"run": ["a", "b"], "fid": [12.6, 30.0]})
    fig = bars.plot_metric_bars(table, "fid", floor=5.1)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "FID (floor 5.1)"
    assert any(list(line.get_xdata()) == [5.1, 5.1] for line in ax.get_lines())
