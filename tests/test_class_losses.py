"""Class losses in conditional GANs: the ACGAN discriminator (Odena et al. 2017) and a
CGAN whose G also minimises a frozen pretrained classifier's cross-entropy."""

import dataclasses
import math

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from tiny_gan import TINY_GAN

from gankit.config import GANConfig, config_hash, with_overrides
from gankit.evaluate.classifier import build_classifier
from gankit.evaluate.classifier_config import MEDIOCRE
from gankit.evaluate.inference import frozen_logits
from gankit.nets import build_discriminator, build_gan, build_mlp_discriminator
from gankit.presets import get_preset
from gankit.train import losses
from gankit.train.loop import train_gan
from gankit.train.steps import GANSteps

IMAGES = np.tanh(np.random.default_rng(0).standard_normal((128, 28, 28, 1))).astype("float32")
LABELS = (np.arange(128) % 10).astype(np.int32)
X = np.random.default_rng(1).uniform(-1, 1, (6, 28, 28, 1)).astype("float32")
TINY = {
    **TINY_GAN,
    "generator.conditioning": "embedding",
    "train.epochs": 1,
    "train.grid_size": 10,
}
ACGAN = with_overrides(GANConfig(name="acgan"), {**TINY, "discriminator.conditioning": "acgan"})
CGAN = with_overrides(GANConfig(name="cgan"), {**TINY, "discriminator.conditioning": "projection"})
PROJ_ACGAN = with_overrides(CGAN, {"discriminator.conditioning": "projection_acgan"})
CLASS_COLUMNS = ["d_class_loss", "d_class_acc", "g_class_loss", "g_class_acc"]


def _window(n=1):
    images = IMAGES[: 32 * n].reshape(n, 32, 28, 28, 1)
    return tf.constant(images), tf.constant(LABELS[: 32 * n].reshape(n, 32))


def _classifier():
    """A small untrained gankit classifier with random (not near-zero) weights."""
    model = build_classifier(MEDIOCRE)
    rng = np.random.default_rng(4)
    model.set_weights([w + 0.2 * rng.standard_normal(w.shape) for w in model.get_weights()])
    return model


def _train(cfg, run_dir, **kwargs):
    return train_gan(cfg, IMAGES, run_dir, labels=LABELS, seed=1, progress=False, **kwargs)


# ------------------------------------------------------------------------------ builders


@pytest.mark.parametrize("norm", ["none", "batch", "virtual"])
def test_acgan_discriminator_takes_the_image_alone_and_has_two_heads(norm):
    d = build_discriminator(
        base_filters=4,
        depth=2,
        kernel_size=3,
        norm=norm,
        conditioning="acgan",
        reference_images=X[:4],
        dtype="mixed_bfloat16",
    )
    assert [tuple(i.shape) for i in d.inputs] == [(None, 28, 28, 1)]
    assert [tuple(o.shape) for o in d.outputs] == [(None, 1), (None, 10)]
    logit, classes = d(X, training=False)
    assert logit.shape == (6, 1) and classes.shape == (6, 10)
    assert logit.dtype == classes.dtype == tf.float32
    assert d.get_layer("logit") is not None and d.get_layer("class_logits") is not None


def test_mlp_acgan_discriminator_and_build_gan():
    d = build_mlp_discriminator(hidden=(16,), conditioning="acgan")
    assert len(d.inputs) == 1 and [tuple(o.shape) for o in d.outputs] == [(None, 1), (None, 10)]
    g, d = build_gan(ACGAN)
    assert len(g.inputs) == 2 and len(d.inputs) == 1 and len(d.outputs) == 2
    with pytest.raises(ValueError, match="both be 'none'"):
        build_gan(with_overrides(ACGAN, {"generator.conditioning": "none"}))


@pytest.mark.parametrize("kind", ["dcgan", "mlp"])
def test_projection_acgan_discriminator_takes_the_label_and_has_two_heads(kind):
    build = build_discriminator if kind == "dcgan" else build_mlp_discriminator
    sizes = {"base_filters": 4, "depth": 1} if kind == "dcgan" else {"hidden": (16,)}
    d = build(conditioning="projection_acgan", **sizes)
    assert [tuple(i.shape) for i in d.inputs] == [(None, 28, 28, 1), (None,)]
    assert [tuple(o.shape) for o in d.outputs] == [(None, 1), (None, 10)]
    assert d.get_layer("class_projection") is not None  # the label enters by projection
    # the logit depends on the label, the class head does not
    one, other = (d([X, np.full(6, y, np.int32)], training=False) for y in (1, 7))
    assert not np.allclose(one[0], other[0]) and np.allclose(one[1], other[1])


