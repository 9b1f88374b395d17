"""The Colab set-up cell: every notebook opens with it, it is a no-op outside Colab, and in
Colab it mounts Drive, points gankit's folders there and says what to do if gankit is missing."""

import importlib.util
import os
import sys
import types
from pathlib import Path

import nbformat
import pytest

from gankit.experiments.colab import COLAB_CELL, COLAB_TAG, with_colab_cell

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ENV = ("GANKIT_RUNS_DIR", "GANKIT_FIGURES_DIR", "GANKIT_DATA_DIR")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_opens_with_the_colab_cell(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "code"
    assert COLAB_TAG in first.metadata.get("tags", [])
    assert first.source == COLAB_CELL


def test_with_colab_cell_inserts_once_and_replaces_an_old_version():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title")])
    with_colab_cell(nb)
    nb.cells[0].source = "old text"
    with_colab_cell(nb)
    assert [c.source for c in nb.cells] == [COLAB_CELL, "# title"]


def _run_cell(capsys):
    exec(compile(COLAB_CELL, "colab-cell", "exec"), {})
    return capsys.readouterr().out


def test_outside_colab_the_cell_does_nothing(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    before = {k: os.environ.get(k) for k in ENV}
    assert _run_cell(capsys) == ""
    assert {k: os.environ.get(k) for k in ENV} == before


@pytest.fixture
def fake_colab(monkeypatch):
    mounted = []
    drive = types.SimpleNamespace(mount=mounted.append)
    colab = types.ModuleType("google.colab")
    colab.drive = drive
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return mounted


def test_in_colab_runs_figures_and_cache_go_to_drive(fake_colab, capsys):
    out = _run_cell(capsys)  # gankit is importable here, so nothing is installed
    assert fake_colab == ["/content/drive"]
    work = "/content/drive/MyDrive/gankit-work"
    assert os.environ["GANKIT_RUNS_DIR"] == f"{work}/runs"
    assert os.environ["GANKIT_FIGURES_DIR"] == f"{work}/figures"
    assert os.environ["GANKIT_DATA_DIR"] == f"{work}/cache"
    assert work in out


def test_in_colab_without_gankit_the_error_says_what_to_do(fake_colab, monkeypatch, capsys):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "gankit" else real_find_spec(name, *a),
    )
    with pytest.raises(RuntimeError, match="set GANKIT_REPO in this cell"):
        _run_cell(capsys)
