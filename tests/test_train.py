"""Trainer: weights move, every metric is logged, compiled steps, resume, NaN stop."""

import json

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import gankit.losses
from gankit.config import GANConfig, with_overrides
from gankit.train import (
    GANSteps,
    HoldThenLinearDecay,
    TrainingDivergedError,
    load_generator,
    train_gan,
)

IMAGES = np.tanh(np.random.default_rng(0).standard_normal((128, 28, 28, 1))).astype("float32")
TINY = with_overrides(
    GANConfig(name="tiny"),
    {
        "generator.latent_dim": 8,
        "generator.base_filters": 4,
        "generator.depth": 1,
        "generator.kernel_size": 3,
        "discriminator.base_filters": 4,
        "discriminator.depth": 1,
        "discriminator.kernel_size": 3,
        "train.batch_size": 32,
        "train.epochs": 2,
        "train.grid_size": 4,
    },
)
LOGGED = ["d_loss_real", "d_loss_fake", "d_loss", "g_loss", "d_acc_real", "d_acc_fake"]


def _train(cfg, run_dir, **kwargs):
    return train_gan(cfg, IMAGES, run_dir, seed=1, progress=False, **kwargs)


def test_training_changes_weights_and_logs_every_metric(tmp_path):
    from gankit.nets import build_gan

    g0, d0 = build_gan(TINY, seed=1)
    result = _train(TINY, tmp_path / "run")
    for before, after in ((g0, result.generator), (d0, result.discriminator)):
        moved = [
            not np.allclose(a, b)
            for a, b in zip(before.get_weights(), after.get_weights(), strict=True)
        ]
        assert sum(moved) >= len(moved) // 2
    assert list(result.history["epoch"]) == [1, 2]
    for column in LOGGED:
        assert column in result.history and column in result.steps
        assert np.all(np.isfinite(result.steps[column]))
    assert len(result.steps) == 2 * (128 // 32)
    assert result.steps["epoch"].iloc[-1] == pytest.approx(2.0)
    assert set(result.steps["d_acc_real"]) <= {k / 32 for k in range(33)}
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {
        "config.json",
        "history.csv",
        "steps.csv",
        "checkpoints",
        "samples",
        "progress.gif",
        "generator.keras",
    } <= files
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir()) == [
        "epoch_001.png",
        "epoch_002.png",
    ]
    reloaded = load_generator(tmp_path / "run")
    z = np.zeros((2, 8), "float32")
    np.testing.assert_allclose(reloaded(z).numpy(), result.generator(z).numpy(), atol=1e-6)


@pytest.mark.parametrize(
    "overrides",
    [
        {"train.update": "simultaneous"},
        {"train.d_steps": 2},
        {"train.g_steps": 2, "train.loss": "minimax"},
        {"train.real_label": 0.9, "train.flip_probability": 0.1},
        {"generator.norm": "virtual", "discriminator.norm": "virtual"},
        {"generator.kind": "mlp", "discriminator.kind": "mlp", "generator.hidden": [16]},
        {"train.precision": "mixed_bfloat16"},
    ],
)
def test_every_training_option_runs_one_epoch(tmp_path, overrides):
    cfg = with_overrides(TINY, {"train.epochs": 1, **overrides})
    result = _train(cfg, tmp_path / "run")
    assert np.all(np.isfinite(result.history[LOGGED].to_numpy()))


def test_step_is_compiled_once(tmp_path):
    from gankit.nets import build_gan

    g, d = build_gan(TINY)
    steps = GANSteps(g, d, TINY.train, seed=0)
    batch = tf.constant(IMAGES[None, :32])
    labels = tf.zeros((1, 32), tf.int32)
    for r in range(3):
        steps.round_step(batch, labels, tf.constant(r, tf.int64))
    assert isinstance(steps.round_step, tf.types.experimental.PolymorphicFunction)
    assert steps.round_step.experimental_get_tracing_count() == 1


def test_label_smoothing_raises_the_real_loss_floor():
    logits = tf.fill((4, 1), 20.0)
    real, fake = gankit.losses.discriminator_targets(
        4, real_label=0.9, flip_probability=0.0, seed=tf.constant([0, 0], tf.int64)
    )
    loss_real, _ = gankit.losses.discriminator_loss_terms(logits, -logits, real, fake)
    assert float(loss_real) > 1.9  # a confident D is now punished: 0.1 * 20 = 2
    flipped, _ = gankit.losses.discriminator_targets(
        1000, real_label=1.0, flip_probability=0.2, seed=tf.constant([0, 1], tf.int64)
    )
    assert 0.15 < 1 - float(tf.reduce_mean(flipped)) < 0.25


