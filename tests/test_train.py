"""Trainer: weights move, every metric is logged, compiled steps, resume, NaN stop."""

import json

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from tiny_gan import TINY_GAN

import gankit.train.losses
from gankit.config import GANConfig, with_overrides
from gankit.train.loop import load_generator, train_gan
from gankit.train.optimizers import HoldThenLinearDecay
from gankit.train.run_dir import RunDir, TrainingDivergedError
from gankit.train.steps import STEP_COLUMNS, GANSteps

IMAGES = np.tanh(np.random.default_rng(0).standard_normal((128, 28, 28, 1))).astype("float32")
TINY = with_overrides(GANConfig(name="tiny"), TINY_GAN)
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
    real, fake = gankit.train.losses.discriminator_targets(
        4, real_label=0.9, flip_probability=0.0, seed=tf.constant([0, 0], tf.int64)
    )
    loss_real, _ = gankit.train.losses.discriminator_loss_terms(logits, -logits, real, fake)
    assert float(loss_real) > 1.9  # a confident D is now punished: 0.1 * 20 = 2
    flipped, _ = gankit.train.losses.discriminator_targets(
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
        gankit.train.losses,
        "generator_loss",
        lambda logits, kind, **_: tf.reduce_mean(logits) * np.nan,
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
        train_gan(TINY, (IMAGES * 127).astype("int64"), tmp_path / "a")
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


# --- WGAN, WGAN-GP and dynamic balancing (issue 6) ---------------------------------------
WGAN = with_overrides(
    TINY,
    {
        "train.loss": "wgan",
        "train.weight_clip": 0.01,
        "train.optimizer": "rmsprop",
        "train.g_lr": 5e-5,
        "train.d_lr": 5e-5,
        "train.d_steps": 2,
    },
)
WGAN_GP = with_overrides(
    TINY,
    {
        "train.loss": "wgan-gp",
        "train.d_steps": 2,
        "train.g_beta1": 0.0,
        "train.d_beta1": 0.0,
        "train.g_beta2": 0.9,
        "train.d_beta2": 0.9,
    },
)
DYNAMIC = with_overrides(TINY, {"train.balance": "dynamic", "train.max_consecutive": 3})
NEW_COLUMNS = ["wasserstein", "grad_penalty", "d_updates", "g_updates"]
CONDITIONING = {"generator.conditioning": "embedding", "discriminator.conditioning": "projection"}


def _window(n):
    """n real batches of 32 and their labels, as one round takes them."""
    images = IMAGES[: 32 * n].reshape(n, 32, 28, 28, 1)
    return tf.constant(images), tf.constant(LABELS[: 32 * n].reshape(n, 32))


@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("base", [WGAN, WGAN_GP, DYNAMIC], ids=["wgan", "wgan-gp", "dynamic"])
def test_wgan_and_dynamic_balancing_train_and_log_their_columns(tmp_path, base, conditional):
    cfg = with_overrides(base, {"train.epochs": 1, **(CONDITIONING if conditional else {})})
    result = _train(cfg, tmp_path / "run", labels=LABELS if conditional else None)
    for column in LOGGED + NEW_COLUMNS:
        assert np.all(np.isfinite(result.steps[column])), column
        assert column in result.history
    steps = result.steps
    if cfg.train.loss == "wgan-gp":
        assert np.all(steps["grad_penalty"] > 0)
    else:
        assert np.all(steps["grad_penalty"] == 0)
    if cfg.train.loss in ("wgan", "wgan-gp"):
        # The critic minimises mean D(fake) - mean D(real) = -(its Wasserstein estimate).
        np.testing.assert_allclose(steps["d_loss"], -steps["wasserstein"], atol=1e-5)
        assert list(steps["d_updates"]) == [2, 2] and list(steps["g_updates"]) == [1, 1]
    else:
        assert steps["d_updates"].between(1, 3).all() and steps["g_updates"].between(1, 3).all()
        assert steps["d_updates"].sum() > 4 - 3  # stops when a full window no longer fits
    assert steps["epoch"].iloc[-1] == pytest.approx(1.0)


def test_wgan_gp_runs_in_mixed_bfloat16(tmp_path):
    cfg = with_overrides(WGAN_GP, {"train.epochs": 1, "train.precision": "mixed_bfloat16"})
    result = _train(cfg, tmp_path / "run")
    assert np.all(np.isfinite(result.steps[LOGGED + NEW_COLUMNS].to_numpy()))
    assert np.all(result.steps["grad_penalty"] > 0)


@pytest.mark.parametrize("conditional", [False, True])
def test_r1_penalty_is_logged_and_the_top_k_loss_trains(tmp_path, conditional):
    changes = {"train.epochs": 1, "train.r1_weight": 5.0, "train.g_top_k": 0.5}
    cfg = with_overrides(TINY, {**changes, **(CONDITIONING if conditional else {})})
    result = _train(cfg, tmp_path / "run", labels=LABELS if conditional else None)
    assert np.all(np.isfinite(result.steps[LOGGED + NEW_COLUMNS].to_numpy()))
    assert np.all(result.steps["grad_penalty"] > 0)


def test_weight_clipping_keeps_every_critic_weight_in_the_clip_range():
    from gankit.nets import build_gan

    cfg = with_overrides(WGAN, {"discriminator.norm": "batch"})  # BN's gamma/beta too
    g, d = build_gan(cfg)
    rng = np.random.default_rng(0)
    d.set_weights([w + rng.normal(0, 0.5, w.shape) for w in d.get_weights()])
    g_before = g.get_weights()
    steps = GANSteps(g, d, cfg.train, seed=0)
    steps.round_step(*_window(2), tf.constant(0, tf.int64))
    for w in d.trainable_weights:
        assert np.abs(w.numpy()).max() <= 0.01 + 1e-8, w.path
    assert any(np.isclose(np.abs(w.numpy()), 0.01).any() for w in d.trainable_weights)
    # G is not clipped, and did take a step.
    assert max(np.abs(w).max() for w in g.get_weights()) > 0.01
    assert any(not np.allclose(a, b) for a, b in zip(g_before, g.get_weights(), strict=True))


def _linear_critic(scale, conditional):
    """D(x[, y]) = scale * <u, x> (+ b_y) with a unit vector u: Lipschitz constant scale."""
    import keras

    image = keras.Input((28, 28, 1))
    dense = keras.layers.Dense(1)
    score = dense(keras.layers.Flatten()(image))
    inputs = image
    if conditional:
        label = keras.Input((), dtype="int32")
        score = keras.layers.Add()([score, keras.layers.Embedding(10, 1)(label)])
        inputs = [image, label]
    u = np.random.default_rng(1).standard_normal((784, 1))
    dense.kernel.assign(scale * u / np.linalg.norm(u))
    return keras.Model(inputs, score)


@pytest.mark.parametrize("conditional", [False, True])
def test_gradient_penalty_is_zero_for_a_1_lipschitz_critic_and_positive_otherwise(conditional):
    from gankit.nets import build_gan

    cfg = with_overrides(WGAN_GP, CONDITIONING if conditional else {})
    g, _ = build_gan(cfg)
    (real, labels), fake = _window(1), tf.constant(-IMAGES[32:64])
    args = (real[0], fake, labels[0], tf.constant(3, tf.int64), 1)
    for scale, expected in ((1.0, 0.0), (2.0, 1.0), (0.5, 0.25)):
        steps = GANSteps(g, _linear_critic(scale, conditional), cfg.train, seed=0)
        assert float(steps.gradient_penalty(*args)) == pytest.approx(expected, abs=1e-5)


def test_penalty_points_lie_between_real_and_fake_with_uniform_weights(monkeypatch):
    from gankit.nets import build_gan

    seen = []
    monkeypatch.setattr(
        gankit.train.losses,
        "gradient_penalty",
        lambda critic, x: seen.append(x) or tf.constant(0.0),
    )
    g, d = build_gan(WGAN_GP)
    steps = GANSteps(g, d, WGAN_GP.train, seed=0)
    real = tf.constant(np.ones((500, 28, 28, 1), np.float32))
    fake = tf.constant(-np.ones((500, 28, 28, 1), np.float32))
    labels = tf.zeros(500, tf.int32)
    for slot in (0, 1):
        steps.gradient_penalty(real, fake, labels, tf.constant(0, tf.int64), slot)
    alphas = [(x.numpy() + 1) / 2 for x in seen]  # x_hat = alpha * 1 + (1 - alpha) * (-1)
    for alpha in alphas:
        assert alpha.min() >= 0 and alpha.max() <= 1
        assert np.all(alpha == alpha[:, :1, :1, :1])  # one weight per example
        assert 0.45 < alpha.mean() < 0.55 and 0.07 < alpha[:, 0, 0, 0].var() < 0.1  # U(0, 1)
    assert not np.array_equal(alphas[0], alphas[1])  # each critic step draws its own


@pytest.mark.parametrize(
    ("logit_bias", "overrides", "expected"),
    [
        # D calls everything real: its loss (on fakes) is high, G's is ~0.
        (8.0, {}, (3, 1)),
        (8.0, {"train.d_loss_threshold": 5.0}, (1, 1)),
        (8.0, {"train.d_loss_threshold": 5.0, "train.d_steps": 2}, (2, 1)),
        # D calls everything fake: its loss (on reals) is high, and so is G's.
        (-8.0, {}, (3, 3)),
        (-8.0, {"train.g_loss_threshold": 10.0, "train.g_steps": 2}, (3, 2)),
    ],
)
def test_dynamic_balancing_updates_while_a_loss_is_high_up_to_the_cap(
    logit_bias, overrides, expected
):
    from gankit.nets import build_gan

    # Tiny learning rates: the constructed losses stay where they are during the round.
    cfg = with_overrides(DYNAMIC, {"train.d_lr": 1e-7, "train.g_lr": 1e-7, **overrides})
    g, d = build_gan(cfg)
    logit = d.get_layer("logit")
    logit.bias.assign(tf.fill(logit.bias.shape, logit_bias))
    steps = GANSteps(g, d, cfg.train, seed=0)
    logs = {
        k: v.numpy() for k, v in steps.round_step(*_window(3), tf.constant(0, tf.int64)).items()
    }
    assert (logs["d_updates"], logs["g_updates"]) == expected
    assert (logs["d_loss_real"] + logs["d_loss_fake"]) / 2 > 3.0  # the loss really was high
    assert int(steps.d_opt.iterations) == expected[0]
    assert int(steps.g_opt.iterations) == expected[1]


def test_dynamic_rounds_use_each_real_batch_once(tmp_path):
    # 8 batches of 16, at most 3 D updates a round: D never sees a batch twice, and the
    # epoch ends when fewer than 3 unused batches are left.
    cfg = with_overrides(DYNAMIC, {"train.batch_size": 16, "train.d_loss_threshold": 0.0})
    result = _train(cfg, tmp_path / "run")
    for epoch in (1, 2):
        rows = result.steps[np.ceil(result.steps["epoch"]) == epoch]
        assert list(rows["d_updates"]) == [3, 3]  # threshold 0: always the cap
        assert rows["epoch"].iloc[-1] == pytest.approx(epoch)
    assert result.history["images_per_second"].iloc[0] == pytest.approx(
        6 * 16 / result.history["seconds"].iloc[0]
    )


@pytest.mark.parametrize(
    ("base", "conditional"),
    [(WGAN_GP, True), (WGAN, False), (DYNAMIC, False)],
    ids=["wgan-gp-conditional", "wgan-rmsprop", "dynamic"],
)
def test_variant_resume_is_exact(tmp_path, base, conditional):
    cfg = with_overrides(base, CONDITIONING if conditional else {})
    labels = LABELS if conditional else None

    def crash_after_epoch_one(epoch, row):
        if epoch == 1:
            raise KeyboardInterrupt

    straight = _train(cfg, tmp_path / "straight", labels=labels, deterministic=True)
    with pytest.raises(KeyboardInterrupt):
        _train(
            cfg,
            tmp_path / "resumed",
            labels=labels,
            deterministic=True,
            callbacks=[crash_after_epoch_one],
        )
    resumed = _train(cfg, tmp_path / "resumed", labels=labels, deterministic=True)
    for a, b in zip(straight.generator.get_weights(), resumed.generator.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(
        straight.discriminator.get_weights(), resumed.discriminator.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(straight.steps, resumed.steps)


@pytest.mark.parametrize("base", [WGAN_GP, DYNAMIC], ids=["wgan-gp", "dynamic"])
def test_variant_steps_are_compiled_once(base):
    from gankit.nets import build_gan

    g, d = build_gan(base)
    steps = GANSteps(g, d, base.train, seed=0)
    window = _window(base.train.d_steps if base is WGAN_GP else 3)
    for r in range(3):
        steps.round_step(*window, tf.constant(r, tf.int64))
    assert steps.round_step.experimental_get_tracing_count() == 1


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"train.loss": "wgan"}, "needs weight_clip > 0"),
        ({"train.weight_clip": 0.01}, "with loss='wgan' only"),
        ({"train.loss": "wgan-gp", "train.weight_clip": 0.01}, "with loss='wgan' only"),
        ({"train.loss": "wgan-gp", "train.gp_weight": 0.0}, "gp_weight > 0"),
        ({"train.loss": "wgan-gp", "train.real_label": 0.9}, "critic has no targets"),
        ({"train.loss": "wgan-gp", "train.flip_probability": 0.1}, "critic has no targets"),
        ({"train.loss": "wgan-gp", "train.update": "simultaneous"}, "update='alternating'"),
        ({"train.loss": "wgan-gp", "discriminator.norm": "batch"}, "breaks the gradient"),
        ({"train.optimizer": "sgd"}, "optimizer must be one of"),
        ({"train.balance": "adaptive"}, "balance must be one of"),
        ({"train.balance": "dynamic", "train.loss": "wgan-gp"}, "no such scale"),
        ({"train.balance": "dynamic", "train.g_steps": 6}, "max_consecutive >= d_steps"),
        ({"train.balance": "dynamic", "train.update": "simultaneous"}, "needs update="),
        ({"train.balance": "dynamic", "train.lr_decay_start": 0.5}, "cannot decay"),
        ({"train.balance": "dynamic", "train.max_consecutive": 5}, "max_consecutive x batch"),
    ],
)
def test_bad_variant_configs_are_rejected_before_training(tmp_path, overrides, match):
    with pytest.raises(ValueError, match=match):
        _train(with_overrides(TINY, overrides), tmp_path / "run")


