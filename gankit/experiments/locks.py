"""One writer per run directory: a lock file created with O_CREAT | O_EXCL.

Two sweeps (or a sweep and a ``gankit train``) that reach the same run directory would
interleave checkpoints and histories. `RunLock` prevents that::

    with RunLock(run_dir):
        train_gan(config, images, run_dir, seed=0)

The lock is the file ``run_dir/.lock`` holding JSON ``{"pid", "host", "start_ticks",
"created", "token"}``. Creating it with ``O_EXCL`` is atomic (also on NFS v3+), so only
one process can hold it. A process killed with SIGKILL cannot remove its lock: a lock of
this host whose pid is gone (or now belongs to another process, told by the process start
time) is *stale* and is taken over. A lock of another host is never broken automatically,
because its pid cannot be checked from here; the error says which file to delete.

Nothing here needs ``fcntl``: the lock itself is ``O_EXCL``, the liveness check is
`gankit.processes.pid_alive`, and the short guard around breaking a stale lock is a
``filelock.FileLock``, so locks work the same on Linux, macOS and Windows.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import time
from pathlib import Path
from typing import Any

from gankit.processes import pid_alive, process_start_ticks

LOCK_NAME = ".lock"
_GUARD_NAME = ".lock.guard"
# The guard is held for a few file operations; one still held after this long belongs to
# a process that hangs, and the run is reported busy rather than waited for.
_GUARD_TIMEOUT_SECONDS = 30.0
# A lock file is written right after it is created; an empty or unreadable one older than
# this was left by a process that died in between.
_UNREADABLE_GRACE_SECONDS = 60.0


class RunLockedError(RuntimeError):
    """The run directory is locked by another live process (see ``owner``)."""

    def __init__(self, path: Path, owner: dict[str, Any] | None):
        self.path, self.owner = path, owner or {}
        who = f"pid {self.owner.get('pid', '?')} on {self.owner.get('host', '?')}"
        since = self.owner.get("created")
        super().__init__(
            f"{path.parent} is being written by {who}"
            + (f" since {since}" if since else "")
            + f". Wait for it to finish, or, if no such process is running, delete {path}"
        )


def is_stale(owner: dict[str, Any] | None, *, age_seconds: float = 0.0) -> bool:
    """True if the lock described by ``owner`` (the lock file's JSON) can be taken over.

    Stale means: its process is known to be gone (same host, pid dead or recycled), or the
    file is unreadable and older than a minute. A lock of another host is never stale.
    """
    if owner is None:
        return age_seconds > _UNREADABLE_GRACE_SECONDS
    if owner.get("host") != socket.gethostname():
        return False
    pid = owner.get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        return True
    recorded = owner.get("start_ticks")
    return recorded is not None and process_start_ticks(pid) not in (None, recorded)


def read_owner(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The JSON of the lock file at ``path``, or None if it is empty or unreadable."""
    try:
        owner = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


class RunLock:
    """An exclusive lock on one run directory; a context manager, not re-entrant.

    Args:
      run_dir: the directory to lock (created if missing).

    Raises (from `acquire` / ``with``):
      RunLockedError: another live process holds the lock.
    """

    def __init__(self, run_dir: str | os.PathLike[str]):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self._token: str | None = None

    @property
    def held(self) -> bool:
        """True between a successful `acquire` and `release`."""
        return self._token is not None

    def acquire(self) -> RunLock:
        """Takes the lock (breaking a stale one) and returns self."""
        if self.held:
            raise RuntimeError(f"{self.path} is already held by this RunLock")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self._try_create():
            return self
        # Breaking a stale lock is check-then-delete; the guard makes it one step, so two
        # processes that both saw the same stale lock cannot delete each other's new one.
        with self._guard():
            owner = read_owner(self.path)
            if self.path.exists() and is_stale(owner, age_seconds=self._age()):
                self.path.unlink(missing_ok=True)
            if self._try_create():
                return self
        raise RunLockedError(self.path, read_owner(self.path))

    def release(self) -> None:
        """Removes the lock file if it is still ours; safe to call twice."""
        if self._token is None:
            return
        owner = read_owner(self.path)
        if owner is not None and owner.get("token") == self._token:
            self.path.unlink(missing_ok=True)
        self._token = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def _try_create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        token = secrets.token_hex(8)
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "start_ticks": process_start_ticks(os.getpid()),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "token": token,
        }
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(owner))
        self._token = token
        return True

    def _age(self) -> float:
        try:
            return time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return 0.0

    @contextlib.contextmanager
    def _guard(self):
        # filelock: flock on POSIX, LockFileEx on Windows, a lock file of its own where
        # neither works (it breaks one whose process is gone).
        from filelock import FileLock, Timeout

        guard = FileLock(self.run_dir / _GUARD_NAME, timeout=_GUARD_TIMEOUT_SECONDS)
        try:
            guard.acquire()
        except Timeout:
            raise RunLockedError(self.path, read_owner(self.path)) from None
        try:
            yield
        finally:
            guard.release()
