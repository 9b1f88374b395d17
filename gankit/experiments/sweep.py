"""Sweeps: many independent runs (configs x seeds), resumable, locked, recorded.

A sweep is a list of `RunSpec` (a config and a seed), made by
`gankit.experiments.sweep_grid.expand_grid` (every combination of some overrides) or
`expand_list` (named sets of overrides), times seeds.
`run_sweep` runs them, each in its own directory ``root/<name>-<config hash>-s<seed>``
(the same name as `gankit.paths.run_dir_for`, so a notebook and a sweep share finished
runs), and appends one row per run to the registry ``root/results.jsonl``.

Every run goes through `execute_run`, which makes a sweep safe to stop and restart:

- a run whose ``run.json`` says ``ok`` is finished and skipped;
- any other run is (re)started: `gankit.train.loop.train_gan` resumes from the last epoch's
  checkpoint, so an interrupted run loses at most one epoch;
- an exception inside a run is recorded (``error.txt`` with the traceback, ``run.json``
  and a registry row with status ``failed``) and the sweep goes on; by default the next
  sweep retries it;
- a run directory is written by one process at a time (`gankit.experiments.locks.RunLock`); a run
  locked by another live sweep is reported as ``busy`` and left alone.
- a file-system fault in a run (a full disk, a read-only folder) stops the sweep after
  recording that run: every later run would fail the same way;
- worker processes stop when the sweep process dies (`gankit.experiments.workers`), and a
  run whose ``run.json`` says ``ok`` but has no registry row gets it from the next sweep.

Runs are independent, so they are dispatched through joblib: ``n_jobs=1`` runs them one
after the other in this process, ``n_jobs=2`` in two loky worker processes, and inside
``joblib.parallel_config(backend="dask")`` on a Dask cluster (see docs/experiments.md);
``gpus="0,1"`` gives each loky worker one GPU (`gankit.experiments.workers.claim_gpu`).
The registry is written only by the process that calls `run_sweep`.

What a run does is the run function's business: the default one, train on MNIST and
evaluate, is `gankit.experiments.run.TrainAndEvaluate`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.config import GANConfig
from gankit.experiments.faults import check_writable_dir, check_writable_file, fault_errno, one_line
from gankit.experiments.locks import LOCK_NAME, RunLock, RunLockedError
from gankit.experiments.registry import REGISTRY_NAME, append_row, make_row, read_rows
from gankit.experiments.sweep_grid import RunSpec
from gankit.experiments.workers import (
    GPU_SLOTS_DIR,
    claim_gpu,
    cluster_backend,
    parse_gpus,
    stop_with_parent,
)
from gankit.io import atomic_write

__all__ = [
    "OUTCOMES",
    "RUN_RECORD",
    "RunOutcome",
    "RunResult",
    "check_specs",
    "cluster_backend",
    "execute_run",
    "read_record",
    "run_status",
    "run_sweep",
]

RUN_RECORD = "run.json"
"""Written last, atomically: its presence with status 'ok' is what "finished" means."""
ERROR_FILE = "error.txt"
OUTCOMES = ("ok", "failed", "skipped", "busy")


@dataclass
class RunResult:
    """What a run function returns: metrics by row and, optionally, training seconds."""

    metrics: Mapping[str, Any]
    """``{"generated": {"fid": ...}, "real test": {...}}``, or a flat ``{"fid": ...}``
    (taken as the "generated" row)."""
    train_seconds: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class RunOutcome:
    """What happened to one `RunSpec` in a sweep."""

    run_id: str
    status: str
    """'ok' (ran and finished), 'failed' (raised; see ``error``), 'skipped' (already
    finished) or 'busy' (locked by another process)."""
    run_dir: Path
    row: dict[str, Any] | None = None
    """The registry row of a run that ran, or the recorded one of a skipped run."""
    error: str | None = None
    seconds: float = 0.0
    fault: int | None = None
    """The errno of a file-system fault that stopped the run (a full disk, a read-only
    folder: `gankit.experiments.faults.FATAL_ERRNOS`); the sweep stops after recording it."""

    def progress_line(self, done: int, total: int) -> str:
        """``[done/total] status run_id  seconds  detail``: the error of a run that failed
        or was busy, else its IS, FID and classes covered (those it has)."""
        metrics = (self.row or {}).get("metrics", {}).get("generated", {})
        shown = "  ".join(
            f"{short} {metrics[key]:.3g}"
            for key, short in (
                ("inception_score", "IS"),
                ("fid", "FID"),
                ("classes_covered", "classes"),
            )
            if metrics.get(key) is not None
        )
        detail = self.error if self.status in ("failed", "busy") else shown
        head = f"[{done}/{total}] {self.status:<7} {self.run_id}"
        return f"{head}  {self.seconds:6.0f} s  {detail}"


RunFunction = Callable[[GANConfig, int, Path], "RunResult | Mapping[str, Any]"]


# --------------------------------------------------------------------------------------
# Running one run
# --------------------------------------------------------------------------------------
def read_record(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``run.json`` of ``run_dir`` (its registry row), or None if it has none."""
    try:
        return json.loads((Path(run_dir) / RUN_RECORD).read_text())
    except (OSError, ValueError):
        return None


