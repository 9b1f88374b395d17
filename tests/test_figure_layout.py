"""Every public figure function, drawn at the size it chooses on small synthetic data like
the notebooks pass: no text may leave the figure, overlap another text, or be smaller than
8 pt (IEEE column-width figures are printed at 100 %)."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: tests run without a display

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from gankit.experiments.sweep_report import plot_metric_vs_param
from gankit.plots import analysis, bars, classes, curves, retrain, samples, variants

MIN_FONT_PT = 8.0
TOLERANCE_PX = 1.0  # anti-aliasing and rounding of extents

_RNG = np.random.default_rng(0)
_RUNS = ["tuned", "G wider (64)", "D shallow (1 block)", "virtual batch norm (G)", "minimax loss"]


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28, 1)).astype(np.float32)


def _steps(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "step": np.arange(1, n + 1),
            "epoch": np.arange(1, n + 1) / 40,
            "d_loss_real": 0.6 + 0.1 * rng.standard_normal(n),
            "d_loss_fake": 0.5 + 0.1 * rng.standard_normal(n),
            "d_loss": 1.1 + 0.1 * rng.standard_normal(n),
            "g_loss": 1.0 + 0.2 * rng.standard_normal(n),
            "d_acc_real": rng.uniform(0.5, 1, n),
            "d_acc_fake": rng.uniform(0.3, 0.9, n),
        }
    )


def _epochs(n: int = 10) -> pd.DataFrame:
    epoch = np.arange(1, n + 1)
    return pd.DataFrame(
        {
            "epoch": epoch,
            "tarr": 1 - 0.5 / epoch,
            "fid": 300 / epoch,
            "inception_score": 9 - 5 / epoch,
            "wasserstein": 2.0 / epoch,
        }
    )


def _retrain_results() -> pd.DataFrame:
    rows = []
    strategies = ("real only", "real + synthetic", "augmentation + synthetic", "fair CGAN mix")
    for k, strategy in enumerate(strategies):
        for per_class in (1, 10, 100):
            for seed in range(3):
                accuracy = 0.5 + 0.1 * k + 0.1 * np.log10(per_class) + 0.01 * seed
                rows.append({"strategy": strategy, "real_per_class": float(per_class),
                             "seed": seed, "test_accuracy": min(accuracy, 0.99)})  # fmt: skip
    return pd.DataFrame(rows)


def _gains() -> pd.DataFrame:
    rows = [
        {"n_real": n_real, "synth_per_class": float(s), "seed": seed, "gain": 0.01 * seed}
        for n_real in (1, 10, "10%")
        for s in (10, 100, 600)
        for seed in range(3)
    ]
    return pd.DataFrame(rows)


def _registry() -> pd.DataFrame:
    rows = [
        {
            "run_id": f"r{i}",
            "status": "ok",
            "seed": seed,
            "name": "sweep",
            "train.g_lr": lr,
            "train.batch_size": batch,
            "fid": 100 * lr * 1e4 + seed,
            "real_test.fid": 5.1,  # the floor: a dashed line, named in the y label
        }
        for i, (lr, batch, seed) in enumerate(itertools.product((1e-4, 1e-3), (64, 128), (0, 1)))
    ]
    return pd.DataFrame(rows)


def _spectra() -> dict[str, np.ndarray]:
    return {name: _RNG.normal(size=(28, 28)) for name in ("real", "transpose", "upsample")}


def _confusion() -> np.ndarray:
    return np.diag(np.full(10, 990)) + _RNG.integers(0, 3, (10, 10))


FIGURES = {
    "image_grid": lambda: samples.plot_image_grid(
        _images(100), ncol=10, title="Tuned DCGAN: 100 random samples"
    ),
    "image_grid_rows": lambda: samples.plot_image_grid(
        _images(100), row_labels=range(10), title="CGAN with latent dim 1: each row is one digit"
    ),
    "epoch_grids": lambda: samples.plot_epoch_grids(
        {e: _images(64, e) for e in range(1, 11)},
        title="Tuned DCGAN: samples from a fixed noise, by epoch",
    ),
    "history": lambda: curves.plot_history(
        _steps(), title="Failing DCGAN: losses and D accuracy per step", smooth=20
    ),
    "histories": lambda: curves.plot_histories(
        {name: _steps() for name in _RUNS},
        "d_acc_real",
        smooth=20,
        title="D accuracy on real images during training",
    ),
    "histories_tarr": lambda: curves.plot_histories(
        {name: _epochs() for name in _RUNS[:4]},
        "tarr",
        title="TARR on 2,000 samples after each epoch",
        ylabel="TARR (per-epoch meter, 2,000 samples)",
    ),
    "metric_bars": lambda: bars.plot_metric_bars(
        pd.DataFrame({"configuration": _RUNS, "fid": [584, 615, 2420, 1766, 628]}),
        "fid",
        label_col="configuration",
        title="FID on classifier embeddings (lower is better)",
    ),
    "metric_bars_floor": lambda: bars.plot_metric_bars(
        pd.DataFrame({"variant": ["10", "100", "200"], "fid": [28.0, 27.5, 33.0]}),
        "fid",
        label_col="variant",
        floor=5.1,
        title="FID by latent dimension (lower is better)",
    ),
    "metric_bars_errors": lambda: bars.plot_metric_bars(
        pd.DataFrame(
            {
                "configuration": _RUNS,
                "inception_score": [5.0, 4.7, 1.0, 1.3, 4.9],
                "inception_score_std": [0.1, 0.1, 0.01, 0.05, 0.1],
            }
        ),
        "inception_score",
        label_col="configuration",
        err_col="inception_score_std",
        title="Inception score (10 splits; higher is better)",
    ),
    "class_fractions": lambda: bars.plot_class_fractions(
        {name: _RNG.dirichlet(np.ones(10)) for name in ("real test", "tuned", "collapse")},
        title="Which digits do the samples show?",
    ),
    "confusion_matrix": lambda: classes.plot_confusion_matrix(
        _confusion(), title="Default CGAN: asked vs seen (% of row)"
    ),
    "per_class_rates": lambda: classes.plot_per_class_rates(
        {
            "latent dim 1": np.full(10, 0.999),
            "small MLP, lr 5e-3": _RNG.uniform(0, 0.5, 10),
            "default CGAN": np.full(10, 0.995),
            "default + smoothing": np.full(10, 0.985),
        },
        reference=0.992,
        ylabel="TARR (success rate)",
        title="Success rate per digit; dashed: classifier accuracy on real test images",
    ),
    "captioned_images": lambda: classes.plot_captioned_images(
        _images(30),
        [f"{d % 10}→{(d + 3) % 10} 97%" for d in range(30)],
        title="Default CGAN: misclassified samples (asked→seen, confidence)",
    ),
    "accuracy_vs_real": lambda: retrain.plot_accuracy_vs_real(
        _retrain_results(),
        references={"reference classifier (60k real)": 0.992},
        title="Test accuracy by strategy",
    ),
    "gain_vs_synthetic": lambda: retrain.plot_gain_vs_synthetic(
        _gains(), title="Gain of real + synthetic over real only"
    ),
    "embedding_maps": lambda: analysis.plot_embedding_maps(
        {"tsne": _RNG.normal(size=(200, 2)), "pca": _RNG.normal(size=(200, 2))},
        np.tile(np.arange(10), 20),
        np.repeat([False, True], 100),
        caption="100 real + 100 synthetic",
    ),
    "embedding_2d": lambda: analysis.plot_embedding_2d(
        _RNG.normal(size=(200, 2)),
        np.tile(np.arange(10), 20),
        np.repeat([False, True], 100),
        title="t-SNE of embeddings",
    ),
    "confidence_histograms": lambda: analysis.plot_confidence_histograms(
        np.clip(1 - _RNG.exponential(0.01, 100), 0.1, 1),
        np.clip(1 - _RNG.exponential(0.05, 100), 0.1, 1),
        log_y=True,
        title="Reference classifier: 100 real and 100 synthetic images",
    ),
    "reconstructions": lambda: analysis.plot_reconstructions(
        _images(10),
        {k: _images(10, k) for k in (5, 10, 20, 50, 87, 300)},
        title="PCA reconstructions from the first k axes",
    ),
    "explained_variance": lambda: analysis.plot_explained_variance(
        {
            "all digits": np.full(100, 0.0099),
            **{f"digit {d}": np.full(100, 0.0098) for d in (0, 1, 8)},
        },
        title="Cumulative explained variance",
    ),
    "sample_grids": lambda: analysis.plot_sample_grids(
        {
            name: _images(40, k)
            for k, name in enumerate(
                [
                    "DCGAN",
                    "DCGAN + WGAN",
                    "DCGAN + WGAN-GP",
                    "CGAN",
                    "CGAN + WGAN",
                    "CGAN + WGAN-GP",
                ]
            )
        },
        ncol=10,
        title="GAN losses: samples after the same budget",
    ),
    "sample_grids_pca": lambda: analysis.plot_sample_grids(
        {
            name: _images(100, k)
            for k, name in enumerate(
                ["PCA\n(k=87)", "PCA per digit\n(k=20)", "mixture\n(k=20)", "default CGAN", "ACGAN"]
            )
        },
        ncol=10,
        title="PCA vs GAN samples, one digit per row",
    ),
    "power_spectra": lambda: variants.plot_power_spectra(
        _spectra(), title="Mean log power spectra, and minus real"
    ),
    "radial_profiles": lambda: variants.plot_radial_profiles(
        _spectra(), title="Radially averaged power"
    ),
    "interpolation_strips": lambda: variants.plot_interpolation_strips(
        {f"{m}, 3→8": _images(10, k) for k, m in enumerate(("slerp", "lerp", "pixel"))},
        title="CGAN: within a class and between two",
    ),
    "wasserstein_vs_quality": lambda: variants.plot_wasserstein_vs_quality(
        _epochs(),
        ("fid", "inception_score"),
        title="DCGAN + WGAN-GP: estimate vs quality",
        metric_note="per-epoch meter, 1,000 samples",
    ),
    "metric_vs_param": lambda: plot_metric_vs_param(
        _registry(), "train.g_lr", "fid", hue="train.batch_size", title="FID by learning rate"
    ),
}


def _axis_labels(axis) -> list[Text]:
    """Tick labels matplotlib draws: visible, non-empty, at a tick inside the view."""
    low, high = sorted(axis.get_view_interval())
    span = (high - low) * 1e-9
    drawn = []
    for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
        if not low - span <= tick.get_loc() <= high + span:
            continue
        drawn += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    return drawn


def _axes_texts(ax: Axes) -> list[Text]:
    texts = [ax.title, ax._left_title, ax._right_title, *ax.texts]
    if ax.axison:  # axis("off") hides ticks and axis labels
        texts += [ax.xaxis.label, ax.yaxis.label]
        texts += _axis_labels(ax.xaxis) + _axis_labels(ax.yaxis)
    legend = ax.get_legend()
    if legend is not None and legend.get_visible():
        texts += [*legend.get_texts(), legend.get_title()]
    return texts


def _drawn_texts(fig: Figure) -> list[Text]:
    texts = list(fig.texts)
    for sub in (fig._suptitle, fig._supxlabel, fig._supylabel):
        if sub is not None:
            texts.append(sub)
    for legend in fig.legends:
        texts += [*legend.get_texts(), legend.get_title()]
    for ax in fig.axes:
        if ax.get_visible():
            texts += _axes_texts(ax)
    unique = {id(t): t for t in texts}  # the suptitle is also one of fig.texts
    return [t for t in unique.values() if t.get_visible() and t.get_text().strip()]


def _overlap(a, b) -> bool:
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width > TOLERANCE_PX and height > TOLERANCE_PX


def layout_problems(fig: Figure) -> list[str]:
    """Texts outside the figure, overlapping pairs, and fonts under 8 pt, as messages."""
    canvas = FigureCanvasAgg(fig)  # the renderer save_figure's PNG uses
    canvas.draw()
    renderer = canvas.get_renderer()
    page = fig.bbox
    boxes = [(t, t.get_window_extent(renderer)) for t in _drawn_texts(fig)]
    problems = []
    for text, box in boxes:
        name = repr(text.get_text())
        if text.get_fontsize() < MIN_FONT_PT:
            problems.append(f"{name} is {text.get_fontsize():.1f} pt")
        if (
            box.x0 < page.x0 - TOLERANCE_PX
            or box.y0 < page.y0 - TOLERANCE_PX
            or box.x1 > page.x1 + TOLERANCE_PX
            or box.y1 > page.y1 + TOLERANCE_PX
        ):
            problems.append(f"{name} lies outside the figure ({box.extents} vs {page.extents})")
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        if _overlap(box_a, box_b):
            problems.append(f"{a.get_text()!r} overlaps {b.get_text()!r}")
    return problems


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_no_text_is_clipped_overlapping_or_small(name):
    fig = FIGURES[name]()
    assert layout_problems(fig) == []


def test_every_public_figure_function_is_drawn_here():
    """A new ``plot_*`` function must get an entry in FIGURES (named without ``plot_``)."""
    import inspect

    from gankit.experiments import sweep_report
    from gankit.plots import confidence

    modules = (analysis, bars, classes, confidence, curves, retrain, samples, variants)
    public = {
        name
        for module in (*modules, sweep_report)
        for name, obj in vars(module).items()
        if name.startswith("plot_") and inspect.isfunction(obj)
    }
    assert sorted(n for n in public if n.removeprefix("plot_") not in FIGURES) == []


def test_the_check_finds_a_clipped_title_and_an_overlap():
    fig = Figure(figsize=(2, 1.5))
    ax = fig.add_subplot()
    ax.set_title("a title much too long for a figure only two inches wide")
    ax.text(0.5, 0.5, "one", fontsize=9)
    ax.text(0.5, 0.5, "two", fontsize=9)
    problems = layout_problems(fig)
    assert any("lies outside" in p for p in problems)
    assert any("'one' overlaps 'two'" in p for p in problems)
