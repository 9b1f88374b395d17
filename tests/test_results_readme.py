"""Tests for gankit.results_readme: the README's results come from figures/results.json."""

import json
from pathlib import Path

import pytest

from gankit import bench_readme
from gankit.cli import main
from gankit.results_readme import END, START, readme_section, render, update_readme

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_shows_the_committed_results():
    results = json.loads((ROOT / "figures" / "results.json").read_text(encoding="utf-8"))
    assert readme_section(ROOT / "README.md") == render(results), (
        "README.md's results section differs from figures/results.json: run "
        "`python -m gankit readme` after executing the notebooks"
    )


@pytest.mark.parametrize("stem", bench_readme.STEMS)
def test_the_readme_shows_the_committed_benchmark_results(stem):
    record = bench_readme.load(ROOT / "benchmarks" / "results", stem)
    section = readme_section(ROOT / "README.md", *bench_readme.markers(stem))
    assert section == bench_readme.render(stem, record), (
        f"README.md's {stem} section differs from benchmarks/results/{stem}.json: run "
        "`python -m gankit readme` after the benchmark"
    )


def _all_markers() -> str:
    pairs = [(START, END), *(bench_readme.markers(stem) for stem in bench_readme.STEMS)]
    return "".join(f"{start}\n{end}\n" for start, end in pairs)


def _results():
    real = {"tarr": 0.995, "inception_score": 9.8, "fid": 5.0, "precision": 0.9, "recall": 0.9}
    fake = {**real, "tarr": 0.98, "fid": 12.345}
    return {
        "q2": {
            "mode": "quick",
            "n_eval": 1000,
            "metrics": {"real test": real, "cgan": fake},
            "train_minutes": {"cgan": 1.5},
        }
    }


def test_render_shows_each_metric_beside_its_real_floor_and_flags_quick_mode():
    text = render(_results())
    assert text.startswith(START) and text.endswith(END)
    assert "| cgan (1,000 samples) | TARR 98.00% (real test: 99.50%)" in text
    assert "FID 12.3 (5.0)" in text and "| cgan: training time | 1.5 min |" in text
    assert "from a quick-mode execution" in text


def test_update_readme_replaces_only_the_section_between_the_markers(tmp_path):
    readme, results = tmp_path / "README.md", tmp_path / "results.json"
    readme.write_text(f"intro\n{START}\nold\n{END}\noutro\n")
    results.write_text(json.dumps(_results()))
    assert update_readme(readme, results) is True
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("\noutro\n") and "old" not in text
    assert update_readme(readme, results) is False  # already up to date


def test_a_readme_without_markers_is_refused(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="marker lines"):
        readme_section(readme)


