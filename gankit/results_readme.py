"""The README's results section, rendered from ``figures/results.json``.

Every number the README gives for the committed figures comes from the results file the
notebooks wrote in the execution that produced them, so the two cannot disagree:
`render` turns the results into Markdown tables, `update_readme` writes them between the
two marker lines of README.md (``python -m gankit readme``), and a test fails when the
README holds anything else there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gankit.io import atomic_write
from gankit.report import format_mean_std

START = (
    "<!-- results: written by `python -m gankit readme` from figures/results.json; "
    "do not edit by hand -->"
)
END = "<!-- results: end -->"


def _f(value: Any, spec: str) -> str:
    """``value`` formatted by ``spec``; an en dash for a missing number (None)."""
    return "–" if value is None else format(value, spec)


def _row(label: str, value: str) -> str:
    return f"| {label} | {value} |"


def _table(header: str, rows: Iterable[str]) -> list[str]:
    return [f"| {header} | value |", "| --- | --- |", *rows, ""]


def _is(m: Mapping[str, Any], real: Mapping[str, Any]) -> str:
    return f"IS {m['inception_score']:.2f} ({real['inception_score']:.2f})"


def _embedding(m: Mapping[str, Any], real: Mapping[str, Any]) -> str:
    """FID, precision and recall beside the real test images' (the floor at the same N)."""
    return (
        f"FID {m['fid']:.1f} ({real['fid']:.1f}), "
        f"precision {m['precision']:.2f} ({real['precision']:.2f}), "
        f"recall {m['recall']:.2f} ({real['recall']:.2f})"
    )


def _suite(m: Mapping[str, Any], real: Mapping[str, Any]) -> str:
    """A conditional generator's suite beside the real test images'."""
    tarr = f"TARR {m['tarr']:.2%} (real test: {real['tarr']:.2%})"
    return f"{tarr}, {_is(m, real)}, {_embedding(m, real)}"


def _unconditional(m: Mapping[str, Any], real: Mapping[str, Any]) -> str:
    """An unconditional generator's suite beside the real test images' (no TARR)."""
    return f"{_is(m, real)}, {m['classes_covered']}/10 classes, {_embedding(m, real)}"


def _q1(q1: Mapping[str, Any]) -> list[str]:
    real, n = q1["real_test"], q1.get("n_eval")
    samples = f"{n:,} samples" if n else "samples"
    rows = [
        _row(
            "reference classifier (`gankit.evaluate.classifier`), real test accuracy",
            f"{q1['classifier_test_accuracy']:.2%}",
        )
    ]
    for key, name in (
        ("tuned", "tuned DCGAN (`dcgan_tuned`)"),
        ("failing", "failing DCGAN"),
        ("collapse", "collapsing DCGAN (latent dim 2)"),
    ):
        if key in q1 and "precision" in q1[key]:
            rows.append(_row(f"{name} ({samples})", _unconditional(q1[key], real)))
    rows.append(_row("tuned DCGAN training time", f"{q1['tuned_train_seconds']:.0f} s"))
    seeds = q1.get("seeds", ())
    for r in q1.get("clusters", ()):
        rows.append(_row(f"no labels, full budget: {r['label']} (1 seed)", _over_seeds(r)))
    if "clusters_choice" in q1:
        rows.append(_row("clusters chosen (validation FID)", q1["clusters_choice"]))
    rows += _seed_rows(q1.get("tuning", ()), "tuning study", len(seeds))
    if "best_variant" in q1:
        rows.append(_row("best change of the study (validation FID)", q1["best_variant"]))
    rows += _seed_rows(q1.get("validation", ()), "full budget", len(seeds))
    return _table("Q1, the unconditional DCGAN (in brackets: the real test images)", rows)


def _seed_rows(table: Sequence[Mapping[str, Any]], what: str, n_seeds: int) -> list[str]:
    """One README row per row of a table over seeds (`_over_seeds`)."""
    return [
        _row(f"{what}: {r['label']} ({r['seeds']} of {n_seeds} seeds)", _over_seeds(r))
        for r in table
    ]


def _over_seeds(r: Mapping[str, Any]) -> str:
    """A `gankit.experiments.dcgan_tuning.tuning_table` row: mean ± std over seeds, the floor
    in brackets."""

    def cell(metric: str, digits: int, name: str) -> str:
        text = format_mean_std(r[f"{metric}_mean"], r.get(f"{metric}_std"), digits)
        floor = r.get(f"{metric}_floor")
        return f"{name} {text}" + ("" if floor is None else f" ({floor:.{digits}f})")

    return ", ".join(
        cell(m, digits, name)
        for m, digits, name in (
            ("inception_score", 2, "IS"),
            ("fid", 1, "FID"),
            ("recall", 2, "recall"),
        )
    )


