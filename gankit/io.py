"""The one atomic file writer: every file gankit writes appears whole or not at all.

``atomic_write(path, mode)`` opens a temporary file next to ``path`` and renames it onto
``path`` when the ``with`` body succeeds; ``atomic_path(path)`` does the same for writers
that need a file name instead of a file object (e.g. ``keras.Model.save``). The rename
(``os.replace``) is atomic on one file system, so an interrupted run never leaves a
half-written file under the real name, and readers see the old file or the new one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_path", "atomic_write"]


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
        # open() does. O_EXCL still guarantees the name is ours.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        if mode == "w":
            f = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        else:
            f = os.fdopen(fd, "wb")
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