def run_status(run_dir: str | os.PathLike[str]) -> str:
    """'ok' or 'failed' (recorded in run.json), 'incomplete' (started: the directory holds
    more than lock files) or 'new'."""
    record = read_record(run_dir)
    if record is not None:
        return record.get("status", "incomplete")
    run_dir = Path(run_dir)
    started = run_dir.is_dir() and any(not p.name.startswith(LOCK_NAME) for p in run_dir.iterdir())
    return "incomplete" if started else "new"


def _as_result(value: Any) -> RunResult:
    if isinstance(value, RunResult):
        result = value
    elif isinstance(value, Mapping):
        result = RunResult(metrics=value)
    else:
        raise TypeError(
            f"a run function must return a RunResult or a dict of metrics, got "
            f"{type(value).__name__}"
        )
    metrics = dict(result.metrics)
    if metrics and not all(isinstance(v, Mapping) for v in metrics.values()):
        metrics = {"generated": metrics}
    return RunResult(metrics, result.train_seconds, dict(result.extra))


def execute_run(
    spec: RunSpec,
    root: str | os.PathLike[str],
    run_fn: RunFunction,
    *,
    retry_failed: bool = True,
    tag: str | None = None,
) -> RunOutcome:
    """Runs ``spec`` in ``root/<run id>`` under its lock unless it has finished.

    ``run_fn(config, seed, run_dir)`` does the work and returns a `RunResult` (or a dict of
    metrics). Its exceptions are recorded as a failed run and not raised; KeyboardInterrupt
    and SystemExit pass through, leaving the run incomplete (it resumes next time).
    """
    run_dir = Path(root) / spec.run_id
    lock = RunLock(run_dir)
    try:
        lock.acquire()
    except RunLockedError as err:
        return RunOutcome(spec.run_id, "busy", run_dir, error=str(err))
    try:
        record = read_record(run_dir)
        status = None if record is None else record.get("status")
        if status == "ok" or (status == "failed" and not retry_failed):
            return RunOutcome(spec.run_id, "skipped", run_dir, row=record)
        # A rerun starts unrecorded: if it is killed, it is "incomplete", not "failed".
        for name in (RUN_RECORD, ERROR_FILE):
            (run_dir / name).unlink(missing_ok=True)
        return _run_and_record(spec, run_dir, run_fn, tag)
    finally:
        lock.release()


def _run_and_record(
    spec: RunSpec, run_dir: Path, run_fn: RunFunction, tag: str | None
) -> RunOutcome:
    """Calls ``run_fn`` for ``spec`` and writes its ``run.json`` (and ``error.txt`` if it
    raised): the part of `execute_run` done under the lock."""
    row_args = {
        "run_id": spec.run_id,
        "label": spec.label,
        "overrides": spec.overrides,
        "tag": tag,
        "run_dir": run_dir,
    }
    t0 = time.perf_counter()
    try:
        result = _as_result(run_fn(spec.config, spec.seed, run_dir))
        seconds = time.perf_counter() - t0
        row = make_row(
            spec.config,
            spec.seed,
            status="ok",
            metrics=result.metrics,
            wall_seconds=seconds,
            train_seconds=result.train_seconds,
            extra=result.extra,
            **row_args,
        )
        _write_record(run_dir, row)
        return RunOutcome(spec.run_id, "ok", run_dir, row, None, seconds)
    except Exception as err:  # also metrics JSON cannot hold: recorded, not raised
        seconds = time.perf_counter() - t0
        error = one_line(f"{type(err).__name__}: {err}")
        row = make_row(
            spec.config,
            spec.seed,
            status="failed",
            error=error,
            wall_seconds=seconds,
            **row_args,
        )
        # On a full or read-only disk these writes fail too: the registry row, written by
        # the sweep process, still says why, and the run resumes next time.
        with contextlib.suppress(OSError):
            with atomic_write(run_dir / ERROR_FILE) as f:
                f.write(traceback.format_exc())
            _write_record(run_dir, row)
        fault = fault_errno(err)
        return RunOutcome(spec.run_id, "failed", run_dir, row, error, seconds, fault)


