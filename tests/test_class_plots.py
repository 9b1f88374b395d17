"""Class-conditional figures: they draw what they are given and reject bad input."""

import numpy as np
import pytest

from gankit.plots.classes import plot_captioned_images, plot_confusion_matrix, plot_per_class_rates


def test_confusion_matrix_cells_are_row_percentages():
    confusion = np.diag([100] * 10)
    confusion[3, 3], confusion[3, 8] = 90, 10
    fig = plot_confusion_matrix(confusion, title="asked vs seen")
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"100", "90.0", "10.0"} <= texts
    assert len(fig.axes[0].texts) == 11  # zero cells stay blank


def test_confusion_matrix_rejects_non_square_or_negative():
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.ones((10, 9)))
    with pytest.raises(ValueError, match="non-negative"):
        plot_confusion_matrix(-np.eye(10))


def test_per_class_rates_one_bar_per_model_and_digit():
    fig = plot_per_class_rates(
        {"a": np.full(10, 0.99), "b": np.linspace(0.9, 1.0, 10)}, reference=0.995
    )
    assert len(fig.axes[0].patches) == 20
    with pytest.raises(ValueError, match="10 per-class values"):
        plot_per_class_rates({"a": np.ones(9)})
    with pytest.raises(ValueError, match="empty"):
        plot_per_class_rates({})


def test_captioned_images_need_one_caption_each():
    images = np.zeros((12, 28, 28, 1), np.float32)
    fig = plot_captioned_images(images, [f"asked {i}" for i in range(12)], ncol=5)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 12 and shown[4].get_title() == "asked 4"
    with pytest.raises(ValueError, match="12 images but 3 captions"):
        plot_captioned_images(images, ["a", "b", "c"])


def test_per_class_rates_zoom_to_the_data_when_all_rates_are_high():
    fig = plot_per_class_rates({"a": np.full(10, 0.995), "b": np.linspace(0.98, 1.0, 10)})
    (ax,) = fig.axes
    low, high = ax.get_ylim()
    assert 0.97 <= low < 0.98 and high == 1.0
    assert ax.yaxis.get_major_formatter()(1.0, 0).endswith("%")


def test_per_class_rates_add_a_zoomed_panel_when_one_model_is_far_below():
    fig = plot_per_class_rates({"good": np.full(10, 0.99), "failing": np.full(10, 0.1)})
    full, zoomed = fig.axes
    assert full.get_ylim()[0] <= 0.0
    assert 0.97 <= zoomed.get_ylim()[0] < 0.99
    assert fig.axes[0].get_legend() is not None


def test_confusion_cells_drop_the_leading_zero():
    confusion = np.diag([1000] * 10)
    confusion[2, 2], confusion[2, 5] = 996, 4
    texts = {t.get_text() for t in plot_confusion_matrix(confusion).axes[0].texts}
    assert {"99.6", ".4", "100"} <= texts