# --- named step logs and the CSV columns on disk ------------------------------------------
HISTORY_COLUMNS = [
    "epoch",
    "d_loss_real",
    "d_loss_fake",
    "g_loss",
    "d_acc_real",
    "d_acc_fake",
    "wasserstein",
    "grad_penalty",
    "d_updates",
    "g_updates",
    "d_class_loss",
    "d_class_acc",
    "g_class_loss",
    "g_class_acc",
    "g_grad_norm",
    "d_loss",
    "seconds",
    "images_per_second",
]
STEPS_CSV_COLUMNS = [c for c in HISTORY_COLUMNS if c not in ("seconds", "images_per_second")]


@pytest.mark.parametrize("base", [TINY, WGAN_GP, DYNAMIC], ids=["fixed", "wgan-gp", "dynamic"])
def test_round_step_returns_a_float32_scalar_per_step_column(base):
    from gankit.nets import build_gan

    g, d = build_gan(base)
    steps = GANSteps(g, d, base.train, seed=0)
    window = _window(3 if base is DYNAMIC else base.train.d_steps)
    log = steps.round_step(*window, tf.constant(0, tf.int64))
    assert list(log) == list(STEP_COLUMNS)
    for name, value in log.items():
        assert value.shape == () and value.dtype == tf.float32, name


