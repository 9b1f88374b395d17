"""Sweeps: many independent runs (configs x seeds), resumable, locked, recorded.

A sweep is a list of `RunSpec` (a config and a seed), made by `expand_grid` (every
combination of some overrides) or `expand_list` (named sets of overrides), times seeds.
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

Runs are independent, so they are dispatched through joblib: ``n_jobs=1`` runs them one
after the other in this process, ``n_jobs=2`` in two loky worker processes, and inside
``joblib.parallel_config(backend="dask")`` on a Dask cluster (see docs/experiments.md).
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
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.config import GANConfig, config_hash
from gankit.config_files import apply_overrides, parse_value
from gankit.experiments.locks import LOCK_NAME, RunLock, RunLockedError
from gankit.experiments.registry import REGISTRY_NAME, append_row, make_row, read_rows
from gankit.io import atomic_write

RUN_RECORD = "run.json"
"""Written last, atomically: its presence with status 'ok' is what "finished" means."""
ERROR_FILE = "error.txt"
OUTCOMES = ("ok", "failed", "skipped", "busy")


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: a config, a seed and how the sweep described it."""

    config: GANConfig
    seed: int
    label: str | None = None
    """A short name for the table, e.g. 'train.g_lr=0.001 train.batch_size=64'."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """The overrides that made ``config`` from the sweep's base config."""

    @property
    def run_id(self) -> str:
        """``<name>-<config hash>-s<seed>``: the run directory's name."""
        return run_id(self.config, self.seed)


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


RunFunction = Callable[[GANConfig, int, Path], "RunResult | Mapping[str, Any]"]


def run_id(config: GANConfig, seed: int) -> str:
    """The run directory name of ``config`` and ``seed``: ``<name>-<hash>-s<seed>``."""
    return f"{config.name}-{config_hash(config)}-s{seed}"


# --------------------------------------------------------------------------------------
# Expanding a sweep
# --------------------------------------------------------------------------------------
def _check_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty: pass at least one seed, e.g. seeds=[0, 1]")
    for seed in seeds:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise TypeError(f"seeds must be ints >= 0, got {seed!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds repeat: {seeds}")
    return seeds


def _label(overrides: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in overrides.items()) or "base"


def _unique(specs: list[RunSpec]) -> list[RunSpec]:
    seen: dict[str, RunSpec] = {}
    for spec in specs:
        if spec.run_id in seen:
            warnings.warn(
                f"{spec.label!r} gives the same config as {seen[spec.run_id].label!r}; "
                "it is run once",
                stacklevel=3,
            )
            continue
        seen[spec.run_id] = spec
    return list(seen.values())


def expand_grid(
    base: GANConfig,
    grid: Mapping[str, Sequence[Any]],
    seeds: Sequence[int],
    *,
    fixed: Mapping[str, Any] | None = None,
) -> list[RunSpec]:
    """Every combination of the ``grid`` values, for each seed (seed-major order, so an
    interrupted sweep has seen every config at least once with the first seed).

    Args:
      grid: ``{key: [values]}``. A key may name several fields separated by commas that
        take the same value, e.g. ``{"train.g_lr,train.d_lr": [1e-4, 1e-3]}``.
      fixed: overrides applied to every run before the grid's.

    Raises:
      ValueError: an empty grid axis, an unknown key, or bad seeds.
      TypeError: a value of the wrong type for its field.
    """
    if not isinstance(grid, Mapping):
        raise TypeError("grid must be a dict {key: [values]}")
    for key, values in grid.items():
        if isinstance(values, str) or not isinstance(values, Sequence) or not len(values):
            raise ValueError(f"grid[{key!r}] must be a non-empty list of values, got {values!r}")
    combos = [
        {k.strip(): v for keys, v in zip(grid, values, strict=True) for k in keys.split(",")}
        for values in itertools.product(*grid.values())
    ]
    return expand_list(base, combos, seeds, fixed=fixed)


def expand_list(
    base: GANConfig,
    runs: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
    seeds: Sequence[int],
    *,
    fixed: Mapping[str, Any] | None = None,
) -> list[RunSpec]:
    """One run per set of overrides in ``runs`` and per seed (seed-major order).

    Args:
      runs: a list of override dicts, or ``{label: overrides}`` (e.g.
        `gankit.presets.DCGAN_VARIANTS`) to name each in the tables.
      fixed: overrides applied to every run before its own.

    Raises:
      ValueError: no runs, an unknown key, or bad seeds.
      TypeError: a value of the wrong type for its field.
    """
    if isinstance(runs, Mapping):
        labelled = [(str(k), dict(v)) for k, v in runs.items()]
    else:
        labelled = [(None, dict(v)) for v in runs]
    if not labelled:
        raise ValueError("the sweep has no runs: give at least one set of overrides")
    seeds = _check_seeds(seeds)
    fixed_config = apply_overrides(base, dict(fixed or {}))
    configs = [
        (label or _label(overrides), overrides, apply_overrides(fixed_config, overrides))
        for label, overrides in labelled
    ]
    specs = [
        RunSpec(config, seed, label, overrides)
        for seed in seeds
        for label, overrides, config in configs
    ]
    return _unique(specs)


