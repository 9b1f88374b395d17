"""Tests for gankit.bench_readme: the README's benchmark sections come from the files the
scripts in benchmarks/ wrote."""

import copy
import json

import pytest

from gankit import bench_readme
from gankit.results_readme import END, START

RECORD = {
    "script": "benchmarks/train_step.py",
    "arguments": {"repeats": 3, "steps": 10, "epochs": 2},
    "quick": False,
    "started_utc": "2026-12-02 13:50:00",
    "load_average_before": 2.54,
    "finished_utc": "2026-12-02 14:00:00",
    "load_average_after": None,
    "machine": {
        "cpu": "AMD EPYC",
        "avx2": True,
        "fma": True,
        "avx512f": False,
        "avx512_bf16": False,
        "amx": False,
        "nproc": 2,
        "gpu": None,
    },
    "versions": {"python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.13.0"},
    "results": {
        "batch": 256,
        "epoch_images_per_second": {"reference": [[50.0, 100.0]] * 3},
        "repeat_images_per_second": {
            "reference": [100.0, 110.0, 90.0],
            "gankit": [120.0, 130.0, 125.0],
            "gankit_bf16": [60.0, 50.0, 55.0],
        },
        "median_images_per_second": {"reference": 100.0, "gankit": 125.0, "gankit_bf16": 55.0},
        "ratio_to_reference": {"reference": 1.0, "gankit": 1.25, "gankit_bf16": 0.55},
        "bf16_over_float32": 0.44,
    },
}


def test_render_writes_provenance_and_the_table_line_by_line():
    start, end = bench_readme.markers("train_step")
    assert bench_readme.render("train_step", RECORD).splitlines() == [
        start,
        "",
        "From `benchmarks/results/train_step.json`, written by `python "
        "benchmarks/train_step.py --repeats 3 --steps 10 --epochs 2` (finished 2026-12-02 "
        "14:00:00 UTC) on AMD EPYC (2 cores; AVX2, FMA; no AVX-512F, AVX512-BF16, AMX; no "
        "GPU), TensorFlow 2.21.0, Keras 3.13.0. The 1-minute load average was 2.5 before "
        "the run and unknown after it (which includes the benchmark's own threads; what "
        "else ran is not recorded).",
        "",
        "Median images/s of 3 repeats (10 steps of 256 per epoch; each run's second epoch, "
        "the first, with tracing, dropped):",
        "",
        "| loop | images/s | ratio to the tutorial | each repeat |",
        "| --- | ---: | ---: | ---: |",
        "| TensorFlow tutorial, float32 | 100 | 1.00x | 100, 110, 90 |",
        "| gankit, float32 | 125 | 1.25x | 120, 130, 125 |",
        '| gankit, `train.precision = "mixed_bfloat16"` | 55 | 0.55x (0.44x over gankit '
        "float32) | 60, 50, 55 |",
        "",
        end,
    ]


def test_render_of_precision_speed_shows_medians_ranges_and_ratios():
    record = {
        **RECORD,
        "script": "benchmarks/precision_speed.py",
        "arguments": {"cycles": 2, "block": 5},
        "results": {
            "batch": 128,
            "auto_precision": "float32",
            "device": "CPU (no bf16 instructions)",
            "ms_per_round": {"float32": [100.0, 120.0], "float32 + XLA": [90.0, 150.0]},
            "median_ms_per_round": {"float32": 110.0, "float32 + XLA": 120.0},
            "speed_ratio": {"float32 + XLA / float32": 0.95},
        },
    }
    lines = bench_readme.render("precision_speed", record).splitlines()
    assert lines[4:-1] == [
        "The tuned DCGAN's training round, batch 128, device CPU (no bf16 instructions); "
        "'auto' is float32 there. Median of 2 cycles of 5 rounds:",
        "",
        "| variant | ms per round | range over the cycles |",
        "| --- | ---: | ---: |",
        "| float32 | 110.0 | 100.0 to 120.0 |",
        "| float32 + XLA | 120.0 | 90.0 to 150.0 |",
        "",
        "| speed ratio (median of the per-cycle ratios) | value |",
        "| --- | ---: |",
        "| float32 + XLA / float32 | 0.95x |",
        "",
        "'auto' is float32 on the recorded machine, so 'auto' runs the same computation as "
        "'float32' (and 'auto + XLA' as 'float32 + XLA'): the auto / float32 ratio shows "
        "the measurement's noise.",
        "",
    ]


def test_a_quick_mode_record_says_so_and_a_gpu_is_named():
    record = copy.deepcopy(RECORD)
    record["quick"] = True
    record["machine"]["gpu"] = {"name": "Tesla T4"}
    text = bench_readme.render("train_step", record)
    assert "written by `GANKIT_QUICK=1 python benchmarks/train_step.py" in text
    assert "; GPU Tesla T4)" in text
    assert "_A quick-mode (`GANKIT_QUICK=1`) smoke run, not a measurement._" in text


