"""Where a sweep's runs execute: worker processes that stop when their sweep dies, one GPU
per worker (`claim_gpu`), and `cluster_backend` (a Dask or Ray cluster through joblib).

A loky worker that is training when its sweep is killed (SIGKILL included) would train
on as an orphan, holding its run's lock, and finish a run no registry row records.
`stop_with_parent` (called at the start of each task) ties the worker to the sweep
process: on Linux the kernel sends it SIGTERM when the sweep dies
(``prctl(PR_SET_PDEATHSIG)``), and everywhere a watchdog thread checks once a second
that its parent is still the sweep. A worker that stops leaves its run incomplete and its
lock stale (`gankit.experiments.locks` takes it over): the next sweep resumes the run.

On a machine with several GPUs, ``run_sweep(..., gpus=["0", "1"])`` (``--gpus 0,1``)
starts its loky workers with `claim_gpu`: each worker takes the lowest free *worker slot*
(a file lock held for the worker's life, freed by the OS when it dies) and sets
``CUDA_VISIBLE_DEVICES`` to `gpu_for_worker` of that slot before it imports TensorFlow,
so TensorFlow in that worker sees one GPU, as ``/GPU:0``.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 1.0
"""How often the watchdog checks the parent process."""
_armed_for: int | None = None
_lock = threading.Lock()
GPU_SLOTS_DIR = ".gpu-slots"
"""Folder (in a sweep's root) of the worker-slot locks that `claim_gpu` takes."""
_gpu_slot: tuple[Any, int] | None = None  # (the slot's FileLock, slot index) of this worker


def stop_with_parent(sweep_pid: int) -> bool:
    """Makes this process stop when the sweep process ``sweep_pid`` dies; returns True if
    it now does (or already did).

    A no-op (False) in the sweep process itself (sequential or threading backends) and in
    a process that is not its child (e.g. a Dask or Ray worker, whose own cluster manages
    it). Idempotent: a worker running many tasks is armed once.
    """
    global _armed_for
    with _lock:
        if _armed_for == sweep_pid:
            return True
        if os.getpid() == sweep_pid or os.getppid() != sweep_pid:
            return False
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError, AttributeError):
                libc = ctypes.CDLL(None, use_errno=True)
                libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        threading.Thread(
            target=_watch, args=(sweep_pid,), name="gankit-parent-watchdog", daemon=True
        ).start()
        _armed_for = sweep_pid
    if os.getppid() != sweep_pid:  # the sweep died before the kernel was told to signal us
        _stop()
    return True


def _watch(sweep_pid: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        if os.getppid() != sweep_pid:
            _stop()


def _stop() -> None:
    """SIGTERM to this process (as the kernel would send); exits hard if that is ignored."""
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5.0)
    os._exit(128 + signal.SIGTERM)


def parse_gpus(gpus: str | Sequence[str | int]) -> tuple[str, ...]:
    """The GPUs of ``--gpus 0,1`` (or a list) as ``CUDA_VISIBLE_DEVICES`` entries.

    Each entry is a GPU index as ``nvidia-smi`` numbers them (``0``, ``1``, ...) or a GPU
    UUID (``GPU-...``, ``MIG-...``); e.g. ``"0,1"`` -> ``("0", "1")``.

    Raises:
      ValueError: no GPU, an empty entry, an entry that is neither, or a GPU given twice
        (two workers would share it), with an example of the expected form.
    """
    items = gpus.split(",") if isinstance(gpus, str) else list(gpus)
    entries = tuple(str(item).strip() for item in items)
    example = "e.g. --gpus 0,1 (GPU indices as nvidia-smi lists them)"
    if not entries or any(not e for e in entries):
        raise ValueError(f"gpus must be a comma-separated list of GPUs, {example}; got {gpus!r}")
    for entry in entries:
        if not (entry.isdigit() or entry.startswith(("GPU-", "MIG-"))):
            raise ValueError(f"gpus: {entry!r} is not a GPU index or UUID; {example}; got {gpus!r}")
    if len(set(entries)) != len(entries):
        raise ValueError(f"gpus: each GPU once (one worker per GPU), {example}; got {gpus!r}")
    return entries