def parse_grid_item(item: str) -> tuple[str, list[Any]]:
    """A command-line grid axis, ``"train.g_lr,train.d_lr=1e-4,2e-4"`` or
    ``'generator.hidden=[[256],[512]]'`` (a JSON list), as (key, values).

    Raises:
      ValueError: no ``=`` or no values.
    """
    key, sep, text = item.partition("=")
    if not sep or not key.strip() or not text.strip():
        raise ValueError(
            f"grid axis {item!r} must look like key=v1,v2 (e.g. train.batch_size=64,128) "
            "or key=[json list]"
        )
    text = text.strip()
    if text.startswith("["):
        try:
            values = json.loads(text)
        except ValueError as err:
            raise ValueError(f"grid axis {item!r}: the value list is not JSON ({err})") from err
    else:
        first_key = key.split(",")[0].strip()  # linked keys share a type
        values = [parse_value(v.strip(), first_key) for v in text.split(",") if v.strip()]
    if not values:
        raise ValueError(f"grid axis {item!r} has no values")
    return key.strip(), values


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
        except Exception as err:  # also metrics JSON cannot hold: recorded, not raised
            seconds = time.perf_counter() - t0
            error = f"{type(err).__name__}: {err}"
            with atomic_write(run_dir / ERROR_FILE) as f:
                f.write(traceback.format_exc())
            row = make_row(
                spec.config,
                spec.seed,
                status="failed",
                error=error,
                wall_seconds=seconds,
                **row_args,
            )
            _write_record(run_dir, row)
            return RunOutcome(spec.run_id, "failed", run_dir, row, error, seconds)
        _write_record(run_dir, row)
        return RunOutcome(spec.run_id, "ok", run_dir, row, None, seconds)
    finally:
        lock.release()


def _write_record(run_dir: Path, row: Mapping[str, Any]) -> None:
    with atomic_write(run_dir / RUN_RECORD) as f:
        f.write(json.dumps(row, indent=2, sort_keys=True) + "\n")


# --------------------------------------------------------------------------------------
# Running a sweep
# --------------------------------------------------------------------------------------
def _parallel(
    tasks: list[tuple], options: dict[str, Any], n_jobs: int, backend: str | None
) -> Iterator[tuple[int, RunOutcome]]:
    """(index, outcome) pairs as runs finish, through joblib; ``tasks`` are (index, spec,
    root, run_fn)."""
    from joblib import Parallel, delayed

    calls = [delayed(_indexed)(*task, **options) for task in tasks]
    started = False
    try:
        # Unordered: a row is recorded as soon as its run finishes, not when all before it do.
        for item in Parallel(n_jobs=n_jobs, backend=backend, return_as="generator_unordered")(
            calls
        ):
            started = True
            yield item
    except ValueError as err:
        # Backends built on multiprocessing.Pool (e.g. Ray's) cannot stream results.
        if started or "does not support return_as" not in str(err):
            raise
        yield from Parallel(n_jobs=n_jobs, backend=backend)(calls)


def _indexed(index: int, *args: Any, **kwargs: Any) -> tuple[int, RunOutcome]:
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

    Raises:
      TypeError: a spec is not a RunSpec.
      ValueError: ``n_jobs`` is 0.
    """
    specs = list(specs)
    if not all(isinstance(s, RunSpec) for s in specs):
        raise TypeError("specs must be RunSpec objects (see expand_grid / expand_list)")
    if n_jobs == 0:
        raise ValueError("n_jobs must be >= 1, or -1 for one per CPU")
    root = Path(root)
    registry = Path(registry) if registry is not None else root / REGISTRY_NAME
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
        tasks = [(i, specs[i], root, run_fn) for i in todo]
        rest = _parallel(tasks, options, n_jobs, backend) if todo else ()
    outcomes: list[RunOutcome | None] = [None] * len(specs)
    for done, (index, outcome) in enumerate(itertools.chain(results, rest), start=1):
        # New results are always recorded; a skipped run only if its row went missing
        # (e.g. the sweep was killed between writing run.json and the registry).
        row = outcome.row
        if row is not None and (
            outcome.status in ("ok", "failed") or recorded.get(outcome.run_id) != row["status"]
        ):
            append_row(registry, row)
            recorded[outcome.run_id] = row["status"]
        outcomes[index] = outcome
        if on_outcome is not None:
            on_outcome(outcome, done, len(specs))
    return [o for o in outcomes if o is not None]


@contextlib.contextmanager
def cluster_backend(name: str, address: str | None = None) -> Iterator[None]:
    """Makes joblib (and so `run_sweep` with ``backend=None``) use a Dask or Ray cluster.

    ``name`` is 'dask' (``address`` of a running scheduler, e.g. 'tcp://host:8786', or a
    local cluster if None) or 'ray' (``address`` as for ``ray.init``). Neither is a
    dependency of gankit: install one on every machine (see docs/experiments.md).

    Raises:
      ValueError: another name.
      ImportError: the engine is not installed, with the command that installs it.
    """
    from joblib import parallel_config

    if name == "dask":
        try:
            from dask.distributed import Client
        except ImportError as err:
            raise ImportError("the dask backend needs: pip install 'dask[distributed]'") from err
        client = Client(address) if address else Client(processes=True, threads_per_worker=1)
        try:
            with parallel_config(backend="dask"):
                yield
        finally:
            client.close()
    elif name == "ray":
        try:
            import ray
            from ray.util.joblib import register_ray
        except ImportError as err:
            raise ImportError("the ray backend needs: pip install 'ray[default]'") from err
        ray.init(address=address)
        register_ray()
        try:
            with parallel_config(backend="ray"):
                yield
        finally:
            ray.shutdown()
    else:
        raise ValueError(f"cluster backend must be 'dask' or 'ray', got {name!r}")
