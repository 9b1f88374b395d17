"""Sweeps: expansion, run directories, resume after a crash, failures, locks, joblib."""

import os
import subprocess
import sys
import textwrap

import pytest

from gankit.config import config_hash, with_overrides
from gankit.experiments.locks import LOCK_NAME, RunLock
from gankit.experiments.registry import load_registry, read_rows
from gankit.experiments.sweep import RunResult, run_status, run_sweep
from gankit.experiments.sweep_grid import expand_grid, expand_list, parse_grid_item
from gankit.paths import run_dir_for
from gankit.presets import get_preset

BASE = with_overrides(
    get_preset("dcgan_tuned", quick=True),
    {
        "train.n_train": 256,
        "train.batch_size": 64,
        "generator.base_filters": 8,
        "discriminator.base_filters": 8,
    },
)
GRID = {"train.g_lr,train.d_lr": [1e-4, 1e-3], "train.batch_size": [32, 64]}


def _specs(seeds=(0, 1)):
    return expand_grid(BASE, GRID, seeds)


class Recorder:
    """A fake run function: records its calls, fails on the configs in ``fail``."""

    def __init__(self, fail=()):
        self.calls, self.fail = [], set(fail)

    def __call__(self, config, seed, run_dir):
        self.calls.append((config_hash(config), seed))
        (run_dir / "work.txt").write_text("trained")
        if (config.train.g_lr, config.train.batch_size) in self.fail:
            raise FloatingPointError("D loss became NaN")
        return {"fid": 100 * config.train.g_lr + seed, "inception_score": 2.0}


# --------------------------------------------------------------------------------------
# Expansion
# --------------------------------------------------------------------------------------
def test_grid_is_every_combination_times_seeds_seed_major():
    specs = _specs()
    assert len(specs) == 2 * 2 * 2 and [s.seed for s in specs] == [0] * 4 + [1] * 4
    assert {(s.config.train.g_lr, s.config.train.d_lr) for s in specs} == {
        (1e-4, 1e-4),
        (1e-3, 1e-3),
    }  # linked keys take the same value
    assert len({s.run_id for s in specs}) == 8
    assert specs[0].label == "train.g_lr=0.0001 train.d_lr=0.0001 train.batch_size=32"
    assert list(specs[0].overrides) == ["train.g_lr", "train.d_lr", "train.batch_size"]


def test_run_directory_is_named_by_config_hash_and_seed_like_the_notebooks(monkeypatch, tmp_path):
    monkeypatch.setenv("GANKIT_RUNS_DIR", str(tmp_path))
    spec = _specs()[5]
    assert spec.run_id == f"dcgan_tuned-{config_hash(spec.config)}-s1"
    assert spec.run_id == run_dir_for(spec.config, spec.seed).name


def test_list_sweep_keeps_labels_and_fixed_overrides():
    specs = expand_list(
        BASE,
        {"slow": {"train.g_lr": 1e-4}, "fast": {"train.g_lr": 1e-3}},
        [0],
        fixed={"train.epochs": 2},
    )
    assert [s.label for s in specs] == ["slow", "fast"]
    assert all(s.config.train.epochs == 2 for s in specs)


def test_duplicate_configs_run_once():
    with pytest.warns(UserWarning, match="run once"):
        specs = expand_list(BASE, [{"train.g_lr": BASE.train.g_lr}, {}], [0])
    assert len(specs) == 1


@pytest.mark.parametrize(
    ("grid", "seeds", "error", "match"),
    [
        ({"train.g_lrr": [1e-3]}, [0], ValueError, "Did you mean train.g_lr"),
        ({"train.batch_size": ["big"]}, [0], TypeError, "train.batch_size expects int"),
        ({"train.batch_size": []}, [0], ValueError, "non-empty list"),
        ({"train.batch_size": [64]}, [], ValueError, "at least one seed"),
        ({"train.batch_size": [64]}, [0, 0], ValueError, "seeds repeat"),
        ({"train.batch_size": [64]}, [-1], TypeError, "ints >= 0"),
    ],
)
def test_bad_sweeps_explain_themselves(grid, seeds, error, match):
    with pytest.raises(error, match=match):
        expand_grid(BASE, grid, seeds)


def test_grid_axes_parse_from_the_command_line():
    assert parse_grid_item("train.g_lr,train.d_lr=1e-4, 2e-4") == (
        "train.g_lr,train.d_lr",
        [1e-4, 2e-4],
    )
    assert parse_grid_item("generator.hidden=[[64], [128, 256]]")[1] == [[64], [128, 256]]
    assert parse_grid_item("generator.norm=batch,none")[1] == ["batch", "none"]
    with pytest.raises(ValueError, match="key=v1,v2"):
        parse_grid_item("train.batch_size")


# --------------------------------------------------------------------------------------
# Resume, failures, locks
# --------------------------------------------------------------------------------------
def test_failed_runs_are_recorded_and_retried_finished_ones_skipped(tmp_path):
    specs = _specs()
    first = Recorder(fail={(1e-3, 64)})
    outcomes = run_sweep(specs, first, root=tmp_path)
    assert [o.status for o in outcomes].count("failed") == 2  # both seeds of that config
    failed = next(o for o in outcomes if o.status == "failed")
    assert failed.error == "FloatingPointError: D loss became NaN"
    assert "Traceback" in (failed.run_dir / "error.txt").read_text()
    assert run_status(failed.run_dir) == "failed"
    registry = load_registry(tmp_path / "results.jsonl")
    assert len(registry) == 8 and sorted(registry["status"]) == ["failed"] * 2 + ["ok"] * 6
    assert registry.loc[registry["status"] == "failed", "error"].str.contains("NaN").all()

    second = Recorder()  # the bug is fixed: run the same sweep again
    outcomes = run_sweep(specs, second, root=tmp_path)
    assert sorted(second.calls) == sorted(first.calls[i] for i in (3, 7))  # only the failed
    assert [o.status for o in outcomes].count("skipped") == 6
    assert set(load_registry(tmp_path / "results.jsonl")["status"]) == {"ok"}
    assert len(read_rows(tmp_path / "results.jsonl")) == 10  # history kept: 8 + 2 reruns


