"""Command line: ``python -m gankit <command>`` (also the ``gankit`` console script).

Commands:
  train CONFIG [key=value ...]   train (or resume) one run of a preset or a config file,
                                 evaluate it and add it to the results registry
  evaluate RUN_DIR               the metric suite of a finished run, written next to it
  sweep CONFIG --grid ... | --runs ...
                                 many runs (overrides x seeds): resumable, locked,
                                 in parallel processes with --jobs
  report                         registry -> tables (csv, md, tex) and plots over seeds
  archive DEST / restore SRC     what finished runs measured, without weights, into a
                                 folder to commit or share / back into a runs folder
  figures [NOTEBOOK ...]         execute the numbered notebooks in order, headless, in
                                 place (full mode unless GANKIT_QUICK=1 or --quick); they
                                 write the report figures and tables into figures/
  readme                         write README.md's results section from figures/results.json
                                 and its benchmark sections from benchmarks/results/
  q3                             run Q3's retraining study (resumable; notebook 03 loads it)
  data                           make sure MNIST is in the cache and print where it is

CONFIG is a preset name (listed by python -m gankit train --help) or a JSON config
file such as the config.json of a run directory. Run "python -m gankit COMMAND --help" for
the options and an example of each. This module reads the arguments and turns errors
into one line and an exit code (gankit.experiments.faults); what each command does is in
gankit.experiments.commands, the logic in the rest of gankit.experiments.
"""

from __future__ import annotations

import argparse
import os
import traceback

from gankit.experiments import commands
from gankit.experiments.faults import EXIT_USAGE, describe, int_at_least, raise_on_sigterm

_DEBUG = "show the traceback of an error (also GANKIT_DEBUG=1)"


# --------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """Errors on one line, ``gankit <command>: error: ...``, with exit code 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds must be ints, e.g. 0,1,2; got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"seeds must be ints >= 0, got {text!r}")
    return seeds


def _gpus(text: str) -> tuple[str, ...]:
    from gankit.experiments.workers import parse_gpus

    try:
        return parse_gpus(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_command(sub, name: str, help: str, description: str, example: str, func, notes=""):
    parser = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=f"Example:\n  {example}\n{notes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func, parser=parser)
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG)
    return parser


def _add_mode(parser) -> None:
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("GANKIT_QUICK") == "1",
        help="quick mode: presets on 2,048 images for 1 epoch, quick classifier, 1,000 "
        "samples per evaluation, runs under runs/quick (default: GANKIT_QUICK=1)",
    )


def _add_run_options(parser) -> None:
    parser.add_argument("config", help="a preset name or a JSON config file")
    parser.add_argument(
        "overrides", nargs="*", metavar="key=value", help="config changes, e.g. train.g_lr=1e-3"
    )
    _add_mode(parser)
    parser.add_argument("--root", help="folder of the run directories (default: runs/)")
    parser.add_argument("--registry", help="results file (default: ROOT/results.jsonl)")
    parser.add_argument(
        "--eval-n",
        type=int_at_least(1),
        help="samples per evaluation (default 10000, quick 1000: the kit's protocol)",
    )
    parser.add_argument("--no-evaluate", action="store_true", help="train only, no metrics")
    parser.add_argument("--tag", help="stored with each run, to pick them in `report --tag`")


def build_parser() -> argparse.ArgumentParser:
    """The ``gankit`` argument parser (one sub-parser per command)."""
    parser = _Parser(
        prog="gankit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debug", action="store_true", help=_DEBUG)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_train_and_sweep(sub)
    _add_evaluate_and_report(sub)
    _add_figures_and_data(sub)
    return parser