def test_g_grad_norm_is_the_global_norm_of_gs_gradients():
    from gankit.nets import build_gan

    g, d = build_gan(TINY)
    steps = GANSteps(g, d, TINY.train, seed=0)
    log, grads = steps.g_gradients(None, 32, tf.constant(0, tf.int64), 0)
    expected = np.sqrt(sum(float(tf.reduce_sum(tf.square(x))) for x in grads))
    assert float(log["g_grad_norm"]) == pytest.approx(expected, rel=1e-5) and expected > 0


def test_history_and_steps_csv_keep_their_columns(tmp_path):
    result = _train(with_overrides(TINY, {"train.epochs": 1}), tmp_path / "run")
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    steps = pd.read_csv(tmp_path / "run" / "steps.csv")
    assert list(history.columns) == HISTORY_COLUMNS
    assert list(steps.columns) == STEPS_CSV_COLUMNS
    assert list(result.steps.columns) == STEPS_CSV_COLUMNS
    assert steps["d_updates"].dtype == steps["g_updates"].dtype == np.int64


def test_run_dir_keeps_only_the_log_rows_of_the_epochs_its_checkpoint_holds(tmp_path):
    run = RunDir(tmp_path / "run")
    assert run.prepare({"a": 1}, same_run=lambda saved: saved == {"a": 1}) is None
    with pytest.raises(RuntimeError, match="restore"):
        run.save_epoch(1, {})
    assert run.restore(epochs=3, v=tf.Variable(1.0)) == 0
    steps = pd.DataFrame({"epoch": [0.5, 1.0, 1.5, 2.0], "x": [1, 2, 3, 4]})
    run.save_epoch(1, {"steps.csv": steps})  # as if stopped before epoch 2's checkpoint
    again = RunDir(tmp_path / "run")
    assert again.prepare({"a": 1}, same_run=lambda saved: saved == {"a": 1}) == {"a": 1}
    with pytest.raises(ValueError, match="different config"):
        again.prepare({"a": 2}, same_run=lambda saved: saved == {"a": 2})
    assert again.restore(epochs=3, v=tf.Variable(0.0)) == 1
    (loaded,) = again.load_logs("steps.csv")
    assert list(loaded["x"]) == [1, 2]
