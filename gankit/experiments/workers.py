"""Where a sweep's runs execute: worker processes that stop when their sweep dies, and
`cluster_backend` (a Dask or Ray cluster through joblib).

A loky worker that is training when its sweep is killed (SIGKILL included) would train
on as an orphan, holding its run's lock, and finish a run no registry row records.
`stop_with_parent` (called at the start of each task) ties the worker to the sweep
process: on Linux the kernel sends it SIGTERM when the sweep dies
(``prctl(PR_SET_PDEATHSIG)``), and everywhere a watchdog thread checks once a second
that its parent is still the sweep. A worker that stops leaves its run incomplete and its
lock stale (`gankit.experiments.locks` takes it over): the next sweep resumes the run.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

_PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 1.0
"""How often the watchdog checks the parent process."""
_armed_for: int | None = None
_lock = threading.Lock()


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