# ---------------------------------------------------------------------------- ACGAN step


def test_one_acgan_step_trains_both_heads_and_logs_the_class_terms():
    g, d = build_gan(ACGAN, seed=0)
    head = d.get_layer("class_logits")
    before = [w.numpy().copy() for w in (*head.weights, *g.trainable_weights)]
    steps = GANSteps(g, d, ACGAN.train, seed=0)
    logs = {k: v.numpy() for k, v in steps.round_step(*_window(), tf.constant(0, tf.int64)).items()}
    # A fresh class head (weights ~ N(0, 0.02)) is at chance: ln 10 on real plus on fake.
    assert logs["d_class_loss"] == pytest.approx(2 * math.log(10), abs=0.1)
    assert logs["g_class_loss"] == pytest.approx(math.log(10), abs=0.1)
    assert 0 <= logs["d_class_acc"] <= 1 and 0 <= logs["g_class_acc"] <= 1
    after = [w.numpy() for w in (*head.weights, *g.trainable_weights)]
    assert all(not np.allclose(a, b) for a, b in zip(before, after, strict=True))


def test_acgan_d_loss_adds_the_class_cross_entropy_of_real_and_fake():
    g, d = build_gan(with_overrides(ACGAN, {"discriminator.dropout": 0.0}), seed=0)
    steps = GANSteps(g, d, ACGAN.train, seed=0)
    (real,), (labels,) = _window()
    fake = tf.constant(-IMAGES[32:64])
    log, _, _ = steps._d_losses(real, fake, labels, 0, 0)
    class_loss, class_acc = log["d_class_loss"], log["d_class_acc"]
    expected = sum(
        keras.losses.sparse_categorical_crossentropy(
            labels, d(x, training=True)[1], from_logits=True
        )
        .numpy()
        .mean()
        for x in (real, fake)
    )
    assert float(class_loss) == pytest.approx(expected, rel=1e-5)
    predicted = d(real, training=True)[1].numpy().argmax(axis=1)
    assert float(class_acc) == pytest.approx(np.mean(predicted == labels.numpy()))


@pytest.mark.parametrize("weight", [0.0, 0.5])
def test_acgan_fake_class_weight_scales_the_fake_term_of_d_class_loss(weight):
    cfg = with_overrides(
        ACGAN, {"discriminator.dropout": 0.0, "train.acgan_fake_class_weight": weight}
    )
    g, d = build_gan(cfg, seed=0)
    steps = GANSteps(g, d, cfg.train, seed=0)
    (real,), (labels,) = _window()
    fake = tf.constant(-IMAGES[32:64])
    class_loss = steps._d_losses(real, fake, labels, 0, 0)[0]["d_class_loss"]
    real_ce, fake_ce = (
        keras.losses.sparse_categorical_crossentropy(
            labels, d(x, training=True)[1], from_logits=True
        )
        .numpy()
        .mean()
        for x in (real, fake)
    )
    assert float(class_loss) == pytest.approx(real_ce + weight * fake_ce, rel=1e-5)


@pytest.mark.parametrize("config", [ACGAN, PROJ_ACGAN], ids=["acgan", "projection_acgan"])
def test_acgan_class_weight_scales_the_class_part_of_g_gradients(config):
    (stats0, grads0), (stats1, grads1), (_, grads2) = (
        _g_gradients(config, {"train.acgan_class_weight": w}) for w in (0.0, 1.0, 2.0)
    )
    # logged unweighted
    assert stats0["g_class_loss"] == pytest.approx(stats1["g_class_loss"], rel=1e-5)
    assert stats1["g_class_loss"] > 0
    assert any(not np.allclose(a, b, atol=1e-7) for a, b in zip(grads0, grads1, strict=True))
    for a, b, c in zip(grads0, grads1, grads2, strict=True):
        np.testing.assert_allclose(c - a, 2 * (b - a), rtol=1e-3, atol=1e-6)


