"""Q1's tuning study: the sweep's runs (shared by the notebook and `gankit sweep --runs
q1-tuning`), the table over seeds, the choice on the validation criterion."""

import dataclasses

import pytest

from gankit.cli import main
from gankit.config import validate
from gankit.experiments.dcgan_tuning import (
    BASELINE,
    FULL_PRESET,
    best_change,
    runs_of,
    self_conditioned_specs,
    tuning_specs,
    tuning_table,
    validation_specs,
)
from gankit.experiments.registry import append_row, make_row
from gankit.presets import DCGAN_TUNING, SELF_CONDITIONED_CLUSTERS, get_preset


def test_every_row_changes_one_thing_on_the_study_budget():
    specs = tuning_specs([0, 1, 2], quick=False)
    assert len(specs) == 3 * len(DCGAN_TUNING) and len({s.run_id for s in specs}) == len(specs)
    assert [s.label for s in specs[: len(DCGAN_TUNING)]] == list(DCGAN_TUNING)
    study, full = get_preset("dcgan_study", quick=False), get_preset(FULL_PRESET, quick=False)
    assert study.train.epochs < full.train.epochs
    assert dataclasses.replace(study, name=full.name, train=full.train) == full
    base = specs[0].config
    for spec in specs:
        validate(spec.config)
        assert spec.config.train.epochs == study.train.epochs
        if spec.label != BASELINE:
            assert spec.config != base, spec.label


def test_a_subset_of_rows_keeps_their_run_directories():
    some = tuning_specs([0], rows=["D:G 2:1", BASELINE], quick=False)
    every = {s.label: s.run_id for s in tuning_specs([0], quick=False)}
    assert [(s.label, s.run_id) for s in some] == [(k, every[k]) for k in ("D:G 2:1", BASELINE)]
    with pytest.raises(ValueError, match=r"unknown rows \['D:G 3:1'\]"):
        tuning_specs([0], rows=["D:G 3:1"])