def test_resume_continues_exactly_where_it_stopped(tmp_path):
    cfg = with_overrides(TINY, {"train.epochs": 4})
    straight = _train(cfg, tmp_path / "straight", deterministic=True)

    def crash_after_epoch_two(epoch, row):
        if epoch == 2:
            raise KeyboardInterrupt  # as if the user pressed stop right after epoch 2

    with pytest.raises(KeyboardInterrupt):
        _train(cfg, tmp_path / "resumed", deterministic=True, callbacks=[crash_after_epoch_two])
    assert len(pd.read_csv(tmp_path / "resumed" / "history.csv")) == 2
    resumed = _train(cfg, tmp_path / "resumed", deterministic=True)

    assert list(resumed.history["epoch"]) == [1, 2, 3, 4]
    assert len(resumed.steps) == len(straight.steps)
    assert len(pd.read_csv(tmp_path / "resumed" / "steps.csv")) == len(straight.steps)
    # Stateless noise, data order keyed by epoch, restored optimiser state and op determinism
    # make the resumed run bit-identical to the straight one.
    for a, b in zip(straight.generator.get_weights(), resumed.generator.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(straight.steps, resumed.steps)


def test_resume_refuses_a_run_dir_of_another_config(tmp_path):
    _train(with_overrides(TINY, {"train.epochs": 1}), tmp_path / "run")
    with pytest.raises(ValueError, match="different config"):
        _train(with_overrides(TINY, {"train.g_lr": 1e-3}), tmp_path / "run")
    with pytest.raises(ValueError, match="already holds a run"):
        _train(TINY, tmp_path / "run", resume=False)


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    cfg = with_overrides(TINY, {"train.epochs": 1})
    _train(cfg, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    saved["train"]["epochs"] = 3
    cfg3 = with_overrides(cfg, {"train.epochs": 3})
    (tmp_path / "run" / "config.json").write_text(json.dumps(saved))
    monkeypatch.setattr(
        gankit.losses, "generator_loss", lambda logits, kind: tf.reduce_mean(logits) * np.nan
    )
    with pytest.raises(TrainingDivergedError, match=r"NaN or inf at epoch 2.*ckpt-1"):
        _train(cfg3, tmp_path / "run")
    assert len(pd.read_csv(tmp_path / "run" / "history.csv")) == 1
    assert tf.train.latest_checkpoint(tmp_path / "run" / "checkpoints").endswith("ckpt-1")


def test_early_stopping_on_a_monitored_metric(tmp_path):
    cfg = with_overrides(
        TINY,
        {
            "train.epochs": 6,
            "train.early_stopping_monitor": "score",
            "train.early_stopping_patience": 2,
        },
    )
    scores = iter([1.0, 0.5, 0.7, 0.9, 0.4, 0.3])
    result = _train(cfg, tmp_path / "run", epoch_metrics=lambda g: {"score": next(scores)})
    assert result.stopped == "early_stopping"
    assert list(result.history["score"]) == [1.0, 0.5, 0.7, 0.9]


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"train.update": "simultaneous", "train.d_steps": 2}, "simultaneous"),
        ({"train.real_label": 0.3}, "real_label"),
        ({"train.n_train": 1000}, "only 128 images"),
        ({"train.batch_size": 100, "train.d_steps": 2}, "cannot fill one round"),
    ],
)
def test_bad_configs_are_rejected_before_training(tmp_path, overrides, match):
    with pytest.raises(ValueError, match=match):
        _train(with_overrides(TINY, overrides), tmp_path / "run")


def test_images_must_be_scaled(tmp_path):
    with pytest.raises(TypeError, match="scale_images"):
        train_gan(TINY, (IMAGES * 127).astype("uint8"), tmp_path / "a")
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        train_gan(TINY, IMAGES * 3, tmp_path / "b")


