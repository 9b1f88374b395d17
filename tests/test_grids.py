"""Tests for gankit.data.grids: image grids, PNG and GIF files."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from gankit.data import grids


def _float_digits(n: int, size: int = 28, seed: int = 0) -> np.ndarray:
    """n deterministic float images in [-1, 1], shape (n, size, size, 1)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, size, size, 1)).astype(np.float32)


# --------------------------------------------------------------------------------------
# image_grid
# --------------------------------------------------------------------------------------
def test_image_grid_tiles_known_2x2_images_exactly():
    images = np.array([[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]], np.uint8)
    grid = grids.image_grid(images, ncol=2, pad=1, pad_value=0)
    expected = np.array(
        [
            [0, 0, 0, 0, 0, 0, 0],
            [0, 1, 2, 0, 5, 6, 0],
            [0, 3, 4, 0, 7, 8, 0],
            [0, 0, 0, 0, 0, 0, 0],
            [0, 9, 10, 0, 0, 0, 0],  # 4th cell empty: filled with pad_value
            [0, 11, 12, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        np.uint8,
    )
    assert grid.dtype == np.uint8
    np.testing.assert_array_equal(grid, expected)


def test_image_grid_default_layout_and_padding():
    grid = grids.image_grid(np.zeros((10, 28, 28), np.uint8))  # ncol = ceil(sqrt(10)) = 4
    assert grid.shape == (3 * 30 + 2, 4 * 30 + 2)
    assert grid[0].tolist() == [255] * grid.shape[1]  # white padding by default
    assert grid[2:30, 2:30].max() == 0


def test_float_and_uint8_inputs_give_the_same_grid():
    as_uint8 = np.arange(0, 256, dtype=np.uint8)[:196].reshape(1, 14, 14).repeat(4, axis=0)
    as_uint8[1] = 255 - as_uint8[1]
    as_float = as_uint8.astype(np.float64) / 127.5 - 1.0
    np.testing.assert_array_equal(grids.image_grid(as_float), grids.image_grid(as_uint8))
    # (N, H, W, 1) is the same as (N, H, W).
    np.testing.assert_array_equal(
        grids.image_grid(as_float[..., None].astype(np.float32)), grids.image_grid(as_uint8)
    )


def test_float_images_without_negative_values_warn_about_0_1_range():
    with pytest.warns(UserWarning, match=r"images \* 2 - 1"):
        grids.image_grid(np.full((1, 4, 4), 0.5, np.float32))


def test_float_range_maps_linearly_to_uint8():
    tiles = grids.images_to_uint8(np.array([[[-1.0, 0.0, 1.0, 1.0000001]]], np.float32))
    assert tiles.tolist() == [[[0, 128, 255, 255]]]


@pytest.mark.parametrize(
    ("images", "error", "match"),
    [
        (np.zeros((2, 28, 28), np.int64), TypeError, "float in \\[-1, 1\\] or uint8"),
        (np.zeros((2, 28, 28), bool), TypeError, "dtype bool"),
        (np.full((2, 28, 28), 255.0), ValueError, "looks like \\[0, 255\\]"),
        (np.full((2, 28, 28), -1.2), ValueError, "must lie in \\[-1, 1\\], got \\[-1.2, -1.2\\]"),
        (np.full((2, 28, 28), np.nan), ValueError, "NaN"),
        (np.zeros((28, 28)), ValueError, "images\\[None\\]"),
        (np.zeros((2, 28, 28, 3)), ValueError, "\\(N, H, W, 1\\)"),
        (np.zeros((0, 28, 28)), ValueError, "at least 1"),
    ],
)
def test_bad_images_are_rejected_with_a_hint(images, error, match):
    with pytest.raises(error, match=match):
        grids.image_grid(images)


@pytest.mark.parametrize("kwargs", [{"ncol": 0}, {"pad": -1}, {"pad_value": 300}])
def test_bad_grid_options_are_rejected(kwargs):
    with pytest.raises(ValueError):
        grids.image_grid(np.zeros((4, 28, 28), np.uint8), **kwargs)


# --------------------------------------------------------------------------------------
# PNG and GIF files
# --------------------------------------------------------------------------------------
def test_save_image_grid_writes_scaled_greyscale_png(tmp_path):
    images = _float_digits(9)
    path = grids.save_image_grid(images, tmp_path / "samples" / "epoch_001.png", scale=3)
    grid = grids.image_grid(images)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "L"
        assert im.size == (grid.shape[1] * 3, grid.shape[0] * 3)
        pixels = np.asarray(im)
    np.testing.assert_array_equal(pixels[::3, ::3], grid)  # nearest-neighbour enlargement


def test_save_image_grid_is_fast_enough_for_every_epoch(tmp_path):
    images = _float_digits(100)
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        grids.save_image_grid(images, tmp_path / "grid.png")
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.05


@pytest.mark.parametrize(("n", "ncol", "scale"), [(64, None, 2), (10, 4, 3), (1, None, 1)])
def test_read_image_grid_gives_back_the_tiles_save_image_grid_wrote(tmp_path, n, ncol, scale):
    images = np.random.default_rng(n).uniform(-1, 1, (n, 28, 28)).astype(np.float32)
    path = grids.save_image_grid(images, tmp_path / "grid.png", ncol=ncol, scale=scale)
    tiles = grids.read_image_grid(path, n, ncol=ncol)
    np.testing.assert_array_equal(tiles, grids.images_to_uint8(images))
    with pytest.raises(ValueError, match="give the n the grid was written with"):
        grids.read_image_grid(path, n + 7, ncol=ncol)


def test_make_gif_has_one_frame_per_png_and_holds_the_last(tmp_path):
    pngs = [
        grids.save_image_grid(_float_digits(4, seed=i), tmp_path / f"epoch_{i}.png")
        for i in range(3)
    ]
    gif = grids.make_gif(pngs, tmp_path / "out" / "training.gif", duration_ms=100)
    with Image.open(gif) as im:
        assert im.format == "GIF"
        assert im.n_frames == 3
        assert im.info["loop"] == 0
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    assert durations == [100, 100, 400]


def test_make_gif_rejects_empty_and_mismatched_frames(tmp_path):
    with pytest.raises(ValueError, match="non-empty"):
        grids.make_gif([], tmp_path / "a.gif")
    a = grids.save_image_grid(_float_digits(4), tmp_path / "a.png")
    b = grids.save_image_grid(_float_digits(9), tmp_path / "b.png")
    with pytest.raises(ValueError, match="same size"):
        grids.make_gif([a, b], tmp_path / "a.gif")
