"""Tests of gankit.studies.retrain: configs, every strategy on tiny data, no test-set leakage.
(The resumable study and the tables are tested in test_retrain_study.py.)

Training runs use a classifier of a few hundred weights for a few steps on 20 real MNIST
images per class; the synthetic source is a stub that returns real training images of
the asked class, so no GAN is needed.
"""

from __future__ import annotations

import dataclasses
import json
import math

import keras
import numpy as np
import pytest

from gankit.data.images import scale_images
from gankit.data.mnist import load_mnist, stratified_indices
from gankit.evaluate.classifier_config import ClassifierConfig
from gankit.studies import retrain, retrain_elite, retrain_plan

TINY_CLASSIFIER = ClassifierConfig(
    conv_widths=(4, 8), embedding_dim=8, dropout=0.1, batch_size=32, translate_pixels=0
)
TINY = retrain.RetrainConfig(
    steps=4, finetune_steps=2, eval_every=2, patience=1, val_per_class=2,
    classifier=TINY_CLASSIFIER,
)  # fmt: skip
N_SYNTH = {
    "mix": 3, "synth_then_real": 3, "real_then_elite": 3, "augment_mix": 3, "synth": 3,
    "augment_synth": 3,
}  # fmt: skip


def tiny(strategy, **changes):
    """A valid tiny config of ``strategy`` (sizes filled in as the strategy needs)."""
    n_real = 0 if strategy in ("synth", "augment_synth") else 3
    sizes = {"n_real": n_real, "n_synth": N_SYNTH.get(strategy, 0)}
    return dataclasses.replace(TINY, strategy=strategy, **{**sizes, **changes})


@pytest.fixture(scope="module")
def mnist_small():
    """20 real training images per class, and 100 real test images whose top-left 2x2
    pixels are white: no MNIST training image has ink there, so a test image that
    reaches training is recognisable."""
    (x_train, y_train), (x_test, y_test) = load_mnist(verbose=False)
    train = stratified_indices(y_train, 20, seed=0)
    test = stratified_indices(y_test, 10, seed=0)
    x_test = x_test[test].copy()
    x_test[:, :2, :2] = 255
    assert x_train[train][:, :2, :2].max() == 0
    return (x_train[train], y_train[train]), (x_test, y_test[test])


@pytest.fixture(scope="module")
def stub_source(mnist_small):
    """Real training images of the asked class, as a synthetic source."""
    (x_train, y_train), _ = mnist_small
    by_class = [np.flatnonzero(y_train == c) for c in range(10)]

    def source(labels, seed):
        rng = np.random.default_rng(seed)
        return scale_images(x_train[[rng.choice(by_class[c]) for c in labels]])

    return source


@pytest.fixture
def reference_stub(mnist_small, monkeypatch):
    """Elite filtering without training a classifier: `predict_proba` looks up the true
    class of each (real) image and is 95 % sure of it, except that it takes every 9 for a
    4; so the elite filter must drop exactly the 9s."""
    (x_train, y_train), _ = mnist_small
    true_class = {
        image.tobytes(): label for image, label in zip(scale_images(x_train), y_train, strict=True)
    }

    def predict_proba(model, images):
        labels = np.array([true_class[image.tobytes()] for image in images])
        return 0.05 / 9 + (0.95 - 0.05 / 9) * np.eye(10)[np.where(labels == 9, 4, labels)]

    monkeypatch.setattr(retrain_elite, "predict_proba", predict_proba)
    return object()


# ----------------------------------------------------------------------------- config


def test_default_config_is_valid_and_uses_the_reference_architecture():
    config = retrain.RetrainConfig()
    retrain.check_retrain_config(config)
    assert config.classifier.conv_widths == (32, 64, 128)
    assert config.classifier.translate_pixels == 0  # augmentation only where asked for
    assert config.quick().steps <= 40 and config.quick().strategy == config.strategy


@pytest.mark.parametrize(
    "change",
    [
        {"strategy": "nope"},
        {"strategy": "real", "n_synth": 100},  # real only takes no synthetic images
        {"strategy": "mix", "n_synth": 0},
        {"strategy": "synth", "n_real": 10, "n_synth": 10},
        {"strategy": "augment_synth", "n_real": 10, "n_synth": 10},
        {
            "strategy": "augment_synth",
            "n_real": 0,
            "n_synth": 10,
            "rotation_degrees": 0,
            "zoom": 0,
            "translate": 0,
            "contrast": 0,
        },
        {"strategy": "real", "n_real": 0},
        {"strategy": "real", "mix_ratio": 0.5},
        {"strategy": "mix", "n_synth": 10, "mix_ratio": 1.0},
        {"strategy": "augment", "rotation_degrees": 0, "zoom": 0, "translate": 0, "contrast": 0},
        {"n_real": "200%"},
        {"steps": 0},
        {"eval_every": 2.5},
        {"elite_threshold": 1.2},
        {"finetune_lr_factor": 0},
        {"val_per_class": -1},
        {"source": ""},
        {"classifier": ClassifierConfig(epochs=0)},
    ],
)
def test_invalid_configs_raise(change):
    with pytest.raises((ValueError, TypeError)):
        retrain.check_retrain_config(dataclasses.replace(retrain.RetrainConfig(), **change))


