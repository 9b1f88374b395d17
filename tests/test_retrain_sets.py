"""Tests of gankit.studies.retrain_sets: real splits, synthetic pools, elite filter, augmentation.

All on small arrays; no classifier is trained here (see test_retrain.py for that).
"""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest

from gankit.studies import retrain_elite
from gankit.studies import retrain_sets as rs


def labels_with_counts(counts, seed=0):
    """Shuffled int labels with ``counts[c]`` examples of class c."""
    y = np.repeat(np.arange(len(counts)), counts)
    return np.random.default_rng(seed).permutation(y)


def class_images(labels):
    """Images that say their class: every pixel is -1 + 0.2 * class (in [-1, 0.8])."""
    labels = np.asarray(labels)
    return np.broadcast_to(-1 + 0.2 * labels[:, None, None, None], (len(labels), 28, 28, 1)).astype(
        np.float32
    )


class CountingSource:
    """A synthetic source that records its calls and returns `class_images`."""

    def __init__(self):
        self.calls = []

    def __call__(self, labels, seed):
        self.calls.append((len(labels), seed))
        return class_images(labels)


# ------------------------------------------------------------------------------ sizes


def test_per_class_count_takes_ints_and_percentages():
    assert rs.per_class_count(10, 500) == 10
    assert rs.per_class_count(0, 500) == 0
    assert rs.per_class_count("10%", 500) == 50
    assert rs.per_class_count("100%", 5421) == 5421
    assert rs.per_class_count(" 0.1% ", 500) == 1  # rounds, but never to 0
    assert rs.per_class_count("50%", rs.SYNTH_FULL_PER_CLASS) == 3000


@pytest.mark.parametrize(
    ("size", "error"),
    [
        (-1, ValueError),
        ("0%", ValueError),
        ("150%", ValueError),
        ("ten", ValueError),
        ("10", ValueError),
        (0.5, TypeError),
        (True, TypeError),
        (None, TypeError),
        (501, ValueError),  # more than the class has
    ],
)
def test_bad_sizes_raise(size, error):
    with pytest.raises(error):
        rs.per_class_count(size, 500, "n_real")


def test_synthetic_counts_are_not_capped_by_the_real_set_but_by_memory():
    assert rs.synth_count("10%") == 600
    assert rs.synth_count("100%") == rs.SYNTH_FULL_PER_CLASS
    # a generator draws more than the 6000 real images a class has (fresh images per pass)
    assert rs.synth_count(36_000) == 36_000
    assert rs.synth_count(0) == 0
    with pytest.raises(ValueError, match="draw fewer"):
        rs.synth_count(rs.SYNTH_MAX_PER_CLASS + 1)
    with pytest.raises(ValueError, match="percentage"):
        rs.synth_count("150%")
    with pytest.raises(TypeError):
        rs.synth_count(1.5)


def test_derived_seeds_are_stable_and_differ_by_purpose():
    assert rs.derived_seed(3, "synthetic") == rs.derived_seed(3, "synthetic")
    seeds = {rs.derived_seed(s, p) for s in (0, 1) for p in ("synthetic", "augment")}
    assert len(seeds) == 4 and all(0 <= s < 2**31 for s in seeds)


# ------------------------------------------------------------------------------- real


def test_split_real_is_stratified_disjoint_and_seeded():
    y = labels_with_counts([30 + c for c in range(10)])
    split = rs.split_real(y, 5, 3, seed=1)
    assert np.bincount(y[split.train], minlength=10).tolist() == [5] * 10
    assert np.bincount(y[split.validation], minlength=10).tolist() == [3] * 10
    assert not set(split.train) & set(split.validation)
    assert len(set(split.train)) == 50
    again = rs.split_real(y, 5, 3, seed=1)
    assert np.array_equal(split.train, again.train)
    assert np.array_equal(split.validation, again.validation)
    other = rs.split_real(y, 5, 3, seed=2)
    assert set(split.train) != set(other.train)