def _q2(q2: Mapping[str, Any]) -> list[str]:
    metrics, minutes = q2["metrics"], q2["train_minutes"]
    real = metrics["real test"]
    rows = [
        _row(f"{name} ({q2['n_eval']:,} samples)", _suite(metrics[name], real))
        for name in metrics
        if name != "real test"
    ]
    rows += [_row(f"{name}: training time", f"{minutes[name]:.1f} min") for name in minutes]
    return _table("Q2, conditional GANs (in brackets: the real test images)", rows)


def _q3_cell(c: Mapping[str, Any]) -> str:
    return f"{100 * c['mean']:.2f} ± {100 * c['std']:.2f}% (n = {c['n']})"


def _q3(q3: Mapping[str, Any]) -> list[str]:
    cells = q3["cells"]
    if cells and "part" in cells[0]:
        return _q3_parts(q3)
    rows = [
        _row(
            f"{c['strategy']}, {c['n_real']} real / class, {c['n_synth']} synthetic / class "
            f"({c['source']}, {c['steps']} steps)",
            _q3_cell(c),
        )
        for c in cells
    ]
    return _table(_q3_title(q3), [*rows, *_q3_totals(q3)])


def _q3_title(q3: Mapping[str, Any]) -> str:
    return f"Q3, test accuracy on the 10k real test images (mean ± std, {len(q3['seeds'])} seeds)"


def _q3_totals(q3: Mapping[str, Any]) -> list[str]:
    return [
        _row("elite filter: share of synthetic images kept", f"{q3['elite_kept_fraction']:.1%}"),
        _row("training time of all runs", f"{q3['run_minutes']:.1f} min"),
        _row("notebook, whole, full mode", f"{q3['notebook_minutes']:.1f} min"),
    ]


def _q3_strategy(c: Mapping[str, Any]) -> str:
    """ "strategy (source, synthetic amount)", or "strategy (none)" without synthetic images."""
    if c["n_synth"] == "0":
        return f"{c['strategy']} ({c['source']})"
    return f"{c['strategy']} ({c['source']}, {c['n_synth']} of 60k)"


def _q3_parts(q3: Mapping[str, Any]) -> list[str]:
    """The brief's grid as a table of its own (real rows x synthetic columns), then the
    few-shot rows at 10 real images per class and synthetic only (each generator, the
    ensemble's too) and the totals."""
    grid = [c for c in q3["cells"] if c["part"] == "grid"]
    synth = list(dict.fromkeys(c["n_synth"] for c in grid))
    lines = [
        f"| {_q3_title(q3)}: real share \\ synthetic (share of 60k) | "
        + " | ".join("real only" if s == "0" else f"+ {s}" for s in synth)
        + " |",
        "| --- |" + " --- |" * len(synth),
    ]
    for real in dict.fromkeys(c["n_real"] for c in grid):
        by_synth = {c["n_synth"]: _q3_cell(c) for c in grid if c["n_real"] == real}
        lines.append(f"| {real} | " + " | ".join(by_synth.get(s, "–") for s in synth) + " |")
    rows = [
        _row(f"{_q3_strategy(c)}, {c['n_real']} real / class", _q3_cell(c))
        for c in q3["cells"]
        if c["part"] in ("few_shot", "fair", "ensemble") and c["n_real"] == "10"
    ]
    rows += [
        _row(_q3_strategy(c), _q3_cell(c))
        for c in q3["cells"]
        if c["part"] in ("synthetic_only", "fair", "ensemble") and c["n_real"] == "0"
    ]
    return [*lines, "", *_table(_q3_title(q3), [*rows, *_q3_totals(q3)])]


def _bonus(bonus: Mapping[str, Any]) -> list[str]:
    conditional, real = bonus["conditional"], bonus["conditional"]["real test"]
    rows = [
        _row(f"{name} ({bonus['n_eval']:,} samples)", _suite(m, real))
        for name, m in conditional.items()
        if name != "real test"
    ]
    rows += [
        _row(f"{name}: training time", f"{t:.1f} min") for name, t in bonus["train_minutes"].items()
    ]
    rows += [
        _row(
            f"{name} as a generator",
            f"TARR {_f(m.get('tarr'), '.1%')}, IS {m['inception_score']:.2f}, "
            f"FID {m['fid']:.0f}, recall {m['recall']:.2f}",
        )
        for name, m in bonus["pca"].items()
    ]
    rows.append(_semi_supervised(bonus["semi_supervised"]))
    return _table("Further thoughts (notebook 04)", rows)


