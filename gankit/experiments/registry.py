"""The results registry: one JSON line per finished (or failed) run, appended, never edited.

A row says what was run and with what: the full config (with the precision 'auto'
resolved to), the seed, the metrics, wall-clock and training seconds, the training device,
and the versions of gankit, TensorFlow, Keras, NumPy and Python plus the git commit, so a
number in a report can be traced back and rerun. `make_row`
builds a row, `append_row` adds it, `load_registry` reads the file into a DataFrame.

Appends are atomic: each row is a single ``write`` of one line on a file opened with
``O_APPEND`` while holding an exclusive lock (`gankit.io.append_json_line`: a ``filelock``,
so also on Windows), so concurrent sweeps never interleave lines. A crash mid-write can at
worst leave a truncated last line, which `read_rows` skips with a warning.
"""

from __future__ import annotations

import json
import numbers
import os
import platform
import socket
import subprocess
import time
from collections.abc import Mapping
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np

from gankit import __version__, device
from gankit.config import GANConfig, config_hash, resolved, to_dict
from gankit.io import CutOffLineWarning, append_json_line, plain_json, read_json_lines
from gankit.paths import project_root

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1
STATUSES = ("ok", "failed")
REGISTRY_NAME = "results.jsonl"
# Columns of `load_registry` before the config and metric columns, in this order.
BASE_COLUMNS = (
    "run_id",
    "status",
    "name",
    "config_hash",
    "seed",
    "label",
    "tag",
    "wall_seconds",
    "train_seconds",
    "error",
    "finished_at",
    "gankit_version",
    "tensorflow_version",
    "keras_version",
    "git_commit",
    "host",
    "device",
    "run_dir",
)


RegistryWarning = CutOffLineWarning
"""A registry line could not be read (e.g. cut off by a crash) and was skipped."""


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str:
    """The stripped output of ``git args`` in the project root (raises if git fails)."""
    return subprocess.run(
        ["git", *args], cwd=project_root(), capture_output=True, text=True, timeout=10, check=True
    ).stdout.strip()