def _add_train_and_sweep(sub) -> None:
    from gankit.presets import preset_names  # light: config dataclasses only

    presets_note = "\nPresets: " + ", ".join(preset_names())
    train = _add_command(
        sub,
        "train",
        "train, evaluate and record one run",
        "Train one run of a preset or a config file (resuming it if it was interrupted, "
        "skipping it if it finished), evaluate it and add a row to the results registry. "
        "The run directory is ROOT/<name>-<config hash>-s<seed>.",
        "python -m gankit train dcgan_tuned train.epochs=2 train.g_lr=1e-3 --seed 1 --quick",
        commands.train,
        presets_note,
    )
    _add_run_options(train)
    train.add_argument(
        "--seed", type=int_at_least(0), default=0, help="seeds weights, data order, noise"
    )
    train.add_argument(
        "--print-config", action="store_true", help="print the resolved config and exit"
    )

    sweep = _add_command(
        sub,
        "sweep",
        "run a grid or list of overrides x seeds",
        "Run every combination of --grid values (or every entry of --runs) for every seed, "
        "each in its own run directory. Stop it at any time and run the same command "
        "again: finished runs are skipped, interrupted ones resume, failed ones are "
        "retried. Keys joined by commas take the same value (train.g_lr,train.d_lr=...).",
        "python -m gankit sweep dcgan_tuned --quick \\\n"
        "      --grid train.g_lr,train.d_lr=1e-4,2e-4,1e-3 --grid train.batch_size=64,128 \\\n"
        "      --seeds 0,1 --jobs 2",
        commands.sweep,
        presets_note,
    )
    _add_run_options(sweep)
    sweep.add_argument(
        "--grid", action="append", metavar="KEY=V1,V2", help="a grid axis (repeat for more)"
    )
    sweep.add_argument(
        "--runs",
        metavar="NAME|FILE|JSON",
        help="a named study (q1-tuning), or a list of override dicts or {label: overrides}",
    )
    sweep.add_argument(
        "--seeds", type=_seeds, default=[0], help="seeds of every config, e.g. 0,1,2"
    )
    sweep.add_argument(
        "--jobs",
        type=int_at_least(1, also=(-1,)),
        help="runs in parallel (-1: one per CPU; default 1, or one per GPU of --gpus)",
    )
    sweep.add_argument(
        "--gpus",
        type=_gpus,
        metavar="0,1",
        help="one GPU per worker process: worker i sees only GPU i (CUDA_VISIBLE_DEVICES); "
        "more --jobs than GPUs share them in turn. Loky workers on this machine only",
    )
    sweep.add_argument(
        "--backend",
        choices=("loky", "sequential", "dask", "ray"),
        help="loky: worker processes on this machine (the default with --jobs > 1); "
        "sequential: in this process; dask, ray: a cluster at --address (a local one "
        "without it), see docs/experiments.md",
    )
    sweep.add_argument("--address", help="Dask scheduler or Ray cluster address")
    sweep.add_argument(
        "--threads-per-run", type=int_at_least(1), help="TensorFlow threads per run (default: all)"
    )
    sweep.add_argument("--skip-failed", action="store_true", help="do not retry failed runs")
    sweep.add_argument("--dry-run", action="store_true", help="list the runs, run nothing")


def _add_evaluate_and_report(sub) -> None:
    evaluate = _add_command(
        sub,
        "evaluate",
        "the metric suite of a finished run",
        "Evaluate the generator of a finished run directory against the real test images "
        "(IS, class coverage, FID, diversity, duplicates, ...) and write metrics.json and "
        "metrics.{csv,md,tex} next to it.",
        "python -m gankit evaluate runs/dcgan_tuned-6cb063af4b-s0 --n 10000 --seed 0",
        commands.evaluate,
    )
    evaluate.add_argument("run_dir", help="a run directory with generator.keras")
    evaluate.add_argument(
        "--n",
        type=int_at_least(1),
        help="generated samples (default 10000, quick 1000: the kit's protocol)",
    )
    evaluate.add_argument(
        "--seed", type=int_at_least(0), default=0, help="seeds the generated samples"
    )
    _add_mode(evaluate)

    report = _add_command(
        sub,
        "report",
        "registry -> tables and plots over seeds",
        "Collect the runs of a results registry into a summary table (mean ± std over "
        "seeds; csv, Markdown and LaTeX with booktabs), a table of every run, and a plot "
        "of each metric against the parameters that vary.",
        "python -m gankit report --root /tmp/gankit-sweep-demo --metrics inception_score fid",
        commands.report,
    )
    report.add_argument("--root", help="folder holding results.jsonl (default: runs/)")
    report.add_argument("--registry", help="the results file (default: ROOT/results.jsonl)")
    report.add_argument("--out", help="output folder (default: ROOT/report)")
    report.add_argument("--params", nargs="+", help="group by these (default: what varies)")
    report.add_argument("--metrics", nargs="+", help="metric columns (default: IS, FID, ...)")
    report.add_argument("--tag", help="only runs with this --tag")
    report.add_argument("--name", help="only runs of this config name")
    report.add_argument("--stem", default="sweep", help="file name stem (default: sweep)")
    _add_mode(report)
    _add_archive_and_restore(sub)


def _add_archive_and_restore(sub) -> None:
    archive = _add_command(
        sub,
        "archive",
        "finished runs' records, metrics and logs (no weights) into a folder",
        "Copy what each finished run measured (run.json, config, metrics, per-epoch history; "
        "a few kB) into DEST/<run id>/, to commit or share a long sweep's results "
        "(gankit.experiments.archive). --logs also keeps the step log, --grids the sample "
        "grid of each epoch. Weights stay behind.",
        "python -m gankit archive run_archive/q1-tuning --match 'dcgan_study-*' "
        "--logs 'dcgan_study-*-s0'",
        commands.archive,
    )
    archive.add_argument("dest", help="the archive folder (outside the runs folder)")
    archive.add_argument("--root", help="folder of the run directories (default: runs/)")
    archive.add_argument("--match", default="*", help="run ids to archive (a glob; default *)")
    archive.add_argument("--logs", default="", help="run ids whose step log is kept too (a glob)")
    archive.add_argument(
        "--grids", default="", help="run ids whose epoch sample grids are kept too (a glob)"
    )
    _add_mode(archive)

    restore = _add_command(
        sub,
        "restore",
        "archived runs back into a runs folder, finished for every sweep",
        "Put the runs of an archive (gankit archive) back under the runs folder and add "
        "their rows to its registry: sweeps and notebooks skip them as finished and read "
        "their metrics and logs. They have no weights: delete a run's folder to retrain it.",
        "python -m gankit restore run_archive/q1-tuning",
        commands.restore,
    )
    restore.add_argument("src", help="an archive folder written by gankit archive")
    restore.add_argument("--root", help="folder of the run directories (default: runs/)")
    _add_mode(restore)