def _semi_supervised(ssl: Mapping[str, Any]) -> str:
    label = f"semi-supervised GAN, {ssl['labels_per_class']} labels per class"
    if "test_accuracy_mean" not in ssl:  # one seed (results written before the seeds)
        return _row(
            label,
            f"{ssl['test_accuracy']:.2%} test accuracy after {ssl['epochs']} epochs "
            f"({ssl['train_minutes']:.1f} min)",
        )
    minutes = ", ".join(f"{t:.1f}" for t in ssl["train_minutes"])
    return _row(
        label,
        f"{100 * ssl['test_accuracy_mean']:.2f} ± {100 * ssl['test_accuracy_std']:.2f}% "
        f"test accuracy (n = {len(ssl['seeds'])} seeds) after {ssl['epochs']} epochs "
        f"({minutes} min of training)",
    )


def _variants(variants: Mapping[str, Any]) -> list[str]:
    rows = []
    for r in variants["comparison"]:
        if r["study"] != "loss":
            continue
        tarr = "" if r.get("tarr") is None else f"TARR {r['tarr']:.1%}, "
        rows.append(
            _row(
                f"{r['variant']} ({r['epochs']} epochs, {r['g_updates']:,} G updates)",
                f"{tarr}IS {r['inception_score']:.2f}, FID {r['fid']:.1f}, recall "
                f"{r['recall']:.2f}"
                + (
                    "" if r.get("train_seconds") is None else f", {r['train_seconds'] / 60:.1f} min"
                ),
            )
        )
    return _table(
        f"Variants (notebook 05), the loss study ({variants['n_eval']:,} samples; the "
        "floor row is the real test images)",
        rows,
    )


def _executions(executions: Mapping[str, Any]) -> list[str]:
    rows = [
        _row(
            f"`{name}` ({e['mode']} mode, finished {e['finished_utc']} UTC)",
            f"{e['minutes']:.1f} min (1-min load average {_f(e['load_average_before'], '.1f')}"
            f" before, {_f(e['load_average_after'], '.1f')} after)",
        )
        for name, e in sorted(executions.items())
    ]
    return _table("Execution of each notebook by `make figures` (wall clock, 2 cores)", rows)


_SECTIONS: tuple[tuple[str, Callable[[Mapping[str, Any]], list[str]]], ...] = (
    ("q1", _q1),
    ("q2", _q2),
    ("q3", _q3),
    ("bonus", _bonus),
    ("variants", _variants),
    ("executions", _executions),
)


def render(results: Mapping[str, Any]) -> str:
    """The results section (Markdown tables, one per notebook section present in
    ``results``, the parsed ``figures/results.json``), between the marker lines.

    Raises:
      KeyError: a section lacks a number the table shows (re-execute its notebook).
    """
    lines = [START, ""]
    for key, section in _SECTIONS:
        if key in results:
            mode = results[key].get("mode", "full")
            if mode != "full":
                lines += [f"_{key}: from a {mode}-mode execution, not the report's numbers._", ""]
            lines += section(results[key])
    return "\n".join([*lines, END])


def split_at_markers(
    text: str, path: str | os.PathLike[str], start: str = START, end: str = END
) -> tuple[str, str]:
    """``text`` before the ``start`` marker line and after the ``end`` one (the README of
    ``path``); what lies between is the rendered section.

    Raises:
      ValueError: the markers are missing, repeated or out of order.
    """
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise ValueError(
            f"{path} needs the two marker lines once each, in order:\n{start}\n{end}\n"
            "put them where the section goes"
        )
    before, rest = text.split(start, 1)
    return before, rest.split(end, 1)[1]


def readme_section(readme: str | os.PathLike[str], start: str = START, end: str = END) -> str:
    """The section README.md holds now between ``start`` and ``end`` (default: the
    results section), markers included.

    Raises:
      ValueError: the markers are missing, repeated or out of order.
    """
    path = Path(readme)
    text = path.read_text(encoding="utf-8")
    before, after = split_at_markers(text, path, start, end)
    return text[len(before) : len(text) - len(after)]


def update_readme(readme: str | os.PathLike[str], results: str | os.PathLike[str]) -> bool:
    """Writes `render` of the results file ``results`` between README's markers; returns
    whether the README changed.

    Raises:
      ValueError: the markers are missing, repeated or out of order.
      FileNotFoundError: no results file (run the notebooks: ``make figures``).
    """
    path = Path(readme)
    text = path.read_text(encoding="utf-8")
    before, after = split_at_markers(text, path)
    section = render(json.loads(Path(results).read_text(encoding="utf-8")))
    new = before + section + after
    if new == text:
        return False
    with atomic_write(path) as f:
        f.write(new)
    return True