def _git_commit() -> str | None:
    """The checkout's commit (with ``-dirty`` if files changed), or None outside git."""
    try:
        commit = _git("rev-parse", "--short=12", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def environment_info() -> dict[str, Any]:
    """Versions, machine and training device of this process, for a registry row (no
    TensorFlow import unless a GPU may be present: see `gankit.device.probe`)."""
    return {
        "device": device.probe().describe(),
        "gankit_version": __version__,
        "tensorflow_version": _package_version("tensorflow"),
        "keras_version": _package_version("keras"),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "git_commit": _git_commit(),
        "host": socket.gethostname(),
    }


def make_row(
    config: GANConfig,
    seed: int,
    *,
    status: str,
    run_id: str,
    metrics: Mapping[str, Mapping[str, float]] | None = None,
    wall_seconds: float | None = None,
    train_seconds: float | None = None,
    error: str | None = None,
    label: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    tag: str | None = None,
    run_dir: str | os.PathLike[str] | None = None,
    extra: Mapping[str, Any] | None = None,
    environment: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A registry row (plain JSON) for one run.

    Args:
      metrics: ``{row: {metric: value}}``, e.g. ``{"generated": {"fid": 80.1}, "real test":
        {...}}`` as `gankit.evaluate.suite` returns it.
      status: 'ok' or 'failed' (then ``error`` says why).
      environment: versions and host; default `environment_info()` of this process.
      label, overrides: how the sweep named and made this config; the overrides are kept
        as ``[key, value]`` pairs, in the sweep's order (JSON objects lose their order).
      extra: anything else worth keeping (e.g. the evaluation's sample count).

    Raises:
      ValueError: for an unknown status or a negative seed.
      TypeError: for metrics that are not a dict of dicts, or values JSON cannot hold.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    if not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    metrics = dict(metrics or {})
    if not all(isinstance(v, Mapping) for v in metrics.values()):
        raise TypeError("metrics must be {row name: {metric: value}}, e.g. {'generated': {...}}")
    row = {
        "schema": SCHEMA_VERSION,
        "run_id": run_id,
        "status": status,
        "name": config.name,
        "config_hash": config_hash(config),
        "seed": int(seed),
        "label": label,
        "overrides": [[k, v] for k, v in (overrides or {}).items()],
        "tag": tag,
        "config": to_dict(resolved(config)),  # the precision 'auto' chose, as run_id has it
        "metrics": metrics,
        "wall_seconds": wall_seconds,
        "train_seconds": train_seconds,
        "error": error,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "run_dir": run_dir,
        **dict(environment if environment is not None else environment_info()),
        "extra": dict(extra or {}),
    }
    return plain_json(row)


def append_row(path: str | os.PathLike[str], row: Mapping[str, Any]) -> None:
    """Appends ``row`` as one JSON line to the registry at ``path`` (created if missing;
    see `gankit.io.append_json_line`).

    Raises:
      TypeError: a value JSON cannot hold.
      ValueError: the row has no ``run_id`` or ``status``.
    """
    for key in ("run_id", "status"):
        if key not in row:
            raise ValueError(f"a registry row needs {key!r}; build it with make_row")
    append_json_line(path, row)


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every row of the registry at ``path``, in file order ([] if it does not exist).

    A cut-off row (a crash during an append) is skipped with a `RegistryWarning`.

    Raises:
      ValueError: any other unreadable line (the file was edited by hand).
    """
    return read_json_lines(path)


def _flat(prefix: str, data: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flat(f"{name}.", value))
        else:
            # Tuples (e.g. hidden widths) as text, so every cell is hashable for grouping.
            out[name] = json.dumps(value) if isinstance(value, list) else value
    return out


def flatten_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """One registry row as a flat dict of table columns.

    Config fields become dotted columns named like the override keys (``train.g_lr``), the
    metrics of the "generated" row keep their names (``fid``), those of other rows get the
    row as prefix (``real_test.fid``), ``extra`` fields become ``extra.<key>`` and the
    ``overrides`` pairs the JSON text of a dict (in the sweep's order).
    """
    out = {k: v for k, v in row.items() if k not in ("config", "metrics", "extra", "schema")}
    out["overrides"] = json.dumps(dict(row.get("overrides") or []))
    config = dict(row.get("config") or {})
    out.pop("name", None)
    out["name"] = config.pop("name", row.get("name"))
    out.update(_flat("", config))
    for group, values in (row.get("metrics") or {}).items():
        prefix = "" if group == "generated" else group.replace(" ", "_") + "."
        out.update(_flat(prefix, values))
    out.update(_flat("extra.", row.get("extra") or {}))
    return out


def load_registry(
    path: str | os.PathLike[str], *, latest: bool = True, status: str | None = None
) -> pd.DataFrame:
    """The registry at ``path`` as a DataFrame, one row per run (see `flatten_row`).

    Args:
      latest: keep only the last row of each ``run_id`` (a run that failed and was rerun
        counts once, with its latest outcome); False keeps the whole history.
      status: keep only rows with this status ('ok' or 'failed'), after ``latest``.

    Raises:
      ValueError: an unknown ``status``, or a broken line in the middle of the file.
    """
    import pandas as pd  # here: appending rows (in every sweep worker) does not need it

    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be None or one of {STATUSES}, got {status!r}")
    rows = read_rows(path)
    if latest:
        rows = list({row["run_id"]: row for row in rows}.values())
    if status is not None:
        rows = [row for row in rows if row.get("status") == status]
    df = pd.DataFrame([flatten_row(row) for row in rows])
    if df.empty:
        return pd.DataFrame(columns=list(BASE_COLUMNS))
    first = [c for c in BASE_COLUMNS if c in df.columns]
    return df[first + [c for c in df.columns if c not in first]]
