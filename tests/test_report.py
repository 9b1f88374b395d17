"""Tests for gankit.report: csv/md/tex tables and the results JSON."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

import gankit.io
from gankit.report import (
    escape_latex,
    format_mean_std,
    to_latex,
    to_markdown,
    update_results_json,
    write_table,
)


@pytest.fixture
def small_table() -> pd.DataFrame:
    """2x2 table with a LaTeX special in each text cell and one missing number."""
    return pd.DataFrame({"run": ["a_b", "c%"], "fid": [1.23456, float("nan")]})


EXPECTED_MD = """\
| run |   FID |
| --- | ----: |
| a_b | 1.235 |
| c%  |     – |
"""

EXPECTED_TEX = r"""\begin{table}[!t]
\centering
\caption{FID per run}
\label{tab:fid}
\begin{tabular}{lr}
\toprule
run & FID \\
\midrule
a\_b & 1.235 \\
c\% & – \\
\bottomrule
\end{tabular}
\end{table}
"""


def test_write_table_writes_exact_csv_md_tex(tmp_path, small_table):
    paths = write_table(
        small_table, tmp_path / "out" / "fid", caption="FID per run", label="tab:fid"
    )

    assert paths == {ext: tmp_path / "out" / f"fid.{ext}" for ext in ("csv", "md", "tex")}
    # csv: full precision, missing value left empty.
    assert paths["csv"].read_text() == "run,fid\na_b,1.23456\nc%,\n"
    assert paths["md"].read_text() == EXPECTED_MD
    assert paths["tex"].read_text() == EXPECTED_TEX
    assert pd.read_csv(paths["csv"])["fid"].iloc[0] == 1.23456


def test_list_of_dicts_gives_same_files_as_dataframe(tmp_path, small_table):
    records = small_table.to_dict("records")
    a = write_table(small_table, tmp_path / "a")
    b = write_table(records, tmp_path / "b")
    for ext in ("csv", "md", "tex"):
        assert a[ext].read_text() == b[ext].read_text()


def test_latex_without_caption_or_label_has_neither(small_table):
    tex = to_latex(small_table)
    assert r"\caption" not in tex and r"\label" not in tex
    assert tex.startswith("\\begin{table}[!t]\n\\centering\n\\begin{tabular}{lr}\n\\toprule\n")


def test_escape_latex_handles_every_special_character():
    assert escape_latex(r"a_b 50% & #1 $x$ {y} ~ ^ \ <>") == (
        r"a\_b 50\% \& \#1 \$x\$ \{y\} \textasciitilde{} \textasciicircum{} "
        r"\textbackslash{} \textless{}\textgreater{}"
    )


def test_headers_and_caption_are_escaped_in_latex_not_label():
    df = pd.DataFrame({"d_acc %": [0.5]})
    tex = to_latex(df, caption="acc_real in %", label="tab:d_acc")
    assert r"d\_acc \% \\" in tex
    assert r"\caption{acc\_real in \%}" in tex
    assert r"\label{tab:d_acc}" in tex


def test_mean_std_strings_pass_through_escaped():
    df = pd.DataFrame({"run": ["dcgan"], "fid": [format_mean_std(12.3456, 0.5)], "note": ["50%"]})
    md = to_markdown(df)
    tex = to_latex(df)
    assert "| 12.346 ± 0.500 |" in md
    assert r"dcgan & 12.346 ± 0.500 & 50\% \\" in tex
    # Text columns are left-aligned.
    assert r"\begin{tabular}{lll}" in tex


def test_missing_values_become_en_dash_in_md_and_tex_empty_in_csv(tmp_path):
    df = pd.DataFrame({"run": ["a", None], "is": [np.nan, 2.0]})
    paths = write_table(df, tmp_path / "t")
    assert paths["csv"].read_text() == "run,is\na,\n,2.0\n"
    assert "| a   |               – |" in paths["md"].read_text()  # header: "Inception score"
    assert r"– & 2.000 \\" in paths["tex"].read_text()


def test_integers_and_bools_are_not_float_formatted():
    df = pd.DataFrame({"epochs": [50], "ok": [True], "lr": [0.0002]})
    md = to_markdown(df, float_format="{:.1e}")
    assert md.splitlines()[2] == "|     50 | True | 2.0e-04 |"


def test_float_format_can_be_a_callable():
    df = pd.DataFrame({"x": [0.5]})
    assert to_markdown(df, float_format=lambda v: f"{100 * v:.0f}%").splitlines()[2] == "| 50% |"


def test_markdown_escapes_pipes():
    df = pd.DataFrame({"a|b": ["x|y"]})
    assert to_markdown(df).splitlines()[::2] == [r"| a\|b |", r"| x\|y |"]


def test_index_true_adds_index_column(tmp_path):
    df = pd.DataFrame({"fid": [1.0, 2.0]}, index=pd.Index(["dcgan", "cgan"], name="run"))
    paths = write_table(df, tmp_path / "t", index=True)
    assert paths["csv"].read_text() == "run,fid\ndcgan,1.0\ncgan,2.0\n"


def test_stem_with_a_dot_keeps_it(tmp_path):
    paths = write_table([{"a": 1}], tmp_path / "run_lr0.5")
    assert paths["csv"].name == "run_lr0.5.csv"
    assert paths["csv"].exists()


def test_md_and_tex_headers_are_human_labels_and_csv_keeps_the_column_names(tmp_path):
    df = pd.DataFrame({"kl_to_uniform": [0.1], "epoch_fid_final": [300.0], "own name": [1]})
    paths = write_table(df, tmp_path / "t")
    assert paths["csv"].read_text().splitlines()[0] == "kl_to_uniform,epoch_fid_final,own name"
    header = paths["md"].read_text().splitlines()[0]
    assert "KL to uniform" in header and "FID, per-epoch meter, last epoch" in header
    assert "own name" in header and "kl_to_uniform" not in header
    assert "KL to uniform" in paths["tex"].read_text()
    plain = write_table(df, tmp_path / "p", human_headers=False)
    assert "kl\\_to\\_uniform" in plain["tex"].read_text()


def test_write_table_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError, match="DataFrame or a list of dicts"):
        write_table("not a table", tmp_path / "t")
    with pytest.raises(TypeError, match="list of dicts"):
        write_table([1, 2], tmp_path / "t")
    with pytest.raises(ValueError, match="no columns"):
        write_table(pd.DataFrame(), tmp_path / "t")


def test_write_table_leaves_no_temporary_files(tmp_path, small_table):
    write_table(small_table, tmp_path / "t")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.md", "t.tex"]


@pytest.mark.parametrize(
    ("mean", "std", "digits", "expected"),
    [
        (0.91234, 0.0041, 3, "0.912 ± 0.004"),
        (np.float32(12.5), np.float64(1.25), 1, "12.5 ± 1.2"),  # round-half-even, as format()
        (3.0, 0.0, 0, "3 ± 0"),
        (0.5, None, 2, "0.50"),
        (0.5, float("nan"), 2, "0.50"),
        (float("nan"), 0.1, 3, "–"),
    ],
)
def test_format_mean_std(mean, std, digits, expected):
    assert format_mean_std(mean, std, digits) == expected


def test_format_mean_std_rejects_bad_arguments():
    with pytest.raises(ValueError, match="std must be >= 0"):
        format_mean_std(1.0, -0.1)
    with pytest.raises(ValueError, match="digits"):
        format_mean_std(1.0, 0.1, digits=-1)
    with pytest.raises(TypeError, match="digits"):
        format_mean_std(1.0, 0.1, digits=2.5)


def test_results_json_round_trip_and_update_keeps_other_keys(tmp_path):
    path = tmp_path / "results" / "results.json"
    update_results_json(path, "dcgan", {"fid": 30.5, "is": 8.0})
    update_results_json(path, "cgan", {"fid": np.float64(25.25)})
    results = update_results_json(path, "dcgan", {"fid": 29.0, "epochs": np.int64(50)})

    expected = {"cgan": {"fid": 25.25}, "dcgan": {"epochs": 50, "fid": 29.0, "is": 8.0}}
    assert results == expected
    assert json.loads(path.read_text()) == expected
    assert os.listdir(path.parent) == ["results.json"]  # no temporary files left


def test_results_json_converts_numpy_and_sorts_keys(tmp_path):
    path = tmp_path / "r.json"
    update_results_json(
        path,
        "run",
        {
            "z": np.float32(0.1),
            "a": np.array([1, 2]),
            "m": np.bool_(True),
            "nan": float("nan"),
            "nested": {"k": np.int32(3)},
        },
    )
    text = path.read_text()
    assert json.loads(text) == {
        "run": {"a": [1, 2], "m": True, "nan": None, "nested": {"k": 3}, "z": 0.1}
    }
    assert '"z": 0.1\n' in text  # plain number, not 0.10000000149011612
    assert text.index('"a"') < text.index('"m"') < text.index('"z"')


def test_results_json_is_atomic_when_the_write_fails(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    update_results_json(path, "keep", {"x": 1})
    before = path.read_text()

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(gankit.io.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        update_results_json(path, "new", {"y": 2})
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["r.json"]


def test_results_json_refuses_to_overwrite_a_broken_file(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        update_results_json(path, "a", {"x": 1})
    assert path.read_text() == "{not json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        update_results_json(path, "a", {"x": 1})


def test_results_json_rejects_values_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match=r"run\.f: cannot store"):
        update_results_json(tmp_path / "r.json", "run", {"f": object()})
    with pytest.raises(TypeError, match="key must be a str"):
        update_results_json(tmp_path / "r.json", 1, {"x": 1})
    assert not (tmp_path / "r.json").exists()