def test_a_field_added_later_keeps_the_run_keys_of_configs_at_its_default():
    # keys of finished runs recorded before elastic_alpha existed (the default config, and
    # the plan's augmented synthetic-only cell, seed 2)
    assert retrain.run_key(retrain.RetrainConfig(), 0) == "56b393ea0c52dcc6"
    cas = retrain_plan.brief_plan("cgan-17a8741119-s0", parts=["synthetic_only"])
    assert retrain.run_key(cas["synthetic_only"][1], 2) == "b144ca0520735849"
    elastic = dataclasses.replace(retrain.RetrainConfig(), elastic_alpha=34)
    assert retrain.run_key(elastic, 0) != "56b393ea0c52dcc6"
    assert retrain.run_key(elastic, 0) == retrain.run_key(
        dataclasses.replace(elastic, elastic_alpha=34.0), 0
    )


def test_run_keys_are_stable_and_change_with_every_field_and_the_seed():
    key = retrain.run_key(TINY, 0)
    assert key == retrain.run_key(dataclasses.replace(TINY), 0) and len(key) == 16
    assert key != retrain.run_key(TINY, 1)
    assert key != retrain.run_key(dataclasses.replace(TINY, n_real="10%"), 0)
    assert key != retrain.run_key(dataclasses.replace(TINY, source="pca"), 0)
    assert key != retrain.run_key(dataclasses.replace(TINY, classifier=ClassifierConfig()), 0)
    assert key == retrain.run_key(dataclasses.replace(TINY, zoom=0.1, rotation_degrees=10), 0)


def test_grid_gives_synthetic_images_only_to_the_strategies_that_use_them():
    configs = retrain_plan.grid(["real", "mix", "augment"], [1, "10%"], n_synth=50, steps=7)
    assert [(c.n_real, c.strategy, c.n_synth) for c in configs] == [
        (1, "real", 0), (1, "mix", 50), (1, "augment", 0),
        ("10%", "real", 0), ("10%", "mix", 50), ("10%", "augment", 0),
    ]  # fmt: skip
    assert all(c.steps == 7 for c in configs)
    with pytest.raises(ValueError, match="synth"):
        retrain_plan.grid(["synth"], [0], n_synth=10)
    with pytest.raises(ValueError, match="n_synth"):
        retrain_plan.grid(["mix"], [1])  # mixing with no synthetic images


# ------------------------------------------------------------------------ strategies


def batches_seen_by_fit(monkeypatch):
    """Patches keras.Model.fit to record every image it would train or validate on."""
    seen = {"train": [], "validation": []}
    original_fit = keras.Model.fit

    def spy(self, x=None, y=None, *args, validation_data=None, steps_per_epoch=None, **kwargs):
        seen["train"] += [np.asarray(images) for images, _ in x.take(steps_per_epoch or 1)]
        if validation_data is not None:
            seen["validation"].append(np.asarray(validation_data[0]))
        return original_fit(
            self, x, y, *args, validation_data=validation_data, steps_per_epoch=steps_per_epoch,
            **kwargs,
        )  # fmt: skip

    monkeypatch.setattr(keras.Model, "fit", spy)
    return seen


def has_test_marker(images):
    """True for each image with the white top-left corner of the fixture's test images."""
    images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    return (images[:, :2, :2] > -1).any(axis=(1, 2))


def test_the_leak_detector_would_see_a_test_image(mnist_small):
    (x_train, _), (x_test, _) = mnist_small
    assert has_test_marker(scale_images(x_test)).all()
    assert not has_test_marker(scale_images(x_train)).any()


