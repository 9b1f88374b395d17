"""Crash recovery: a trainer killed right after each write of an epoch, damaged
checkpoints, a garbled or missing checkpoint state file and truncated logs all resume to
the uninterrupted run (every epoch's history row, step rows and sample exactly once, the
same weights), or stop with a one-line `DamagedRunError` when nothing can be recovered."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from crash_child import train
from tensorboard_events import read_events

import gankit
import gankit.train.run_dir
from gankit.io import read_csv_exact
from gankit.train.run_dir import FAULT_ENV, DamagedRunError

CHILD = Path(__file__).with_name("crash_child.py")
TIMING = ["seconds", "images_per_second"]
KILLS = [
    ("gan", "steps", 1),  # before the first checkpoint: nothing to restore
    ("gan", "history", 2),
    ("gan", "image", 2),
    ("gan", "tensorboard", 2),  # its events are written, its checkpoint is not
    ("gan", "checkpoint", 3),  # the last epoch is committed, generator.keras is not saved
    ("semi", "history", 2),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The uninterrupted GAN and semi-supervised runs, by kind, trained in-process while
    subprocesses train the run directories of the `KILLS`, each killed by the fault hook.

    Returns:
      (straight, killed): the results by kind; by kill, its run directory, exit code and
      stderr.
    """
    root = tmp_path_factory.mktemp("runs")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(gankit.__file__).parents[1]), str(CHILD.parent)]),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    procs = {}
    for kill in KILLS:
        run_dir = root / "-".join(map(str, kill))
        procs[kill] = (
            run_dir,
            subprocess.Popen(
                [sys.executable, str(CHILD), kill[0], str(run_dir)],
                env={**env, FAULT_ENV: f"{kill[1]}:{kill[2]}"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            ),
        )
    straight = {kind: train(kind, root / kind) for kind in ("gan", "semi")}
    killed = {
        kill: (run_dir, proc.wait(timeout=600), proc.stderr.read())
        for kill, (run_dir, proc) in procs.items()
    }
    return straight, killed


@pytest.fixture(scope="module")
def straight(runs):
    return runs[0]


def assert_same_run(kind, straight, resumed):
    """Logs on disk, samples and weights of ``resumed`` equal those of ``straight``."""
    a, b = straight.run_dir, resumed.run_dir
    history = read_csv_exact(b / "history.csv")
    assert list(history["epoch"]) == [1, 2, 3]
    drop = [c for c in TIMING if c in history]
    pd.testing.assert_frame_equal(
        read_csv_exact(a / "history.csv").drop(columns=drop), history.drop(columns=drop)
    )
    for x, y in zip(straight.generator.get_weights(), resumed.generator.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    if kind == "semi":
        return
    pd.testing.assert_frame_equal(read_csv_exact(a / "steps.csv"), read_csv_exact(b / "steps.csv"))
    samples = sorted(p.name for p in (b / "samples").iterdir())
    assert samples == ["epoch_001.png", "epoch_002.png", "epoch_003.png"]
    for name in samples:
        assert (a / "samples" / name).read_bytes() == (b / "samples" / name).read_bytes()
    # TensorBoard: one event file per epoch, the same events but timings
    events = [_untimed(file) for file in read_events(b).values()]
    assert events == [_untimed(file) for file in read_events(a).values()]
    assert [{step for tag, step, *_ in file if tag == "samples"} for file in events] == [
        {1},
        {2},
        {3},
    ]
    assert (b / "generator.keras").exists() and (b / "progress.gif").exists()


def _untimed(events: list) -> list:
    return [e for e in events if e[0] not in ("epoch/seconds", "epoch/images_per_second")]


@pytest.mark.parametrize("kill", KILLS, ids=lambda kill: "-".join(map(str, kill)))
def test_a_run_killed_after_any_write_resumes_to_the_uninterrupted_run(runs, kill):
    straight, killed = runs
    run_dir, code, stderr = killed[kill]
    assert code == -signal.SIGKILL, stderr.decode()[-2000:]
    assert not (run_dir / "generator.keras").exists()
    kind = kill[0]
    assert_same_run(kind, straight[kind], train(kind, run_dir))


def _copy(straight, tmp_path, kind="gan") -> Path:
    run_dir = tmp_path / "run"
    shutil.copytree(straight[kind].run_dir, run_dir)
    return run_dir


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        data = data[: len(data) // 2]
    elif how == "zero":
        data = bytearray(len(data))
    else:
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "how, suffix",
    [
        ("truncate", "data-00000-of-00001"),
        ("zero", "data-00000-of-00001"),
        ("flip", "data-00000-of-00001"),
        ("flip", "index"),
    ],
)
def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_one(
    straight, tmp_path, capsys, how, suffix
):
    run_dir = _copy(straight, tmp_path)
    _damage(run_dir / "checkpoints" / f"ckpt-3.{suffix}", how)
    resumed = train("gan", run_dir)
    out = capsys.readouterr().out
    assert "ckpt-3 does not read back" in out and "using ckpt-2 instead" in out
    assert_same_run("gan", straight["gan"], resumed)
    reader = tf.train.load_checkpoint(str(run_dir / "checkpoints" / "ckpt-3"))  # rewritten
    for key in reader.get_variable_to_shape_map():
        reader.get_tensor(key)


def test_no_readable_checkpoint_is_a_one_line_error_naming_the_directory(straight, tmp_path):
    run_dir = _copy(straight, tmp_path)
    for number in (2, 3):
        _damage(run_dir / "checkpoints" / f"ckpt-{number}.data-00000-of-00001", "zero")
    with pytest.raises(
        DamagedRunError, match=f"{run_dir} cannot be resumed.*train from scratch"
    ) as error:
        train("gan", run_dir)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("state", ["garbled", "missing"])
def test_a_damaged_checkpoint_state_file_is_rebuilt_not_a_restart(
    straight, tmp_path, capsys, state
):
    run_dir = _copy(straight, tmp_path, "semi")
    path = run_dir / "checkpoints" / "checkpoint"
    if state == "garbled":
        path.write_text('model_checkpoint_path: "ckpt-3\nall_model_chec{{\x00')
    else:
        path.unlink()
    resumed = train("semi", run_dir)
    out = capsys.readouterr().out
    assert "rebuilt from the checkpoint files [2, 3]" in out and "already trained (3 epochs)" in out
    assert_same_run("semi", straight["semi"], resumed)
    assert path.read_text().startswith('model_checkpoint_path: "ckpt-3"')


@pytest.mark.parametrize("name", ["history.csv", "steps.csv"])
def test_a_log_cut_in_its_last_row_reruns_that_epoch(straight, tmp_path, capsys, name):
    run_dir = _copy(straight, tmp_path)
    path = run_dir / name
    path.write_bytes(path.read_bytes()[:-7])
    resumed = train("gan", run_dir)
    assert (
        f"ckpt-3 holds epoch 3 but {name} lacks the rows of epochs [3]" in capsys.readouterr().out
    )
    assert_same_run("gan", straight["gan"], resumed)


def test_a_log_missing_rows_of_older_epochs_is_a_one_line_error(straight, tmp_path):
    run_dir = _copy(straight, tmp_path, "semi")
    lines = (run_dir / "history.csv").read_text().splitlines(keepends=True)
    (run_dir / "history.csv").write_text(lines[0] + "".join(lines[2:]))  # epoch 1's row lost
    with pytest.raises(
        DamagedRunError, match=r"history.csv lacks the rows of epochs \[1\]"
    ) as error:
        train("semi", run_dir)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "wanted, point, epoch, fires",
    [
        ("steps", "steps", 5, True),
        ("steps:5", "steps", 5, True),
        ("steps:2", "steps", 5, False),
        ("history:5", "steps", 5, False),
        ("", "checkpoint", 1, False),
    ],
)
def test_the_fault_hook_fires_at_its_point_and_epoch_only(monkeypatch, wanted, point, epoch, fires):
    kills = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: kills.append((pid, sig)))
    monkeypatch.setenv(FAULT_ENV, wanted)
    gankit.train.run_dir._fault_point(point, epoch)
    assert kills == ([(os.getpid(), signal.SIGKILL)] if fires else [])
