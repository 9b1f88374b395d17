"""Whether a process is still running, on Linux, macOS and Windows; how busy the machine is.

Run locks (`gankit.experiments.locks`) and the run directory's clean-up of temporary
files (`gankit.train.run_dir`) ask whether the process that wrote something is gone.
``os.kill(pid, 0)`` answers that on POSIX only: on Windows any signal number other than
the two console events *terminates* the process, so it must never be called there.
`load_average` is what timing records (notebook executions, benchmarks) store beside a
wall-clock time: how much else was running.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["load_average", "pid_alive", "process_start_ticks"]

# Windows API constants (winnt.h, winbase.h, winerror.h)
_SYNCHRONIZE = 0x00100000
_WAIT_OBJECT_0 = 0
_ERROR_INVALID_PARAMETER = 87


def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none): what else was running."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def pid_alive(pid: int) -> bool:
    """True if ``pid`` is a running process (also one of another user).

    A zombie (dead, not yet reaped by its parent, e.g. a killed sweep worker under an init
    that does not reap) is not running. Never signals the process.
    """
    if sys.platform == "win32":
        import ctypes

        return _windows_pid_alive(pid, ctypes.WinDLL("kernel32", use_last_error=True), ctypes)
    try:
        os.kill(pid, 0)  # POSIX: signal 0 only checks that the pid exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (macOS): os.kill is all we know
    return state not in ("Z", "X")


def _windows_pid_alive(pid: int, kernel32: Any, ctypes: Any) -> bool:
    """`pid_alive` through the Win32 API: a process object is signalled once it exits.

    ``kernel32`` and ``ctypes`` are passed in so the logic can be tested off Windows.
    """
    handle = kernel32.OpenProcess(_SYNCHRONIZE, False, pid)
    if not handle:
        # No such pid: ERROR_INVALID_PARAMETER; anything else (access denied) means it exists.
        return ctypes.get_last_error() != _ERROR_INVALID_PARAMETER
    try:
        return kernel32.WaitForSingleObject(handle, 0) != _WAIT_OBJECT_0
    finally:
        kernel32.CloseHandle(handle)


def process_start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (Linux /proc), or None if unknown
    (another system, or no such process).

    Together with the pid it names a process uniquely: a recycled pid has another start.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ")".
    return int(stat.rsplit(")", 1)[1].split()[19])
