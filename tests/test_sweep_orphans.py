"""A killed `gankit sweep --jobs 2` leaves no worker behind, and its rerun records each run
exactly once: real `python -m gankit sweep` processes, with a stub run function (a
``sitecustomize`` on the workers' path replaces training by a sleep), SIGKILL or SIGTERM
of the sweep while both workers are inside a run."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gankit.experiments.registry import read_rows
from gankit.experiments.sweep import run_status

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")

# Every process of the sweep (the CLI and its loky workers) imports this at start-up.
_STUB = """
import os, time
from pathlib import Path
import gankit.experiments.run as run

def fake_run(self, config, seed, run_dir):
    (Path(run_dir) / "worker.pid").write_text(str(os.getpid()))
    seconds = float(os.environ["STUB_SECONDS"]) * (1 if config.train.g_lr > 1.5e-3 else 0.1)
    time.sleep(seconds)
    return {"fid": 1.0}

run.TrainAndEvaluate.__call__ = fake_run
run.TrainAndEvaluate.prepare = lambda self: None
"""
_LRS = (1e-3, 2e-3)  # the first run is short (a tenth of STUB_SECONDS), the second long


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _is_python(pid: int) -> bool:
    try:
        return b"python" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _sweep(tmp_path: Path, seconds: float) -> subprocess.Popen:
    stub_dir = tmp_path / "stub"
    stub_dir.mkdir(exist_ok=True)
    (stub_dir / "sitecustomize.py").write_text(textwrap.dedent(_STUB))
    path = os.pathsep.join([str(stub_dir), *sys.path])
    env = {**os.environ, "PYTHONPATH": path, "STUB_SECONDS": str(seconds)}
    grid = "train.g_lr=" + ",".join(str(lr) for lr in _LRS)
    argv = ["sweep", "dcgan_tuned", "--quick", "--grid", grid, "--jobs", "2"]
    # Output to files, not pipes: an orphan holding a pipe would keep communicate() waiting.
    with open(tmp_path / "out.txt", "w") as out, open(tmp_path / "err.txt", "w") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "gankit", *argv, "--root", str(tmp_path / "runs")],
            env=env,
            stdout=out,
            stderr=err,
        )


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _run_dirs(tmp_path: Path) -> list[Path]:
    runs = tmp_path / "runs"
    return sorted(p for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_killed_sweep_leaves_no_workers_and_its_rerun_records_each_run_once(tmp_path, how):
    sweep = _sweep(tmp_path, seconds=60.0)
    family: set[int] = set()
    try:
        _wait_for(
            lambda: sum((d / "worker.pid").exists() for d in _run_dirs(tmp_path)) == 2,
            120,
            "both workers to start a run",
        )
        workers = {int((d / "worker.pid").read_text()) for d in _run_dirs(tmp_path)}
        family = _descendants(sweep.pid)
        assert workers <= family  # loky workers are children of the sweep
        if how == "SIGKILL":
            # The worst moment: the short run's worker has written run.json, the sweep
            # process has not appended its registry row (it is stopped, then killed).
            os.kill(sweep.pid, signal.SIGSTOP)
            _wait_for(
                lambda: any(run_status(d) == "ok" for d in _run_dirs(tmp_path)),
                60,
                "the short run to finish",
            )
            os.kill(sweep.pid, signal.SIGKILL)
        else:
            os.kill(sweep.pid, signal.SIGTERM)
        sweep.wait(timeout=30)
        if how == "SIGTERM":
            assert sweep.returncode == 143
            err = (tmp_path / "err.txt").read_text()
            assert err.strip().splitlines()[-1] == (
                "gankit sweep: error: terminated (SIGTERM); rerun the same command to resume"
            )
        _wait_for(lambda: not any(_alive(p) for p in family), 10, f"workers gone: {family}")
    finally:
        for pid in family | _descendants(sweep.pid) | {sweep.pid}:
            if _alive(pid) and _is_python(pid):  # after a failure: leave none of ours behind
                os.kill(pid, signal.SIGKILL)
    registry = tmp_path / "runs" / "results.jsonl"
    if how == "SIGKILL":  # the short run finished, but its row was never written
        assert read_rows(registry) == []

    rerun = _sweep(tmp_path, seconds=0.5)
    assert rerun.wait(timeout=120) == 0, (tmp_path / "err.txt").read_text()
    rows = read_rows(registry)
    assert sorted(row["run_id"] for row in rows) == sorted(d.name for d in _run_dirs(tmp_path))
    assert all(row["status"] == "ok" for row in rows) and len(rows) == len(_LRS)
    assert all(
        json.loads((d / "run.json").read_text())["status"] == "ok" for d in _run_dirs(tmp_path)
    )
