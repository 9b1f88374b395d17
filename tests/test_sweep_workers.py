"""Sweeps in real worker processes: a tiny TensorFlow GAN trained and recorded by a loky
worker and by a local Dask cluster, and one GPU per worker (``--gpus``)."""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np
import pytest
from tiny_gan import TINY_GAN

from gankit.config import GANConfig, with_overrides
from gankit.experiments.registry import load_registry
from gankit.experiments.run import TrainAndEvaluate
from gankit.experiments.sweep import RunResult, run_sweep
from gankit.experiments.sweep_grid import expand_grid
from gankit.experiments.workers import (
    GPU_SLOTS_DIR,
    claim_gpu,
    cluster_backend,
    gpu_for_worker,
    parse_gpus,
)

TINY = with_overrides(GANConfig(name="tiny"), {**TINY_GAN, "train.epochs": 1, "train.n_train": 64})


def tiny_mnist():
    """64 random 'images' in [-1, 1] and labels, shaped like `load_scaled_mnist`'s."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (64, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64).astype(np.uint8)
    return (x, y), (x[:16], y[:16])


TRAIN_TINY = TrainAndEvaluate(quick=True, evaluate=False, threads=1, data=tiny_mnist)


def _assert_trained_and_recorded(root, specs):
    df = load_registry(root / "results.jsonl")
    assert len(df) == len(specs) and set(df["status"]) == {"ok"}
    assert os.getpid() not in set(df["extra.pid"])  # trained in a worker process
    assert list(df["extra.epochs_trained"]) == [1] * len(specs)
    for column in ("training.d_loss", "training.g_loss", "train_seconds"):
        assert all(math.isfinite(v) and v > 0 for v in df[column]), column
    assert all((root / s.run_id / "generator.keras").is_file() for s in specs)


class TrainTinyReportingPid:
    """`TRAIN_TINY`, with the worker's pid in the row (to tell where it ran)."""

    def __call__(self, config, seed, run_dir):
        result = TRAIN_TINY(config, seed, run_dir)
        return RunResult(result.metrics, result.train_seconds, {**result.extra, "pid": os.getpid()})


def test_a_loky_worker_trains_a_tensorflow_gan_and_the_sweep_records_it(tmp_path):
    specs = expand_grid(TINY, {}, seeds=[0])
    outcomes = run_sweep(specs, TrainTinyReportingPid(), root=tmp_path, n_jobs=2, backend="loky")
    assert [o.status for o in outcomes] == ["ok"], outcomes[0].error
    _assert_trained_and_recorded(tmp_path, specs)


def test_a_dask_worker_trains_a_tensorflow_gan_and_the_sweep_records_it(tmp_path):
    pytest.importorskip("distributed", reason="pip install 'gankit[dask]'")
    specs = expand_grid(TINY, {}, seeds=[0])
    with cluster_backend("dask"):  # a local cluster of worker processes
        outcomes = run_sweep(specs, TrainTinyReportingPid(), root=tmp_path, n_jobs=-1)
    assert [o.status for o in outcomes] == ["ok"], outcomes[0].error
    _assert_trained_and_recorded(tmp_path, specs)


# --------------------------------------------------------------------------------------
# One GPU per worker
# --------------------------------------------------------------------------------------
def test_each_worker_gets_the_gpus_in_turn():
    assert [gpu_for_worker(("0", "1"), i) for i in range(5)] == ["0", "1", "0", "1", "0"]
    assert gpu_for_worker(("3",), 7) == "3"
    assert parse_gpus("0, 1") == ("0", "1") and parse_gpus([2, 3]) == ("2", "3")
    assert parse_gpus("GPU-8f2a,1") == ("GPU-8f2a", "1")


@pytest.mark.parametrize(
    "gpus, match",
    [
        ("", "comma-separated"),
        ("0,,1", "comma-separated"),
        ("cuda:0", "'cuda:0' is not a GPU index"),
        ("-1", "'-1' is not a GPU index"),
        ("0,1,0", "each GPU once"),
    ],
)
def test_bad_gpus_explain_themselves(gpus, match):
    with pytest.raises(ValueError, match=match):
        parse_gpus(gpus)


def test_gpus_need_loky_workers(tmp_path):
    specs = expand_grid(TINY, {}, seeds=[0])
    with pytest.raises(ValueError, match=r"dask_cuda\.LocalCUDACluster"):
        run_sweep(specs, report_gpu, root=tmp_path, n_jobs=2, backend="threading", gpus="0")
    with pytest.raises(ValueError, match="n_jobs >= 2"):
        run_sweep(specs, report_gpu, root=tmp_path, gpus="0")
    with pytest.raises(ValueError, match="worker_index"):
        gpu_for_worker(("0",), -1)


def test_a_gpu_cannot_be_chosen_after_tensorflow_is_imported(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorflow", sys.modules.get("tensorflow", object()))
    with pytest.raises(RuntimeError, match="before TensorFlow is imported"):
        claim_gpu(("0",), tmp_path)


def report_gpu(config, seed, run_dir):
    time.sleep(0.5)  # long enough that both workers take runs
    return RunResult(
        {"fid": 1.0},
        extra={
            "pid": os.getpid(),
            "gpu": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "gpu_order": os.environ.get("CUDA_DEVICE_ORDER"),
            "tensorflow_loaded": "tensorflow" in sys.modules,
        },
    )


def test_each_loky_worker_sees_only_its_own_gpu(tmp_path):
    specs = expand_grid(TINY, {"train.g_lr": [1e-4, 2e-4, 3e-4, 4e-4]}, seeds=[0])
    outcomes = run_sweep(specs, report_gpu, root=tmp_path, n_jobs=2, gpus="3,5")
    assert {o.status for o in outcomes} == {"ok"}
    df = load_registry(tmp_path / "results.jsonl")
    gpu_of = dict(zip(df["extra.pid"], df["extra.gpu"], strict=True))
    assert os.getpid() not in gpu_of and set(gpu_of.values()) <= {"3", "5"}
    assert len(set(gpu_of.values())) == len(gpu_of)  # no two workers share a GPU
    assert not any(df["extra.tensorflow_loaded"])
    assert set(df["extra.gpu_order"]) == {os.environ.get("CUDA_DEVICE_ORDER", "PCI_BUS_ID")}
    assert sorted(p.name for p in (tmp_path / GPU_SLOTS_DIR).iterdir()) == [
        "worker-0.lock",
        "worker-1.lock",
    ]
