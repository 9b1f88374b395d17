"""Tests for gankit.io: the one atomic writer."""

from __future__ import annotations

import os

import pytest

from gankit.io import atomic_path, atomic_write


def test_atomic_write_creates_parents_and_cleans_up_on_error(tmp_path):
    target = tmp_path / "a" / "b.txt"
    with atomic_write(target) as f:
        f.write("one\n")
    assert target.read_text() == "one\n"
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "one\n"
    assert os.listdir(target.parent) == ["b.txt"]


def test_atomic_write_binary_and_bad_mode(tmp_path):
    target = tmp_path / "b.bin"
    with atomic_write(target, "wb") as f:
        f.write(b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    with pytest.raises(ValueError, match="mode must be"):
        with atomic_write(target, "a"):
            pass


def test_atomic_path_keeps_the_suffix_and_cleans_up(tmp_path):
    target = tmp_path / "m.keras"
    with atomic_path(target, suffix=".keras") as tmp:
        assert tmp.name.endswith(".keras") and tmp.parent == tmp_path
        tmp.write_text("model")
    assert target.read_text() == "model"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "model"
    assert os.listdir(tmp_path) == ["m.keras"]
