"""Tables and result files for the coursework report.

``write_table`` turns one results table into three files that say the same thing (md and
tex headers named by ``metric_label``, from the one table ``METRIC_LABELS``):
``stem.csv`` (full precision, for re-analysis), ``stem.md`` (GitHub pipe table, for the repo)
and ``stem.tex`` (an IEEE-ready ``table`` with booktabs rules, for the paper).
``update_results_json`` keeps a single JSON file of numbers per run name.

Every file is written with ``gankit.io.atomic_write``, so an interrupted run never leaves a
half-written table behind.
"""

from __future__ import annotations

import json
import numbers
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from gankit.io import atomic_write, plain_json

__all__ = [
    "METRIC_LABELS",
    "MISSING",
    "escape_latex",
    "format_mean_std",
    "metric_label",
    "to_latex",
    "to_markdown",
    "update_results_json",
    "write_table",
]

# Human names and units of the metric and history columns the kit writes: the one table
# for figure axes and legends (gankit.plots.style) and the md/tex headers of write_table.
# Fractions stay fractions (no "%"): the values are not scaled. "epoch_*" columns come
# from the per-epoch meter (fewer samples), never from the final protocol.
METRIC_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "fid": "FID",
        "kid": "KID (×1000)",
        "kid_std": "KID std (×1000)",
        "inception_score": "Inception score",
        "inception_score_std": "Inception score std",
        "is": "Inception score",
        "mode_score": "Mode score",
        "tarr": "TARR",
        "precision": "Precision",
        "recall": "Recall",
        "one_nn_accuracy": "1-NN accuracy",
        "mmd": "MMD",
        "classes_covered": "Classes covered",
        "kl_to_uniform": "KL to uniform",
        "duplicate_fraction": "Duplicate fraction",
        "pairwise_distance": "Mean pairwise L2",
        "nn_train_distance": "L2 to nearest training image",
        "test_accuracy": "Test accuracy",
        "wasserstein": "Wasserstein estimate",
        "train_seconds": "Training time (s)",
        "d_loss_real": "D loss (real)",
        "d_loss_fake": "D loss (fake)",
        "d_loss": "D loss",
        "g_loss": "G loss",
        "d_acc_real": "D accuracy (real)",
        "d_acc_fake": "D accuracy (fake)",
        "g_grad_norm": "G gradient norm (L2)",
        "seconds": "Training time (s)",
        "seconds_per_epoch": "s / epoch",
        "d_updates": "D updates",
        "g_updates": "G updates",
        "g_per_d": "G updates per D update",
        "d_loss_std": "D loss std (late)",
        "g_loss_std": "G loss std (late)",
        "epoch_fid_final": "FID, per-epoch meter, last epoch",
        "epoch_fid_worst_rise": "FID, per-epoch meter, worst rise",
        "epoch_fid": "FID, per-epoch meter",
        "epoch_inception_score": "Inception score, per-epoch meter",
        "spectrum_distance": "Spectrum distance (decades)",
        "radial_distance": "Radial spectrum distance (decades)",
    }
)


def metric_label(column: str) -> str:
    """Human label of a metric or history column: ``"fid"`` -> ``"FID"``,
    ``"inception_score"`` -> ``"Inception score"``, and a metric followed by words keeps
    them (``"fid floor"`` -> ``"FID floor"``); a column not in ``METRIC_LABELS`` is
    returned as it is (it is then usually already a phrase, e.g. "class accuracy").

    Raises:
        TypeError: ``column`` is not a str.
    """
    if not isinstance(column, str):
        raise TypeError(f"column must be a str, got {type(column).__name__}")
    metric, space, words = column.partition(" ")
    if space and metric.lower() in METRIC_LABELS:
        return f"{METRIC_LABELS[metric.lower()]} {words}"
    return METRIC_LABELS.get(column.lower(), column)


MISSING = "–"  # en dash: what a missing value (NaN/None) looks like in md and tex

FloatFormat = str | Callable[[float], str]

# One pass over the text, so the backslash we add for "&" is never escaped again.
_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # Without T1 font encoding (IEEEtran's default) "<" and ">" print as "¡" and "¿".
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_LATEX_SPECIALS_RE = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIALS))


def _write_text_atomic(path: Path, text: str) -> Path:
    with atomic_write(path, "w") as f:
        f.write(text)
    return path