def _class_loss_gradients(weight, fake):
    cfg = with_overrides(
        ACGAN, {"discriminator.dropout": 0.0, "train.acgan_fake_class_weight": weight}
    )
    g, d = build_gan(cfg, seed=0)
    steps = GANSteps(g, d, cfg.train, seed=0)
    (real,), (labels,) = _window()
    with tf.GradientTape() as tape:
        class_loss = steps._d_losses(real, tf.constant(fake), labels, 0, 0)[0]["d_class_loss"]
    return [g for g in tape.gradient(class_loss, d.trainable_variables) if g is not None]


@pytest.mark.parametrize(("weight", "depends_on_fakes"), [(0.0, False), (1.0, True)])
def test_only_a_nonzero_fake_class_weight_lets_the_fakes_move_the_acgan_head(
    weight, depends_on_fakes
):
    one, other = (_class_loss_gradients(weight, f) for f in (-IMAGES[32:64], IMAGES[64:96]))
    same = all(np.allclose(a, b) for a, b in zip(one, other, strict=True))
    assert one and same is not depends_on_fakes


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"train.update": "simultaneous"},
        {"train.balance": "dynamic", "train.max_consecutive": 2},
        {"discriminator.norm": "virtual", "train.precision": "mixed_bfloat16"},
        {"generator.kind": "mlp", "discriminator.kind": "mlp", "generator.hidden": [16]},
        {"discriminator.conditioning": "projection_acgan", "train.acgan_fake_class_weight": 0},
    ],
)
def test_acgan_trains_one_epoch_with_every_update_scheme(tmp_path, overrides):
    result = _train(with_overrides(ACGAN, overrides), tmp_path / "run")
    for column in CLASS_COLUMNS:
        assert column in result.history and np.all(np.isfinite(result.steps[column]))
    assert np.all(result.steps["d_class_loss"] > 0) and np.all(result.steps["g_class_loss"] > 0)
    assert len(result.generator.inputs) == 2


