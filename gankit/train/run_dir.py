"""The run directory every trainer keeps: its config, CSV logs, samples, checkpoints, resume.

`RunDir` is shared by `gankit.train.loop.train_gan` and
`gankit.train.semi_supervised.train_semi_supervised`::

    run = RunDir(path)
    run.prepare(config_dict, same_run=..., resume=...)   # config.json: write or check
    start = run.restore(epochs, logs=["history.csv"], generator=g, ...)  # epochs it holds
    history, = run.load_logs("history.csv")               # their rows only
    for epoch in range(start + 1, epochs + 1):
        ...                                               # run.check_finite(log, ...)
        run.save_epoch(epoch, {"history.csv": history}, sample=draw)  # CSVs, PNG, checkpoint

On disk::

    path/config.json              the run's identity, checked on resume
    path/<name>.csv               the logs (one row per epoch, or per step with a
                                  fractional epoch; the last step of epoch e has epoch e)
    path/samples/epoch_###.png    the sample drawn after each epoch (if the trainer draws)
    path/tensorboard/             TensorBoard events, one file per epoch (if it writes them)
    path/checkpoints/             the objects given to `restore` and the epoch counter, as
                                  ckpt-<epoch>.index/.data-*; the last two epochs are kept,
                                  listed in the state file checkpoints/checkpoint

How an epoch is committed and how `restore` repairs the directory: see `RunDir`.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow as tf

from gankit.io import atomic_write, read_csv_exact
from gankit.processes import pid_alive
from gankit.train import checkpoints
from gankit.train.checkpoints import epoch_list, first_line

FAULT_ENV = "GANKIT_FAULT_AT"
"""The test-only fault-injection variable (see `RunDir`)."""
SAMPLE_NAME = "samples/epoch_{:03d}.png"
"""Where `save_epoch` puts the sample image of an epoch, relative to the run directory."""
TENSORBOARD_DIR = "tensorboard"
"""Where `save_epoch` has the epochs' TensorBoard event files written (one per epoch,
named by `gankit.train.tensorboard.EPOCH_FILE_SUFFIX`)."""
_EPOCH_EVENTS = re.compile(r".*\.epoch(\d+)\.v2")


class TrainingDivergedError(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


class DamagedRunError(RuntimeError):
    """A run directory that cannot be resumed as it is: no checkpoint reads back, or its
    logs lack epochs that every readable checkpoint holds. The message names the files and
    what to do."""


class RunDir:
    """The files of one training run in ``path`` (created by `prepare` if missing).

    Crash consistency: `save_epoch` writes every CSV (each replaced atomically), then the
    sample image, then the epoch's TensorBoard event file, then the checkpoint, the commit
    point: an epoch is done when its checkpoint is. A process killed at any moment leaves
    the logs, samples and events of the checkpoint's epochs complete, and perhaps rows, an
    image and events of one later epoch. `restore` reconciles the directory with the
    newest checkpoint that restores:

    - ahead of it: log rows, samples and event files of later epochs are dropped (a line
      says so) and those epochs re-run, which writes them again exactly once; leftover
      temporary files of killed writers are deleted;
    - a damaged checkpoint (its files truncated, zeroed, byte-flipped: reading back checks
      every tensor's CRC) is skipped for the previous one with a one-line message, and the
      lost epoch re-run; if none reads back, `DamagedRunError`;
    - a damaged state file (checkpoints/checkpoint does not parse, or is missing while
      ckpt-* files exist) is rebuilt from the ckpt-*.index files, with a one-line message;
    - behind it: if a log given to `restore` lacks rows of an epoch the checkpoint holds
      (a truncated or edited CSV; a last line without its newline counts as lost), the
      previous checkpoint is used if the logs cover it (a line says so), otherwise
      `DamagedRunError` names the file and the epochs: lost rows cannot be recomputed
      without retraining, so never a silent gap. A missing sample of a done epoch warns.

    Test-only fault injection: with ``GANKIT_FAULT_AT=<point>[:<epoch>]`` in the
    environment, the process SIGKILLs itself right after writing ``<point>`` (a log's
    stem such as 'history' or 'steps', 'image' or 'checkpoint') of epoch ``<epoch>`` (of
    any epoch if not given); 'tensorboard' after the event file. Unset, it costs one
    environment lookup per write.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.epochs_done = 0
        self.checkpoint: Path | None = None
        """The prefix of the checkpoint restored or saved last (None before one exists)."""
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

    def restore(self, epochs: int, *, logs: Sequence[str] = (), **objects) -> int:
        """Checkpoints ``objects`` (models, optimisers, variables) with an epoch counter,
        restores the newest checkpoint that reads back and that the ``logs`` (CSV names)
        cover, drops the samples of later epochs, and returns the epochs it holds (also
        `epochs_done`). Prints a line when the run resumes, is already trained (``epochs``
        or more epochs done), or is repaired (see `RunDir`).

        Raises:
          DamagedRunError: if checkpoints exist but none reads back, or the logs lack rows
            of epochs every readable checkpoint holds.
          AssertionError: if the checkpoint does not match ``objects`` (TensorFlow's
            ``assert_existing_objects_matched``).
        """
        ckpt = tf.train.Checkpoint(epoch=self._epoch, **objects)
        directory = self.path / "checkpoints"
        candidates = checkpoints.candidates(directory, self.path.name)
        frames = {name: self._read_log(name) for name in logs}
        chosen, problems = None, []
        for prefix in candidates:
            problem = checkpoints.unreadable(prefix) or _log_gap(frames, checkpoints.number(prefix))
            if problem is None:
                chosen = prefix
                break
            problems.append(f"{prefix.name} {problem}")
        if candidates and chosen is None:
            raise DamagedRunError(
                f"{self.path} cannot be resumed: {'; '.join(problems)}. Restore those files "
                "from a backup, or delete (or move) the run directory to train from scratch"
            )
        if problems:
            print(
                f"{self.path.name}: {'; '.join(problems)}: using {chosen.name} instead "
                "and re-running the later epochs"
            )
        self._manager = tf.train.CheckpointManager(ckpt, directory, max_to_keep=2)
        if chosen is not None:
            ckpt.restore(str(chosen)).assert_existing_objects_matched()
        self.checkpoint = chosen
        self.epochs_done = start = int(self._epoch.numpy())
        self._drop_later_epochs(frames)
        self._remove_leftovers()
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
            df = self._read_log(name) if self.epochs_done else None
            if df is None or df.empty:
                frames.append(pd.DataFrame())
            else:
                keep = _ceil_epochs(df) <= self.epochs_done
                frames.append(df[keep].reset_index(drop=True))
        return frames

    def sample_path(self, epoch: int) -> Path:
        """Where the sample image of ``epoch`` goes (`SAMPLE_NAME`)."""
        return self.path / SAMPLE_NAME.format(epoch)

    def save_epoch(
        self,
        epoch: int,
        logs: Mapping[str, pd.DataFrame],
        sample: Callable[[Path], None] | None = None,
        summaries: Callable[[Path], None] | None = None,
    ) -> None:
        """Writes the CSV ``logs`` (file name -> frame), then the sample image of ``epoch``
        (``sample(path)`` writes it to `sample_path`), then its TensorBoard events
        (``summaries(directory)`` writes them to one file in `TENSORBOARD_DIR` whose name
        ends with ``.epoch###.v2``), then the checkpoint of ``epoch``, the epoch's commit
        point.

        Raises:
          RuntimeError: if `restore` was not called first.
        """
        if self._manager is None:
            raise RuntimeError("call RunDir.restore before save_epoch")
        for name, df in logs.items():
            with atomic_write(self.path / name) as f:
                df.to_csv(f, index=False)
            _fault_point(Path(name).stem, epoch)
        if sample is not None:
            sample(self.sample_path(epoch))
            _fault_point("image", epoch)
        if summaries is not None:
            summaries(self.path / TENSORBOARD_DIR)
            _fault_point("tensorboard", epoch)
        self._epoch.assign(epoch)
        self.checkpoint = Path(self._manager.save(checkpoint_number=epoch))
        self.epochs_done = epoch
        _fault_point("checkpoint", epoch)

    def _read_log(self, name: str) -> pd.DataFrame | None:
        """The CSV ``name`` without a last line cut short (no newline); None if missing.

        Raises:
          DamagedRunError: if it does not parse or has no numeric epoch column.
        """
        path = self.path / name
        if not path.exists():
            return None
        advice = "restore it from a backup, or delete the run directory to train from scratch"
        try:
            text = path.read_text(encoding="utf-8")
            text = text[: text.rfind("\n") + 1]
            df = read_csv_exact(io.StringIO(text)) if text.strip() else pd.DataFrame()
        except (UnicodeDecodeError, pd.errors.ParserError) as e:
            raise DamagedRunError(f"{path} does not parse ({first_line(e)}); {advice}") from e
        if not df.empty and ("epoch" not in df or not pd.api.types.is_numeric_dtype(df["epoch"])):
            raise DamagedRunError(f"{path} has no numeric epoch column; {advice}")
        return df

    def _drop_later_epochs(self, frames: Mapping[str, pd.DataFrame | None]) -> None:
        """Deletes the samples of epochs after `epochs_done` (their log rows are left out
        by `load_logs`); prints a line for those and for samples missing before them."""
        done = self.epochs_done
        later = {int(e) for df in frames.values() if df is not None for e in _ceil_epochs(df)}
        later = {e for e in later if e > done}
        for path in (self.path / "samples").glob("epoch_*.png"):
            number = re.fullmatch(r"epoch_(\d+)\.png", path.name)
            if number and int(number[1]) > done:
                path.unlink()
                later.add(int(number[1]))
        for path in (self.path / TENSORBOARD_DIR).glob("*.epoch*"):
            number = _EPOCH_EVENTS.fullmatch(path.name)
            if number and int(number[1]) > done:
                path.unlink()
                later.add(int(number[1]))
        if later:
            print(
                f"{self.path.name}: dropped the log rows, samples and events of epochs "
                f"{epoch_list(sorted(later))}, which its checkpoint does not hold; re-running"
            )
        if (self.path / "samples").is_dir():
            missing = [e for e in range(1, done + 1) if not self.sample_path(e).exists()]
            if missing:
                print(f"{self.path.name}: warning: samples/ lacks epochs {epoch_list(missing)}")

    def _remove_leftovers(self) -> None:
        """Deletes what a killed writer leaves: temporary files ``.<name>.<pid>.*`` of dead
        processes (`gankit.report.atomic_write`, the trainers' final saves) and
        TensorFlow's temporary checkpoint files (``*.tmp<hex>``, ``*.tempstate<n>``) and
        folders (``ckpt-<n>_temp``), which only a stopped save leaves behind."""
        for path in [*self.path.glob(".*"), *self.path.glob("samples/.*")]:
            owner = re.fullmatch(r"\.(.+?)\.(\d+)\..*", path.name)
            if owner and path.is_file() and not pid_alive(int(owner[2])):
                path.unlink()
        for pattern in ("*.tmp*", "*.tempstate*", "*_temp"):
            for path in self.path.glob(f"checkpoints/{pattern}"):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()

    def check_finite(self, log: Mapping[str, float], epoch: int, step: int, advice: str) -> None:
        """Raises TrainingDivergedError naming every value of the step log ``log``, the
        epoch, the step (round) index within it and the last good checkpoint, followed by
        ``advice`` (what to change), if any value is NaN or infinite."""
        if all(np.isfinite(value) for value in log.values()):
            return
        values = ", ".join(f"{name}={value:.4g}" for name, value in log.items())
        last = self.checkpoint
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


def _log_gap(frames: Mapping[str, pd.DataFrame | None], epochs: int) -> str | None:
    """What the logs ``frames`` lack of the first ``epochs`` epochs, or None: each needs one
    row whose epoch is exactly k for every k <= epochs, in increasing order."""
    for name, df in frames.items():
        values = df["epoch"].to_numpy(float) if df is not None and not df.empty else np.zeros(0)
        values = values[_ceil_epochs(df) <= epochs] if len(values) else values
        if np.any(np.diff(values) <= 0):
            return f"holds epochs whose rows in {name} are out of order or repeated"
        ends = values[values == np.round(values)]
        missing = [k for k in range(1, epochs + 1) if np.count_nonzero(ends == k) != 1]
        if missing:
            return f"holds epoch {epochs} but {name} lacks the rows of epochs {epoch_list(missing)}"
    return None


def _ceil_epochs(df: pd.DataFrame | None) -> np.ndarray:
    """The epoch each row belongs to: a step log's fractional epoch e belongs to ceil(e)."""
    if df is None or df.empty:
        return np.zeros(0)
    return np.ceil(df["epoch"].to_numpy(float) - 1e-9)


def _fault_point(point: str, epoch: int) -> None:
    """Test-only fault injection: SIGKILLs this process right after the write ``point`` of
    ``epoch`` if `FAULT_ENV` names it (``<point>`` or ``<point>:<epoch>``)."""
    wanted = os.environ.get(FAULT_ENV)
    if wanted:
        name, _, at = wanted.partition(":")
        if name == point and at in ("", str(epoch)):
            os.kill(os.getpid(), signal.SIGKILL)