def test_split_real_subsets_are_nested_and_share_the_validation_set():
    y = labels_with_counts([40] * 10)
    splits = [rs.split_real(y, n, 4, seed=0) for n in (1, 5, 10, "50%")]
    for smaller, larger in itertools.pairwise(splits):
        assert set(smaller.train) < set(larger.train)
        assert np.array_equal(smaller.validation, larger.validation)


def test_split_real_percentages_keep_the_class_proportions():
    counts = [110, 210, 60, 110, 110, 110, 110, 110, 110, 110]
    y = labels_with_counts(counts)
    split = rs.split_real(y, "50%", 10, seed=0)
    # 50 % of what is left of each class after 10 validation images
    assert np.bincount(y[split.train], minlength=10).tolist() == [(c - 10) // 2 for c in counts]
    full = rs.split_real(y, "100%", 10, seed=0)
    assert len(full.train) + len(full.validation) == len(y)


def test_split_real_rejects_small_classes_and_bad_labels():
    y = labels_with_counts([12] * 10)
    with pytest.raises(ValueError, match="class 0"):
        rs.split_real(y, 5, 12, seed=0)
    with pytest.raises(ValueError, match="n_real"):
        rs.split_real(y, 8, 5, seed=0)
    with pytest.raises(ValueError, match="labels"):
        rs.split_real(np.array([0, 10]), 1, 0, seed=0)
    with pytest.raises(TypeError):
        rs.split_real(y, 1, "10%", seed=0)


# -------------------------------------------------------------------------- synthetic


def test_synthetic_labels_are_balanced_in_every_prefix():
    labels = rs.synthetic_labels(6)
    assert labels.dtype == np.int32 and len(labels) == 60
    for k in (1, 3, 6):
        assert np.bincount(labels[: 10 * k], minlength=10).tolist() == [k] * 10


def test_pool_draws_once_per_seed_and_serves_prefixes():
    source = CountingSource()
    pool = rs.SyntheticPool(source, n_max=20)
    x_small, y_small = pool.take(5, seed=0)
    x_large, y_large = pool.take(20, seed=0)
    assert x_small.shape == (50, 28, 28, 1) and x_small.dtype == np.float32
    assert np.array_equal(x_small, x_large[:50]) and np.array_equal(y_small, y_large[:50])
    assert np.allclose(x_large[:, 0, 0, 0], -1 + 0.2 * y_large)  # labels match the images
    assert source.calls == [(200, rs.derived_seed(0, "synthetic"))]
    pool.take(5, seed=1)
    assert len(source.calls) == 2 and source.calls[1][1] == rs.derived_seed(1, "synthetic")
    with pytest.raises(ValueError, match="n_max"):
        pool.take(21, seed=1)


@pytest.mark.parametrize(
    "bad_source",
    [
        lambda labels, seed: class_images(labels) * 2,  # outside [-1, 1]
        lambda labels, seed: class_images(labels)[:-1],  # one image short
        lambda labels, seed: np.zeros((len(labels), 32, 32, 1), np.float32),  # wrong shape
    ],
)
def test_pool_rejects_bad_images(bad_source):
    with pytest.raises(ValueError):
        rs.SyntheticPool(bad_source, n_max=2).take(2, seed=0)


def tiny_generator(conditional=True):
    """A conditional (noise, label) -> image model, the shape of a CGAN generator."""
    noise = keras.Input((4,), name="noise")
    image = keras.layers.Dense(28 * 28, activation="tanh")(noise)
    inputs = [noise]
    if conditional:
        label = keras.Input((), dtype="int32", name="label")
        shift = keras.layers.Flatten()(keras.layers.Embedding(10, 28 * 28)(label[:, None]))
        image = keras.layers.Activation("tanh")(keras.layers.Add()([image, shift]))
        inputs.append(label)
    return keras.Model(inputs, keras.layers.Reshape((28, 28, 1))(image))


def test_a_conditional_generator_is_a_source():
    source = rs.as_synthetic_source(tiny_generator())
    labels = rs.synthetic_labels(3)
    images = np.asarray(source(labels, 7))
    assert images.shape == (30, 28, 28, 1) and np.abs(images).max() <= 1
    assert np.array_equal(images, source(labels, 7))  # seeded
    assert not np.array_equal(images, source(labels, 8))


def test_an_ensemble_shares_every_class_between_its_generators():
    first, second = tiny_generator(), tiny_generator()
    source = rs.ensemble_source([first, second])
    labels = rs.synthetic_labels(4)
    images = np.asarray(source(labels, 7))
    assert images.shape == (40, 28, 28, 1)
    assert np.array_equal(images, source(labels, 7))  # seeded
    # the j-th image of each class comes from generator j % 2, with its own noise
    owners = rs.ensemble_owners(labels, 2)
    alone = [rs.as_synthetic_source(g) for g in (first, second)]
    for k in (0, 1):
        mine = owners == k
        expected = alone[k](labels[mine], rs.derived_seed(7, f"ensemble/{k}"))
        assert np.allclose(images[mine], expected)
        assert list(np.bincount(labels[mine], minlength=10)) == [2] * 10  # every class
    with pytest.raises(ValueError, match="at least two"):
        rs.ensemble_source([first])
    with pytest.raises(ValueError, match="unconditional"):
        rs.ensemble_source([first, tiny_generator(conditional=False)])


def test_sources_that_cannot_give_labelled_images_are_rejected():
    with pytest.raises(ValueError, match="unconditional"):
        rs.as_synthetic_source(tiny_generator(conditional=False))
    with pytest.raises(TypeError, match="callable"):
        rs.as_synthetic_source(np.zeros((10, 28, 28, 1)))


# ------------------------------------------------------------------------------ elite


def test_elite_mask_needs_the_right_class_and_enough_confidence():
    probs = np.full((4, 10), 0.0)
    probs[0, 3] = 0.95  # label 3, confident: kept
    probs[1, 3] = 0.80  # label 3, not confident enough: dropped
    probs[2, 5] = 0.99  # label 3 but classified 5: dropped
    probs[3, 3] = 0.90  # exactly the threshold: kept
    probs += (1 - probs.sum(axis=1, keepdims=True)) / 10
    mask = retrain_elite.elite_mask(probs, np.array([3, 3, 3, 3]), threshold=0.9)
    assert mask.tolist() == [True, False, False, True]
    assert retrain_elite.elite_mask(probs, np.array([3, 3, 3, 3]), threshold=0.0).tolist() == [
        True,
        True,
        False,
        True,
    ]
    with pytest.raises(ValueError):
        retrain_elite.elite_mask(probs, np.array([3, 3, 3, 3]), threshold=1.5)
    with pytest.raises(ValueError):
        retrain_elite.elite_mask(probs, np.array([3, 3]), threshold=0.5)


def test_select_elite_keeps_what_the_reference_recognises(monkeypatch):
    labels = np.arange(10).astype(np.int32)
    true_classes = np.where(labels % 2, (labels + 1) % 10, labels)  # odd labels come out wrong
    images = class_images(true_classes)
    # A stub reference that reads the class from the pixel values, 95 % sure.
    monkeypatch.setattr(
        retrain_elite,
        "predict_proba",
        lambda model, x: (
            0.05 / 9
            + (0.95 - 0.05 / 9) * np.eye(10)[np.rint((x[:, 0, 0, 0] + 1) / 0.2).astype(int)]
        ),
    )
    kept_x, kept_y, fraction = retrain_elite.select_elite(None, images, labels, threshold=0.9)
    assert kept_y.tolist() == [0, 2, 4, 6, 8] and fraction == 0.5
    assert np.array_equal(kept_x, images[::2])
    assert retrain_elite.select_elite(None, images, labels, threshold=0.99)[2] == 0.0


# ---------------------------------------------------------------------- training sets


def test_build_training_sets_sizes_and_sources():
    y = labels_with_counts([20] * 10)
    x = np.zeros((len(y), 28, 28), np.uint8)
    source = CountingSource()
    sets = rs.build_training_sets(
        x, y, n_real=3, val_per_class=2, seed=0, n_synth=4, pool=rs.SyntheticPool(source, 4)
    )
    assert sets.real[0].shape == (30, 28, 28, 1) and sets.real[0].dtype == np.float32
    assert np.bincount(sets.real[1], minlength=10).tolist() == [3] * 10
    assert np.bincount(sets.validation[1], minlength=10).tolist() == [2] * 10
    assert np.bincount(sets.synthetic[1], minlength=10).tolist() == [4] * 10
    assert sets.elite_kept_fraction is None
    no_val = rs.build_training_sets(x, y, n_real=3, val_per_class=0, seed=0)
    assert no_val.validation is None and len(no_val.synthetic[0]) == 0
    with pytest.raises(ValueError, match="synthetic="):
        rs.build_training_sets(x, y, n_real=3, val_per_class=2, seed=0, n_synth=4)
    with pytest.raises(ValueError, match="reference="):
        rs.build_training_sets(
            x,
            y,
            n_real=3,
            val_per_class=2,
            seed=0,
            n_synth=4,
            pool=rs.SyntheticPool(source, 4),
            elite_threshold=0.9,
        )


def test_training_stream_mixes_at_the_ratio():
    real = (np.zeros((10, 28, 28, 1), np.float32), np.zeros(10, np.int32))  # class 0
    synth = (np.ones((500, 28, 28, 1), np.float32), np.ones(500, np.int32))  # class 1
    batches = list(rs.training_stream([real, synth], 100, seed=0, ratio=0.25).take(40))
    labels = np.concatenate([np.asarray(y).argmax(axis=1) for _, y in batches])
    assert len(labels) == 4000 and abs(np.mean(labels == 0) - 0.25) < 0.03
    # Without a ratio the two sets are one: real images are 10 of 510.
    batches = list(rs.training_stream([real, synth], 102, seed=0).take(50))
    labels = np.concatenate([np.asarray(y).argmax(axis=1) for _, y in batches])
    assert np.sum(labels == 0) == 100  # 10 passes over the 510 images, each real one 10 times


def test_training_stream_repeats_sets_smaller_than_a_batch():
    tiny = (np.zeros((3, 28, 28, 1), np.float32), np.array([0, 1, 2], np.int32))
    x, y = next(iter(rs.training_stream([tiny], 32, seed=0)))
    assert x.shape == (32, 28, 28, 1) and y.shape == (32, 10)


def test_an_elite_fraction_keeps_the_most_confident_share_of_each_class():
    labels = np.array([3] * 5 + [7] * 4)
    probs = np.full((9, 10), 0.0)
    label_prob = [0.99, 0.95, 0.999, 0.97, 0.98, 0.96, 0.999, 0.97, 0.98]
    probs[np.arange(9), labels] = label_prob
    probs += (1 - probs.sum(axis=1, keepdims=True)) / 10
    # 40% of 5 threes -> 2 (0.999, 0.99); 40% of 4 sevens -> ceil(1.6) = 2 (0.999, 0.98)
    mask = retrain_elite.elite_mask(probs, labels, threshold=0.9, keep_fraction=0.4)
    assert np.flatnonzero(mask).tolist() == [0, 2, 6, 8]
    # the threshold still applies: nothing under 0.975 survives, even in the top share
    strict = retrain_elite.elite_mask(probs, labels, threshold=0.975, keep_fraction=1.0)
    assert np.flatnonzero(strict).tolist() == [0, 2, 4, 6, 8]
    with pytest.raises(ValueError, match="keep_fraction"):
        retrain_elite.elite_mask(probs, labels, threshold=0.5, keep_fraction=0)
