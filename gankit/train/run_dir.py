"""The run directory every trainer keeps: its config, CSV logs, checkpoints and resume.

`RunDir` is shared by `gankit.train.loop.train_gan` and
`gankit.train.semi_supervised.train_semi_supervised`::

    run = RunDir(path)
    run.prepare(config_dict, same_run=..., resume=...)   # config.json: write or check
    start = run.restore(epochs, generator=g, ...)         # epochs the checkpoint holds
    history, = run.load_logs("history.csv")               # their rows only
    for epoch in range(start + 1, epochs + 1):
        ...                                               # run.check_finite(log, ...)
        run.save_epoch(epoch, {"history.csv": history})   # CSVs, then the checkpoint

On disk::

    path/config.json     the run's identity, checked on resume
    path/<name>.csv      the logs (one row per epoch, or per step with a fractional epoch)
    path/checkpoints/    the objects given to `restore` and the epoch counter; the last
                         two epochs are kept

Every file is replaced atomically, and the CSVs are written before the checkpoint: a run
stopped in between resumes from the last checkpoint and drops the rows of later epochs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow as tf

from gankit.io import atomic_write


class TrainingDivergedError(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


class RunDir:
    """The files of one training run in ``path`` (created by `prepare` if missing)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.epochs_done = 0
        self._epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._manager: tf.train.CheckpointManager | None = None

    def prepare(
        self,
        config: dict,
        *,
        same_run: Callable[[dict], bool],
        resume: bool = True,
        what: str = "config",
    ) -> dict | None:
        """Writes ``config`` (a JSON-able dict) to config.json for a new run, or checks the
        saved one of an existing run with ``same_run(saved)``.

        Returns:
          The saved dict of an existing run; None for a new one.

        Raises:
          ValueError: if the directory holds a run and ``resume`` is false, or if
            ``same_run`` rejects its config (``what`` names what differs in the message).
        """
        path = self.path / "config.json"
        if not path.exists():
            self.write_config(config)
            return None
        saved = json.loads(path.read_text())
        if not resume:
            raise ValueError(
                f"{self.path} already holds a run; pass resume=True to continue it "
                "or choose a new run_dir"
            )
        if not same_run(saved):
            raise ValueError(
                f"{self.path} holds a run of a different {what}; choose a new "
                "run_dir (or delete it) to train this one"
            )
        return saved

    def write_config(self, config: dict) -> None:
        """Replaces config.json by ``config`` (sorted keys, indent 2)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with atomic_write(self.path / "config.json") as f:
            f.write(json.dumps(config, indent=2, sort_keys=True))

    def restore(self, epochs: int, **objects) -> int:
        """Checkpoints ``objects`` (models, optimisers, variables) with an epoch counter,
        restores the latest checkpoint if there is one, and returns the epochs it holds
        (also `epochs_done`). Prints a line when the run resumes or is already trained
        (``epochs`` or more epochs done).

        Raises:
          AssertionError: if the checkpoint does not match ``objects`` (TensorFlow's
            ``assert_existing_objects_matched``).
        """
        ckpt = tf.train.Checkpoint(epoch=self._epoch, **objects)
        self._manager = tf.train.CheckpointManager(ckpt, self.path / "checkpoints", max_to_keep=2)
        if self._manager.latest_checkpoint:
            ckpt.restore(self._manager.latest_checkpoint).assert_existing_objects_matched()
        self.epochs_done = start = int(self._epoch.numpy())
        if start >= epochs:
            print(f"{self.path.name}: already trained ({start} epochs), loaded from its checkpoint")
        elif start:
            print(f"{self.path.name}: resuming from epoch {start}/{epochs}")
        return start

    def load_logs(self, *names: str) -> list[pd.DataFrame]:
        """The CSV logs ``names`` with the rows of the epochs the checkpoint holds: rows of
        later (lost) epochs are dropped. A step log's fractional epoch e belongs to epoch
        ceil(e). Empty frames for a new run or a missing file."""
        frames = []
        for name in names:
            path = self.path / name
            if self.epochs_done and path.exists():
                df = pd.read_csv(path)
                keep = np.ceil(df["epoch"] - 1e-9) <= self.epochs_done
                frames.append(df[keep].reset_index(drop=True))
            else:
                frames.append(pd.DataFrame())
        return frames

    def save_epoch(self, epoch: int, logs: Mapping[str, pd.DataFrame]) -> None:
        """Writes the CSV ``logs`` (file name -> frame), then the checkpoint of ``epoch``.

        Raises:
          RuntimeError: if `restore` was not called first.
        """
        if self._manager is None:
            raise RuntimeError("call RunDir.restore before save_epoch")
        for name, df in logs.items():
            with atomic_write(self.path / name) as f:
                df.to_csv(f, index=False)
        self._epoch.assign(epoch)
        self._manager.save(checkpoint_number=epoch)
        self.epochs_done = epoch

    def check_finite(self, log: Mapping[str, float], epoch: int, step: int, advice: str) -> None:
        """Raises TrainingDivergedError naming every value of the step log ``log``, the
        epoch, the step (round) index within it and the last good checkpoint, followed by
        ``advice`` (what to change), if any value is NaN or infinite."""
        if all(np.isfinite(value) for value in log.values()):
            return
        values = ", ".join(f"{name}={value:.4g}" for name, value in log.items())
        last = self._manager.latest_checkpoint if self._manager else None
        raise TrainingDivergedError(
            f"a loss became NaN or inf at epoch {epoch}, round {step} ({values}). The last "
            f"good checkpoint is kept: {last or 'none (diverged in the first epoch)'}. {advice}"
        )


def step_table(logs: Sequence[Mapping[str, float]], columns: Sequence[str]) -> np.ndarray:
    """The float32 table (steps, columns) of named step logs, columns in ``columns`` order.

    Take epoch means as ``step_table(...).mean(axis=0)``: numpy sums the columns of a 2-D
    table in order, but a 1-D column pairwise, which can differ in the last bit from the
    histories of existing runs.
    """
    return np.array([[log[name] for name in columns] for log in logs], dtype=np.float32)