def gpu_for_worker(gpus: Sequence[str], worker_index: int) -> str:
    """``CUDA_VISIBLE_DEVICES`` of worker ``worker_index`` (0, 1, ...): the GPUs in turn,
    so with as many workers as GPUs each worker has its own, and with more they share
    them evenly (``("0", "1")``: workers 0, 1, 2 -> "0", "1", "0").

    Raises:
      ValueError: no GPUs, or a negative index.
    """
    if not gpus:
        raise ValueError("gpus is empty: give at least one GPU, e.g. ('0',)")
    if isinstance(worker_index, bool) or not isinstance(worker_index, int) or worker_index < 0:
        raise ValueError(f"worker_index must be an int >= 0, got {worker_index!r}")
    return gpus[worker_index % len(gpus)]


def claim_gpu(gpus: Sequence[str], slots_dir: str | os.PathLike[str]) -> str:
    """Gives this worker process its GPU; returns its ``CUDA_VISIBLE_DEVICES``.

    The loky initializer of a sweep with ``gpus``: it runs in each new worker before any
    run, so before TensorFlow is imported there. The worker takes the lowest free slot
    ``slots_dir/worker-<i>.lock`` (held until the worker exits; a dead worker's slot is
    freed by the OS, so its replacement gets the same GPU) and sets
    ``CUDA_VISIBLE_DEVICES`` to ``gpu_for_worker(gpus, i)`` (and ``CUDA_DEVICE_ORDER`` to
    ``PCI_BUS_ID`` unless set, so indices mean what ``nvidia-smi`` shows). Idempotent.

    Raises:
      RuntimeError: TensorFlow was imported in this process already (it would keep
        seeing every GPU).
    """
    global _gpu_slot
    if _gpu_slot is not None:
        return os.environ["CUDA_VISIBLE_DEVICES"]
    if "tensorflow" in sys.modules:
        raise RuntimeError(
            "claim_gpu must run before TensorFlow is imported in the worker: it is the "
            "initializer of the sweep's worker processes, not a function to call in a run"
        )
    from filelock import FileLock, Timeout

    slots = Path(slots_dir)
    slots.mkdir(parents=True, exist_ok=True)
    for index in itertools.count():  # ends: only live workers hold slots
        slot = FileLock(slots / f"worker-{index}.lock", timeout=0)
        try:
            slot.acquire()
        except Timeout:
            continue
        _gpu_slot = (slot, index)
        # CUDA numbers GPUs fastest first unless told otherwise; nvidia-smi by PCI bus.
        os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu_for_worker(gpus, index)
        return os.environ["CUDA_VISIBLE_DEVICES"]
    raise AssertionError("unreachable")


@contextlib.contextmanager
def cluster_backend(name: str, address: str | None = None) -> Iterator[None]:
    """Makes joblib (and so `run_sweep` with ``backend=None``) use a Dask or Ray cluster.

    ``name`` is 'dask' (``address`` of a running scheduler, e.g. 'tcp://host:8786', or a
    local cluster if None) or 'ray' (``address`` as for ``ray.init``). Neither is a
    dependency of gankit: install one on every machine (see docs/experiments.md).

    Raises:
      ValueError: another name.
      ImportError: the engine is not installed, with the command that installs it.
    """
    from joblib import parallel_config

    if name == "dask":
        try:
            from dask.distributed import Client
        except ImportError as err:
            raise ImportError("the dask backend needs: pip install 'dask[distributed]'") from err
        client = Client(address) if address else Client(processes=True, threads_per_worker=1)
        try:
            with parallel_config(backend="dask"):
                yield
        finally:
            client.close()
    elif name == "ray":
        try:
            import ray
            from ray.util.joblib import register_ray
        except ImportError as err:
            raise ImportError("the ray backend needs: pip install 'ray[default]'") from err
        ray.init(address=address)
        register_ray()
        try:
            with parallel_config(backend="ray"):
                yield
        finally:
            ray.shutdown()
    else:
        raise ValueError(f"cluster backend must be 'dask' or 'ray', got {name!r}")
