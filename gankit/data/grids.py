"""Sample grids as image files: tile a batch of MNIST-like images, write PNGs and GIFs.

Used during training to write one grid of generated samples per epoch (``save_image_grid``)
and to animate them afterwards (``make_gif``); ``image_grid`` gives the tiled uint8 array
that ``gankit.plots.samples`` also shows in report figures. Numpy and PIL only, no
matplotlib, so it is fast enough to run every epoch. Files are replaced atomically.

Images are in gankit's format (``gankit.data.images.check_images``) of any size: arrays of
shape ``(N, H, W)`` or ``(N, H, W, 1)``, either float in [-1, 1] (generator output, ``tanh``)
or uint8 in [0, 255]; the dtype tells which.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image

from gankit import checks
from gankit.data.images import check_images
from gankit.io import atomic_write

__all__ = [
    "image_grid",
    "images_to_uint8",
    "make_gif",
    "read_image_grid",
    "save_image_grid",
]


def images_to_uint8(images: ArrayLike) -> np.ndarray:
    """Images as uint8 ``(N, H, W)`` in [0, 255].

    Args:
        images: in gankit's format of any size (``gankit.data.images.check_images``):
            ``(N, H, W)`` or ``(N, H, W, 1)``; float in [-1, 1] (mapped linearly,
            -1 -> 0, 1 -> 255) or uint8 in [0, 255] (the same pixels back).

    Raises:
        TypeError, ValueError: as ``check_images``, which also rejects an empty batch.
    """
    floats = check_images(images, size=None)[..., 0]
    # Float32 arithmetic, exact for every scaled uint8 value (u / 127.5 - 1 comes back as u).
    return np.rint((floats + 1.0) * 127.5).astype(np.uint8)


def image_grid(
    images: ArrayLike, ncol: int | None = None, pad: int = 2, pad_value: int = 255
) -> np.ndarray:
    """Tile images into one uint8 ``(H, W)`` array, row by row.

    Args:
        images: see ``images_to_uint8``.
        ncol: tiles per row; default ``ceil(sqrt(N))``.
        pad: pixels between tiles and around the border.
        pad_value: grey level (0-255) of the padding and of empty cells in the last row;
            white by default so that black MNIST tiles stand apart on a white page.

    Returns:
        ``(nrow * (h + pad) + pad, ncol * (w + pad) + pad)`` uint8 array.
    """
    tiles = images_to_uint8(images)
    n, h, w = tiles.shape
    ncol = math.ceil(math.sqrt(n)) if ncol is None else checks.positive_int(ncol, "ncol")
    pad = checks.integer(pad, "pad", low=0)
    pad_value = checks.integer(pad_value, "pad_value", low=0, high=255)
    nrow = math.ceil(n / ncol)
    grid = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad), pad_value, np.uint8)
    for i in range(n):
        top, left = _tile_origin(i, ncol, h, w, pad)
        grid[top : top + h, left : left + w] = tiles[i]
    return grid


def _tile_origin(i: int, ncol: int, h: int, w: int, pad: int) -> tuple[int, int]:
    """Top-left pixel of tile ``i`` in `image_grid`'s layout (row by row, ``pad`` around)."""
    return pad + (i // ncol) * (h + pad), pad + (i % ncol) * (w + pad)


def read_image_grid(
    path: str | os.PathLike[str],
    n: int,
    *,
    ncol: int | None = None,
    size: int = 28,
    pad: int = 2,
    scale: int | None = None,
) -> np.ndarray:
    """The ``n`` tiles of a grid PNG written by `save_image_grid` (e.g. a run's
    ``samples/epoch_###.png``), as uint8 ``(n, size, size)``, row by row.

    ``ncol`` is the tiles per row it was written with (default ``ceil(sqrt(n))``, as
    `image_grid`); ``scale`` (default: found from the PNG's width) undoes the enlargement.

    Raises:
      FileNotFoundError: no such file.
      ValueError: the PNG's size does not fit ``n`` tiles of ``size`` pixels with ``pad``.
    """
    n, size = checks.positive_int(n, "n"), checks.positive_int(size, "size")
    with Image.open(path) as image:
        grid = np.asarray(image.convert("L"))
    ncol = math.ceil(math.sqrt(n)) if ncol is None else checks.positive_int(ncol, "ncol")
    nrow = math.ceil(n / ncol)
    width = ncol * (size + pad) + pad
    scale = grid.shape[1] // width if scale is None else checks.positive_int(scale, "scale")
    if scale < 1 or grid.shape != (scale * (nrow * (size + pad) + pad), scale * width):
        raise ValueError(
            f"{path}: a {grid.shape[1]}x{grid.shape[0]} PNG is not a grid of {n} tiles of "
            f"{size} px with {pad} px padding: give the n the grid was written with"
        )
    grid = grid[::scale, ::scale]
    tiles = np.empty((n, size, size), np.uint8)
    for i in range(n):
        top, left = _tile_origin(i, ncol, size, size, pad)
        tiles[i] = grid[top : top + size, left : left + size]
    return tiles


def save_image_grid(
    images: ArrayLike, path: str | os.PathLike[str], ncol: int | None = None, scale: int = 2
) -> Path:
    """Write ``image_grid(images, ncol)`` as a greyscale PNG, enlarged ``scale`` times.

    Nearest-neighbour enlargement keeps pixels sharp. Parent folders are created and the
    file is replaced atomically. Uses PIL only (a few ms for 100 images).

    Returns:
        The PNG path.
    """
    scale = checks.positive_int(scale, "scale")
    grid = image_grid(images, ncol=ncol)
    if scale > 1:
        grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    path = Path(path)
    with atomic_write(path, "wb") as f:
        Image.fromarray(grid).save(f, format="PNG")  # uint8 (H, W) -> greyscale "L"
    return path


def make_gif(
    png_paths: Sequence[str | os.PathLike[str]],
    out_path: str | os.PathLike[str],
    duration_ms: int = 300,
    loop: int = 0,
    *,
    last_frame_ms: int | None = None,
) -> Path:
    """Animated GIF from PNG frames (e.g. one sample grid per epoch), in the given order.

    Args:
        png_paths: frames; all must have the same size.
        duration_ms: display time of each frame.
        loop: 0 = loop forever, k = play k extra times.
        last_frame_ms: display time of the last frame; default ``4 * duration_ms`` so the
            final samples can be seen.

    Note: identical consecutive frames are merged by the GIF writer (their times add up).

    Raises:
        ValueError: no frames, frames of different sizes, or a duration < 1 or loop < 0.
        TypeError: a duration or ``loop`` that is not an int.
        FileNotFoundError: a frame does not exist.
    """
    if isinstance(png_paths, str | os.PathLike) or len(png_paths) == 0:
        raise ValueError("png_paths must be a non-empty list of PNG files")
    duration_ms = checks.positive_int(duration_ms, "duration_ms")
    last_ms = 4 * duration_ms if last_frame_ms is None else last_frame_ms
    last_ms = checks.positive_int(last_ms, "last_frame_ms")
    loop = checks.integer(loop, "loop", low=0)  # 0 loops forever
    frames = []
    for p in png_paths:
        with Image.open(p) as im:
            frames.append(im.convert("L") if im.mode in ("L", "LA") else im.convert("RGB"))
    sizes = {f.size for f in frames}
    if len(sizes) > 1:
        raise ValueError(f"all frames must have the same size, got {sorted(sizes)}")
    if len({f.mode for f in frames}) > 1:  # mixed grey and colour frames: use colour
        frames = [f.convert("RGB") for f in frames]
    durations = [duration_ms] * (len(frames) - 1) + [last_ms]
    out_path = Path(out_path)
    with atomic_write(out_path, "wb") as f:
        frames[0].save(
            f,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=durations,
            loop=loop,
        )
    return out_path