def test_the_command_line_study_names_the_notebooks_run_directories(tmp_path, capsys):
    argv = ["sweep", "dcgan_study", "--runs", "q1-tuning", "--seeds", "0,1", "--dry-run"]
    assert main([*argv, "--root", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()[:-1]
    listed = {line.split()[0].rsplit("/", 1)[-1] for line in lines}
    assert listed == {s.run_id for s in tuning_specs([0, 1])}  # GANKIT_QUICK, as the CLI


def test_an_unknown_named_study_says_what_is_known(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", "dcgan_study", "--runs", "q1-tunning", "--dry-run"])
    assert exit_.value.code == 2
    assert "named study (q1-tuning)" in capsys.readouterr().err


def _record(registry, spec, fid, inception_score=9.0):
    metrics = {"generated": {"fid": fid, "inception_score": inception_score, "precision": 0.7,
                             "recall": 0.8, "classes_covered": 10},
               "real test": {"fid": 5.0, "inception_score": 9.8}}  # fmt: skip
    row = make_row(spec.config, spec.seed, status="ok", run_id=spec.run_id, metrics=metrics,
                   label="another sweep's label", environment={})  # fmt: skip
    append_row(registry, row)


def test_table_is_over_seeds_in_row_order_and_the_lowest_mean_fid_wins(tmp_path):
    specs = tuning_specs([0, 1], quick=True)
    by_label = {(s.label, s.seed): s for s in specs}
    registry = tmp_path / "results.jsonl"
    fids = {BASELINE: (30, 34), "lr 5e-4": (20, 40), "batch 64": (25, 27), "latent 10": (10,)}
    for label, values in fids.items():
        for seed, fid in enumerate(values):
            _record(registry, by_label[(label, seed)], fid)
    table = tuning_table(runs_of(specs, registry))
    assert list(table["label"]) == [k for k in DCGAN_TUNING if k in fids]  # the study's order
    row = table.set_index("label").loc["lr 5e-4"]
    assert row["seeds"] == 2 and row["fid_mean"] == 30 and row["fid_std"] == pytest.approx(200**0.5)
    assert row["fid_floor"] == 5.0
    assert best_change(table) == "latent 10"  # one seed is enough unless asked for more
    assert best_change(table, min_seeds=2) == "batch 64"
    with pytest.raises(ValueError, match="3 finished seed"):
        best_change(table, min_seeds=3)


def test_runs_of_an_empty_or_missing_registry_is_empty(tmp_path):
    assert runs_of(tuning_specs([0], quick=True), tmp_path / "none.jsonl").empty


def test_validation_retrains_the_baseline_and_the_best_change_at_the_full_budget():
    specs = validation_specs("batch 64", [0, 1, 2], quick=False)
    assert [(s.label, s.seed) for s in specs[:2]] == [(BASELINE, 0), ("batch 64", 0)]
    assert len(specs) == 6
    full = get_preset(FULL_PRESET, quick=False)
    assert specs[0].config == full and specs[1].config.train.batch_size == 64
    assert full.train.self_conditioned  # the best unconditional GAN is the baseline
    baseline_runs = [s.run_id for s in specs if s.label == BASELINE]
    assert baseline_runs == [s.run_id for s in self_conditioned_specs([0, 1, 2], quick=False)]
    with pytest.raises(ValueError, match=r"unknown change \['batch 65'\].*batch 64"):
        validation_specs("batch 65", [0])


def test_run_study_trains_what_is_missing_once_and_reads_the_step_logs(
    tmp_path, monkeypatch, capsys
):
    import pandas as pd

    import gankit.experiments.run
    from gankit.experiments.dcgan_tuning import run_study, step_logs

    calls = []

    def fake_call(self, config, seed, run_dir):
        calls.append((config.generator.depth, seed))
        pd.DataFrame({"epoch": [1.0], "g_grad_norm": [float(config.generator.depth)]}).to_csv(
            run_dir / "steps.csv", index=False
        )
        return {"fid": 10.0 + seed, "inception_score": 8.0}

    monkeypatch.setattr(gankit.experiments.run.TrainAndEvaluate, "__call__", fake_call)
    monkeypatch.setattr(gankit.experiments.run.TrainAndEvaluate, "prepare", lambda self: None)
    specs = [
        s for s in tuning_specs([0, 1], quick=True) if s.label in (BASELINE, "G deeper (3 blocks)")
    ]
    runs = run_study(specs, quick=True, root=tmp_path, progress=False)
    assert len(calls) == 4 and sorted(runs["label"]) == sorted(s.label for s in specs)
    assert len(run_study(specs, quick=True, root=tmp_path, progress=True)) == 4
    assert len(calls) == 4  # finished runs are not trained again
    assert "4 runs: 4 finished before, 0 trained now, 0 failed" in capsys.readouterr().out
    logs = step_logs(specs, ["G deeper (3 blocks)"], seed=1, root=tmp_path)
    assert list(logs["G deeper (3 blocks)"]["g_grad_norm"]) == [3.0]
    with pytest.raises(ValueError, match="no run of seed 2"):
        step_logs(specs, [BASELINE], seed=2, root=tmp_path)


def test_coverage_by_epoch_classifies_each_epochs_sample_grid(tmp_path, monkeypatch):
    import numpy as np

    import gankit.evaluate.inference
    from gankit.data.grids import save_image_grid
    from gankit.experiments.dcgan_tuning import coverage_by_epoch

    spec = tuning_specs([0], rows=["D:G 2:1"], quick=True)[0]
    n = spec.config.train.grid_size
    samples = tmp_path / spec.run_id / "samples"
    # Tile i is uniformly grey at level 20 * class; the stub classifier reads the level.
    one_class = np.full((n, 28, 28), 60, np.uint8)
    every_class = np.stack([np.full((28, 28), 20 * (i % 10), np.uint8) for i in range(n)])
    save_image_grid(one_class, samples / "epoch_001.png")
    save_image_grid(every_class, samples / "epoch_002.png")

    def stub_proba(model, images):
        levels = np.asarray(images).reshape(len(images), -1)[:, 0] // 20  # uint8 tiles
        return np.eye(10, dtype=np.float32)[levels.astype(int)]

    monkeypatch.setattr(gankit.evaluate.inference, "predict_proba", stub_proba)
    table = coverage_by_epoch([spec], ["D:G 2:1"], classifier=None, seed=0, root=tmp_path)
    assert list(table["epoch"]) == [1, 2] and list(table["classes_covered"]) == [1, 10]
    assert table["kl_to_uniform"].iloc[0] == pytest.approx(np.log(10))
    assert table["kl_to_uniform"].iloc[1] < 0.01


def test_the_self_conditioned_runs_are_the_preset_per_seed_and_load_when_finished(tmp_path):
    from gankit.experiments.dcgan_tuning import generator_of, self_conditioned_specs

    specs = self_conditioned_specs([0, 2], quick=False)
    label = f"self-conditioned, {SELF_CONDITIONED_CLUSTERS} clusters"
    assert [(s.label, s.seed) for s in specs] == [(label, 0), (label, 2)]
    config = get_preset("dcgan_self_conditioned", quick=False)
    assert all(s.config == config for s in specs) and config.train.self_conditioned
    assert not config.takes_labels
    with pytest.raises(FileNotFoundError, match="train the run to completion"):
        generator_of(specs[0], root=tmp_path)


def test_more_clusters_are_the_same_runs_as_the_command_lines(tmp_path, capsys):
    from gankit.experiments.dcgan_tuning import self_conditioned_specs

    specs = self_conditioned_specs([0], [10, 30], quick=False)
    assert [s.config.train.clusters for s in specs] == [10, 30]
    assert specs[1].label == "self-conditioned, 30 clusters"
    runs = '{"a": {"train.clusters": 10}, "b": {}}'
    argv = ["sweep", "dcgan_self_conditioned", "--runs", runs, "--seeds", "0", "--dry-run"]
    assert main([*argv, "--root", str(tmp_path)]) == 0
    listed = [
        line.split()[0].rsplit("/", 1)[-1] for line in capsys.readouterr().out.splitlines()[:-1]
    ]
    assert listed == [
        s.run_id for s in self_conditioned_specs([0], [10, SELF_CONDITIONED_CLUSTERS])
    ]
    with pytest.raises(ValueError, match="distinct numbers of clusters"):
        self_conditioned_specs([0], [10, 10])


def test_last_grid_reads_the_last_epochs_grid_of_a_conditional_run(tmp_path):
    import numpy as np

    from gankit.data.grids import save_image_grid
    from gankit.experiments.dcgan_tuning import last_grid, self_conditioned_specs

    spec = self_conditioned_specs([0], [30], quick=True)[0]
    spec = dataclasses.replace(
        spec, config=dataclasses.replace(
            spec.config, train=dataclasses.replace(spec.config.train, grid_size=30)
        )
    )  # fmt: skip
    with pytest.raises(FileNotFoundError, match="no sample grid"):
        last_grid(spec, root=tmp_path)
    tiles = np.stack([np.full((28, 28), 8 * i, np.uint8) for i in range(30)])
    samples = tmp_path / spec.run_id / "samples"
    save_image_grid(tiles[::-1], samples / "epoch_001.png", ncol=10)
    save_image_grid(tiles, samples / "epoch_002.png", ncol=10)  # 3 rows of 10, not 6 x 5
    np.testing.assert_array_equal(last_grid(spec, root=tmp_path), tiles)