@pytest.mark.parametrize("strategy", list(retrain.STRATEGIES))
def test_each_strategy_trains_and_never_sees_a_test_image(
    strategy, mnist_small, stub_source, reference_stub, monkeypatch
):
    seen = batches_seen_by_fit(monkeypatch)
    config = tiny(strategy)
    row = retrain.run_cell(
        config, 0, data=mnist_small, synthetic=stub_source, reference=reference_stub
    )
    # what was trained on and validated on: real training images (and the stub's copies)
    assert seen["train"] and not has_test_marker(np.concatenate(seen["train"])).any()
    assert seen["validation"] and not has_test_marker(np.concatenate(seen["validation"])).any()
    # the row
    assert row["run_id"] == retrain.run_key(config, 0) and row["status"] == "ok"
    assert 0 <= row["test_accuracy"] <= 1 and 0 <= row["val_accuracy"] <= 1
    assert row["n_train_real"] == 10 * config.n_real and row["n_val"] == 20
    two_phase = strategy in ("synth_then_real", "real_then_elite")
    assert list(row["phases"]) == (["pretrain", "finetune"] if two_phase else ["train"])
    for phase in row["phases"].values():
        assert 0 < phase["best_step"] <= phase["steps_run"] <= 4
    expected_synth = {"real_then_elite": 27, "real": 0, "augment": 0}.get(strategy, 30)
    assert row["n_train_synth"] == expected_synth  # the elite lost its three 9s
    assert row["elite_kept_fraction"] == (0.9 if strategy == "real_then_elite" else None)
    assert row["seconds"] >= row["train_seconds"] > 0
    json.dumps(row, allow_nan=False)  # storable as a results line


def test_missing_generator_or_reference_is_a_clear_error(mnist_small, stub_source):
    with pytest.raises(ValueError, match="synthetic="):
        retrain.run_cell(tiny("mix"), 0, data=mnist_small)
    with pytest.raises(ValueError, match="reference="):
        retrain.run_cell(tiny("real_then_elite"), 0, data=mnist_small, synthetic=stub_source)


def test_without_validation_images_a_run_takes_its_whole_budget(mnist_small):
    row = retrain.run_cell(tiny("real", val_per_class=0, steps=3), 1, data=mnist_small)
    assert row["n_val"] == 0 and row["val_accuracy"] is None
    assert row["phases"]["train"]["steps_run"] == 4  # 3 rounded up to eval_every=2


def test_few_label_table_keeps_the_rows_at_n_real_best_first_and_names_the_labels_used():
    from gankit.studies.retrain_tables import few_label_table

    cells = [
        {
            "strategy": "real only",
            "n_real": "10",
            "n_synth": "0",
            "source": "none",
            "mean": 0.83,
            "std": 0.013,
            "n": 3,
        },
        {
            "strategy": "real + synthetic",
            "n_real": "10",
            "n_synth": "10%",
            "source": "default CGAN",
            "mean": 0.9576,
            "std": 0.0059,
            "n": 3,
        },
        {
            "strategy": "real only",
            "n_real": "1",
            "n_synth": "0",
            "source": "none",
            "mean": 0.32,
            "std": 0.11,
            "n": 3,
        },
    ]
    table = few_label_table(cells, 10, extra={"SSL GAN": (0.9, 0.01, 3, "100 + unlabelled")})
    assert table["method"].tolist() == ["real + synthetic", "SSL GAN", "real only"]
    assert table["test accuracy (%)"].tolist() == ["95.76 ± 0.59", "90.00 ± 1.00", "83.00 ± 1.30"]
    assert table["labels used"].tolist() == ["all 60,000", "100 + unlabelled", "100"]
    with pytest.raises(ValueError, match="run notebook 03"):
        few_label_table(cells, 5)


def test_real_passes_set_each_phases_budget_from_its_set_and_the_share_of_real_images():
    config = dataclasses.replace(retrain.RetrainConfig(), real_passes=6)  # batch 128
    assert retrain.phase_steps(config, 300, 59_000) == math.ceil(6 * 59_000 / 128)  # 2766
    assert retrain.phase_steps(config, 300, 100) == 300  # few-shot: the floor
    # a shuffled mix of 6k real and 6k synthetic: half of each batch is real
    assert retrain.phase_steps(config, 300, 6000, 6000) == math.ceil(6 * 6000 / 64)
    at_ratio = dataclasses.replace(config, mix_ratio=0.25, strategy="mix", n_synth=10)
    assert retrain.phase_steps(at_ratio, 300, 6000, 60_000) == math.ceil(6 * 6000 / 32)
    fixed = retrain.RetrainConfig()  # real_passes None: the floor, whatever the size
    assert retrain.phase_steps(fixed, 300, 59_000) == 300
    with pytest.raises(ValueError, match="real_passes"):
        retrain.check_retrain_config(dataclasses.replace(config, real_passes=0))


def test_without_patience_a_phase_runs_its_schedule_and_keeps_the_best_weights(mnist_small):
    row = retrain.run_cell(tiny("real", steps=8, patience=None), 0, data=mnist_small)
    train = row["phases"]["train"]
    assert train["steps_run"] == train["steps_budget"] == 8 and train["best_step"] <= 8
    retrain.check_retrain_config(tiny("real", patience=None))
    with pytest.raises(ValueError, match="patience"):
        retrain.check_retrain_config(tiny("real", patience=0))


