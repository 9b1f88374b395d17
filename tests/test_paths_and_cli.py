"""Run/figure locations, and the command line (through subprocess, as a user calls it)."""

import subprocess
import sys

import nbformat

from gankit.config import GANConfig, with_overrides
from gankit.experiments.notebooks import run_notebook
from gankit.paths import display_path, figures_dir, project_root, run_dir_for, runs_dir


def test_quick_mode_never_writes_into_the_committed_figures(monkeypatch, tmp_path):
    monkeypatch.delenv("GANKIT_FIGURES_DIR", raising=False)
    monkeypatch.setenv("GANKIT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("GANKIT_QUICK", "1")
    assert figures_dir() == tmp_path / "runs" / "figures"
    monkeypatch.setenv("GANKIT_FIGURES_DIR", str(tmp_path / "figs"))
    assert figures_dir() == tmp_path / "figs" and (tmp_path / "figs").is_dir()


def test_run_dir_is_keyed_by_config_and_seed(monkeypatch, tmp_path):
    monkeypatch.setenv("GANKIT_RUNS_DIR", str(tmp_path))
    cfg = GANConfig(name="x")
    assert run_dir_for(cfg, 0).parent == runs_dir() == tmp_path
    assert run_dir_for(cfg, 0) != run_dir_for(cfg, 1)
    assert run_dir_for(cfg, 0) != run_dir_for(with_overrides(cfg, {"train.g_lr": 1e-3}), 0)


def test_display_path_names_no_directory_of_this_machine(tmp_path):
    assert display_path(project_root() / "runs" / "q3" / "results.jsonl") == "runs/q3/results.jsonl"
    outside = tmp_path / "results.jsonl"
    assert display_path(outside) == str(outside)  # outside the project: unchanged


def test_cli_help_explains_each_command():
    for args in ([], ["figures"], ["data"]):
        out = subprocess.run(
            [sys.executable, "-m", "gankit", *args, "--help"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "Example" in out or "figures" in out


def test_cli_rejects_a_missing_notebook(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "gankit", "figures", str(tmp_path / "no.ipynb")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2  # bad input, as every command's
    assert proc.stderr.strip().startswith("gankit figures: error: notebook ")
    assert proc.stderr.strip().endswith("does not exist")


def test_run_notebook_executes_in_place_and_strips_volatile_metadata(tmp_path):
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import os\nprint(os.environ['GANKIT_QUICK'])"),
            nbformat.v4.new_code_cell("6 * 7"),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    seconds = run_notebook(path, quick=True)
    done = nbformat.read(path, as_version=4)
    assert seconds > 0
    assert done.cells[0].outputs[0]["text"].strip() == "1"
    assert done.cells[1].outputs[0]["data"]["text/plain"] == "42"
    assert "execution" not in done.cells[0].metadata  # timestamps stripped