def test_without_a_results_file_the_section_names_the_command_and_shows_no_numbers(tmp_path):
    assert bench_readme.load(tmp_path, "time_to_quality") is None
    start, end = bench_readme.markers("time_to_quality")
    assert bench_readme.render("time_to_quality", None).splitlines() == [
        start,
        "",
        "_Not measured yet: `python benchmarks/time_to_quality.py` writes "
        "`benchmarks/results/time_to_quality.json`, then `python -m gankit readme` puts "
        "its numbers here._",
        "",
        end,
    ]


def test_update_readme_fills_every_section_and_keeps_the_rest(tmp_path):
    readme, results = tmp_path / "README.md", tmp_path / "results"
    blocks = [bench_readme.markers(stem) for stem in bench_readme.STEMS]
    readme.write_text(
        f"intro\n{START}\nkept\n{END}\n" + "".join(f"{s}\nold\n{e}\nprose\n" for s, e in blocks)
    )
    results.mkdir()
    (results / "train_step.json").write_text(json.dumps(RECORD))
    assert bench_readme.update_readme(readme, results) is True
    text = readme.read_text()
    assert f"{START}\nkept\n{END}\n" in text and "old" not in text
    assert text.count("prose\n") == len(blocks) and text.count("_Not measured yet") == 4
    assert "| gankit, float32 | 125 | 1.25x |" in text
    assert bench_readme.update_readme(readme, results) is False  # already up to date


def test_update_readme_refuses_a_readme_without_a_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="marker lines"):
        bench_readme.update_readme(readme, tmp_path)


def test_render_of_the_quality_benchmarks_as_their_scripts_write_them():
    run = {"epochs": 2, "seconds": [50.0, 54.0], "tarr": [0.9, 0.99], "best_tarr": 0.99}
    record = {
        **RECORD,
        "script": "benchmarks/time_to_quality.py",
        "arguments": {"max_minutes": 15.0, "seed": 0, "out": None},
        "results": {
            "max_minutes": 15.0,
            "models": {
                "gankit cgan": {**run, "seconds_to": {"95%": 104.0, "98%": 104.0, "99%": 104.0}},
                "keras conditional_gan": {
                    **run,
                    "seconds_to": {"95%": 104.0, "98%": None, "99%": None},
                },
            },
        },
    }
    text = bench_readme.render("time_to_quality", record)
    assert "`python benchmarks/time_to_quality.py --max-minutes 15.0 --seed 0`" in text
    assert "| gankit cgan | 104 s | 104 s | 104 s | 99.00% | 2 | 52 |" in text
    assert "| keras conditional_gan | 104 s | not in 15 min |" in text
    row = {
        "precision": "float32",
        "images_per_second": 40.4,
        "train_seconds": 600.0,
        "inception_score": 7.8,
        "fid": 163.04,
        "classes_covered": 10,
        "duplicate_fraction": 0.0,
    }
    record = {
        **RECORD,
        "script": "benchmarks/precision_quality.py",
        "arguments": {"n": 10000, "seed": 0},
        "results": {"n_eval": 10000, "rows": [row], "bf16_over_float32": 1.5},
    }
    text = bench_readme.render("precision_quality", record)
    assert "| float32 | 40 | 10.0 min | 7.80 | 163.0 | 10 | 0.000 |" in text
    assert "mixed_bfloat16 / float32 images/s: 1.50x." in text


def test_render_of_the_dcgan_time_to_quality_benchmark_shows_the_real_is_beside_the_best():
    run = {"epochs": 2, "of_epochs": 10, "seconds": [50.0, 54.0], "inception_score": [8.8, 9.2]}
    record = {
        **RECORD,
        "script": "benchmarks/dcgan_time_to_quality.py",
        "arguments": {"max_minutes": 15.0, "seed": 0, "out": None},
        "results": {
            "max_minutes": 15.0,
            "n_eval": 10000,
            "real_inception_score": 9.83,
            "models": {
                "gankit dcgan_tuned": {
                    **run, "best_inception_score": 9.2, "seconds_to": {"9.0": 104.0, "9.5": None}
                },
            },
        },
    }  # fmt: skip
    text = bench_readme.render("dcgan_time_to_quality", record)
    assert "| best IS (10,000 samples; real test 9.83) |" in text
    assert "| gankit dcgan_tuned | 104 s | not in 15 min | 9.20 | 2 of 10 | 52 |" in text
    assert "set-up" not in text  # records written before the set-up time was measured
    models = record["results"]["models"]
    models["gankit self-conditioned"] = {**models["gankit dcgan_tuned"], "setup_seconds": 31.4}
    text = bench_readme.render("dcgan_time_to_quality", record)
    assert "| epochs | seconds per epoch (mean) | set-up before the first step (s) |" in text
    assert "| gankit dcgan_tuned | 104 s | not in 15 min | 9.20 | 2 of 10 | 52 | – |" in text
    assert "| gankit self-conditioned | 104 s | not in 15 min | 9.20 | 2 of 10 | 52 | 31 |" in text
