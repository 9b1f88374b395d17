"""Faults a user can cause or meet, each as one line and a documented exit code.

- `describe(error)` maps an exception to ``(message, exit code)``; `gankit.cli.main` is
  the one place that calls it (the table is in docs/experiments.md).
- `fault_errno` finds a file-system fault (full disk, read-only, permission denied, not a
  directory) in an exception or its causes, also when a library wrapped the OSError.
- `check_writable_dir` and `check_writable_file` find an unwritable run folder or
  registry before any data is loaded or any run starts.
- `raise_on_sigterm` turns SIGTERM into `Terminated`, so a terminated command unwinds
  like a Ctrl-C: locks released, workers stopped, runs left to resume.
- `int_at_least` is the argparse type of the integer options (``--eval-n``, ``--jobs``).
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import signal
import tempfile
from pathlib import Path

EXIT_OK = 0
EXIT_RUN_FAILED = 1
"""A run failed or was busy (see its registry row), or an unexpected error."""
EXIT_USAGE = 2
"""Bad input: an option, an override, a config file, a path that does not exist."""
EXIT_NOT_WRITABLE = 3
"""A folder or file that must be written is read-only, not permitted or not a directory."""
EXIT_DISK_FULL = 4
EXIT_MNIST_UNAVAILABLE = 5
EXIT_INTERRUPTED = 130
"""Ctrl-C (128 + SIGINT)."""
EXIT_TERMINATED = 143
"""SIGTERM (128 + SIGTERM)."""

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
NOT_WRITABLE_ERRNOS = frozenset(
    {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR}
)
# Faults of the machine, not of a run: every later run would fail the same way.
FATAL_ERRNOS = DISK_FULL_ERRNOS | NOT_WRITABLE_ERRNOS
RESUME_HINT = "rerun the same command to resume"


class Terminated(KeyboardInterrupt):
    """The process got SIGTERM (see `raise_on_sigterm`); unwinds like a Ctrl-C."""


def raise_on_sigterm() -> None:
    """Makes SIGTERM raise `Terminated` in the main thread (a no-op in other threads)."""

    def _handler(signum, frame):
        raise Terminated()

    try:
        signal.signal(signal.SIGTERM, _handler)
    except ValueError:  # not the main thread of the main interpreter
        pass


def fault_errno(error: BaseException) -> int | None:
    """The errno of a file-system fault (`FATAL_ERRNOS`) in ``error`` or the exceptions it
    was raised from; also found by its text (e.g. "No space left on device") when a
    library re-raised it as another type. None if there is none."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in FATAL_ERRNOS:
            return current.errno
        text = str(current)
        for code in sorted(FATAL_ERRNOS):
            if os.strerror(code) in text:
                return code
        current = current.__cause__ or current.__context__
    return None


def one_line(text: str) -> str:
    """``text`` on one line: its lines joined by "; ", without TensorFlow's
    ``{{function_node ...}}`` prefixes."""
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", str(text))
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def describe(error: BaseException) -> tuple[str, int]:
    """The one-line message and the exit code of ``error`` (see the module docstring)."""
    from gankit.data.mnist import MnistUnavailableError

    if isinstance(error, Terminated):
        return f"terminated (SIGTERM); {RESUME_HINT}", EXIT_TERMINATED
    if isinstance(error, KeyboardInterrupt):
        return f"interrupted; {RESUME_HINT}", EXIT_INTERRUPTED
    if isinstance(error, MnistUnavailableError):
        return (
            "MNIST is not available (no source could provide it): run `python -m gankit "
            "data` for the sources tried and how to place the files by hand",
            EXIT_MNIST_UNAVAILABLE,
        )
    code = fault_errno(error)
    if code is not None:
        return _file_system_message(error, code)
    if isinstance(error, ValueError | TypeError | FileNotFoundError):
        return one_line(error), EXIT_USAGE
    return (
        f"{type(error).__name__}: {one_line(error)} (run with --debug or GANKIT_DEBUG=1 "
        "for the traceback)",
        EXIT_RUN_FAILED,
    )


def _file_system_message(error: BaseException, code: int) -> tuple[str, int]:
    where = getattr(error, "filename", None)
    why = getattr(error, "strerror", None) or os.strerror(code)
    what = f"{where}: {why}" if where else one_line(getattr(error, "strerror", None) or error)
    if code in DISK_FULL_ERRNOS:
        return (
            f"disk full ({what}); free some space (or use --root on another disk), then "
            f"{RESUME_HINT}",
            EXIT_DISK_FULL,
        )
    return (
        f"cannot write ({what}); choose a writable place (--root, --registry) or fix the "
        "permissions",
        EXIT_NOT_WRITABLE,
    )


def check_writable_dir(
    path: str | os.PathLike[str], what: str = "folder", *, create: bool = True
) -> Path:
    """Creates the folder ``path`` if missing (if ``create``) and checks a file can be
    made in it.

    Raises:
      FileNotFoundError: ``path`` does not exist and ``create`` is False.
      NotADirectoryError: ``path`` or one of its parents is a file.
      PermissionError or OSError (EROFS, ENOSPC): it cannot be written.
    """
    path = Path(path)
    if not create and not path.exists():
        raise FileNotFoundError(errno.ENOENT, f"the {what} does not exist", str(path))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        pass  # a file of that name: reported below
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"the {what} is a file", str(path))
    try:
        fd, probe = tempfile.mkstemp(dir=path, prefix=".gankit-write-check-")
    except OSError as err:  # name the folder, not the probe file
        raise type(err)(err.errno, err.strerror, str(path)) from err
    os.close(fd)
    os.unlink(probe)
    return path


def check_writable_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """Checks the file ``path`` can be appended to (or created), without changing it.

    Raises:
      IsADirectoryError: ``path`` is a folder.
      NotADirectoryError, PermissionError, OSError: as `check_writable_dir` for its folder,
        or the file itself cannot be opened for writing.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"the {what} is a folder", str(path))
    check_writable_dir(path.parent, f"folder of the {what}")
    if path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
    return path


def int_at_least(minimum: int, *, also: tuple[int, ...] = ()):
    """An argparse type: an int >= ``minimum`` (or one of ``also``, e.g. -1 for --jobs)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or (value < minimum and value not in also):
            extra = "".join(f" or {v}" for v in also)
            raise argparse.ArgumentTypeError(f"expects an int >= {minimum}{extra}, got {text!r}")
        return value

    parse.__name__ = f"int >= {minimum}"
    return parse
