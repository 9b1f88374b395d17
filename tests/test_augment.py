"""Augmentation: the classical augmenter and the elastic distortion (known answers of the
bilinear sampler, identity outside training, range, seeding, strength)."""

import numpy as np
import pytest

from gankit.data import augment
from gankit.data.augment import BACKGROUND, ElasticDistortion, build_augmenter


def bar_images(n=8):
    """Background images with a bright vertical bar, so distortions show."""
    images = np.full((n, 28, 28, 1), BACKGROUND, np.float32)
    images[:, 6:22, 12:16] = 1.0
    return images


def test_augmenter_changes_images_in_training_only_and_stays_in_range():
    images = bar_images()
    augment_ = build_augmenter(rotation_degrees=15, zoom=0.1, translate=0.1, contrast=0.3, seed=0)
    assert len(augment_.layers) == 4
    assert np.array_equal(np.asarray(augment_(images, training=False)), images)
    out = np.asarray(augment_(images, training=True))
    assert out.shape == images.shape and not np.allclose(out, images)
    assert out.min() >= -1 and out.max() <= 1
    again = build_augmenter(rotation_degrees=15, zoom=0.1, translate=0.1, contrast=0.3, seed=0)
    assert np.allclose(np.asarray(again(images, training=True)), out)  # seeded


def test_augmenter_leaves_out_zero_parameters_and_rejects_negative_ones():
    augment_ = build_augmenter(rotation_degrees=0, zoom=0, translate=0.1, contrast=0, seed=0)
    assert [type(layer).__name__ for layer in augment_.layers] == ["RandomTranslation"]
    with_elastic = build_augmenter(
        rotation_degrees=0, zoom=0, translate=0, contrast=0, elastic_alpha=34, seed=0
    )
    assert [type(layer).__name__ for layer in with_elastic.layers] == ["ElasticDistortion"]
    with pytest.raises(ValueError, match="zoom"):
        build_augmenter(rotation_degrees=0, zoom=-0.1, translate=0, contrast=0, seed=0)
    with pytest.raises(ValueError, match="elastic_alpha"):
        build_augmenter(rotation_degrees=0, zoom=0, translate=0, contrast=0, elastic_alpha=-1,
                        seed=0)  # fmt: skip


def test_bilinear_sampling_known_answers():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (2, 5, 6, 1)).astype(np.float32)
    rows = np.broadcast_to(np.arange(5, dtype=np.float32)[None, :, None], (2, 5, 6))
    cols = np.broadcast_to(np.arange(6, dtype=np.float32)[None, None, :], (2, 5, 6))
    # the identity grid gives the image back
    assert np.allclose(np.asarray(augment._bilinear(images, rows, cols)), images, atol=1e-6)
    # one row down: row i reads row i + 1; the last row reads outside, the background
    down = np.asarray(augment._bilinear(images, rows + 1, cols))
    assert np.allclose(down[:, :-1], images[:, 1:], atol=1e-6)
    assert np.allclose(down[:, -1], BACKGROUND)
    # half a column right: the mean of each pixel and its right neighbour
    half = np.asarray(augment._bilinear(images, rows, cols + 0.5))
    assert np.allclose(half[:, :, :-1], (images[:, :, :-1] + images[:, :, 1:]) / 2, atol=1e-6)
    assert np.allclose(half[:, :, -1], (images[:, :, -1] + BACKGROUND) / 2, atol=1e-6)


def test_elastic_distortion_is_identity_outside_training_and_at_alpha_zero():
    images = bar_images()
    layer = ElasticDistortion(34.0, seed=0)
    assert np.array_equal(np.asarray(layer(images, training=False)), images)
    assert np.array_equal(np.asarray(ElasticDistortion(0.0)(images, training=True)), images)


def test_elastic_distortion_bends_strokes_within_range_seeded_and_grows_with_alpha():
    images = bar_images()
    out = np.asarray(ElasticDistortion(34.0, seed=3)(images, training=True))
    assert out.shape == images.shape and out.min() >= -1 and out.max() <= 1
    assert not np.allclose(out, images)
    assert not np.allclose(out[0], out[1])  # a field of its own per image
    again = np.asarray(ElasticDistortion(34.0, seed=3)(images, training=True))
    assert np.allclose(again, out)
    blank = np.full_like(images, BACKGROUND)
    assert np.allclose(
        np.asarray(ElasticDistortion(34.0, seed=3)(blank, training=True)), BACKGROUND
    )
    change = [
        np.abs(np.asarray(ElasticDistortion(a, seed=3)(images, training=True)) - images).mean()
        for a in (8.0, 34.0, 80.0)
    ]
    assert change[0] < change[1] < change[2]


@pytest.mark.parametrize(("alpha", "sigma", "match"), [(-1.0, 4.0, "alpha"), (34.0, 0.0, "sigma")])
def test_elastic_distortion_rejects_bad_parameters(alpha, sigma, match):
    with pytest.raises(ValueError, match=match):
        ElasticDistortion(alpha, sigma)