def _write_record(run_dir: Path, row: Mapping[str, Any]) -> None:
    with atomic_write(run_dir / RUN_RECORD) as f:
        f.write(json.dumps(row, indent=2, sort_keys=True) + "\n")


# --------------------------------------------------------------------------------------
# Running a sweep
# --------------------------------------------------------------------------------------
def _parallel(
    tasks: list[tuple],
    options: dict[str, Any],
    n_jobs: int,
    backend: str | None,
    gpu_slots: tuple[tuple[str, ...], str] | None = None,
) -> Iterator[tuple[int, RunOutcome]]:
    """(index, outcome) pairs as runs finish, through joblib; ``tasks`` are (index, sweep
    pid, spec, root, run_fn). ``gpu_slots`` (gpus, slots folder): loky workers that each
    `claim_gpu` when they start."""
    from joblib import Parallel, delayed, parallel_config

    calls = [delayed(_indexed)(*task, **options) for task in tasks]
    workers = (
        parallel_config(backend="loky", initializer=claim_gpu, initargs=gpu_slots)
        if gpu_slots
        else contextlib.nullcontext()
    )
    with workers:  # read when Parallel is made (a loky pool with that initializer)
        # Unordered: a row is recorded as soon as its run finishes, not when all before it do.
        parallel = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator_unordered")
    started = False
    try:
        for item in parallel(calls):
            started = True
            yield item
    except ValueError as err:
        # Backends built on multiprocessing.Pool (e.g. Ray's) cannot stream results.
        if started or "does not support return_as" not in str(err):
            raise
        yield from Parallel(n_jobs=n_jobs, backend=backend)(calls)


def _indexed(index: int, sweep_pid: int, *args: Any, **kwargs: Any) -> tuple[int, RunOutcome]:
    stop_with_parent(sweep_pid)  # in a worker process: no orphan if the sweep dies
    return index, execute_run(*args, **kwargs)


