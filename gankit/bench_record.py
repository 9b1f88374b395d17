"""The record a benchmark script leaves: ``benchmarks/results/<script>.json``.

Every number the README quotes from ``benchmarks/`` comes from one of these files
(`gankit.bench_readme` renders them), so each holds what the script printed and what it
was measured on: the command-line arguments, when it ran (UTC), the machine (CPU model
and the instruction sets that decide the precision, cores, GPU; from `gankit.device`),
TensorFlow's and Keras's versions, and the 1-minute load average before and after (what
else was running: the scripts compare variants within one process, but the absolute
times depend on it). A script calls `start` before measuring and `write` at the end::

    record = bench_record.start(__file__, args)
    ...
    bench_record.write(record, {"median_ms": ...})
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gankit import device
from gankit.io import atomic_write, plain_json
from gankit.paths import project_root
from gankit.processes import load_average

RECORDED_CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16")
"""CPU flags a record states as true/false; ``amx`` is true for any ``amx_*`` flag."""


def results_dir() -> Path:
    """``benchmarks/results`` of the project."""
    return project_root() / "benchmarks" / "results"


def cores() -> int | None:
    """The cores this process may use (what ``nproc`` prints)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def machine() -> dict[str, Any]:
    """The CPU's model and flags (`gankit.device.cpu`), the cores, and the GPU TensorFlow
    trains on (`gankit.device.probe`; None without one)."""
    cpu, trains_on = device.cpu(), device.probe()
    flags = cpu.cpu_flags
    return {
        "cpu": cpu.name,
        **{flag: flag in flags for flag in RECORDED_CPU_FLAGS},
        "amx": any(flag.startswith("amx") for flag in flags),
        "nproc": cores(),
        "gpu": trains_on.as_dict() if trains_on.kind == "gpu" else None,
    }


def versions() -> dict[str, str | None]:
    """Python's, and TensorFlow's and Keras's if the script imported them."""
    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in ("tensorflow", "keras"):
        module = sys.modules.get(name)
        out[name] = getattr(module, "__version__", None) if module else None
    return out


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def start(script: str | os.PathLike[str], args: argparse.Namespace | Mapping) -> dict:
    """The record's head, taken before measuring: script, arguments, start time, load."""
    arguments = vars(args) if isinstance(args, argparse.Namespace) else dict(args)
    return {
        "script": f"benchmarks/{Path(script).name}",
        "arguments": arguments,
        "quick": os.environ.get("GANKIT_QUICK") == "1",
        "started_utc": _now(),
        "load_average_before": load_average(),
    }


def write(
    record: Mapping[str, Any],
    results: Mapping[str, Any],
    path: str | os.PathLike[str] | None = None,
) -> Path:
    """Writes ``record`` (from `start`) with ``results``, the finish time, the load after,
    the machine and the versions to ``path`` (default ``benchmarks/results/<script>.json``)
    atomically; returns the path.

    Raises:
        TypeError: a result JSON cannot hold.
    """
    full = {
        **record,
        "finished_utc": _now(),
        "load_average_after": load_average(),
        "machine": machine(),
        "versions": versions(),
        "results": results,
    }
    text = json.dumps(plain_json(full, "record"), indent=2, allow_nan=False) + "\n"
    if path is None:
        path = results_dir() / f"{Path(record['script']).stem}.json"
    with atomic_write(path) as f:
        f.write(text)
    print(f"wrote {Path(path)}", flush=True)
    return Path(path)