def test_acgan_resume_is_exact(tmp_path):
    cfg = with_overrides(ACGAN, {"train.epochs": 2})

    def crash_after_epoch_one(epoch, row):
        if epoch == 1:
            raise KeyboardInterrupt

    straight = _train(cfg, tmp_path / "straight", deterministic=True)
    with pytest.raises(KeyboardInterrupt):
        _train(cfg, tmp_path / "resumed", deterministic=True, callbacks=[crash_after_epoch_one])
    resumed = _train(cfg, tmp_path / "resumed", deterministic=True)
    for a, b in zip(
        straight.discriminator.get_weights(), resumed.discriminator.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(straight.steps, resumed.steps)


# ------------------------------------------------------------------ frozen classifier loss


def test_frozen_logits_are_the_classifier_before_its_softmax():
    clf = _classifier()
    logits = frozen_logits(clf)(tf.constant(X))
    np.testing.assert_allclose(
        tf.nn.softmax(logits).numpy(), clf(X, training=False).numpy(), atol=1e-5
    )


def _g_gradients(config, train_overrides, classifier=None):
    """G's loss terms and gradients for one batch of 32, D without dropout; the nets are
    built from ``config``, the steps from it with ``train_overrides``."""
    cfg = with_overrides(config, {"discriminator.dropout": 0.0})
    g, d = build_gan(cfg, seed=0)
    train = with_overrides(cfg, train_overrides).train
    steps = GANSteps(g, d, train, seed=0, classifier=classifier)
    labels = tf.constant(LABELS[:32])
    stats, grads = steps.g_gradients(labels, 32, tf.constant(0, tf.int64), 0)
    return {k: v.numpy() for k, v in stats.items()}, [
        tf.convert_to_tensor(gr).numpy() for gr in grads
    ]


def test_classifier_loss_changes_the_generator_gradients_in_proportion_to_its_weight():
    clf = _classifier()
    stats0, grads0 = _g_gradients(CGAN, {"train.classifier_loss_weight": 0.0}, clf)
    stats1, grads1 = _g_gradients(CGAN, {"train.classifier_loss_weight": 1.0}, clf)
    stats2, grads2 = _g_gradients(CGAN, {"train.classifier_loss_weight": 2.0}, clf)
    assert stats0["g_class_loss"] == 0 and stats0["g_class_acc"] == 0  # classifier not run
    assert stats1["g_loss"] == pytest.approx(stats0["g_loss"], rel=1e-5)  # same adversarial
    assert stats1["g_class_loss"] > 0
    assert stats1["g_class_loss"] == pytest.approx(stats2["g_class_loss"], rel=1e-5)
    assert any(not np.allclose(a, b, atol=1e-7) for a, b in zip(grads0, grads1, strict=True))
    # total = adversarial + w * class loss: the class part of the gradient is linear in w
    for a, b, c in zip(grads0, grads1, grads2, strict=True):
        np.testing.assert_allclose(c - a, 2 * (b - a), rtol=1e-3, atol=1e-6)


def test_classifier_loss_is_the_classifiers_cross_entropy_on_the_fakes():
    clf = _classifier()
    cfg = with_overrides(CGAN, {"train.classifier_loss_weight": 0.5})
    g, d = build_gan(cfg, seed=0)
    steps = GANSteps(g, d, cfg.train, seed=0, classifier=clf)
    labels = tf.constant(LABELS[:32])
    stats, _ = steps.g_gradients(labels, 32, tf.constant(3, tf.int64), 1)
    fake = g([steps._noise(32, tf.constant(3, tf.int64), 1), labels], training=True)
    probs = clf(fake, training=False).numpy()
    expected = -np.log(probs[np.arange(32), LABELS[:32]]).mean()
    assert float(stats["g_class_loss"]) == pytest.approx(expected, rel=1e-4)
    assert float(stats["g_class_acc"]) == pytest.approx(
        np.mean(probs.argmax(axis=1) == LABELS[:32])
    )


def test_training_with_the_classifier_loss_never_updates_the_classifier(tmp_path):
    clf = _classifier()
    before = [w.copy() for w in clf.get_weights()]
    cfg = with_overrides(CGAN, {"train.classifier_loss_weight": 1.0})
    result = _train(cfg, tmp_path / "run", classifier=clf)
    for a, b in zip(before, clf.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    steps = result.steps
    assert np.all(steps["g_class_loss"] > 0) and np.all(steps["d_class_loss"] == 0)
    assert steps["g_class_acc"].between(0, 1).all()


def test_the_reference_classifier_is_loaded_when_none_is_given(tmp_path, monkeypatch):
    import gankit.evaluate.classifier

    clf, calls = _classifier(), []
    monkeypatch.setattr(
        gankit.evaluate.classifier, "load_or_train_classifier", lambda **kw: calls.append(kw) or clf
    )
    cfg = with_overrides(CGAN, {"train.classifier_loss_weight": 1.0})
    _train(cfg, tmp_path / "run")
    assert len(calls) == 1
    _train(with_overrides(CGAN, {}), tmp_path / "other")  # weight 0: nothing loaded
    assert len(calls) == 1


def test_a_plain_cgan_logs_zero_class_terms(tmp_path):
    result = _train(CGAN, tmp_path / "run")
    assert (result.steps[CLASS_COLUMNS] == 0).all().all()


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("config", "overrides", "match"),
    [
        (CGAN, {"train.classifier_loss_weight": -1.0}, "classifier_loss_weight must be >= 0"),
        (ACGAN, {"train.classifier_loss_weight": 1.0}, "already gives G a class loss"),
        (
            CGAN,
            {
                "generator.conditioning": "none",
                "discriminator.conditioning": "none",
                "train.classifier_loss_weight": 1.0,
            },
            "needs a conditional GAN",
        ),
        (ACGAN, {"generator.conditioning": "none"}, "both be 'none'"),
        (ACGAN, {"train.acgan_fake_class_weight": -1.0}, "acgan_fake_class_weight must be >= 0"),
        (CGAN, {"train.acgan_fake_class_weight": 0.0}, "leave it at 1.0"),
        (CGAN, {"train.acgan_class_weight": 0.5}, "acgan_class_weight weighs"),
        (ACGAN, {"train.acgan_class_weight": -1.0}, "acgan_class_weight must be >= 0"),
        (PROJ_ACGAN, {"train.classifier_loss_weight": 1.0}, "already gives G a class loss"),
        (ACGAN, {"discriminator.conditioning": "auxiliary"}, "must be one of"),
    ],
)
def test_bad_class_loss_configs_are_rejected(tmp_path, config, overrides, match):
    cfg = with_overrides(config, overrides)
    labels = LABELS if cfg.conditional else None
    with pytest.raises(ValueError, match=match):
        train_gan(cfg, IMAGES, tmp_path / "run", labels=labels, progress=False)


def test_steps_with_a_classifier_loss_need_a_classifier():
    cfg = with_overrides(CGAN, {"train.classifier_loss_weight": 1.0})
    g, d = build_gan(cfg)
    with pytest.raises(ValueError, match="needs classifier="):
        GANSteps(g, d, cfg.train, seed=0)


# -------------------------------------------------------------------- presets and hashes


def test_class_loss_presets_change_only_the_class_loss_of_the_projection_cgan():
    base = get_preset("cgan_projection", quick=False)
    acgan = get_preset("acgan", quick=False)
    clf = get_preset("cgan_classifier_loss", quick=False)
    assert acgan.discriminator.conditioning == "acgan"
    assert acgan.train == dataclasses.replace(base.train, acgan_fake_class_weight=0.0)
    assert acgan.generator == base.generator
    assert clf.train.classifier_loss_weight > 0
    assert clf.generator == base.generator and clf.discriminator == base.discriminator
    assert len({config_hash(c) for c in (base, acgan, clf)}) == 3  # three run directories


def _on_a_bf16_cpu(monkeypatch):
    """The hashes below are those of runs trained where precision "auto" is bf16."""
    from gankit import device

    bf16 = device.Device("cpu", "AMD EPYC", None, True, "avx512_bf16")
    monkeypatch.setattr(device, "probe", lambda: bf16)


def test_the_default_cgan_is_the_projection_cgan_with_a_real_only_class_head(monkeypatch):
    _on_a_bf16_cpu(monkeypatch)
    base = get_preset("cgan_projection", quick=False)
    cgan = get_preset("cgan", quick=False)
    assert cgan.generator == base.generator
    assert cgan.discriminator == dataclasses.replace(
        base.discriminator, conditioning="projection_acgan"
    )
    assert cgan.train == dataclasses.replace(
        base.train, acgan_fake_class_weight=0.0, acgan_class_weight=0.3
    )
    # the run measured for the preset's comment
    assert config_hash(cgan) == "17a8741119"


def test_the_new_fields_leave_existing_run_hashes_alone(monkeypatch):
    _on_a_bf16_cpu(monkeypatch)
    # The Q2 CGAN as first trained (10 epochs in bfloat16): its run directory keeps its name.
    assert config_hash(get_preset("cgan_projection", quick=False)) == "45ec51f900"
    # Q1's tuned DCGAN as it was before it took the CGAN's recipe.
    first_tuned = {"generator.base_filters": 32, "discriminator.base_filters": 32,
                   "train.g_steps": 2, "train.g_lr": 2e-4, "train.d_lr": 2e-4,
                   "train.ema_decay": 0.0, "train.lr_decay_start": 1.0,
                   "train.precision": "float32"}  # fmt: skip
    tuned = with_overrides(get_preset("dcgan_tuned", quick=False), first_tuned)
    assert config_hash(tuned) == "585a1d7124"
    odena = {"train.acgan_fake_class_weight": 1.0}  # the first ACGAN preset
    assert config_hash(with_overrides(get_preset("acgan", quick=False), odena)) == "64f8b67546"


def test_class_loss_and_accuracy_on_known_logits():
    logits = tf.constant([[0.0, 0.0], [5.0, -5.0], [0.0, 3.0]])
    labels = tf.constant([0, 1, 1])
    expected = np.mean([math.log(2), 10 + math.log1p(math.exp(-10)), math.log1p(math.exp(-3))])
    assert float(losses.class_cross_entropy(logits, labels)) == pytest.approx(expected, rel=1e-5)
    assert float(losses.class_accuracy(logits, labels)) == pytest.approx(2 / 3)
