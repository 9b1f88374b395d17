"""Which device TensorFlow trains on, and the precision ``train.precision = "auto"`` picks.

`probe` looks once per process (then caches) and returns a `Device`: a GPU's name and
compute capability as TensorFlow reports them, or the CPU's model name and whether it has
bfloat16 instructions (``avx512_bf16`` or ``amx_bf16`` in /proc/cpuinfo; assumed absent on
other systems). `auto_precision` is the rule, a pure function of a `Device`:

- an NVIDIA GPU of compute capability 8.0 or more (A100, L4, RTX 30xx and later) has bf16
  tensor cores: 'mixed_bfloat16';
- an older NVIDIA GPU (a T4 is 7.5) emulates bf16 slower than float32 but has fast
  float16: 'mixed_float16' (the trainer adds loss scaling);
- a CPU with bf16 instructions: 'mixed_bfloat16' (what it gains on a given machine is
  what ``make bench`` and `benchmarks/precision_speed.py` measure; each writes its numbers
  and the machine to ``benchmarks/results/``);
- anything else (older CPUs, a GPU without a compute capability such as Apple's Metal
  plug-in): 'float32'.

`gpu_hinted` answers "might there be an NVIDIA GPU?" without importing TensorFlow, from
the driver's /proc entry or ``nvidia-smi`` on the PATH (``CUDA_VISIBLE_DEVICES`` set to ''
or '-1' hides every GPU). Without such a hint the probe does not import TensorFlow.
Nothing here imports gankit: `gankit.config` resolves 'auto' with it.
"""

from __future__ import annotations

import functools
import os
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path

AUTO = "auto"
CPUINFO = Path("/proc/cpuinfo")
NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
BF16_MIN_COMPUTE_CAPABILITY = (8, 0)


@dataclass(frozen=True)
class Device:
    """The device TensorFlow trains on (its first GPU if it sees one)."""

    kind: str
    """'cpu' or 'gpu'."""
    name: str
    """The GPU's or the CPU's model name ('' if unknown)."""
    compute_capability: tuple[int, int] | None = None
    """An NVIDIA GPU's (major, minor), e.g. (7, 5) for a T4; None for a CPU or unknown."""
    cpu_bf16: bool = False
    """The CPU has bfloat16 instructions (the flag found is in ``cpu_bf16_flag``)."""
    cpu_bf16_flag: str = ""
    """'avx512_bf16' or 'amx_bf16' when ``cpu_bf16``, else ''."""
    cpu_flags: frozenset[str] = frozenset()
    """Every flag /proc/cpuinfo lists for the CPU (empty for a GPU or elsewhere)."""

    def describe(self) -> str:
        """One phrase for a log line, e.g. 'CPU (avx512_bf16)' or 'GPU Tesla T4 (compute
        capability 7.5)'."""
        if self.kind == "gpu":
            cc = self.compute_capability
            detail = f" (compute capability {cc[0]}.{cc[1]})" if cc else ""
            return f"GPU {self.name}{detail}"
        return f"CPU ({self.cpu_bf16_flag or 'no bf16 instructions'})"

    def as_dict(self) -> dict:
        """A JSON-ready dict (the compute capability as a list), for run records."""
        cc = self.compute_capability
        return {
            "kind": self.kind,
            "name": self.name,
            "compute_capability": list(cc) if cc else None,
            "cpu_bf16": self.cpu_bf16,
            "description": self.describe(),
        }


def auto_precision(device: Device) -> str:
    """The precision 'auto' means on ``device``: 'mixed_bfloat16', 'mixed_float16' or
    'float32' (the rule in the module docstring)."""
    if device.kind == "gpu":
        cc = device.compute_capability
        if cc is None:
            return "float32"
        return "mixed_bfloat16" if tuple(cc) >= BF16_MIN_COMPUTE_CAPABILITY else "mixed_float16"
    return "mixed_bfloat16" if device.cpu_bf16 else "float32"


def resolve_precision(precision: str, device: Device | None = None) -> str:
    """``precision`` itself, or for 'auto' `auto_precision` of ``device`` (default: this
    process's `probe`)."""
    if precision != AUTO:
        return precision
    return auto_precision(probe() if device is None else device)


@functools.cache
def probe() -> Device:
    """This process's training device (computed once). A GPU is looked for through
    TensorFlow only when `gpu_hinted`; then TensorFlow's first visible GPU is the device."""
    if gpu_hinted():
        gpu = _tensorflow_gpu()
        if gpu is not None:
            return gpu
    return cpu()


@functools.cache
def cpu() -> Device:
    """This machine's CPU as a `Device` (computed once), also where `probe` finds a GPU."""
    return cpu_device(_read_cpuinfo())


def cpu_device(cpuinfo: str) -> Device:
    """The CPU `Device` described by ``cpuinfo`` (the text of /proc/cpuinfo; '' elsewhere)."""
    flags: set[str] = set()
    name = ""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("flags", "Features"):
            flags.update(value.split())
        elif key == "model name" and not name:
            name = value.strip()
    flag = next((f for f in BF16_CPU_FLAGS if f in flags), "")
    return Device("cpu", name or platform.processor(), None, bool(flag), flag, frozenset(flags))


def gpu_hinted() -> bool:
    """True when an NVIDIA GPU may be visible, judged without importing TensorFlow: the
    driver's /proc/driver/nvidia/gpus lists one, or ``nvidia-smi`` is on the PATH (Windows,
    WSL), unless ``CUDA_VISIBLE_DEVICES`` is '' or '-1' (all GPUs hidden)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1"):
        return False
    try:
        if NVIDIA_PROC.is_dir() and any(NVIDIA_PROC.iterdir()):
            return True
    except OSError:
        pass
    return shutil.which("nvidia-smi") is not None


def _read_cpuinfo() -> str:
    try:
        return CPUINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:  # not Linux: no bf16 instructions assumed
        return ""


def _tensorflow_gpu() -> Device | None:
    """TensorFlow's first GPU as a `Device`, or None if it sees none (a CPU-only build)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    cc = details.get("compute_capability")
    return Device("gpu", details.get("device_name", gpus[0].name), tuple(cc) if cc else None)
