"""The README's benchmark sections, rendered from ``benchmarks/results/<script>.json``.

The sibling of `gankit.results_readme` for the scripts in ``benchmarks/``: each writes its
numbers, arguments, machine and load through `gankit.bench_record`, and `render` turns
one such file into the Markdown that README.md holds between that script's two marker
lines (``python -m gankit readme`` writes them all; a test fails when they differ). A
script without a results file gets a section that names the command producing it and
shows no numbers.
"""

from __future__ import annotations

import json
import os
import shlex
import statistics
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gankit.io import atomic_write
from gankit.results_readme import split_at_markers

_FLAGS = (
    ("avx2", "AVX2"),
    ("fma", "FMA"),
    ("avx512f", "AVX-512F"),
    ("avx512_bf16", "AVX512-BF16"),
    ("amx", "AMX"),
)


def markers(stem: str) -> tuple[str, str]:
    """The start and end marker lines of the section of ``benchmarks/<stem>.py``."""
    return (
        f"<!-- benchmark {stem}: written by `python -m gankit readme` from "
        f"benchmarks/results/{stem}.json; do not edit by hand -->",
        f"<!-- benchmark {stem}: end -->",
    )


def command(record: Mapping[str, Any]) -> str:
    """The command line that wrote ``record`` (its arguments as flags)."""
    words = ["python", record["script"]]
    for name, value in record["arguments"].items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        words += [flag] if value is True else [flag, str(value)]
    prefix = "GANKIT_QUICK=1 " if record.get("quick") else ""
    return prefix + " ".join(shlex.quote(w) for w in words)


def machine(m: Mapping[str, Any]) -> str:
    """E.g. 'AMD EPYC (2 cores; AVX2, FMA; no AVX-512F, AVX512-BF16, AMX; no GPU)'."""
    has = [name for key, name in _FLAGS if m.get(key)]
    lacks = [name for key, name in _FLAGS if not m.get(key)]
    parts = [f"{m['nproc']} cores", ", ".join(has) or "none of " + ", ".join(lacks)]
    if has and lacks:
        parts.append("no " + ", ".join(lacks))
    parts.append(f"GPU {m['gpu']['name']}" if m.get("gpu") else "no GPU")
    return f"{m['cpu'] or 'unknown CPU'} ({'; '.join(parts)})"


def _load(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.1f}"


def provenance(record: Mapping[str, Any], stem: str) -> list[str]:
    """Where the numbers below come from: file, command, time, machine, versions, load."""
    v = record["versions"]
    lines = [
        f"From `benchmarks/results/{stem}.json`, written by `{command(record)}` "
        f"(finished {record['finished_utc']} UTC) on {machine(record['machine'])}, "
        f"TensorFlow {v.get('tensorflow')}, Keras {v.get('keras')}. The 1-minute load "
        f"average was {_load(record['load_average_before'])} before the run and "
        f"{_load(record['load_average_after'])} after it (which includes the benchmark's "
        "own threads; what else ran is not recorded).",
        "",
    ]
    if record.get("quick"):
        lines += ["_A quick-mode (`GANKIT_QUICK=1`) smoke run, not a measurement._", ""]
    return lines


def _x(value: float) -> str:
    return f"{value:.2f}x"


def _train_step(r: Mapping[str, Any], args: Mapping[str, Any]) -> list[str]:
    med, ratio = r["median_images_per_second"], r["ratio_to_reference"]
    rows = (
        ("TensorFlow tutorial, float32", "reference", ""),
        ("gankit, float32", "gankit", ""),
        (
            'gankit, `train.precision = "mixed_bfloat16"`',
            "gankit_bf16",
            f" ({_x(r['bf16_over_float32'])} over gankit float32)",
        ),
    )
    repeats = r["repeat_images_per_second"]
    timed = "second epoch" if args["epochs"] == 2 else f"epochs 2 to {args['epochs']}"
    lines = [
        f"Median images/s of {args['repeats']} repeats ({args['steps']} steps of "
        f"{r['batch']} per epoch; each run's {timed}, the first, with tracing, dropped):",
        "",
        "| loop | images/s | ratio to the tutorial | each repeat |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {label} | {med[key]:.0f} | {_x(ratio[key])}{extra} | "
        f"{', '.join(f'{v:.0f}' for v in repeats[key])} |"
        for label, key, extra in rows
    ]
    return [*lines, ""]


def _precision_speed(r: Mapping[str, Any], args: Mapping[str, Any]) -> list[str]:
    ms = r["ms_per_round"]
    lines = [
        f"The tuned DCGAN's training round, batch {r['batch']}, device {r['device']}; "
        f"'auto' is {r['auto_precision']} there. Median of {args['cycles']} cycles of "
        f"{args['block']} rounds:",
        "",
        "| variant | ms per round | range over the cycles |",
        "| --- | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {median:.1f} | {min(ms[name]):.1f} to {max(ms[name]):.1f} |"
        for name, median in r["median_ms_per_round"].items()
    ]
    lines += ["", "| speed ratio (median of the per-cycle ratios) | value |", "| --- | ---: |"]
    lines += [f"| {name} | {_x(value)} |" for name, value in r["speed_ratio"].items()]
    if r["auto_precision"] == "float32":
        lines += [
            "",
            "'auto' is float32 on the recorded machine, so 'auto' runs the same computation "
            "as 'float32' (and 'auto + XLA' as 'float32 + XLA'): the auto / float32 ratio "
            "shows the measurement's noise.",
        ]
    return [*lines, ""]