def _add_figures_and_data(sub) -> None:
    fig = _add_command(
        sub,
        "figures",
        "execute the notebooks; they write figures/",
        "Execute the numbered notebooks in order, headless, in place (what `make figures` "
        "runs). -p NAME VALUE injects a parameter after the notebook's parameters cell, "
        "as papermill does.",
        "python -m gankit figures notebooks/01_dcgan.ipynb --quick -p SEED 1",
        commands.figures,
    )
    fig.add_argument("notebooks", nargs="*", help="notebooks to run (default: all, in order)")
    fig.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a notebook parameter (repeatable)",
    )
    _add_mode(fig)

    readme = _add_command(
        sub,
        "readme",
        "write README.md's results from figures/results.json and benchmarks/results/",
        "Rewrite the results section of README.md (between its marker lines) from the "
        "results file the notebooks wrote, and each benchmark section from the file its "
        "script wrote, so the README shows the committed numbers.",
        "python -m gankit readme",
        commands.readme,
    )
    readme.add_argument("--readme", help="the README to update (default: README.md)")
    readme.add_argument("--results", help="results file (default: figures/results.json)")
    readme.add_argument(
        "--bench-results",
        help="folder of the benchmark scripts' results (default: benchmarks/results)",
    )

    q3 = _add_command(
        sub,
        "q3",
        "run Q3's retraining study (the grid, few-shot, synthetic only)",
        "Train classifiers on real and synthetic images as the brief's Q3 asks "
        "(gankit.studies.retrain_plan): the real x synthetic grid, the few-shot strategies "
        "and the synthetic-only score, each cell for each seed, with the default CGAN's "
        "samples (trained or loaded as notebooks 02-04 do). Every finished run is appended "
        "to the results file at once, so a stopped study resumes where it was and "
        "notebooks/03_retraining.ipynb loads what it finds.",
        "python -m gankit q3 --parts grid --seeds 0 1 2",
        commands.q3,
    )
    q3.add_argument(
        "--parts",
        nargs="+",
        # retrain_plan.DEFAULT_PARTS and PARTS (not imported: --help stays free of TensorFlow)
        default=["grid", "few_shot", "synthetic_only"],
        choices=["grid", "few_shot", "synthetic_only", "ensemble"],
        help="which parts of the study (default: all but 'ensemble', which trains two more CGANs)",
    )
    q3.add_argument(
        "--seeds", nargs="+", type=int_at_least(0), default=[0, 1, 2], help="default: 0 1 2"
    )
    q3.add_argument(
        "--generator-seed", type=int_at_least(0), default=0, help="the default CGAN's seed"
    )
    q3.add_argument("--results", help="results file (default: runs/q3/results.jsonl)")
    q3.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_mode(q3)

    _add_command(
        sub,
        "data",
        "fetch MNIST into the cache",
        "Make sure MNIST is cached (verified by SHA-256) and print where it is.",
        "python -m gankit data",
        commands.data,
    )


def main(argv: list[str] | None = None) -> int:
    """Runs the command in ``argv`` (default: sys.argv) and returns its exit code.

    Everything the command needs is checked before it loads data or writes a file. Every
    error ends in one line, ``gankit <command>: error: ...``, and an exit code (the table
    is in docs/experiments.md): 2 for bad input (an unknown preset or config key, a
    wrong value, an option out of range), 3 for a folder or file that cannot be written,
    4 for a full disk, 5 if MNIST is unavailable, 130 for Ctrl-C, 143 for SIGTERM, 1 for
    failed runs and anything unexpected. ``--debug`` (or GANKIT_DEBUG=1) adds the
    traceback. Errors exit through SystemExit; a command's own result is returned.
    """
    parser = build_parser()
    # Overrides may follow options (train X --seed 1 a=b): argparse leaves those unparsed.
    args, extra = parser.parse_known_args(argv)
    stray = [e for e in extra if e.startswith("-") or "=" not in e]
    if stray or (extra and not hasattr(args, "overrides")):
        args.parser.error(f"unrecognized arguments: {' '.join(stray or extra)}")
    if extra:
        args.overrides = [*args.overrides, *extra]
    raise_on_sigterm()
    try:
        return args.func(args)
    except (Exception, KeyboardInterrupt) as err:
        message, code = describe(err)
        if args.debug or os.environ.get("GANKIT_DEBUG") == "1":
            traceback.print_exc()
        args.parser.exit(code, f"{args.parser.prog}: error: {message}\n")
