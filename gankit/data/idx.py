"""The IDX file format of the raw MNIST files: decode, encode and hash arrays.

An IDX file is a 4-byte magic number (two zero bytes, a type code for the dtype, the
number of dims), then each dim as a big-endian uint32, then the raw values in C order,
big-endian. Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64.

``parse_idx`` reads the files. ``encode_idx`` writes them back byte for byte, so the
SHA-256 of the official MNIST files can verify decoded arrays from any source (keras' npz,
the npm tarball, a cache): re-encode and hash, which is what ``idx_sha256`` does without
building the encoded bytes. ``gankit.data.sources`` uses this to check every MNIST array it loads.
"""

from __future__ import annotations

import hashlib
import struct
import types
from collections.abc import Mapping

import numpy as np

__all__ = ["encode_idx", "idx_sha256", "parse_idx"]

# IDX type codes (http://yann.lecun.com/exdb/mnist/); multi-byte values are big-endian.
_IDX_DTYPES: Mapping[int, np.dtype] = types.MappingProxyType(
    {
        0x08: np.dtype("u1"),
        0x09: np.dtype("i1"),
        0x0B: np.dtype(">i2"),
        0x0C: np.dtype(">i4"),
        0x0D: np.dtype(">f4"),
        0x0E: np.dtype(">f8"),
    }
)


def parse_idx(data: bytes) -> np.ndarray:
    """Decode one IDX file (the raw MNIST format) into a native-endian numpy array.

    Layout: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dims, each dim as a big-endian uint32, then
    the values in C order, big-endian.

    Raises:
        ValueError: bad magic, unknown type code, zero dims, or a byte count that does not
            match the dims (e.g. a truncated download; the message gives expected vs got).
    """
    data = bytes(data)
    if len(data) < 4:
        raise ValueError(f"IDX data too short: {len(data)} bytes, the header alone needs 4")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"not an IDX file: magic must start with two zero bytes, got {data[:2].hex()}"
        )
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise ValueError(f"unsupported IDX type code 0x{code:02X}; supported: {known}")
    if ndim == 0:
        raise ValueError("IDX header declares 0 dims; expected at least 1")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise ValueError(
            f"IDX header truncated: {ndim} dims need {header_len} bytes, got {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header_len
    if got != expected:
        raise ValueError(
            f"IDX payload size mismatch for shape {shape} of {dtype.name}: "
            f"expected {expected} bytes, got {got} (truncated or corrupt file?)"
        )
    flat = np.frombuffer(data, dtype=dtype, offset=header_len)
    # astype copies, so the result is writable and in native byte order.
    return flat.reshape(shape).astype(dtype.newbyteorder("="))


def encode_idx(array: np.ndarray) -> bytes:
    """Encode an array as an IDX file; the inverse of ``parse_idx``.

    For the MNIST arrays this reproduces the official files byte for byte, which is why
    ``gankit.data.sources.MNIST_IDX_SHA256`` can verify arrays from any source.

    Raises:
        TypeError: the dtype has no IDX type code (use uint8, int8, int16, int32, float32
            or float64).
        ValueError: a 0-d array, or a dim too large for the header.
    """
    return _idx_header(array) + _idx_payload(array).tobytes()


def idx_sha256(array: np.ndarray) -> str:
    """Hex SHA-256 of ``encode_idx(array)``, computed without building the encoded bytes."""
    digest = hashlib.sha256(_idx_header(array))
    digest.update(_idx_payload(array))
    return digest.hexdigest()


def _idx_code(dtype: np.dtype) -> int:
    for code, idx_dtype in _IDX_DTYPES.items():
        if idx_dtype.kind == dtype.kind and idx_dtype.itemsize == dtype.itemsize:
            return code
    raise TypeError(
        f"dtype {dtype} has no IDX type code; convert to uint8, int8, int16, int32, "
        "float32 or float64 first"
    )


def _idx_header(array: np.ndarray) -> bytes:
    array = np.asarray(array)
    if array.ndim == 0:
        raise ValueError("cannot IDX-encode a 0-d array; pass an array with at least 1 dim")
    if array.ndim > 255 or max(array.shape) > 0xFFFFFFFF:
        raise ValueError(f"shape {array.shape} does not fit in an IDX header")
    code = _idx_code(array.dtype)
    return bytes((0, 0, code, array.ndim)) + struct.pack(f">{array.ndim}I", *array.shape)


def _idx_payload(array: np.ndarray) -> np.ndarray:
    """The array as contiguous big-endian values (a buffer ready to write or hash)."""
    array = np.asarray(array)
    big_endian = _IDX_DTYPES[_idx_code(array.dtype)]
    return np.ascontiguousarray(array, dtype=big_endian)
