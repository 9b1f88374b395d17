"""Sweep reports from a fake registry: grouping, mean ± std over seeds, tables, plots."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from gankit.config import GANConfig, with_overrides
from gankit.experiments.registry import append_row, load_registry, make_row
from gankit.experiments.sweep_grid import run_id
from gankit.experiments.sweep_report import (
    decimals_for,
    format_summary,
    plot_metric_vs_param,
    summarise,
    varying_params,
    write_sweep_report,
)

LRS, BATCHES, SEEDS = (1e-4, 1e-3), (64, 128), (0, 1, 2)
ENV = {"gankit_version": "test", "tensorflow_version": "test"}


def _fid(lr, batch, seed):
    return 100.0 * (lr == 1e-3) + batch / 64 + seed  # known means and stds


@pytest.fixture
def registry(tmp_path):
    """A registry of lr x batch x 3 seeds; (1e-3, 128, seed 2) failed."""
    path = tmp_path / "results.jsonl"
    for seed in SEEDS:
        for lr in LRS:
            for batch in BATCHES:
                overrides = {"train.g_lr": lr, "train.d_lr": lr, "train.batch_size": batch}
                config = with_overrides(GANConfig(name="dcgan"), overrides)
                failed = (lr, batch, seed) == (1e-3, 128, 2)
                metrics = {"generated": {"fid": _fid(lr, batch, seed), "inception_score": 5.0}}
                append_row(
                    path,
                    make_row(
                        config,
                        seed,
                        status="failed" if failed else "ok",
                        run_id=run_id(config, seed),
                        metrics=None if failed else metrics,
                        error="FloatingPointError: NaN" if failed else None,
                        train_seconds=10.0,
                        overrides=overrides,
                        environment=ENV,
                    ),
                )
    return path


def test_varying_parameters_are_found_in_sweep_order_with_linked_ones_grouped(registry):
    df = load_registry(registry)
    assert varying_params(df) == [["train.g_lr", "train.d_lr"], ["train.batch_size"]]


def test_summary_is_mean_and_std_over_finished_seeds(registry):
    summary = summarise(load_registry(registry), metrics=["fid"])
    assert list(summary.columns[:4]) == ["train.g_lr", "train.batch_size", "seeds", "failed"]
    row = summary[(summary["train.g_lr"] == 1e-4) & (summary["train.batch_size"] == 64)].iloc[0]
    assert row["seeds"] == 3 and row["failed"] == 0
    assert row["fid_mean"] == pytest.approx(np.mean([_fid(1e-4, 64, s) for s in SEEDS]))
    assert row["fid_std"] == pytest.approx(np.std([_fid(1e-4, 64, s) for s in SEEDS], ddof=1))
    failed = summary[(summary["train.g_lr"] == 1e-3) & (summary["train.batch_size"] == 128)]
    assert failed.iloc[0]["seeds"] == 2 and failed.iloc[0]["failed"] == 1
    assert failed.iloc[0]["fid_mean"] == pytest.approx(102.0 + 0.5)


def test_readable_summary_names_linked_parameters_and_prints_mean_pm_std(registry):
    df = load_registry(registry)
    table = format_summary(summarise(df, metrics=["fid"]), df)
    assert list(table.columns) == [
        "train.g_lr = train.d_lr",
        "train.batch_size",
        "seeds",
        "failed",
        "fid",
        "train s",
    ]
    assert table.iloc[0]["train.g_lr = train.d_lr"] == "0.0001"  # as given, not 0.000
    assert table.iloc[0]["fid"] == "2.00 ± 1.00"


def test_the_real_floor_stands_beside_each_metric_in_tables_and_plots(tmp_path):
    path = tmp_path / "results.jsonl"
    for seed in SEEDS:
        for lr in LRS:
            config = with_overrides(GANConfig(name="dcgan"), {"train.g_lr": lr})
            metrics = {
                "generated": {"fid": _fid(lr, 64, seed)},
                "real test": {"fid": 5.1},
            }
            row = make_row(config, seed, status="ok", run_id=run_id(config, seed),
                           metrics=metrics, train_seconds=1.0, environment=ENV)  # fmt: skip
            append_row(path, row)
    df = load_registry(path)
    summary = summarise(df, metrics=["fid"])
    assert list(summary["fid_floor"]) == [5.1, 5.1]
    table = format_summary(summary, df)
    assert list(table.columns[-3:]) == ["fid", "fid floor", "train s"]
    assert list(table["fid floor"]) == ["5.10", "5.10"]
    fig = plot_metric_vs_param(df, "train.g_lr", "fid")
    assert fig.axes[0].get_ylabel().startswith("FID (floor 5.1)")


def test_decimals_follow_the_magnitude():
    assert [decimals_for([v]) for v in (1444.1, 7.81, 0.0421, 0.0)] == [0, 3, 4, 3]


def test_report_writes_csv_markdown_booktabs_and_plots(registry, tmp_path):
    df = load_registry(registry)
    paths = write_sweep_report(df, tmp_path / "out", metrics=["fid", "inception_score"])
    md = paths["md"].read_text()
    assert "| train.g_lr = train.d_lr |" in md and "2.00 ± 1.00" in md
    tex = paths["tex"].read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex and r"train.g\_lr" in tex
    csv = pd.read_csv(paths["csv"])  # numbers for re-analysis, not text
    assert {"fid_mean", "fid_std"} <= set(csv.columns) and csv["fid_mean"].dtype == float
    runs = pd.read_csv(paths["runs_csv"])
    assert len(runs) == 12 and (runs["status"] == "failed").sum() == 1
    for key in ("fid_png", "fid_pdf", "inception_score_png"):
        assert paths[key].exists() and paths[key].stat().st_size > 1000


def test_plot_has_a_line_per_hue_with_error_bars_on_a_log_axis(registry):
    df = load_registry(registry)
    fig = plot_metric_vs_param(df, "train.g_lr", "fid", hue="train.batch_size")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "train.g_lr = train.d_lr"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["64", "128"]
    means = ax.lines[0].get_ydata()  # batch 64: mean over seeds at each lr
    assert list(means) == pytest.approx([2.0, 102.0])
    assert len(ax.collections) == 2  # one error-bar collection per line


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda df: summarise(df, metrics=["fdi"]), r"unknown metrics \['fdi'\]"),
        (lambda df: summarise(df, by=["train.lr"]), "unknown parameters"),
        (lambda df: plot_metric_vs_param(df, "train.g_lr", "nope"), "unknown columns"),
        (lambda df: summarise(df.iloc[:0]), "no runs yet"),
    ],
)
def test_bad_report_requests_explain_themselves(registry, call, match):
    with pytest.raises(ValueError, match=match):
        call(load_registry(registry))
