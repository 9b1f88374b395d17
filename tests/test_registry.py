"""Results registry: what a row holds, atomic appends, reading back into a DataFrame."""

import json
import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest

import gankit
from gankit.config import GANConfig, config_hash, with_overrides
from gankit.experiments.registry import (
    RegistryWarning,
    append_row,
    flatten_row,
    load_registry,
    make_row,
    read_rows,
)

CONFIG = with_overrides(GANConfig(name="tiny"), {"train.g_lr": 1e-3, "generator.hidden": [8]})
ENV = {"gankit_version": "0.0.test", "tensorflow_version": "2.x", "host": "h"}


def _row(seed=0, status="ok", fid=10.0, **kwargs):
    metrics = {"generated": {"fid": fid, "inception_score": 5.0}, "real test": {"fid": 1.0}}
    return make_row(
        CONFIG,
        seed,
        status=status,
        run_id=f"tiny-{config_hash(CONFIG)}-s{seed}",
        metrics=metrics if status == "ok" else None,
        error=None if status == "ok" else "ValueError: boom",
        environment=ENV,
        **kwargs,
    )


def test_row_records_config_seed_metrics_time_and_versions():
    row = make_row(
        CONFIG,
        3,
        status="ok",
        run_id="r",
        metrics={"generated": {"fid": np.float32(12.5), "classes": np.int64(10)}},
        wall_seconds=4.0,
        train_seconds=3.0,
    )
    assert row["seed"] == 3 and row["config"]["train"]["g_lr"] == 1e-3
    assert row["config_hash"] == config_hash(CONFIG)
    assert row["metrics"] == {"generated": {"fid": 12.5, "classes": 10}}
    assert (row["wall_seconds"], row["train_seconds"]) == (4.0, 3.0)
    assert row["gankit_version"] == gankit.__version__
    assert row["tensorflow_version"] == metadata.version("tensorflow")
    assert row["keras_version"] == metadata.version("keras")
    json.dumps(row, allow_nan=False)  # plain JSON, numpy types converted


def test_row_records_the_precision_auto_chose_and_the_device(monkeypatch):
    from gankit import device

    t4 = device.Device("gpu", "Tesla T4", (7, 5))
    monkeypatch.setattr(device, "probe", lambda: t4)
    auto = with_overrides(CONFIG, {"train.precision": "auto"})
    row = make_row(auto, 0, status="ok", run_id="r")
    assert row["config"]["train"]["precision"] == "mixed_float16"
    assert row["config_hash"] == config_hash(
        with_overrides(CONFIG, {"train.precision": "mixed_float16"})
    )
    assert row["device"] == "GPU Tesla T4 (compute capability 7.5)"


def test_nan_metrics_are_stored_as_null():
    row = make_row(CONFIG, 0, status="ok", run_id="r", metrics={"generated": {"tarr": np.nan}})
    assert row["metrics"]["generated"]["tarr"] is None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"status": "done"}, ValueError, "status must be one of"),
        ({"status": "ok", "metrics": {"fid": 1.0}}, TypeError, "row name"),
        ({"status": "ok", "extra": {"model": object()}}, TypeError, "cannot store object"),
    ],
)
def test_bad_rows_explain_themselves(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_row(CONFIG, 0, run_id="r", **kwargs)


def test_append_then_read_round_trips(tmp_path):
    path = tmp_path / "sub" / "results.jsonl"
    rows = [_row(0), _row(1, status="failed")]
    for row in rows:
        append_row(path, row)
    assert read_rows(path) == rows
    assert path.read_text().count("\n") == 2
    assert read_rows(tmp_path / "missing.jsonl") == []


def test_concurrent_appends_from_processes_never_interleave(tmp_path):
    path = tmp_path / "results.jsonl"
    script = (
        "import sys\n"
        "from gankit.experiments.registry import append_row\n"
        "for i in range(50):\n"
        "    append_row(sys.argv[1], {'run_id': f'{sys.argv[2]}-{i}', 'status': 'ok',\n"
        "                             'pad': 'x' * 5000})\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), str(k)]) for k in range(4)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    rows = read_rows(path)
    assert len(rows) == 200 and len({r["run_id"] for r in rows}) == 200


def test_truncated_last_line_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / "results.jsonl"
    append_row(path, _row(0))
    with path.open("a") as f:
        f.write('{"run_id": "half-writ')  # a crash during an append
    with pytest.warns(RegistryWarning, match="unreadable row"):
        assert len(read_rows(path)) == 1


def test_a_row_appended_after_a_crash_fragment_stays_readable(tmp_path):
    path = tmp_path / "results.jsonl"
    append_row(path, _row(0))
    with path.open("a") as f:
        f.write('{"run_id": "half-writ')  # a crash during an append
    append_row(path, _row(1))
    with pytest.warns(RegistryWarning, match="unreadable row"):
        rows = read_rows(path)
    assert [r["run_id"] for r in rows] == [_row(0)["run_id"], _row(1)["run_id"]]


def test_broken_middle_line_names_the_line(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"run_id": "a", "status": "ok"}\nnot json\n{"run_id": "b", "status": "ok"}\n')
    with pytest.raises(ValueError, match=r"results\.jsonl:2"):
        read_rows(path)


def test_flat_columns_use_override_keys_and_metric_names():
    flat = flatten_row(_row(0))
    assert flat["train.g_lr"] == 1e-3 and flat["name"] == "tiny"
    assert flat["generator.hidden"] == "[8]"  # lists as text: hashable for grouping
    assert flat["fid"] == 10.0 and flat["real_test.fid"] == 1.0
    assert "config" not in flat and "metrics" not in flat


def test_load_keeps_the_latest_outcome_of_each_run(tmp_path):
    path = tmp_path / "results.jsonl"
    for row in (_row(0, status="failed"), _row(1, fid=20.0), _row(0, fid=30.0)):
        append_row(path, row)
    df = load_registry(path)
    assert list(df["seed"]) == [0, 1] and list(df["status"]) == ["ok", "ok"]
    assert list(df["fid"]) == [30.0, 20.0]
    assert list(df.columns[:3]) == ["run_id", "status", "name"]
    assert len(load_registry(path, latest=False)) == 3
    assert len(load_registry(path, latest=False, status="failed")) == 1
    with pytest.raises(ValueError, match="status must be"):
        load_registry(path, status="done")


def test_empty_registry_loads_as_an_empty_table(tmp_path):
    df = load_registry(tmp_path / "none.jsonl")
    assert df.empty and "run_id" in df.columns
