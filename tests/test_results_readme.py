"""Tests for gankit.results_readme: the README's results come from figures/results.json."""

import json
from pathlib import Path

import pytest

from gankit.cli import main
from gankit.results_readme import END, START, readme_section, render, update_readme

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_shows_the_committed_results():
    results = json.loads((ROOT / "figures" / "results.json").read_text(encoding="utf-8"))
    assert readme_section(ROOT / "README.md") == render(results), (
        "README.md's results section differs from figures/results.json: run "
        "`python -m gankit readme` after executing the notebooks"
    )


def _results():
    real = {"tarr": 0.995, "inception_score": 9.8, "fid": 5.0, "precision": 0.9, "recall": 0.9}
    fake = {**real, "tarr": 0.98, "fid": 12.345}
    return {
        "q2": {
            "mode": "quick",
            "n_eval": 1000,
            "metrics": {"real test": real, "cgan": fake},
            "train_minutes": {"cgan": 1.5},
        }
    }


def test_render_shows_each_metric_beside_its_real_floor_and_flags_quick_mode():
    text = render(_results())
    assert text.startswith(START) and text.endswith(END)
    assert "| cgan (1,000 samples) | TARR 98.00% (real test: 99.50%)" in text
    assert "FID 12.3 (5.0)" in text and "| cgan: training time | 1.5 min |" in text
    assert "from a quick-mode execution" in text


def test_update_readme_replaces_only_the_section_between_the_markers(tmp_path):
    readme, results = tmp_path / "README.md", tmp_path / "results.json"
    readme.write_text(f"intro\n{START}\nold\n{END}\noutro\n")
    results.write_text(json.dumps(_results()))
    assert update_readme(readme, results) is True
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("\noutro\n") and "old" not in text
    assert update_readme(readme, results) is False  # already up to date


def test_a_readme_without_markers_is_refused(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="marker lines"):
        readme_section(readme)


def test_the_readme_command_writes_the_section_and_refuses_a_readme_without_markers(
    tmp_path, capsys
):
    readme, results = tmp_path / "README.md", tmp_path / "results.json"
    readme.write_text(f"{START}\n{END}\n")
    results.write_text(json.dumps(_results()))
    assert main(["readme", "--readme", str(readme), "--results", str(results)]) == 0
    assert "results section updated" in capsys.readouterr().out
    assert "cgan (1,000 samples)" in readme.read_text()
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["readme", "--readme", str(readme), "--results", str(results)])
    assert exit_info.value.code == 2
    (error,) = capsys.readouterr().err.splitlines()
    assert error.startswith("gankit readme: error:") and "marker lines" in error