def test_ema_generator_averages_weights_and_resumes_exactly(tmp_path):
    cfg = with_overrides(TINY, {"train.epochs": 2, "train.ema_decay": 0.9})
    plain = _train(with_overrides(cfg, {"train.ema_decay": 0.0}), tmp_path / "plain")
    straight = _train(cfg, tmp_path / "straight", deterministic=True)
    # The returned generator is the average: it differs from the last raw weights.
    raw = plain.generator.get_weights()
    ema = straight.generator.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(raw, ema, strict=True))

    def crash(epoch, row):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _train(cfg, tmp_path / "resumed", deterministic=True, callbacks=[crash])
    resumed = _train(cfg, tmp_path / "resumed", deterministic=True)
    for a, b in zip(straight.generator.get_weights(), resumed.generator.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert load_generator(tmp_path / "resumed").count_params() == resumed.generator.count_params()


CONDITIONAL = with_overrides(
    TINY, {"generator.conditioning": "embedding", "discriminator.conditioning": "projection"}
)
LABELS = np.arange(len(IMAGES), dtype=np.int32) % 10


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"train.loss": "hinge"},
        {"train.update": "simultaneous"},
        {
            "train.d_steps": 2,
            "train.g_steps": 3,
            "train.ema_decay": 0.9,
            "train.lr_decay_start": 0.5,
        },
        {"generator.conditioning": "batchnorm", "discriminator.conditioning": "concat"},
        {"generator.kind": "mlp", "discriminator.kind": "mlp", "generator.hidden": [16]},
        {"discriminator.norm": "virtual", "discriminator.conditioning": "embedding"},
    ],
)
def test_conditional_gan_trains_and_saves_a_conditional_generator(tmp_path, overrides):
    cfg = with_overrides(CONDITIONAL, {"train.epochs": 1, **overrides})
    result = _train(cfg, tmp_path / "run", labels=LABELS)
    assert np.all(np.isfinite(result.history[LOGGED].to_numpy()))
    loaded = load_generator(tmp_path / "run")
    assert len(loaded.inputs) == 2
    z = np.zeros((3, 8), np.float32)
    assert loaded([z, np.array([0, 5, 9], np.int32)]).shape == (3, 28, 28, 1)


def test_conditional_training_needs_labels_and_unconditional_refuses_them(tmp_path):
    with pytest.raises(ValueError, match="needs labels"):
        _train(CONDITIONAL, tmp_path / "a")
    with pytest.raises(ValueError, match="unconditional"):
        _train(TINY, tmp_path / "b", labels=LABELS)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 10\)"):
        _train(CONDITIONAL, tmp_path / "c", labels=LABELS + 5)
    with pytest.raises(ValueError, match="shape"):
        _train(CONDITIONAL, tmp_path / "d", labels=LABELS[:10])


def test_conditional_resume_is_exact(tmp_path):
    def crash_after_epoch_one(epoch, row):
        if epoch == 1:
            raise KeyboardInterrupt

    straight = _train(CONDITIONAL, tmp_path / "straight", labels=LABELS, deterministic=True)
    with pytest.raises(KeyboardInterrupt):
        _train(
            CONDITIONAL,
            tmp_path / "resumed",
            labels=LABELS,
            deterministic=True,
            callbacks=[crash_after_epoch_one],
        )
    resumed = _train(CONDITIONAL, tmp_path / "resumed", labels=LABELS, deterministic=True)
    for a, b in zip(straight.generator.get_weights(), resumed.generator.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(straight.steps, resumed.steps)


def test_learning_rate_holds_then_falls_linearly_to_zero():
    schedule = HoldThenLinearDecay(1e-3, 100, 0.5)
    got = [float(schedule(k)) for k in (0, 50, 75, 100, 120)]
    assert got == pytest.approx([1e-3, 1e-3, 5e-4, 0.0, 0.0])


def test_lr_decay_reaches_zero_at_the_last_step(tmp_path):
    cfg = with_overrides(TINY, {"train.lr_decay_start": 0.5, "train.epochs": 2})
    from gankit.nets import build_gan

    g, d = build_gan(cfg)
    steps = GANSteps(g, d, cfg.train, seed=0, total_rounds=8)
    batch, labels = tf.constant(IMAGES[None, :32]), tf.zeros((1, 32), tf.int32)
    lrs = []
    for r in range(8):
        lrs.append(float(steps.g_opt.learning_rate))
        steps.round_step(batch, labels, tf.constant(r, tf.int64))
    assert lrs[:5] == pytest.approx([2e-4] * 5)
    assert lrs[5:] == pytest.approx([1.5e-4, 1e-4, 5e-5])
    assert float(steps.g_opt.learning_rate) == pytest.approx(0.0)
