"""Tests for gankit.plots.analysis: the PCA and embedding figures build, read and save."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: tests run without a display

import numpy as np
import pytest
from matplotlib.figure import Figure

from gankit.plots import analysis as ap
from gankit.plots.style import FULL_WIDTH_IN, save_figure


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, 28, 28, 1)).astype(np.float32)


def _assert_saves(fig: Figure, tmp_path, name: str) -> None:
    paths = save_figure(fig, tmp_path / name)
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert all(p.stat().st_size > 0 for p in paths)


# ---------------------------------------------------------------------------- embeddings
def _embedding_inputs(n: int = 40):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 2)), np.arange(n) % 10, np.arange(n) >= n // 2


def test_plot_embedding_2d(tmp_path):
    points, digits, fake = _embedding_inputs()
    fig = ap.plot_embedding_2d(points, digits, fake, title="t-SNE of embeddings")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("t-SNE 1", "t-SNE 2")
    assert ax.get_title() == "t-SNE of embeddings"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [str(d) for d in range(10)] + ["real", "synthetic"]
    real, synthetic = ax.collections
    assert len(real.get_offsets()) == 20 and len(synthetic.get_offsets()) == 20
    # colour = digit: the first real point is digit 0
    np.testing.assert_allclose(
        real.get_facecolors()[0][:3], matplotlib.colors.to_rgb(ap.DIGIT_COLORS[0])
    )
    _assert_saves(fig, tmp_path, "embedding")


def test_plot_embedding_2d_into_given_axes_with_pca_labels():
    points, digits, fake = _embedding_inputs()
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert ap.plot_embedding_2d(points, digits, fake, method="PCA", ax=right) is fig
    assert right.get_xlabel() == "PC 1" and not left.collections


def test_plot_embedding_maps_draws_one_titled_panel_per_map_at_full_width():
    points, digits, fake = _embedding_inputs()
    fig = ap.plot_embedding_maps(
        {"tsne": points, "pca": points[:, ::-1]}, digits, fake, caption="20 real + 20 synthetic"
    )
    assert [ax.get_title() for ax in fig.axes] == [
        "t-SNE: 20 real + 20 synthetic",
        "PCA: 20 real + 20 synthetic",
    ]
    assert [ax.get_xlabel() for ax in fig.axes] == ["t-SNE 1", "PC 1"]
    assert fig.get_figwidth() == FULL_WIDTH_IN
    with pytest.raises(ValueError, match="maps is empty"):
        ap.plot_embedding_maps({}, digits, fake)


def test_plot_embedding_2d_validation():
    points, digits, fake = _embedding_inputs()
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        ap.plot_embedding_2d(points[:, :1], digits, fake)
    with pytest.raises(ValueError, match="0-9"):
        ap.plot_embedding_2d(points, digits + 1, fake)
    with pytest.raises(ValueError, match="shape"):
        ap.plot_embedding_2d(points, digits[:-1], fake)
    with pytest.raises(TypeError, match="booleans"):
        ap.plot_embedding_2d(points, digits, fake.astype(int))


# ---------------------------------------------------------------------------- confidence
def test_plot_confidence_histograms(tmp_path):
    rng = np.random.default_rng(0)
    real, fake = rng.beta(20, 1, 100), rng.beta(4, 1, 100) * 0.9 + 0.1
    fig = ap.plot_confidence_histograms(real, fake, title="reference classifier", bins=15)
    left, right = fig.axes
    assert len(left.patches) == len(right.patches) == 15
    # the same bins and the same y scale in both panels
    assert [p.get_x() for p in left.patches] == [p.get_x() for p in right.patches]
    assert left.get_ylim() == right.get_ylim()
    assert sum(p.get_height() for p in left.patches) == 100
    assert left.get_title().startswith("real") and right.get_title().startswith("synthetic")
    assert "mean 0.9" in left.get_title()
    assert left.get_ylabel() == "images" and "confidence" in fig.get_supxlabel()
    assert fig.get_suptitle() == "reference classifier"
    assert left.get_xscale() == "linear"  # most confidences below 0.99: the plain axis
    _assert_saves(fig, tmp_path, "confidence")


def test_confidence_histograms_spread_near_certain_images_on_a_log_doubt_axis():
    rng = np.random.default_rng(0)
    real, fake = 1 - rng.exponential(0.002, 100), 1 - rng.exponential(0.01, 100)
    fig = ap.plot_confidence_histograms(real, fake, bins=10)
    left, right = fig.axes
    assert left.get_xscale() == "log" and "1 − confidence" in fig.get_supxlabel()
    filled = sum(p.get_height() > 0 for p in left.patches)
    assert filled >= 4  # not one bar at 1.0
    assert sum(p.get_height() for p in right.patches) == 100
    plain = ap.plot_confidence_histograms(real, fake, doubt_axis=False)
    assert plain.axes[0].get_xscale() == "linear"


def test_plot_confidence_histograms_log_and_validation():
    fig = ap.plot_confidence_histograms([0.5, 0.99], [0.3, 1.0], log_y=True)
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ap.plot_confidence_histograms([0.5, 1.2], [0.3])
    with pytest.raises(ValueError, match="non-empty"):
        ap.plot_confidence_histograms([], [0.3])
    with pytest.raises(ValueError, match="bins"):
        ap.plot_confidence_histograms([0.5], [0.3], bins=0)


# ------------------------------------------------------------------------------- PCA
def test_plot_reconstructions(tmp_path):
    originals = _images(6)
    recon = {50: _images(6, 1), 5: _images(6, 2)}
    fig = ap.plot_reconstructions(originals, recon, title="PCA reconstructions")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["original", "k=5", "k=50"]
    _assert_saves(fig, tmp_path, "reconstructions")
    with pytest.raises(ValueError, match="shape"):
        ap.plot_reconstructions(originals, {5: _images(5)})
    with pytest.raises(ValueError, match="non-empty"):
        ap.plot_reconstructions(originals, {})


def test_plot_explained_variance_single_curve_labels_each_mark(tmp_path):
    ratio = np.array([0.5, 0.3, 0.15, 0.05])
    fig = ap.plot_explained_variance(ratio, marks=(0.8, 0.9), title="MNIST")
    (ax,) = fig.axes
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.5, 0.8, 0.95, 1.0])
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "explained variance"
    (text,) = ax.texts
    assert text.get_text() == "80%: k = 2\n90%: k = 3"
    _assert_saves(fig, tmp_path, "explained_variance")


def test_plot_explained_variance_per_digit_and_dict():
    ratios = np.full((10, 20), 0.05)
    fig = ap.plot_explained_variance(ratios)
    assert len(fig.axes[0].get_lines()) == 10 + 3  # a curve per digit, three marks
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [str(d) for d in range(10)]
    fig = ap.plot_explained_variance({"global": ratios[0], "digit 1": ratios[1]}, marks=())
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["global", "digit 1"]


def test_plot_explained_variance_validation():
    with pytest.raises(ValueError, match="summing"):
        ap.plot_explained_variance(np.array([0.7, 0.7]))
    with pytest.raises(ValueError, match="summing"):
        ap.plot_explained_variance(np.array([-0.1, 0.5]))
    with pytest.raises(ValueError, match="marks"):
        ap.plot_explained_variance(np.array([0.5, 0.5]), marks=(90,))
    with pytest.raises(ValueError, match="shape"):
        ap.plot_explained_variance(np.zeros((2, 2, 2)))


# --------------------------------------------------------------------------- samples
def test_plot_sample_grids(tmp_path):
    samples = {"PCA (k=87)": _images(100), "CGAN": _images(100, 1), "real": _images(100, 2)}
    fig = ap.plot_sample_grids(samples, ncol=10, title="samples")
    assert [ax.get_title() for ax in fig.axes] == list(samples)
    assert fig.get_figwidth() == pytest.approx(7.16)  # three panels: the full page width
    _assert_saves(fig, tmp_path, "grids")
    with pytest.raises(ValueError, match="non-empty"):
        ap.plot_sample_grids({})