def _precision_quality(r: Mapping[str, Any], args: Mapping[str, Any]) -> list[str]:
    lines = [
        f"The tuned DCGAN trained in each precision (seed {args['seed']}, same budget), "
        f"scored on {r['n_eval']:,} samples:",
        "",
        "| precision | images/s (median epoch, first dropped) | training | IS | FID | "
        "classes covered | duplicate fraction |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {row['precision']} | {row['images_per_second']:.0f} | "
        f"{row['train_seconds'] / 60:.1f} min | {row['inception_score']:.2f} | "
        f"{row['fid']:.1f} | {row['classes_covered']} | {row['duplicate_fraction']:.3f} |"
        for row in r["rows"]
    ]
    return [*lines, "", f"mixed_bfloat16 / float32 images/s: {_x(r['bf16_over_float32'])}.", ""]


def _seconds_to_table(
    r: Mapping[str, Any], metric: str, best: str, epochs: Callable[[Mapping[str, Any]], str]
) -> list[str]:
    """A row per model: training seconds to each threshold of ``metric``, the ``best``
    column (header, then the cell of a run), the epochs (``epochs`` of a run), the mean
    seconds per epoch and, in records that have it, the seconds of set-up before the first
    step (networks, graphs, a self-conditioned GAN's k-means), outside the step clock."""
    best_header, best_cell = best
    budget = f"not in {r['max_minutes']:g} min"
    models = r["models"]
    keys = list(next(iter(models.values()))["seconds_to"])
    setup = any(run.get("setup_seconds") is not None for run in models.values())
    lines = [
        "| model | "
        + " | ".join(f"{metric} {k}" for k in keys)
        + f" | {best_header} | epochs | seconds per epoch (mean) |"
        + (" set-up before the first step (s) |" if setup else ""),
        "| --- |" + " ---: |" * (len(keys) + 3 + setup),
    ]
    for name, run in models.items():
        cells = [
            budget if run["seconds_to"][k] is None else f"{run['seconds_to'][k]:.0f} s"
            for k in keys
        ]
        extra = ""
        if setup:
            extra = " – |" if run.get("setup_seconds") is None else f" {run['setup_seconds']:.0f} |"
        lines.append(
            f"| {name} | {' | '.join(cells)} | {best_cell(run)} | {epochs(run)} | "
            f"{statistics.fmean(run['seconds']):.0f} |{extra}"
        )
    return [*lines, ""]


def _time_to_quality(r: Mapping[str, Any], args: Mapping[str, Any]) -> list[str]:
    best = ("best TARR (2,000 samples)", lambda run: f"{run['best_tarr']:.2%}")
    return _seconds_to_table(r, "TARR", best, lambda run: str(run["epochs"]))


def _dcgan_time_to_quality(r: Mapping[str, Any], args: Mapping[str, Any]) -> list[str]:
    best = (
        f"best IS ({r['n_eval']:,} samples; real test {r['real_inception_score']:.2f})",
        lambda run: f"{run['best_inception_score']:.2f}",
    )
    return _seconds_to_table(r, "IS", best, lambda run: f"{run['epochs']} of {run['of_epochs']}")


_SECTIONS: dict[str, tuple[str, Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]]] = {
    "train_step": ("`make bench` (`python benchmarks/train_step.py`)", _train_step),
    "precision_speed": ("`python benchmarks/precision_speed.py`", _precision_speed),
    "precision_quality": ("`python benchmarks/precision_quality.py`", _precision_quality),
    "time_to_quality": ("`python benchmarks/time_to_quality.py`", _time_to_quality),
    "dcgan_time_to_quality": (
        "`python benchmarks/dcgan_time_to_quality.py`",
        _dcgan_time_to_quality,
    ),
}
STEMS = tuple(_SECTIONS)
"""The benchmark scripts (``benchmarks/<stem>.py``) with a README section."""


def render(stem: str, record: Mapping[str, Any] | None) -> str:
    """The section of ``benchmarks/<stem>.py`` between its markers: from ``record`` (the
    parsed results file), or without one the command that writes it and no numbers.

    Raises:
      KeyError: an unknown ``stem``, or a record lacking a number the section shows.
    """
    run, body = _SECTIONS[stem]
    start, end = markers(stem)
    if record is None:
        lines = [
            f"_Not measured yet: {run} writes `benchmarks/results/{stem}.json`, then "
            "`python -m gankit readme` puts its numbers here._",
            "",
        ]
    else:
        lines = provenance(record, stem) + body(record["results"], record["arguments"])
    return "\n".join([start, "", *lines, end])


def load(results_dir: str | os.PathLike[str], stem: str) -> dict[str, Any] | None:
    """The parsed ``<results_dir>/<stem>.json``, or None if there is none."""
    path = Path(results_dir) / f"{stem}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def update_readme(readme: str | os.PathLike[str], results_dir: str | os.PathLike[str]) -> bool:
    """Writes `render` of every benchmark's results file in ``results_dir`` between its
    markers in ``readme``; returns whether the README changed.

    Raises:
      ValueError: a section's markers are missing, repeated or out of order.
    """
    path = Path(readme)
    text = old = path.read_text(encoding="utf-8")
    for stem in STEMS:
        start, end = markers(stem)
        before, after = split_at_markers(text, path, start, end)
        text = before + render(stem, load(results_dir, stem)) + after
    if text == old:
        return False
    with atomic_write(path) as f:
        f.write(text)
    return True
