"""What each ``gankit`` command does with its parsed arguments (`gankit.cli` reads them).

Each function takes the ``argparse.Namespace`` of its command and returns the exit code:
0, or 1 if a run failed or was busy. Bad input raises ValueError or TypeError before any
data is loaded or any file is written; `gankit.experiments.faults.describe` turns what a
command raises into one line and an exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from gankit.experiments.faults import EXIT_MNIST_UNAVAILABLE
from gankit.paths import display_path, project_root, runs_dir
from gankit.processes import load_average


def _runs_root(args: argparse.Namespace) -> Path:
    """The runs folder a command works on: ``--root``, else `gankit.paths.runs_dir`."""
    return Path(args.root) if args.root else runs_dir(args.quick)


# --------------------------------------------------------------------------------------
# Notebooks and data
# --------------------------------------------------------------------------------------


def figures(args: argparse.Namespace) -> int:
    from gankit.config import parse_value
    from gankit.experiments.notebooks import run_notebook

    notebooks = [Path(p) for p in args.notebooks] or sorted(
        (project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb")
    )
    if not notebooks:
        raise FileNotFoundError(f"no notebooks found in {project_root() / 'notebooks'}")
    for path in notebooks:
        if not path.is_file():
            raise FileNotFoundError(f"notebook {path} does not exist")
    parameters = {name: parse_value(value) for name, value in args.parameters}
    mode = "quick" if args.quick else "full"
    for path in notebooks:
        print(f"executing {path} ({mode} mode) ...", flush=True)
        load_before = load_average()
        seconds = run_notebook(path, quick=args.quick, parameters=parameters or None)
        print(f"  done in {seconds / 60:.1f} min", flush=True)
        _record_execution(path, args.quick, seconds, load_before)
    return 0


def _record_execution(path: Path, quick: bool, seconds: float, load_before: float | None):
    """Adds the notebook's wall-clock minutes to ``figures/results.json`` (entry
    ``executions``), so the README quotes the time of the execution behind the outputs."""
    from datetime import UTC, datetime

    from gankit.paths import figures_dir
    from gankit.report import update_results_json

    update_results_json(
        figures_dir(quick) / "results.json",
        "executions",
        {
            path.stem: {
                "mode": "quick" if quick else "full",
                "minutes": seconds / 60,
                "finished_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
                "load_average_before": load_before,
                "load_average_after": load_average(),
            }
        },
    )


def q3(args: argparse.Namespace) -> int:
    from gankit.data.images import scale_images
    from gankit.data.mnist import load_mnist
    from gankit.evaluate.classifier import load_or_train_classifier
    from gankit.evaluate.classifier_config import REFERENCE
    from gankit.experiments.preset_runs import default_cgans
    from gankit.studies import retrain_plan, retrain_study, retrain_tables
    from gankit.studies.retrain_sets import ensemble_source

    # the plan is checked before anything is loaded or trained
    retrain_plan.brief_plan("check", quick=args.quick, parts=args.parts, ensemble_source="a+b")
    if args.quick:  # the run directories, the classifier and the generator's budget follow it
        os.environ["GANKIT_QUICK"] = "1"
    results = Path(args.results) if args.results else runs_dir(args.quick) / "q3" / "results.jsonl"
    data = load_mnist()
    (x_train, y_train), _ = data
    reference = load_or_train_classifier(REFERENCE.quick() if args.quick else REFERENCE)

    ensemble_seeds = [s for s in retrain_plan.ENSEMBLE_SEEDS if s != args.generator_seed]
    members = default_cgans(
        [args.generator_seed, *(ensemble_seeds if "ensemble" in args.parts else [])],
        scale_images(x_train),
        y_train,
        reference,
        quick=args.quick,
        progress=not args.no_progress,
    )
    cgan = members[0]
    sources, ensemble = {cgan.run_dir.name: cgan.generator}, None
    if "ensemble" in args.parts:
        ensemble = retrain_plan.ensemble_name([m.run_dir.name for m in members])
        sources[ensemble] = ensemble_source([m.generator for m in members])
    plan = retrain_plan.brief_plan(
        cgan.run_dir.name, quick=args.quick, parts=args.parts, ensemble_source=ensemble
    )
    for part, configs in plan.items():
        print(f"q3 {part}: {len(configs)} cells x {len(args.seeds)} seeds", flush=True)
        rows = retrain_study.run_by_source(
            configs,
            args.seeds,
            results,
            sources,
            data=data,
            reference=reference,
            progress=not args.no_progress,
        )
        table = retrain_tables.mean_std_table(
            retrain_tables.readable(rows), ["strategy", "source", "n_real", "n_synth"]
        )
        print(table.to_string(index=False), flush=True)
    return 0


def archive(args: argparse.Namespace) -> int:
    from gankit.experiments.archive import archive_runs

    root = _runs_root(args)
    archived = archive_runs(root, args.dest, args.match, logs=args.logs, grids=args.grids)
    print(f"{len(archived)} finished run(s) of {display_path(root)} matching {args.match!r} "
          f"archived in {display_path(args.dest)}")  # fmt: skip
    return 0


def restore(args: argparse.Namespace) -> int:
    from gankit.experiments.archive import restore_runs

    root = _runs_root(args)
    restored = restore_runs(args.src, root)
    print(f"{len(restored)} run(s) of {display_path(args.src)} restored into "
          f"{display_path(root)} (runs already there were kept)")  # fmt: skip
    return 0


def data(args: argparse.Namespace) -> int:
    from gankit.data.mnist import main as data_main

    # data_main prints why every source failed and how to place MNIST by hand.
    return EXIT_MNIST_UNAVAILABLE if data_main() else 0


def readme(args: argparse.Namespace) -> int:
    from gankit import bench_readme, bench_record
    from gankit.paths import display_path, figures_dir
    from gankit.results_readme import update_readme

    readme_path = Path(args.readme) if args.readme else project_root() / "README.md"
    results = Path(args.results) if args.results else figures_dir() / "results.json"
    bench = Path(args.bench_results) if args.bench_results else bench_record.results_dir()
    states = [
        "updated" if changed else "already up to date"
        for changed in (
            update_readme(readme_path, results),
            bench_readme.update_readme(readme_path, bench),
        )
    ]
    print(
        f"{display_path(readme_path)}: results section {states[0]}; benchmark sections {states[1]}"
    )
    return 0


# --------------------------------------------------------------------------------------
# Runs: train, sweep, evaluate, report
# --------------------------------------------------------------------------------------
def _run_function(args: argparse.Namespace, *, parallel: bool):
    from gankit.experiments.run import TrainAndEvaluate

    threads = args.threads_per_run if hasattr(args, "threads_per_run") else None
    return TrainAndEvaluate(
        quick=args.quick,
        eval_n=args.eval_n,
        evaluate=not args.no_evaluate,
        progress=not parallel and sys.stderr.isatty(),
        threads=threads,
    )


def _run_specs(
    args: argparse.Namespace, specs, *, n_jobs: int, backend: str | None, gpus=None
) -> int:
    import contextlib

    from gankit.experiments.registry import REGISTRY_NAME
    from gankit.experiments.sweep import cluster_backend, run_sweep

    root = _runs_root(args)
    registry = Path(args.registry) if args.registry else root / REGISTRY_NAME
    cluster = backend in ("dask", "ray")
    context = cluster_backend(backend, args.address) if cluster else contextlib.nullcontext()
    if backend == "sequential":
        n_jobs, backend = 1, None
    print(f"{len(specs)} run(s) in {root}; registry {registry}", flush=True)
    t0 = time.perf_counter()
    with context:
        outcomes = run_sweep(
            specs,
            _run_function(args, parallel=n_jobs != 1 or cluster),
            root=root,
            registry=registry,
            n_jobs=-1 if cluster and n_jobs == 1 else n_jobs,
            backend=None if cluster else backend,
            retry_failed=not getattr(args, "skip_failed", False),
            tag=args.tag,
            gpus=gpus,
            on_outcome=lambda outcome, done, total: print(
                outcome.progress_line(done, total), flush=True
            ),
        )
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "skipped", "failed", "busy")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    print(f"done in {time.perf_counter() - t0:.0f} s: {summary}")
    print(f"tables and plots: python -m gankit report --root {root}")
    return 1 if counts["failed"] or counts["busy"] else 0


def _validated(config, source: str):
    """``config`` after `gankit.config.validate`; a broken rule names the config file."""
    from gankit.config import validate

    try:
        validate(config)
    except (TypeError, ValueError) as err:
        if Path(source).is_file():
            raise type(err)(f"{source}: {err}") from None
        raise
    return config


def train(args: argparse.Namespace) -> int:
    from gankit.config import to_dict
    from gankit.experiments.run import config_from_source
    from gankit.experiments.sweep_grid import RunSpec

    config = config_from_source(args.config, args.overrides, quick=args.quick)
    _validated(config, args.config)
    if args.print_config:
        print(json.dumps(to_dict(config), indent=2, sort_keys=True))
        return 0
    spec = RunSpec(config, args.seed, label=" ".join(args.overrides) or None)
    return _run_specs(args, [spec], n_jobs=1, backend=None)


def sweep(args: argparse.Namespace) -> int:
    from gankit.experiments.run import config_from_source
    from gankit.experiments.sweep import check_specs
    from gankit.experiments.sweep_grid import (
        expand_grid,
        expand_list,
        load_runs,
        parse_grid_item,
        run_id,
    )

    if bool(args.grid) == bool(args.runs):
        raise ValueError("give either --grid KEY=V1,V2 (repeatable) or --runs FILE")
    base = config_from_source(args.config, args.overrides, quick=args.quick)
    if args.grid:
        grid = dict(parse_grid_item(item) for item in args.grid)
        specs = expand_grid(base, grid, args.seeds)
    else:
        specs = expand_list(base, load_runs(args.runs), args.seeds)
    gpus = args.gpus
    jobs = args.jobs if args.jobs is not None else len(gpus) if gpus else 1
    if gpus and args.backend not in (None, "loky"):
        raise ValueError(
            f"--gpus gives each loky worker on this machine one GPU, not --backend "
            f"{args.backend}; on a Dask cluster start dask_cuda.LocalCUDACluster instead "
            "(docs/experiments.md)"
        )
    check_specs(specs, jobs)  # every run's config, before anything is touched
    if args.dry_run:
        root = _runs_root(args)
        for spec in specs:
            print(f"{root / run_id(spec.config, spec.seed)}  {spec.label}")
        print(f"{len(specs)} run(s); nothing was run (--dry-run)")
        return 0
    return _run_specs(args, specs, n_jobs=jobs, backend=args.backend, gpus=gpus)


def evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from gankit.experiments.run import evaluate_run_dir
    from gankit.report import to_markdown

    metrics = evaluate_run_dir(args.run_dir, seed=args.seed, n=args.n, quick=args.quick)
    print(to_markdown(pd.DataFrame([{"images": row, **v} for row, v in metrics.items()])))
    print(f"written to {Path(args.run_dir) / 'metrics'}.{{json,csv,md,tex}}")
    return 0


def report(args: argparse.Namespace) -> int:
    from gankit.experiments.registry import REGISTRY_NAME, load_registry
    from gankit.experiments.sweep_report import format_summary, summarise, write_sweep_report
    from gankit.report import to_markdown

    root = _runs_root(args)
    registry = Path(args.registry) if args.registry else root / REGISTRY_NAME
    if not registry.exists():
        raise ValueError(f"no registry at {registry}: run `gankit sweep` first, or pass --root")
    df = load_registry(registry)
    for column, wanted in (("tag", args.tag), ("name", args.name)):
        if wanted is not None:
            df = df[df[column] == wanted]
    if df.empty:
        raise ValueError(f"{registry} has no runs matching --tag/--name")
    out = Path(args.out) if args.out else registry.parent / "report"
    paths = write_sweep_report(df, out, by=args.params, metrics=args.metrics, stem=args.stem)
    print(to_markdown(format_summary(summarise(df, by=args.params, metrics=args.metrics), df)))
    print(f"{len(df)} run(s) from {registry}; wrote {len(paths)} files to {out}:")
    for path in sorted(set(paths.values())):
        print(f"  {path}")
    return 0
