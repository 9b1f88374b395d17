"""The Google Colab set-up cell that opens every numbered notebook.

In Colab gankit is not installed and a disconnect wipes the VM, so the first cell of each
notebook (tagged 'colab'; it does nothing elsewhere) installs gankit without ``-e`` (an
editable install is importable only after a runtime restart), optionally mounts Google
Drive and points ``GANKIT_RUNS_DIR``, ``GANKIT_FIGURES_DIR`` and ``GANKIT_DATA_DIR`` there,
so an interrupted training resumes after reconnecting. MNIST then comes through
``keras.datasets.mnist`` as anywhere with internet access (`gankit.data.mnist`).

The cell cannot import gankit (it installs it), so its text is kept here, once, and
`with_colab_cell` writes it into the notebooks; a test checks that every notebook opens
with exactly this text.
"""

from __future__ import annotations

__all__ = ["COLAB_CELL", "COLAB_TAG", "with_colab_cell"]

COLAB_TAG = "colab"

COLAB_CELL = """\
# Google Colab set-up: does nothing outside Colab. Installs gankit (not editable, so no
# runtime restart is needed) and, with KEEP_ON_DRIVE, keeps runs, figures and the MNIST
# and classifier cache on Google Drive, so training resumes after a disconnect.
import sys

if "google.colab" in sys.modules:
    import importlib
    import os
    import subprocess
    from pathlib import Path

    GANKIT_REPO = ""  # git URL of your copy of gankit, if it is not in /content or on Drive
    KEEP_ON_DRIVE = True  # False: everything under /content, lost when the VM is recycled
    work = Path("/content/gankit-work")
    if KEEP_ON_DRIVE:
        from google.colab import drive

        drive.mount("/content/drive")
        work = Path("/content/drive/MyDrive/gankit-work")
    for name, folder in (("RUNS", "runs"), ("FIGURES", "figures"), ("DATA", "cache")):
        os.environ.setdefault(f"GANKIT_{name}_DIR", str(work / folder))
    if importlib.util.find_spec("gankit") is None:
        found = [p for p in (Path("/content/gankit"), Path("/content/drive/MyDrive/gankit"))
                 if (p / "gankit" / "__init__.py").is_file()]
        if not found and not GANKIT_REPO:
            raise RuntimeError("gankit is not installed: set GANKIT_REPO in this cell to the "
                               "git URL of the repository, or upload the repository folder "
                               "to /content/gankit or to MyDrive/gankit")
        if not found:
            subprocess.run(["git", "clone", "-q", GANKIT_REPO, "/content/gankit"], check=True)
        source = found[0] if found else Path("/content/gankit")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", str(source)], check=True)
        importlib.invalidate_caches()
    print("gankit work folder:", work)
"""
"""The source of the first cell of every numbered notebook."""


def with_colab_cell(nb):
    """``nb`` (an nbformat notebook) opening with the `COLAB_CELL`, tagged `COLAB_TAG`:
    replaces a first cell with that tag, else inserts one. Returns ``nb``."""
    import nbformat

    cell = nbformat.v4.new_code_cell(COLAB_CELL, metadata={"tags": [COLAB_TAG]})
    cell.id = "colab-setup"  # a fixed id: re-writing the notebooks changes nothing
    first = nb.cells[0] if nb.cells else None
    if first is not None and COLAB_TAG in first.metadata.get("tags", []):
        first.source = COLAB_CELL
        first.outputs, first.execution_count = [], None
    else:
        nb.cells.insert(0, cell)
    return nb