def test_a_run_with_real_passes_trains_its_budget_and_records_it(mnist_small):
    # 10 real images per class = 100, batch 32 (TINY), 3 passes -> ceil(9.4) = 10 steps
    config = tiny("real", n_real=10, val_per_class=0, steps=3, real_passes=3)
    row = retrain.run_cell(config, 0, data=mnist_small)
    assert row["phases"]["train"]["steps_budget"] == row["phases"]["train"]["steps_run"] == 10


def test_real_synthetic_grid_is_the_briefs_table_with_one_rule_for_every_cell():
    configs = retrain_plan.real_synthetic_grid(
        ["10%", "100%"], [0, "20%", "100%"], real_passes=6, val_per_class=100, source="g"
    )
    assert [(c.n_real, c.n_synth, c.strategy) for c in configs] == [
        ("10%", 0, "real"), ("10%", "20%", "mix"), ("10%", "100%", "mix"),
        ("100%", 0, "real"), ("100%", "20%", "mix"), ("100%", "100%", "mix"),
    ]  # fmt: skip
    assert {(c.real_passes, c.val_per_class, c.source) for c in configs} == {(6, 100, "g")}
    with pytest.raises(ValueError, match="repeats"):
        retrain_plan.real_synthetic_grid(["10%", "10%"], [0])
    with pytest.raises(ValueError, match="at least one"):
        retrain_plan.real_synthetic_grid([], [0])


def test_the_briefs_plan_has_every_cell_under_one_rule_and_a_quick_corner():
    from gankit.studies import retrain_plan as plan

    full = plan.brief_plan("cgan-run")
    assert len(full["grid"]) == 4 * 5 and len(full["few_shot"]) == 6 * 6
    assert {(c.real_passes, c.steps, c.patience, c.source) for p in full.values() for c in p} == {
        (plan.REAL_PASSES, plan.MIN_STEPS, None, "cgan-run")
    }
    assert {c.val_per_class for c in full["grid"]} == {plan.GRID_VAL_PER_CLASS}
    assert {c.val_per_class for c in full["few_shot"]} == {plan.FEW_SHOT_VAL_PER_CLASS}
    elite = [c for c in full["few_shot"] if c.strategy == "real_then_elite"]
    assert len(elite) == 6 and {c.elite_fraction for c in elite} == {plan.ELITE_FRACTION}
    assert [c.strategy for c in full["synthetic_only"]] == ["synth", "augment_synth"]
    assert {(c.n_real, c.n_synth, c.val_per_class) for c in full["synthetic_only"]} == {
        (0, "100%", 0)
    }
    quick = plan.brief_plan("cgan-run", quick=True, parts=["grid"])
    assert list(quick) == ["grid"] and all(
        c.steps <= 40 and c.real_passes is None for c in quick["grid"]
    )
    with pytest.raises(ValueError, match="parts"):
        plan.brief_plan("cgan-run", parts=["table_z"])
    with pytest.raises(ValueError, match="ensemble_source"):
        plan.brief_plan("cgan-run", parts=["ensemble"])
    name = plan.ensemble_name(["a", "b"])
    ensemble = plan.brief_plan("a", parts=["ensemble"], ensemble_source=name)
    assert [(c.strategy, c.n_real, c.n_synth, c.source) for c in ensemble["ensemble"]] == [
        ("synth", 0, "100%", "a+b"), ("augment_synth", 0, "100%", "a+b"),
        ("augment_mix", 10, "100%", "a+b"), ("augment_mix", 10, "100%", "a"),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="two or more"):
        plan.ensemble_name(["a"])
    with pytest.raises(ValueError, match="source"):
        plan.brief_plan("")


def test_fair_configs_share_the_few_shot_rule_and_differ_only_in_the_generator():
    fair = retrain_plan.fair_configs("fair-run", "main-run", n_real=10)
    (fair_mix, fair_cas), (main_mix,) = fair["fair"], fair["main"]
    assert dataclasses.replace(fair_mix, source="main-run") == main_mix
    assert (fair_mix.strategy, fair_mix.n_real, fair_mix.mix_ratio) == ("mix", 10, 0.5)
    assert fair_mix.val_per_class == retrain_plan.FEW_SHOT_VAL_PER_CLASS
    assert (fair_cas.strategy, fair_cas.n_real, fair_cas.val_per_class) == ("synth", 0, 0)
    few_shot_mix = next(
        c for c in retrain_plan.brief_plan("main-run")["few_shot"]
        if c.strategy == "mix" and c.n_real == 10
    )  # fmt: skip
    assert dataclasses.replace(main_mix, mix_ratio=None) == few_shot_mix
    quick = retrain_plan.fair_configs("f", "m", quick=True)
    assert all(c.steps <= 40 for part in quick.values() for c in part)
    with pytest.raises(ValueError, match="fair_source"):
        retrain_plan.fair_configs("", "m")
    with pytest.raises(ValueError, match="mix_ratio"):
        retrain_plan.fair_configs("f", "m", mix_ratio=1.5)
