"""The device probe, the precision 'auto' picks on each kind of device, and that 'auto' is
resolved before a run is named: presets that said 'mixed_bfloat16' keep their run
directories on a CPU with bf16 instructions, and a run directory always names the
precision it trains with."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import gankit
from gankit import device
from gankit.config import GANConfig, config_hash, resolved, validate, with_overrides
from gankit.device import Device, auto_precision, cpu_device, resolve_precision
from gankit.presets import gan_variants, get_preset

A100 = Device("gpu", "NVIDIA A100-SXM4-40GB", (8, 0))
L4 = Device("gpu", "NVIDIA L4", (8, 9))
T4 = Device("gpu", "Tesla T4", (7, 5))
METAL = Device("gpu", "METAL", None)
BF16_CPU = Device("cpu", "AMD EPYC", None, True, "avx512_bf16")
OLD_CPU = Device("cpu", "Intel Core i5", None, False, "")


@pytest.mark.parametrize(
    "where, precision",
    [
        (A100, "mixed_bfloat16"),
        (L4, "mixed_bfloat16"),
        (T4, "mixed_float16"),
        (METAL, "float32"),
        (BF16_CPU, "mixed_bfloat16"),
        (OLD_CPU, "float32"),
    ],
    ids=["gpu-8.0", "gpu-8.9", "t4-7.5", "gpu-unknown", "cpu-bf16", "cpu-old"],
)
def test_auto_picks_the_fast_precision_of_each_device(where, precision):
    assert auto_precision(where) == precision
    assert resolve_precision("auto", where) == precision
    assert resolve_precision("float32", where) == "float32"  # an explicit choice stays


@pytest.mark.parametrize(
    "flags, found",
    [
        ("fpu sse avx2 avx512f avx512_bf16 avx512_vnni", "avx512_bf16"),
        ("fpu sse avx2 amx_bf16 amx_tile", "amx_bf16"),
        ("fpu sse avx2 avx512f", ""),
    ],
)
def test_cpu_bf16_instructions_are_read_from_cpuinfo(flags, found):
    cpu = cpu_device(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n")
    assert (cpu.kind, cpu.name, cpu.cpu_bf16_flag) == ("cpu", "Some CPU", found)
    assert cpu.cpu_bf16 == bool(found)


def test_without_cpuinfo_no_bf16_is_assumed():
    assert not cpu_device("").cpu_bf16  # macOS, Windows: /proc/cpuinfo does not exist


def test_device_descriptions():
    assert T4.describe() == "GPU Tesla T4 (compute capability 7.5)"
    assert BF16_CPU.describe() == "CPU (avx512_bf16)"
    assert OLD_CPU.describe() == "CPU (no bf16 instructions)"
    assert T4.as_dict()["compute_capability"] == [7, 5]


def test_no_gpu_hint_when_cuda_hides_every_gpu_or_nothing_is_installed(monkeypatch, tmp_path):
    monkeypatch.setattr(device, "NVIDIA_PROC", tmp_path / "missing")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert not device.gpu_hinted()
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\n")
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    assert device.gpu_hinted()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert not device.gpu_hinted()


def _on(monkeypatch, where: Device) -> None:
    monkeypatch.setattr(device, "probe", lambda: where)


def test_auto_is_the_default_and_resolves_before_the_hash(monkeypatch):
    config = GANConfig()
    assert config.train.precision == "auto"
    validate(config)
    for where, precision in [(T4, "mixed_float16"), (BF16_CPU, "mixed_bfloat16")]:
        _on(monkeypatch, where)
        concrete = with_overrides(config, {"train.precision": precision})
        assert resolved(config) == concrete
        assert config_hash(config) == config_hash(concrete)


# Hashes of the presets that set train.precision = "mixed_bfloat16", computed before
# 'auto' existed: their run directories must keep these names on a bf16 CPU.
BF16_PRESET_HASHES = {
    ("acgan", False): "bc8bd244b0",
    ("cgan", False): "17a8741119",
    ("cgan_classifier_loss", False): "5bf7e2d31c",
    ("cgan_fewshot10", False): "fbd3540d8e",
    ("cgan_latent1", False): "5b47e7daa7",
    ("cgan_projection", False): "45ec51f900",
    ("cgan_smoothing", False): "ca608f54c0",
    ("acgan", True): "d925b752c4",
    ("cgan", True): "4de534641e",
    ("cgan_classifier_loss", True): "d7ad6cc34f",
    ("cgan_fewshot10", True): "87a23a1600",
    ("cgan_latent1", True): "92a98534d8",
    ("cgan_projection", True): "773eaa42d3",
    ("cgan_smoothing", True): "ec2321f037",
    ("dcgan_tuned", False): "31ec70d294",
    ("dcgan_study", False): "ad3272e8b0",  # the study of the self-conditioned GAN
    ("dcgan_self_conditioned", False): "a620fb9dff",  # its runs are in run_archive/q1
    ("dcgan_tuned", True): "6519df056a",
    ("dcgan_study", True): "5a5347c911",
    ("dcgan_self_conditioned", True): "5a5347c911",
}
BF16_VARIANT_HASHES = {
    "CGAN": "30f5fa76e2",
    "CGAN + WGAN": "5bca0674d6",
    "CGAN + WGAN-GP": "51588215c8",
}
# The presets whose committed results were trained in float32 stay float32 everywhere.
FLOAT32_PRESET_HASHES = {
    "dcgan_tutorial": "92f0eb4629",
    "dcgan_failing": "af64289cf4",
    "dcgan_collapse": "047ce4b5c3",
    "cgan_mlp_failing": "5bb11c3d43",
    "cgan_mlp": "5fb3fa5454",
}


def test_presets_that_were_bf16_keep_their_run_directories_on_a_bf16_cpu(monkeypatch):
    _on(monkeypatch, BF16_CPU)
    for (name, quick), expected in BF16_PRESET_HASHES.items():
        config = get_preset(name, quick=quick)
        assert config.train.precision == "auto", name
        assert config_hash(config) == expected, (name, quick)
    loss = gan_variants("loss", quick=False)
    for label, expected in BF16_VARIANT_HASHES.items():
        assert config_hash(loss[label]) == expected, label


def test_on_a_t4_the_same_presets_are_new_float16_runs(monkeypatch):
    _on(monkeypatch, T4)
    config = get_preset("cgan", quick=False)
    assert config_hash(config) != BF16_PRESET_HASHES["cgan", False]
    float16 = with_overrides(config, {"train.precision": "mixed_float16"})
    assert config_hash(config) == config_hash(float16)


@pytest.mark.parametrize("where", [BF16_CPU, T4, OLD_CPU], ids=["bf16-cpu", "t4", "old-cpu"])
def test_presets_with_float32_results_stay_float32_on_every_device(monkeypatch, where):
    _on(monkeypatch, where)
    for name, expected in FLOAT32_PRESET_HASHES.items():
        config = get_preset(name, quick=False)
        assert resolved(config).train.precision == "float32", name
        assert config_hash(config) == expected, name


SCRIPT = """
from gankit.runtime import quiet_tensorflow
quiet_tensorflow()
"""


def test_quiet_tensorflow_hides_nothing_where_a_gpu_may_be(tmp_path):
    """With an ``nvidia-smi`` on the PATH, TensorFlow's start-up messages (here: that it
    found no CUDA driver) reach stderr; without one, they are silenced."""
    smi = tmp_path / "bin" / "nvidia-smi"
    smi.parent.mkdir()
    smi.write_text("#!/bin/sh\n")
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    env = {
        "TF_CPP_MIN_LOG_LEVEL": "0",
        "PYTHONPATH": str(Path(gankit.__file__).parents[1]),
        "HOME": os.environ.get("HOME", "/tmp"),
    }

    def stderr(path: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            env={**env, "PATH": path},
        )
        return proc.stderr

    assert stderr("/usr/bin:/bin").strip() == ""
    assert "cuda" in stderr(f"{smi.parent}:/usr/bin:/bin").lower()