def run_sweep(
    specs: Sequence[RunSpec],
    run_fn: RunFunction,
    *,
    root: str | os.PathLike[str],
    registry: str | os.PathLike[str] | None = None,
    n_jobs: int = 1,
    backend: str | None = None,
    retry_failed: bool = True,
    tag: str | None = None,
    on_outcome: Callable[[RunOutcome, int, int], None] | None = None,
    gpus: str | Sequence[str] | None = None,
) -> list[RunOutcome]:
    """Runs every spec not yet finished and records each outcome; returns them in order.

    Args:
      run_fn: ``run_fn(config, seed, run_dir)`` (see `execute_run`), e.g. a
        `gankit.experiments.run.TrainAndEvaluate`. It must be picklable for ``n_jobs > 1``; if
        it has a ``prepare()`` method, that is called once here first (e.g. to fetch data).
      root: folder of the run directories.
      registry: the results file; default ``root/results.jsonl``.
      n_jobs: parallel runs (-1: one per CPU). 1 with ``backend=None`` runs in this
        process, without joblib.
      backend: a joblib backend ('loky', 'threading', 'dask', ...); None uses loky, or
        the backend of an enclosing ``joblib.parallel_config``.
      retry_failed: rerun runs that failed before (default); False skips them.
      tag: stored in each new row, to select this sweep in a report.
      on_outcome: called as ``on_outcome(outcome, done, total)`` as each run ends.
      gpus: one GPU per worker, e.g. ``"0,1"`` or ``["0", "1"]``: runs go to ``n_jobs``
        (>= 2) loky worker processes, worker ``i`` seeing only GPU ``gpus[i % len(gpus)]``
        (`gankit.experiments.workers.claim_gpu`); ``n_jobs=len(gpus)`` gives each its own.
        On a Dask cluster use ``dask_cuda.LocalCUDACluster`` instead (docs/experiments.md).

    Raises:
      TypeError, ValueError: a spec is not a RunSpec, a config breaks a rule of
        `gankit.config.validate` (naming the run), ``n_jobs`` is not >= 1 or -1, or
        ``gpus`` is malformed or given with ``n_jobs=1`` or a backend other than loky;
        raised before any folder is made.
      OSError: ``root`` or ``registry`` cannot be written (checked before any run
        starts), or a run met a file-system fault (`RunOutcome.fault`: a full disk, a
        read-only folder), raised after recording that run; the other runs stop and
        resume next time.
    """
    specs = check_specs(specs, n_jobs)
    if gpus is not None:
        gpus = parse_gpus(gpus)
        if backend not in (None, "loky"):
            raise ValueError(
                f"gpus gives each loky worker on this machine one GPU; backend {backend!r} "
                "cannot use it (on Dask: dask_cuda.LocalCUDACluster, see docs/experiments.md)"
            )
        if n_jobs == 1:
            raise ValueError(
                "gpus needs worker processes (n_jobs >= 2, e.g. one per GPU); for one run "
                "at a time on one GPU, set CUDA_VISIBLE_DEVICES=<gpu> before starting Python"
            )
    root = check_writable_dir(root, "run folder (--root)")
    registry = Path(registry) if registry is not None else root / REGISTRY_NAME
    check_writable_file(registry, "registry")
    recorded = {row["run_id"]: row.get("status") for row in read_rows(registry)}
    options = {"retry_failed": retry_failed, "tag": tag}
    # Runs already done are confirmed here (cheap); only the others start workers.
    done_before = {"ok"} | (set() if retry_failed else {"failed"})
    finished = [i for i, s in enumerate(specs) if run_status(root / s.run_id) in done_before]
    todo = [i for i in range(len(specs)) if i not in set(finished)]
    prepare = getattr(run_fn, "prepare", None)
    if todo and callable(prepare):
        prepare()
    results: Iterable[tuple[int, RunOutcome]] = (
        (i, execute_run(specs[i], root, run_fn, **options)) for i in finished
    )
    if n_jobs == 1 and backend is None:
        rest: Iterable[tuple[int, RunOutcome]] = (
            (i, execute_run(specs[i], root, run_fn, **options)) for i in todo
        )
    else:
        tasks = [(i, os.getpid(), specs[i], root, run_fn) for i in todo]
        gpu_slots = None if gpus is None else (gpus, str(root / GPU_SLOTS_DIR))
        rest = _parallel(tasks, options, n_jobs, backend, gpu_slots) if todo else ()
    outcomes: list[RunOutcome | None] = [None] * len(specs)
    try:
        for done, (index, outcome) in enumerate(itertools.chain(results, rest), start=1):
            _record(registry, outcome, recorded)
            outcomes[index] = outcome
            if on_outcome is not None:
                on_outcome(outcome, done, len(specs))
            if outcome.fault is not None:
                raise OSError(outcome.fault, f"run {outcome.run_id} stopped: {outcome.error}")
    finally:
        if hasattr(rest, "close"):
            rest.close()  # stops the workers of runs still going (they resume next time)
    return [o for o in outcomes if o is not None]


def check_specs(specs: Sequence[RunSpec], n_jobs: int) -> list[RunSpec]:
    """``specs`` as a list, after checking them and every config (`gankit.config.validate`)."""
    from gankit.config import validate

    specs = list(specs)
    if not all(isinstance(s, RunSpec) for s in specs):
        raise TypeError("specs must be RunSpec objects (see expand_grid / expand_list)")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or (n_jobs < 1 and n_jobs != -1):
        raise ValueError(f"n_jobs must be >= 1, or -1 for one per CPU; got {n_jobs!r}")
    for spec in specs:
        try:
            validate(spec.config)
        except (TypeError, ValueError) as err:
            raise type(err)(f"run {spec.label or spec.run_id}: {err}") from None
    return specs


def _record(registry: Path, outcome: RunOutcome, recorded: dict[str, str | None]) -> None:
    """Appends the row of ``outcome`` to the registry: always for a run that ran, for a
    skipped one only if its row is missing (the sweep that ran it died between its
    ``run.json`` and the registry), so each finished run gets exactly one row."""
    row = outcome.row
    if row is None:
        return
    if outcome.status in ("ok", "failed") or recorded.get(outcome.run_id) != row["status"]:
        append_row(registry, row)
        recorded[outcome.run_id] = row["status"]
