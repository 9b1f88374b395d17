"""Tests for gankit.data.idx: the IDX file format (parse, encode, hash)."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pytest

from gankit.data import idx


def _hand_made_idx() -> tuple[bytes, np.ndarray]:
    expected = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    raw = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 3, 2, 2) + bytes(range(12))
    return raw, expected


def test_parse_idx_reads_hand_made_file():
    raw, expected = _hand_made_idx()
    parsed = idx.parse_idx(raw)
    assert parsed.dtype == np.uint8
    np.testing.assert_array_equal(parsed, expected)
    parsed[0, 0, 0] = 99  # the result is a writable copy


def test_encode_idx_writes_hand_made_file():
    raw, expected = _hand_made_idx()
    assert idx.encode_idx(expected) == raw


def test_parse_idx_rejects_truncated_payload():
    raw, _ = _hand_made_idx()
    with pytest.raises(ValueError, match="expected 12 bytes, got 11"):
        idx.parse_idx(raw[:-1])


def test_parse_idx_rejects_trailing_bytes():
    raw, _ = _hand_made_idx()
    with pytest.raises(ValueError, match="expected 12 bytes, got 13"):
        idx.parse_idx(raw + b"\x00")


@pytest.mark.parametrize("length", [0, 3, 8])
def test_parse_idx_rejects_truncated_header(length):
    raw, _ = _hand_made_idx()
    with pytest.raises(ValueError, match=r"too short|header truncated"):
        idx.parse_idx(raw[:length])


def test_parse_idx_rejects_wrong_magic():
    raw, _ = _hand_made_idx()
    with pytest.raises(ValueError, match="magic"):
        idx.parse_idx(b"\x01" + raw[1:])


def test_parse_idx_rejects_unknown_type_code():
    raw, _ = _hand_made_idx()
    with pytest.raises(ValueError, match="type code 0x07"):
        idx.parse_idx(raw[:2] + b"\x07" + raw[3:])


def test_parse_idx_rejects_zero_dims():
    with pytest.raises(ValueError, match="0 dims"):
        idx.parse_idx(b"\x00\x00\x08\x00")


@pytest.mark.parametrize(
    "array",
    [
        np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8),
        np.arange(7, dtype=np.uint8),
        np.arange(-6, 6, dtype=np.int16).reshape(3, 4),
        np.linspace(-1, 1, 10, dtype=np.float32).reshape(2, 5),
        np.zeros((0, 3), dtype=np.uint8),
    ],
    ids=["uint8-images", "uint8-1d", "int16", "float32", "empty"],
)
def test_encode_parse_round_trip(array):
    parsed = idx.parse_idx(idx.encode_idx(array))
    assert parsed.dtype == array.dtype
    np.testing.assert_array_equal(parsed, array)


def test_idx_sha256_equals_hash_of_encoded_bytes():
    array = np.random.default_rng(1).integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    assert idx.idx_sha256(array) == hashlib.sha256(idx.encode_idx(array)).hexdigest()


def test_encode_idx_rejects_bad_input():
    with pytest.raises(ValueError, match="0-d"):
        idx.encode_idx(np.uint8(3))
    with pytest.raises(TypeError, match="uint8"):
        idx.encode_idx(np.zeros(3, dtype=np.float16))
