"""Tests for gankit.bench_record: what a benchmark script's results file holds."""

import argparse
import json
import os

import numpy as np

from gankit import bench_record, device, processes


def test_write_records_arguments_times_machine_versions_load_and_results(tmp_path):
    record = bench_record.start("/somewhere/benchmarks/train_step.py", argparse.Namespace(n=3))
    path = bench_record.write(
        record, {"ratio": np.float32(1.25), "ms": [np.float64(2.0)]}, tmp_path / "out.json"
    )
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["script"] == "benchmarks/train_step.py" and data["arguments"] == {"n": 3}
    assert set(data) == {
        "script", "arguments", "quick", "started_utc", "finished_utc",
        "load_average_before", "load_average_after", "machine", "versions", "results",
    }  # fmt: skip
    assert data["results"] == {"ratio": 1.25, "ms": [2.0]}
    assert set(data["machine"]) == {
        "cpu", "avx2", "fma", "avx512f", "avx512_bf16", "amx", "nproc", "gpu",
    }  # fmt: skip
    assert data["machine"]["nproc"] >= 1
    assert set(data["versions"]) == {"python", "tensorflow", "keras"}
    assert not list(tmp_path.glob(".*.tmp"))  # written through gankit.io.atomic_write


def test_the_default_path_is_benchmarks_results_of_the_script(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_record, "results_dir", lambda: tmp_path)
    record = bench_record.start("benchmarks/precision_speed.py", {"cycles": 1})
    assert bench_record.write(record, {}) == tmp_path / "precision_speed.json"


def test_machine_reads_the_flags_of_the_cpu_device(monkeypatch):
    cpu = device.cpu_device(
        "model name\t: Test CPU\nflags\t\t: fpu avx2 fma avx512f avx512_bf16 amx_tile\n"
    )
    monkeypatch.setattr(device, "cpu", lambda: cpu)
    monkeypatch.setattr(device, "probe", lambda: cpu)
    machine = bench_record.machine()
    assert machine["cpu"] == "Test CPU" and machine["gpu"] is None
    assert all(machine[k] for k in ("avx2", "fma", "avx512f", "avx512_bf16", "amx"))


def test_the_load_average_is_none_where_the_os_has_none(monkeypatch):
    monkeypatch.delattr(os, "getloadavg", raising=False)
    assert processes.load_average() is None

    def unavailable():
        raise OSError("no load average")

    monkeypatch.setattr(os, "getloadavg", unavailable, raising=False)
    record = bench_record.start("benchmarks/x.py", {})
    assert record["load_average_before"] is None
