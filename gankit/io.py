"""gankit's file writers: whole files appear whole or not at all; JSON-lines files only grow.

``atomic_write(path, mode)`` opens a temporary file next to ``path`` and renames it onto
``path`` when the ``with`` body succeeds; ``atomic_path(path)`` does the same for writers
that need a file name instead of a file object (e.g. ``keras.Model.save``). The rename
(``os.replace``) is atomic on one file system, so an interrupted run never leaves a
half-written file under the real name, and readers see the old file or the new one.

Append-only record files (the results registry, the retraining study's results) are JSON
lines: ``append_json_line`` adds one line with a single ``write`` on a file opened with
``O_APPEND`` while holding an exclusive lock (a ``filelock`` on a hidden file beside it,
so also on Windows), so concurrent writers never interleave lines; a crash mid-write can
at worst leave a cut-off last line, which ``read_json_lines`` skips with a
`CutOffLineWarning`.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import secrets
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = [
    "CutOffLineWarning",
    "append_json_line",
    "atomic_path",
    "atomic_write",
    "plain_json",
    "read_json_lines",
]


class CutOffLineWarning(UserWarning):
    """A JSON line could not be read (e.g. cut off by a crash) and was skipped."""


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """A fresh temporary path next to ``path``, renamed onto ``path`` if the body succeeds.

    Parent directories are created. The body must create the file at the yielded path.
    If the body raises, ``path`` is left as it was and the temporary file is removed.

    Args:
        path: the file to (re)place.
        suffix: appended to the temporary name, for writers that insist on an extension
            (``keras.Model.save`` wants ``.keras``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same folder as the target, so os.replace is a rename on one file system.
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp{suffix}"
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path`` and move it onto ``path`` on success.

    Parent directories are created. ``mode`` is ``"w"`` (UTF-8 text, ``\\n`` newlines) or
    ``"wb"``. The data is flushed to disk before the rename. If the ``with`` body raises,
    ``path`` is left as it was and the temporary file is removed.

    Example::

        with atomic_write("out/a.txt") as f:
            f.write("hello\\n")

    Raises:
        ValueError: ``mode`` is neither ``"w"`` nor ``"wb"``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp:
        # Not mkstemp: it makes 0600 files; os.open with 0o666 lets the umask decide, like
        # open() does. O_EXCL still guarantees the name is ours. O_BINARY: on Windows a
        # descriptor is otherwise in text mode and turns every b"\n" of "wb" into b"\r\n".
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(tmp, flags, 0o666)
        if mode == "w":
            f = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        else:
            f = os.fdopen(fd, "wb")
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def plain_json(value: Any, where: str = "value") -> Any:
    """``value`` as plain JSON: numpy scalars and arrays (tensors too) to numbers and
    lists, float32 by its shortest repr (0.1, not 0.10000000149011612), NaN and infinities
    to None (JSON has none), tuples to lists, paths to strings.

    Raises:
        TypeError: a value JSON cannot hold, named by its place in ``where`` (e.g.
            ``q3.cells[2]``).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, np.floating) and value.dtype.itemsize < 8:
        value = float(str(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(k): plain_json(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):  # also tf/keras tensors
        array = np.asarray(value)
        if array.ndim == 0:
            return plain_json(array[()], where)
        return [plain_json(v, f"{where}[{i}]") for i, v in enumerate(array)]
    raise TypeError(
        f"{where}: cannot store {type(value).__name__} in JSON; "
        "pass numbers, strings, bools, lists or dicts"
    )


def append_json_line(path: str | os.PathLike[str], record: Mapping[str, Any]) -> None:
    """Appends ``record`` (as `plain_json`) as one line to ``path`` (created if missing),
    synced to disk before returning.

    Raises:
        TypeError: a value JSON cannot hold.
    """
    line = (json.dumps(plain_json(record), sort_keys=True, allow_nan=False) + "\n").encode()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _append_lock(path):
        # O_BINARY: Windows would otherwise write "\r\n" for "\n".
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags, 0o644)
        try:
            # A crash mid-append leaves a last line without its newline; start on a fresh
            # line so this record stays readable (the fragment is skipped when read).
            if _ends_without_newline(fd):
                line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def _ends_without_newline(fd: int) -> bool:
    size = os.fstat(fd).st_size
    if size == 0:
        return False
    os.lseek(fd, size - 1, os.SEEK_SET)  # not os.pread: Windows has none; O_APPEND still
    return os.read(fd, 1) != b"\n"  # sends the write to the end


APPEND_LOCK_TIMEOUT_SECONDS = 60.0
"""How long an append waits for another writer of the same file (each holds it for ms)."""


@contextmanager
def _append_lock(path: Path) -> Iterator[None]:
    """One appender of ``path`` at a time, across processes and threads.

    O_APPEND alone keeps small local writes whole on POSIX, but not on network file
    systems that emulate it (NFS) nor on Windows (a seek, then a write). The lock is a
    ``filelock.FileLock`` on a hidden file beside ``path``: ``flock`` on POSIX, LockFileEx
    on Windows. A folder where that file cannot be made (read-only, but ``path`` writable)
    gets the O_APPEND guarantee alone.

    Raises:
        TimeoutError: another process held the lock for `APPEND_LOCK_TIMEOUT_SECONDS`.
    """
    from filelock import FileLock, Timeout

    lock: FileLock | None = FileLock(
        path.parent / f".{path.name}.lock", timeout=APPEND_LOCK_TIMEOUT_SECONDS
    )
    try:
        lock.acquire()
    except Timeout as err:
        raise TimeoutError(
            f"could not append to {path}: {lock.lock_file} was held by another process for "
            f"{APPEND_LOCK_TIMEOUT_SECONDS:g} s; if no gankit process is running, delete it"
        ) from err
    except PermissionError:
        lock = None
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


def read_json_lines(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every record of the JSON-lines file ``path``, in file order ([] if it does not exist).

    A cut-off record (a crash during an append: the last line, or a fragment that the next
    append moved onto its own line) is skipped with a `CutOffLineWarning`.

    Raises:
        ValueError: any other unreadable line (the file was edited by hand).
    """
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as err:
            cut_off = line.lstrip().startswith("{") and not line.rstrip().endswith("}")
            if number == len(lines) or cut_off:
                warnings.warn(
                    f"{path}:{number}: skipped an unreadable row ({err}); it is most "
                    "likely a run that crashed while being recorded",
                    CutOffLineWarning,
                    stacklevel=2,
                )
                continue
            raise ValueError(
                f"{path}:{number} is not a JSON object ({err}); fix or delete that line"
            ) from err
        records.append(record)
    return records


def read_csv_exact(source: str | os.PathLike[str] | IO[str]):
    """``pandas.read_csv(source)`` with every float parsed back bit for bit.

    The run directory's CSV files hold floats written with ``repr``; pandas 2's default
    parser can miss the last digit (a reloaded history then differs from the trained one,
    and a float32 value at a rounding midpoint flips), so it gets ``float_precision=
    "round_trip"``; pandas 3's default parser is exact and deprecates that option.
    """
    import pandas as pd

    exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
    return pd.read_csv(source, **exact)
