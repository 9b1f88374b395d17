"""figures/README.md is the index of the report's evidence: it names every figure and table
file in figures/ (with a caption, the question and the notebook) and nothing else."""

import re
from pathlib import Path

FIGURES = Path(__file__).resolve().parents[1] / "figures"
INDEXED_SUFFIXES = {".png", ".pdf", ".csv", ".md", ".tex"}
NOT_INDEXED = {"README.md", "results.json"}
_FILE = re.compile(r"`([\w.-]+\.(?:png|pdf|csv|md|tex))`")
_NOTEBOOK = re.compile(r"`(notebooks/[\w.-]+\.ipynb)`")


def _index() -> str:
    return (FIGURES / "README.md").read_text(encoding="utf-8")


def _rows() -> list[str]:
    return [line for line in _index().splitlines() if _FILE.search(line)]


def test_the_index_lists_exactly_the_files_in_figures():
    present = {
        p.name
        for p in FIGURES.iterdir()
        if p.suffix in INDEXED_SUFFIXES and p.name not in NOT_INDEXED
    }
    listed = {name for row in _rows() for name in _FILE.findall(row)}
    assert sorted(present - listed) == [], "add these files to figures/README.md"
    assert sorted(listed - present) == [], "figures/README.md names files figures/ lacks"


def test_every_entry_has_a_caption_a_question_and_an_existing_notebook():
    root = FIGURES.parent
    for row in _rows():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        assert len(cells) == 4, f"want | files | caption | question | notebook |: {row}"
        _files, caption, question, notebook = cells
        assert caption.endswith(".") and len(caption.split()) >= 5, row
        assert re.fullmatch(r"Q[123]|Further", question), row
        (path,) = _NOTEBOOK.findall(notebook)
        assert (root / path).is_file(), f"{path} does not exist"
