"""Executing the numbered notebooks headless, in place (``gankit figures``, ``make
figures``): `run_notebook`, with papermill-style parameters (`inject_parameters`) and the
volatile metadata stripped (`strip_volatile_metadata`) so a re-run only changes results.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

__all__ = ["inject_parameters", "run_notebook", "strip_volatile_metadata"]

_INJECTED_TAG = "injected-parameters"


def inject_parameters(nb, parameters: dict[str, Any] | None):
    """Papermill-style: removes cells injected by an earlier run and, if ``parameters``
    is given, adds a cell tagged 'injected-parameters' that assigns them, right after the
    cell tagged 'parameters' (else after the first code cell that assigns one of them).

    Raises:
      ValueError: no cell to inject after.
    """
    import nbformat

    nb.cells = [c for c in nb.cells if _INJECTED_TAG not in c.metadata.get("tags", [])]
    if not parameters:
        return nb
    index = next(
        (i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])), None
    )
    if index is None:
        pattern = re.compile(rf"^({'|'.join(map(re.escape, parameters))})\s*=", flags=re.MULTILINE)
        index = next(
            (
                i
                for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and pattern.search(c.source)
            ),
            None,
        )
    if index is None:
        raise ValueError(
            f"no cell assigns {sorted(parameters)}: tag the notebook's parameters cell "
            "'parameters' so the values can be injected after it"
        )
    source = "# Parameters injected by `gankit figures -p`\n" + "".join(
        f"{name} = {value!r}\n" for name, value in parameters.items()
    )
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [_INJECTED_TAG]})
    nb.cells.insert(index + 1, cell)
    return nb


def run_notebook(
    path: Path,
    *,
    quick: bool,
    timeout: int | None = None,
    parameters: dict[str, Any] | None = None,
) -> float:
    """Executes the notebook at ``path`` in place (outputs kept, volatile metadata stripped).

    ``parameters`` (e.g. ``{"SEED": 1}``) are injected as by papermill (`inject_parameters`).
    Returns the wall-clock seconds it took. Raises nbclient's CellExecutionError if a cell
    fails; the partially executed notebook is then not written.
    """
    import nbclient
    import nbformat

    nb = inject_parameters(nbformat.read(path, as_version=4), parameters)
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
