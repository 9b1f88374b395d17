"""Where runs and figures go, so notebooks, the CLI and tests agree.

Full mode writes report figures into the repository's ``figures/``; quick mode
(``GANKIT_QUICK=1``) writes them under ``runs/quick/figures`` so a test run never
overwrites the committed full-mode results. Both can be redirected with
``GANKIT_FIGURES_DIR`` and ``GANKIT_RUNS_DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path

from gankit.config import GANConfig, config_hash, is_quick


def project_root() -> Path:
    """The checkout gankit is installed from (editable install), else the working directory."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").exists() else Path.cwd()


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the project root if it lies inside it, else as given: what
    messages and notebook outputs show, so they name no directory of one machine."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(project_root().resolve()))
    except ValueError:
        return str(path)


def runs_dir(quick: bool | None = None) -> Path:
    """Root of all run directories: $GANKIT_RUNS_DIR, else <project>/runs, or
    <project>/runs/quick in quick mode (``quick``; default: GANKIT_QUICK)."""
    if "GANKIT_RUNS_DIR" in os.environ:
        return Path(os.environ["GANKIT_RUNS_DIR"])
    base = project_root() / "runs"
    return base / "quick" if (is_quick() if quick is None else quick) else base


def figures_dir(quick: bool | None = None) -> Path:
    """Where report figures and tables go: $GANKIT_FIGURES_DIR, else <project>/figures
    (full mode) or <runs>/figures (quick mode; default: GANKIT_QUICK). Created if missing."""
    quick = is_quick() if quick is None else quick
    if "GANKIT_FIGURES_DIR" in os.environ:
        path = Path(os.environ["GANKIT_FIGURES_DIR"])
    else:
        path = runs_dir(quick=True) / "figures" if quick else project_root() / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_dir_for(config: GANConfig, seed: int) -> Path:
    """The run directory of ``config`` and ``seed``: <runs>/<name>-<config hash>-s<seed>.

    Keyed by the config hash, so a changed config never resumes another config's run.
    """
    return runs_dir() / f"{config.name}-{config_hash(config)}-s{seed}"