# --------------------------------------------------------------------------------------
# Cell formatting
# --------------------------------------------------------------------------------------
def _is_missing(value: object) -> bool:
    """True for None, NaN, pd.NA and NaT (scalars only; anything else is not missing)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, arrays: not a missing scalar
        return False


def format_cell(value: object, float_format: FloatFormat = "{:.3f}") -> str:
    """Text for one table cell: floats through ``float_format``, missing values as ``MISSING``.

    Integers are printed exactly, booleans as ``True``/``False``, strings pass through.
    ``float_format`` is a ``str.format`` pattern such as ``"{:.3f}"`` or a callable
    ``float -> str``.
    """
    if _is_missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return float_format(number) if callable(float_format) else float_format.format(number)
    return str(value)


def format_mean_std(mean: float, std: float | None, digits: int = 3) -> str:
    """``"0.912 ± 0.004"``: mean and standard deviation with ``digits`` decimals.

    A missing ``std`` (None or NaN, e.g. a single seed) gives the mean alone; a missing
    ``mean`` gives ``MISSING``.

    Raises:
        ValueError: ``digits`` is negative or ``std`` is negative.
        TypeError: ``digits`` is not an int.
    """
    if not isinstance(digits, numbers.Integral) or isinstance(digits, bool):
        raise TypeError(f"digits must be an int (number of decimals), got {digits!r}")
    if digits < 0:
        raise ValueError(f"digits must be >= 0, got {digits}")
    if _is_missing(mean):
        return MISSING
    text = f"{float(mean):.{digits}f}"
    if _is_missing(std):
        return text
    if float(std) < 0:
        raise ValueError(f"std must be >= 0, got {std}")
    return f"{text} ± {float(std):.{digits}f}"


def escape_latex(text: str) -> str:
    r"""Escape LaTeX special characters (``\ & % $ # _ { } ~ ^ < >``) in plain text."""
    return _LATEX_SPECIALS_RE.sub(lambda m: _LATEX_SPECIALS[m.group(0)], text)


def _escape_markdown(text: str) -> str:
    # A "|" would end the cell; a newline would end the row.
    return text.replace("|", r"\|").replace("\r", " ").replace("\n", " ")


def _is_numeric_column(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _formatted_rows(df: pd.DataFrame, float_format: FloatFormat) -> list[list[str]]:
    return [[format_cell(v, float_format) for v in row] for row in df.itertuples(index=False)]


# --------------------------------------------------------------------------------------
# Markdown and LaTeX renderers (pure functions: DataFrame in, text out)
# --------------------------------------------------------------------------------------
def to_markdown(df: pd.DataFrame, float_format: FloatFormat = "{:.3f}") -> str:
    """GitHub pipe table for ``df`` (index not included), ending in a newline.

    Numeric columns are right-aligned, others left-aligned; columns are padded to equal
    width so the raw file reads as a table too. ``|`` in cells is escaped.
    """
    headers = [_escape_markdown(str(c)) for c in df.columns]
    rows = [[_escape_markdown(c) for c in row] for row in _formatted_rows(df, float_format)]
    right = [_is_numeric_column(df.iloc[:, j]) for j in range(df.shape[1])]
    # At least 3 so the rule "---" is valid Markdown.
    widths = [max([3, len(h), *(len(r[j]) for r in rows)]) for j, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "| "
        + " | ".join(
            "-" * (w - 1) + ":" if r else "-" * w for w, r in zip(widths, right, strict=True)
        )
        + " |"
    )
    return "\n".join([line(headers), rule, *(line(r) for r in rows)]) + "\n"


def to_latex(
    df: pd.DataFrame,
    float_format: FloatFormat = "{:.3f}",
    *,
    caption: str | None = None,
    label: str | None = None,
    column_format: str | None = None,
    placement: str = "!t",
) -> str:
    r"""LaTeX ``table`` with a booktabs ``tabular`` for ``df`` (index not included).

    Needs ``\usepackage{booktabs}`` in the preamble. Cells, headers and the caption are
    escaped (``_`` -> ``\_``, ``%`` -> ``\%``, ...); the label is used as given. Missing
    values print as an en dash. The caption goes above the table, as IEEE asks.

    Args:
        column_format: tabular column spec; default ``r`` for numeric columns, ``l`` else.
        placement: float placement, ``"!t"`` (top of a column) suits IEEEtran.
    """
    if column_format is None:
        column_format = "".join(
            "r" if _is_numeric_column(df.iloc[:, j]) else "l" for j in range(df.shape[1])
        )
    headers = [escape_latex(str(c)) for c in df.columns]
    rows = [[escape_latex(c) for c in row] for row in _formatted_rows(df, float_format)]
    lines = [rf"\begin{{table}}[{placement}]", r"\centering"]
    if caption is not None:
        lines.append(rf"\caption{{{escape_latex(caption)}}}")
    if label is not None:
        lines.append(rf"\label{{{label}}}")
    lines += [
        rf"\begin{{tabular}}{{{column_format}}}",
        r"\toprule",
        " & ".join(headers) + r" \\",
        r"\midrule",
        *(" & ".join(r) + r" \\" for r in rows),
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def _as_frame(table: pd.DataFrame | Sequence[Mapping[str, Any]], index: bool) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        df = table
    elif isinstance(table, Sequence) and not isinstance(table, str | bytes):
        if not all(isinstance(r, Mapping) for r in table):
            raise TypeError("table must be a pandas DataFrame or a list of dicts (one per row)")
        df = pd.DataFrame(list(table))
    else:
        raise TypeError(
            f"table must be a pandas DataFrame or a list of dicts, got {type(table).__name__}"
        )
    if df.shape[1] == 0:
        raise ValueError("table has no columns: pass at least one column")
    if index:
        df = df.reset_index()
    return df


def write_table(
    table: pd.DataFrame | Sequence[Mapping[str, Any]],
    stem: str | os.PathLike[str],
    *,
    caption: str | None = None,
    label: str | None = None,
    float_format: FloatFormat = "{:.3f}",
    index: bool = False,
    human_headers: bool = True,
) -> dict[str, Path]:
    """Write ``table`` as ``stem.csv``, ``stem.md`` and ``stem.tex``.

    Args:
        table: a DataFrame or a list of dicts (one dict per row, keys = columns).
        stem: output path without suffix, e.g. ``"figures/fid_table"``; folders are created.
        caption, label: for the LaTeX table (``label`` e.g. ``"tab:fid"``).
        float_format: how floats look in md/tex (``"{:.3f}"`` or a callable); the csv keeps
            full precision.
        index: include the DataFrame index as the first column.
        human_headers: md and tex headers name the columns through ``metric_label``
            (``fid`` -> "FID", ``kl_to_uniform`` -> "KL to uniform"); the csv keeps the
            column names, for re-analysis.

    Returns:
        ``{"csv": Path, "md": Path, "tex": Path}``.

    Raises:
        TypeError: ``table`` is not a DataFrame or list of dicts.
        ValueError: ``table`` has no columns.
    """
    df = _as_frame(table, index)
    stem_str = os.fspath(stem)
    # Append, not with_suffix: a stem like "run_lr0.5" must not lose its ".5".
    paths = {ext: Path(f"{stem_str}.{ext}") for ext in ("csv", "md", "tex")}
    # na_rep="" leaves missing cells empty; floats are written with repr (full precision).
    _write_text_atomic(paths["csv"], df.to_csv(index=False, na_rep="", lineterminator="\n"))
    shown = df.rename(columns=lambda c: metric_label(str(c))) if human_headers else df
    _write_text_atomic(paths["md"], to_markdown(shown, float_format))
    _write_text_atomic(paths["tex"], to_latex(shown, float_format, caption=caption, label=label))
    return paths


# --------------------------------------------------------------------------------------
# Results JSON
# --------------------------------------------------------------------------------------
def update_results_json(
    path: str | os.PathLike[str], key: str, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Merge ``values`` into entry ``key`` of the JSON results file at ``path``.

    The file maps run names to dicts of results, e.g.
    ``{"dcgan": {"fid": 12.3, "is": 8.1}}``. Other entries, and keys of this entry not in
    ``values``, are kept. numpy scalars/arrays become plain numbers/lists; NaN becomes
    ``null``. The file is rewritten atomically with sorted keys; folders are created.

    Returns:
        The whole results dict as written.

    Raises:
        ValueError: the existing file is not a JSON object (it is left untouched).
        TypeError: ``key`` is not a str, ``values`` is not a dict, or a value cannot be
            stored in JSON.
    """
    if not isinstance(key, str):
        raise TypeError(f"key must be a str (the run name), got {type(key).__name__}")
    if not isinstance(values, Mapping):
        raise TypeError(f"values must be a dict of results, got {type(values).__name__}")
    path = Path(path)
    converted = plain_json(values, key)
    results: dict[str, Any] = {}
    if path.exists():
        text = path.read_text(encoding="utf-8")
        try:
            results = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as err:
            raise ValueError(
                f"{path} is not valid JSON ({err}); fix or delete it, it was not overwritten"
            ) from err
        if not isinstance(results, dict):
            raise ValueError(f"{path} must hold a JSON object {{name: {{...}}}}, not a list")
    entry = results.get(key)
    results[key] = {**entry, **converted} if isinstance(entry, dict) else converted
    text = json.dumps(results, indent=2, sort_keys=True, allow_nan=False, ensure_ascii=False)
    _write_text_atomic(path, text + "\n")
    return results