def test_the_readme_command_writes_the_section_and_refuses_a_readme_without_markers(
    tmp_path, capsys
):
    readme, results = tmp_path / "README.md", tmp_path / "results.json"
    readme.write_text(_all_markers())
    results.write_text(json.dumps(_results()))
    command = ["readme", "--readme", str(readme), "--results", str(results)]
    assert main([*command, "--bench-results", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert "results section updated; benchmark sections updated" in out
    assert "cgan (1,000 samples)" in readme.read_text()
    assert "_Not measured yet: `make bench`" in readme.read_text()
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["readme", "--readme", str(readme), "--results", str(results)])
    assert exit_info.value.code == 2
    (error,) = capsys.readouterr().err.splitlines()
    assert error.startswith("gankit readme: error:") and "marker lines" in error


def test_render_shows_q1_the_semi_supervised_seeds_the_loss_study_and_each_execution():
    real = {
        "inception_score": 9.8,
        "fid": 5.13,
        "precision": 0.87,
        "recall": 0.87,
        "classes_covered": 10,
    }
    results = {
        "q1": {
            "classifier_test_accuracy": 0.995,
            "real_test": real,
            "n_eval": 10000,
            "tuned": {**real, "inception_score": 7.7, "fid": 120.7, "recall": 0.81},
            "tuned_train_seconds": 600.4,
            "best_variant": "lr 1e-3",
            "seeds": [0, 1, 2],
            "tuning": [
                {
                    "label": "tuned",
                    "seeds": 3,
                    "inception_score_mean": 7.41,
                    "inception_score_std": 0.12,
                    "inception_score_floor": 9.83,
                    "fid_mean": 160.04,
                    "fid_std": 9.51,
                    "fid_floor": 5.13,
                    "recall_mean": 0.78,
                    "recall_std": 0.01,
                    "recall_floor": 0.87,
                }
            ],
            "validation": [
                {
                    "label": "lr 1e-3",
                    "seeds": 2,
                    "inception_score_mean": 7.9,
                    "inception_score_std": float("nan"),
                    "fid_mean": 100.0,
                    "recall_mean": 0.8,
                }
            ],
            "clusters_choice": "self-conditioned, 30 clusters",
            "clusters": [
                {
                    "label": "self-conditioned, 30 clusters",
                    "seeds": 3,
                    "inception_score_mean": 9.1,
                    "inception_score_std": 0.05,
                    "fid_mean": 40.0,
                    "fid_std": 2.0,
                    "recall_mean": 0.7,
                    "recall_std": 0.01,
                }
            ],
        },
        "bonus": {
            "n_eval": 10,
            "conditional": {"real test": {}},
            "train_minutes": {},
            "pca": {},
            "semi_supervised": {
                "labels_per_class": 10,
                "epochs": 18,
                "seeds": [0, 1, 2],
                "test_accuracy_mean": 0.9639,
                "test_accuracy_std": 0.0045,
                "test_accuracy": [0.9688, 0.9632, 0.9598],
                "train_minutes": [6.0, 6.25, 6.5],
            },
        },
        "variants": {
            "n_eval": 10000,
            "comparison": [
                {
                    "study": "loss",
                    "variant": "DCGAN + WGAN-GP",
                    "epochs": 6,
                    "g_updates": 936,
                    "tarr": None,
                    "inception_score": 8.3,
                    "fid": 49.5,
                    "recall": 0.83,
                    "train_seconds": 600.0,
                },
                {
                    "study": "latent",
                    "variant": "2",
                    "epochs": 6,
                    "g_updates": 1,
                    "inception_score": 1,
                    "fid": 1,
                    "recall": 0,
                },
            ],
        },
        "executions": {
            "02_cgan_metrics": {
                "mode": "full",
                "minutes": 41.26,
                "finished_utc": "2026-12-02 13:40",
                "load_average_before": 1.0,
                "load_average_after": None,
            }
        },
    }
    text = render(results)
    assert (
        "| tuned DCGAN (`dcgan_tuned`) (10,000 samples) | IS 7.70 (9.80), 10/10 classes, "
        "FID 120.7 (5.1), precision 0.87 (0.87), recall 0.81 (0.87) |"
    ) in text
    assert "| tuned DCGAN training time | 600 s |" in text
    assert (
        "| tuning study: tuned (3 of 3 seeds) | IS 7.41 ± 0.12 (9.83), FID 160.0 ± 9.5 (5.1), "
        "recall 0.78 ± 0.01 (0.87) |"
    ) in text
    assert "| full budget: lr 1e-3 (2 of 3 seeds) | IS 7.90, FID 100.0, recall 0.80 |" in text
    assert "| clusters chosen (validation FID) | self-conditioned, 30 clusters |" in text
    assert "| best change of the study (validation FID) | lr 1e-3 |" in text
    assert (
        "| no labels, full budget: self-conditioned, 30 clusters (1 seed) | IS 9.10 ± 0.05, "
        "FID 40.0 ± 2.0, recall 0.70 ± 0.01 |" in text
    )
    assert (
        "96.39 ± 0.45% test accuracy (n = 3 seeds) after 18 epochs (6.0, 6.2, 6.5 min of training)"
    ) in text
    assert (
        "| DCGAN + WGAN-GP (6 epochs, 936 G updates) | IS 8.30, FID 49.5, recall 0.83, 10.0 min |"
    ) in text
    assert "latent" not in text.split("Variants")[1].split("Execution")[0].replace("loss study", "")
    assert (
        "| `02_cgan_metrics` (full mode, finished 2026-12-02 13:40 UTC) | 41.3 min "
        "(1-min load average 1.0 before, – after) |"
    ) in text


def test_render_shows_q3s_grid_as_a_table_and_the_few_shot_rows_at_10_per_class():
    def cell(part, strategy, source, n_real, n_synth, mean):
        return {
            "part": part,
            "strategy": strategy,
            "source": source,
            "n_real": n_real,
            "n_synth": n_synth,
            "mean": mean,
            "std": 0.001,
            "n": 3,
        }

    cells = [
        cell("grid", "real only", "none", "10%", "0", 0.98),
        cell("grid", "real + synthetic", "default CGAN", "10%", "100%", 0.985),
        cell("grid", "real only", "none", "100%", "0", 0.994),
        cell("few_shot", "augmentation", "none", "10", "0", 0.92),
        cell("few_shot", "augmentation", "none", "20", "0", 0.95),
        cell("fair", "real + synthetic (50% real)", "fair CGAN", "10", "10%", 0.90),
        cell("fair", "synthetic only", "fair CGAN", "0", "10%", 0.40),
        cell("synthetic_only", "synthetic only", "default CGAN", "0", "100%", 0.97),
        cell("synthetic_only", "synthetic only + augmentation", "default CGAN", "0", "100%", 0.98),
        cell("ensemble", "synthetic only + augmentation", "3 default CGANs", "0", "100%", 0.984),
        cell("ensemble", "augmentation + synthetic", "3 default CGANs", "10", "100%", 0.977),
    ]  # fmt: skip
    q3 = {"seeds": [0, 1, 2], "cells": cells, "elite_kept_fraction": 0.5, "run_minutes": 60.0,
          "notebook_minutes": 70.0}  # fmt: skip
    text = render({"q3": q3})
    assert "synthetic (share of 60k) | real only | + 100% |" in text
    assert "| 10% | 98.00 ± 0.10% (n = 3) | 98.50 ± 0.10% (n = 3) |" in text
    assert "| 100% | 99.40 ± 0.10% (n = 3) | – |" in text
    assert "| augmentation (none), 10 real / class | 92.00 ± 0.10% (n = 3) |" in text
    assert "20 real / class" not in text
    assert "| synthetic only (default CGAN, 100% of 60k) | 97.00 ± 0.10% (n = 3) |" in text
    assert "| synthetic only (fair CGAN, 10% of 60k) | 40.00 ± 0.10% (n = 3) |" in text
    assert "| synthetic only + augmentation (default CGAN, 100% of 60k) | 98.00 ±" in text
    assert "| synthetic only + augmentation (3 default CGANs, 100% of 60k) | 98.40 ±" in text
    assert (
        "| augmentation + synthetic (3 default CGANs, 100% of 60k), 10 real / class | 97.7" in text
    )
    assert "| real + synthetic (50% real) (fair CGAN, 10% of 60k), 10 real / class | 90.00" in text
    assert "| elite filter: share of synthetic images kept | 50.0% |" in text