def test_skip_failed_leaves_failed_runs_alone(tmp_path):
    specs = _specs(seeds=[0])
    run_sweep(specs, Recorder(fail={(1e-4, 32)}), root=tmp_path)
    again = Recorder()
    outcomes = run_sweep(specs, again, root=tmp_path, retry_failed=False)
    assert again.calls == [] and {o.status for o in outcomes} == {"skipped"}


def test_sweep_resumes_after_the_process_is_killed_mid_run(tmp_path):
    # A real crash: the sweep process is SIGKILLed inside its second run, leaving that run
    # directory half written with its lock file, and the third run never started.
    script = tmp_path / "crash.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, signal
            from gankit.config import with_overrides
            from gankit.presets import get_preset
            from gankit.experiments.sweep import run_sweep
            from gankit.experiments.sweep_grid import expand_list

            def run(config, seed, run_dir):
                (run_dir / "work.txt").write_text("started")
                if config.train.g_lr == 2e-3:
                    os.kill(os.getpid(), signal.SIGKILL)
                return {{"fid": 1.0}}

            base = get_preset("dcgan_tuned", quick=True)
            runs = [{{"train.g_lr": 1e-3}}, {{"train.g_lr": 2e-3}}, {{"train.g_lr": 3e-3}}]
            run_sweep(expand_list(base, runs, [0]), run, root={str(tmp_path / "runs")!r})
            """
        )
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    specs = expand_list(
        get_preset("dcgan_tuned", quick=True),
        [{"train.g_lr": 1e-3}, {"train.g_lr": 2e-3}, {"train.g_lr": 3e-3}],
        [0],
    )
    dirs = [tmp_path / "runs" / s.run_id for s in specs]
    assert [run_status(d) for d in dirs] == ["ok", "incomplete", "new"]
    assert (dirs[1] / LOCK_NAME).exists()  # the killed process could not remove it

    resumed = Recorder()
    outcomes = run_sweep(specs, resumed, root=tmp_path / "runs")
    assert [o.status for o in outcomes] == ["skipped", "ok", "ok"]
    assert [c[0] for c in resumed.calls] == [config_hash(s.config) for s in specs[1:]]
    assert not (dirs[1] / LOCK_NAME).exists()  # stale lock taken over, then released
    assert len(read_rows(tmp_path / "runs" / "results.jsonl")) == 3


def test_a_run_locked_by_another_sweep_is_left_alone(tmp_path):
    specs = _specs(seeds=[0])
    busy_dir = tmp_path / specs[1].run_id
    with RunLock(busy_dir):  # another sweep is writing this run right now
        recorder = Recorder()
        outcomes = run_sweep(specs, recorder, root=tmp_path)
        assert [o.status for o in outcomes] == ["ok", "busy", "ok", "ok"]
        assert "is being written by pid" in outcomes[1].error
        assert len(recorder.calls) == 3
    assert specs[1].run_id not in set(load_registry(tmp_path / "results.jsonl")["run_id"])
    outcomes = run_sweep(specs, Recorder(), root=tmp_path)  # once it is free
    assert [o.status for o in outcomes] == ["skipped", "ok", "skipped", "skipped"]


def test_a_finished_run_missing_from_the_registry_is_added_back(tmp_path):
    specs = _specs(seeds=[0])[:2]
    run_sweep(specs, Recorder(), root=tmp_path)
    registry = tmp_path / "results.jsonl"
    registry.write_text(registry.read_text().splitlines()[0] + "\n")  # lost the 2nd append
    run_sweep(specs, Recorder(), root=tmp_path)
    assert len(load_registry(registry)) == 2


def test_run_functions_must_return_metrics(tmp_path):
    outcome = run_sweep(_specs()[:1], lambda c, s, d: 42, root=tmp_path)[0]
    assert outcome.status == "failed" and "RunResult or a dict" in outcome.error


# --------------------------------------------------------------------------------------
# A real engine: joblib's loky process pool
# --------------------------------------------------------------------------------------
def report_pid(config, seed, run_dir):
    return RunResult({"generated": {"fid": float(seed)}}, extra={"pid": os.getpid()})


def test_parallel_sweep_runs_in_loky_worker_processes(tmp_path):
    specs = _specs()
    outcomes = run_sweep(specs, report_pid, root=tmp_path, n_jobs=2, backend="loky")
    assert [o.run_id for o in outcomes] == [s.run_id for s in specs]  # in spec order
    assert {o.status for o in outcomes} == {"ok"}
    df = load_registry(tmp_path / "results.jsonl")
    assert len(df) == 8 and os.getpid() not in set(df["extra.pid"])
    assert not any((tmp_path / s.run_id / LOCK_NAME).exists() for s in specs)
    again = run_sweep(specs, report_pid, root=tmp_path, n_jobs=2, backend="loky")
    assert {o.status for o in again} == {"skipped"}


def test_metrics_json_cannot_hold_fail_the_run_not_the_sweep(tmp_path):
    specs = _specs(seeds=[0])[:2]
    outcomes = run_sweep(specs, lambda c, s, d: {"fid": object()}, root=tmp_path)
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert "cannot store object" in outcomes[0].error
