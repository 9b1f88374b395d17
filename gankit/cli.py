"""Command line: ``python -m gankit <command>`` (also the ``gankit`` console script).

Commands:
  figures [NOTEBOOK ...]   execute the numbered notebooks in order, headless, in place
                           (full mode unless GANKIT_QUICK=1 or --quick); they write the
                           report figures and tables into figures/.
  data                     make sure MNIST is in the cache and print where it is.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from gankit.paths import project_root


def run_notebook(path: Path, *, quick: bool, timeout: int | None = None) -> float:
    """Executes the notebook at ``path`` in place (outputs kept, volatile metadata stripped).

    Returns the wall-clock seconds it took. Raises nbclient's CellExecutionError if a cell
    fails; the partially executed notebook is then not written.
    """
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    saved = {k: os.environ.get(k) for k in ("GANKIT_QUICK", "GANKIT_PROGRESS")}
    os.environ["GANKIT_QUICK"] = "1" if quick else "0"
    # Nobody watches a headless run: progress bars would only leave "0%" widgets behind.
    os.environ["GANKIT_PROGRESS"] = "0"
    try:
        t0 = time.perf_counter()
        client = nbclient.NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
        seconds = time.perf_counter() - t0
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    nbformat.write(strip_volatile_metadata(nb), path)
    return seconds


def strip_volatile_metadata(nb):
    """Drops what changes on every run but the outputs: execution timestamps in cell
    metadata and the kernel's version details, so re-running only changes real results."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec",)}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def _figures(args: argparse.Namespace) -> int:
    notebooks = [Path(p) for p in args.notebooks] or sorted(
        (project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb")
    )
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 1
    for path in notebooks:
        if not path.exists():
            print(f"{path} does not exist", file=sys.stderr)
            return 1
    mode = "quick" if args.quick else "full"
    for path in notebooks:
        print(f"executing {path} ({mode} mode) ...", flush=True)
        seconds = run_notebook(path, quick=args.quick)
        print(f"  done in {seconds / 60:.1f} min", flush=True)
    return 0


def _data(args: argparse.Namespace) -> int:
    from gankit.data import main as data_main

    return data_main() or 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gankit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    fig = sub.add_parser(
        "figures",
        help="execute the notebooks; they write figures/",
        description="Execute the numbered notebooks in order, in place. "
        "Example: python -m gankit figures notebooks/01_dcgan.ipynb",
    )
    fig.add_argument("notebooks", nargs="*", help="notebooks to run (default: all, in order)")
    fig.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("GANKIT_QUICK") == "1",
        help="quick mode: less data, fewer epochs (GANKIT_QUICK=1)",
    )
    fig.set_defaults(func=_figures)
    data = sub.add_parser(
        "data",
        help="fetch MNIST into the cache",
        description="Make sure MNIST is cached. Example: python -m gankit data",
    )
    data.set_defaults(func=_data)
    args = parser.parse_args(argv)
    return args.func(args)
