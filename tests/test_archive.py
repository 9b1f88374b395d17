"""Archived sweep results: what finished runs measured, without weights, restored so that
sweeps skip them and the registry has one row each."""

import json

import pytest

from gankit.config import with_overrides
from gankit.experiments.archive import archive_runs, restore_runs
from gankit.experiments.registry import REGISTRY_NAME, read_rows
from gankit.experiments.sweep import run_status, run_sweep
from gankit.experiments.sweep_grid import expand_list
from gankit.presets import get_preset

BASE = with_overrides(get_preset("dcgan_tuned", quick=True), {"train.n_train": 256})
SPECS = expand_list(BASE, {"slow": {"train.g_lr": 1e-4}, "fast": {"train.g_lr": 1e-3}}, [0, 1])


class FakeTraining:
    """Writes what a training run writes (logs, grids, weights); fails on lr 1e-3, seed 1."""

    def __init__(self):
        self.calls = 0

    def __call__(self, config, seed, run_dir):
        self.calls += 1
        (run_dir / "steps.csv").write_text("epoch,g_loss\n0.5,1.0\n")
        (run_dir / "history.csv").write_text("epoch,g_loss\n1,1.0\n")
        (run_dir / "config.json").write_text("{}")
        (run_dir / "samples").mkdir()
        (run_dir / "samples" / "epoch_001.png").write_bytes(b"png")
        (run_dir / "generator.keras").write_bytes(b"weights")
        (run_dir / "checkpoints").mkdir()
        (run_dir / "checkpoints" / "ckpt-1.index").write_bytes(b"weights")
        if config.train.g_lr == 1e-3 and seed == 1:
            raise FloatingPointError("D loss became NaN")
        return {"fid": 100 * config.train.g_lr + seed}


@pytest.fixture
def trained(tmp_path):
    root = tmp_path / "runs"
    run_sweep(SPECS, FakeTraining(), root=root)
    return root


def test_archive_keeps_records_and_chosen_logs_of_finished_runs_only(trained, tmp_path):
    ok = [s.run_id for s in SPECS if not (s.config.train.g_lr == 1e-3 and s.seed == 1)]
    logged, gridded = {SPECS[0].run_id}, {SPECS[0].run_id, SPECS[1].run_id}
    archived = archive_runs(trained, tmp_path / "archive", logs=logged, grids=gridded)
    assert archived == sorted(ok)  # the failed run is left out
    for run_id in archived:
        files = {str(p.relative_to(tmp_path / "archive" / run_id))
                 for p in (tmp_path / "archive" / run_id).rglob("*") if p.is_file()}  # fmt: skip
        expected = {"run.json", "config.json", "history.csv"}
        if run_id in logged:
            expected.add("steps.csv")
        if run_id in gridded:
            expected.add("samples/epoch_001.png")
        assert files == expected, run_id  # no weights, no lock files
        record = json.loads((tmp_path / "archive" / run_id / "run.json").read_text())
        assert record["run_dir"] == run_id and record["status"] == "ok"  # no machine path


def test_restored_runs_are_finished_for_a_sweep_and_recorded_once(trained, tmp_path):
    archive_runs(trained, tmp_path / "archive", "*-s0", logs="*", grids="*")
    root = tmp_path / "elsewhere"
    restored = restore_runs(tmp_path / "archive", root)
    assert restored == sorted(s.run_id for s in SPECS if s.seed == 0)
    assert all(run_status(root / run_id) == "ok" for run_id in restored)
    assert (root / restored[0] / "steps.csv").read_text() == "epoch,g_loss\n0.5,1.0\n"
    rows = read_rows(root / REGISTRY_NAME)
    assert sorted(r["run_id"] for r in rows) == restored
    assert {r["run_dir"] for r in rows} == {str(root / run_id) for run_id in restored}
    before = {r["run_id"]: r["metrics"] for r in read_rows(trained / REGISTRY_NAME)}
    assert all(r["metrics"] == before[r["run_id"]] for r in rows)

    training = FakeTraining()
    run_sweep([s for s in SPECS if s.seed == 0], training, root=root)
    assert training.calls == 0  # nothing retrained
    assert len(read_rows(root / REGISTRY_NAME)) == len(restored)  # and no second row
    assert restore_runs(tmp_path / "archive", root) == []  # restoring again changes nothing
    assert len(read_rows(root / REGISTRY_NAME)) == len(restored)


def test_restore_leaves_runs_already_there_alone(trained, tmp_path):
    archive_runs(trained, tmp_path / "archive")
    root = tmp_path / "elsewhere"
    started = root / SPECS[0].run_id
    started.mkdir(parents=True)
    (started / "history.csv").write_text("epoch\n1\n")
    with pytest.warns(UserWarning, match="unfinished run; not restored"):
        restored = restore_runs(tmp_path / "archive", root)
    assert SPECS[0].run_id not in restored and len(restored) == 2
    assert (started / "history.csv").read_text() == "epoch\n1\n"


def test_archive_errors_say_what_to_do(trained, tmp_path):
    with pytest.raises(FileNotFoundError, match="no runs folder"):
        archive_runs(tmp_path / "nowhere", tmp_path / "archive")
    with pytest.raises(ValueError, match="inside the runs folder"):
        archive_runs(trained, trained / "archive")
    with pytest.raises(FileNotFoundError, match="gankit archive"):
        restore_runs(tmp_path / "nowhere", trained)


def test_the_command_line_archives_and_restores(trained, tmp_path, capsys):
    from gankit.cli import main

    dest, root = tmp_path / "archive", tmp_path / "elsewhere"
    assert main(["archive", str(dest), "--root", str(trained), "--match", "*-s1"]) == 0
    assert "1 finished run(s)" in capsys.readouterr().out  # seed 1 of lr 1e-3 failed
    assert main(["restore", str(dest), "--root", str(root)]) == 0
    assert "1 run(s)" in capsys.readouterr().out
    assert [r["run_id"] for r in read_rows(root / REGISTRY_NAME)] == [SPECS[2].run_id]
