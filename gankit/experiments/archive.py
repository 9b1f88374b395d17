"""Sweep results you can commit or share: what finished runs measured, without their weights.

A study of many runs (Q1's tuning study is 60) takes hours, longer than a Colab runtime
or a working session lives, and its run directories weigh ~50 MB each (checkpoints and
the saved generator). `archive_runs` copies, for each finished run of a runs folder, the
files that hold what it measured (`RECORD_FILES`: its ``run.json`` record, config,
metrics and per-epoch history; ~10 kB) into ``dest/<run id>/``, for the runs named by
``logs`` also the step log (`LOG_FILES`, ~100 kB per epoch of 60,000 images) and for those
named by ``grids`` the per-epoch sample grids (`GRID_FILES`, ~60 kB each). The folder can
be committed next to the notebooks. `restore_runs` puts archived runs back under a
runs folder and adds their registry rows: a sweep then skips them (their ``run.json`` says
'ok') and `gankit.experiments.dcgan_tuning.run_study`, `step_logs` and `coverage_by_epoch`
read them as if they had been trained there. A restored run has no weights: anything that
needs its generator raises FileNotFoundError; delete its folder to train it again.

Command line: ``gankit archive DEST --match 'dcgan_study-*'`` and ``gankit restore SRC``.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import warnings
from collections.abc import Collection
from pathlib import Path

from gankit.experiments.registry import REGISTRY_NAME, append_row, read_rows
from gankit.experiments.sweep import RUN_RECORD, read_record
from gankit.io import atomic_write

RECORD_FILES = (
    RUN_RECORD,
    "config.json",
    "device.json",
    "history.csv",
    "metrics.csv",
    "metrics.json",
    "metrics.md",
    "metrics.tex",
)
"""Files of every archived run (those a run has); a few kB in all."""
LOG_FILES = ("steps.csv",)
"""Also archived for the runs named by ``logs``: the log of every training round."""
GRID_FILES = ("samples/epoch_*.png",)
"""Also archived for the runs named by ``grids``: the fixed-noise sample grid of each epoch."""

Selection = str | Collection[str]
"""Runs named by a glob over run ids (``'dcgan_study-*'``) or by a collection of ids."""


def archive_runs(
    root: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    match: Selection = "*",
    *,
    logs: Selection = (),
    grids: Selection = (),
) -> list[str]:
    """Copies the `RECORD_FILES` of every finished run (``run.json`` status 'ok') of
    ``root`` named by ``match`` into ``dest/<run id>/`` (replacing an earlier copy), plus
    the `LOG_FILES` of those also named by ``logs`` and the `GRID_FILES` of those named by
    ``grids``.

    The archived ``run.json`` names its folder by the run id alone (``run_dir``), so the
    archive holds no path of this machine.

    Returns:
      the run ids archived, sorted.

    Raises:
      FileNotFoundError: ``root`` is not a folder.
      ValueError: ``dest`` lies inside ``root``'s run folders or is ``root`` itself.
    """
    root, dest = Path(root), Path(dest)
    if not root.is_dir():
        raise FileNotFoundError(f"no runs folder {root}; give the --root the sweep wrote to")
    if dest.resolve() == root.resolve() or root.resolve() in dest.resolve().parents:
        raise ValueError(f"archive {dest} inside the runs folder {root}; choose one outside it")
    archived = []
    for run_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        record = read_record(run_dir)
        if record is None or record.get("status") != "ok" or not _named(run_dir.name, match):
            continue
        patterns = (
            RECORD_FILES
            + (LOG_FILES if _named(run_dir.name, logs) else ())
            + (GRID_FILES if _named(run_dir.name, grids) else ())
        )
        record["run_dir"] = run_dir.name
        _copy_run(run_dir, dest / run_dir.name, patterns, record)
        archived.append(run_dir.name)
    return archived


def restore_runs(src: str | os.PathLike[str], root: str | os.PathLike[str]) -> list[str]:
    """Puts every archived run of ``src`` (`archive_runs`) back into ``root`` and appends
    its registry row to ``root/results.jsonl`` if that has no 'ok' row for it. A run
    already in ``root`` (finished, or started by a sweep) is left as it is, with a warning
    if it has not finished.

    Returns:
      the run ids restored now, sorted (not those already there).

    Raises:
      FileNotFoundError: ``src`` is not a folder.
    """
    src, root = Path(src), Path(root)
    if not src.is_dir():
        raise FileNotFoundError(f"no archive {src}; `gankit archive` writes one")
    root.mkdir(parents=True, exist_ok=True)
    registry = root / REGISTRY_NAME
    recorded = {row["run_id"] for row in read_rows(registry) if row.get("status") == "ok"}
    restored = []
    for archived in sorted(p for p in src.iterdir() if p.is_dir()):
        record = read_record(archived)
        if record is None or record.get("status") != "ok":
            continue
        target = root / archived.name
        if target.exists():
            if read_record(target) is None:
                warnings.warn(f"{target} holds an unfinished run; not restored over it",
                              stacklevel=2)  # fmt: skip
            continue
        record["run_dir"] = str(target)
        _copy_run(archived, target, RECORD_FILES + LOG_FILES + GRID_FILES, record)
        if archived.name not in recorded:
            append_row(registry, record)
        restored.append(archived.name)
    return restored


def _named(run_id: str, selection: Selection) -> bool:
    if isinstance(selection, str):
        return fnmatch.fnmatchcase(run_id, selection)
    return run_id in selection


def _copy_run(source: Path, target: Path, patterns: Collection[str], record: dict) -> None:
    """Copies the files of ``source`` that match ``patterns`` into a fresh ``target``
    (built next to it and renamed, so a reader never sees half a run), with ``record`` as
    its ``run.json``."""
    partial = target.parent / f".{target.name}.{os.getpid()}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        for pattern in patterns:
            for path in sorted(source.glob(pattern)):
                if path.name == RUN_RECORD:
                    continue
                (partial / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, partial / path.relative_to(source))
        with atomic_write(partial / RUN_RECORD) as f:
            json.dump(record, f, indent=1, sort_keys=True)
            f.write("\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
