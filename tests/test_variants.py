"""Variant studies: the quality meter on a stub classifier, the runner trains a shared
config once and gives labels to conditional configs only, and the tables and summaries
compute what they say on hand-made logs."""

from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from tiny_gan import TINY_GAN

from gankit.config import GANConfig, with_overrides
from gankit.evaluate.protocol import FLOOR_LABEL, EvalProtocol
from gankit.evaluate.suite import Evaluator, ReferenceSet
from gankit.nets.sampling import balanced_labels
from gankit.studies.variants import (
    QualityMeter,
    VariantRun,
    VariantRunner,
    class_strips,
    comparison_table,
    config_differences,
    estimate_vs_quality,
    interpolation_strips,
    stability_summary,
    studies_table,
)
from gankit.train.loop import TrainResult

RNG = np.random.default_rng(0)
TEMPLATES = np.tanh(RNG.standard_normal((10, 784)) * 2).astype("float32")
IMAGES = np.tanh(RNG.standard_normal((256, 28, 28, 1))).astype("float32")
LABELS = balanced_labels(256)
TINY = with_overrides(GANConfig(name="tiny"), TINY_GAN)
TINY_CGAN = with_overrides(
    TINY,
    {
        "name": "tiny_cgan",
        "generator.conditioning": "embedding",
        "discriminator.conditioning": "projection",
    },
)


def template_classifier():
    """Classifies an image as the template it correlates with most; embedding = those
    correlations."""
    x = keras.Input((28, 28, 1))
    emb = keras.layers.Dense(10, name="embedding")
    h = emb(keras.layers.Flatten()(x))
    emb.set_weights([TEMPLATES.T / 784, np.zeros(10, "float32")])
    return keras.Model(x, keras.layers.Softmax()(keras.layers.Rescaling(100.0)(h)))


def template_generator(conditional: bool, noise_scale: float = 0.3):
    """Draws the template of the asked class (conditional) or of class 0, plus noise."""
    z = keras.Input((784,))
    if conditional:
        y = keras.Input((), dtype="int32")
        emb = keras.layers.Embedding(10, 784)
        t = emb(y)
        emb.set_weights([TEMPLATES])
        inputs = [z, y]
    else:
        t = keras.layers.Dense(784, kernel_initializer="zeros")(z)
        t = keras.layers.Lambda(lambda v: v + TEMPLATES[0])(t)
        inputs = z
    x = keras.layers.Add()([t, keras.layers.Rescaling(noise_scale)(z)])
    x = keras.layers.Activation(lambda v: keras.ops.clip(v, -1.0, 1.0))(x)
    return keras.Model(inputs, keras.layers.Reshape((28, 28, 1))(x))


def _real(n=300, noise_scale=0.3):
    labels = balanced_labels(n)
    noise = np.random.default_rng(1).standard_normal((n, 784))
    return np.clip(TEMPLATES[labels] + noise_scale * noise, -1, 1).reshape(-1, 28, 28, 1)


@pytest.fixture(scope="module")
def meter():
    clf = template_classifier()
    real, labels = _real(), balanced_labels(300)
    evaluator = Evaluator.build(clf, real, real, labels, EvalProtocol(n=300))
    return QualityMeter.build(evaluator, real[:100], epoch_n=200)


def test_per_epoch_quality_is_fid_and_is_plus_tarr_for_a_conditional_generator(meter):
    good = meter.per_epoch(template_generator(conditional=True))
    assert set(good) == {"fid", "inception_score", "tarr"}
    assert good["tarr"] == 1.0 and good["inception_score"] > 9.0
    collapsed = meter.per_epoch(template_generator(conditional=False))
    assert set(collapsed) == {"fid", "inception_score"}
    assert collapsed["inception_score"] == pytest.approx(1.0, abs=0.01)
    assert collapsed["fid"] > 10 * good["fid"]


def test_suite_is_the_protocol_suite_and_the_epoch_meter_has_its_own_reference(meter):
    generator = template_generator(conditional=True)
    out = meter.suite(generator)
    assert {"fid", "kid", "precision", "recall", "classes_covered", "tarr"} <= set(out)
    assert out["classes_covered"] == 10 and out["precision"] > 0.5
    assert out == meter.evaluator.score(generator)
    assert isinstance(meter.epoch_reference, ReferenceSet)
    assert len(meter.epoch_reference.embedding) == 100
    assert len(meter.evaluator.reference.embedding) == 300


def test_runner_trains_a_shared_config_once_and_labels_only_conditional_ones(tmp_path):
    calls = []

    def evaluate(generator):
        calls.append(generator)
        return {"fid": 1.0 + len(calls)}

    runner = VariantRunner(
        IMAGES,
        LABELS,
        run_dir_for=lambda config, seed: tmp_path / f"{config.name}-s{seed}",
        evaluate=evaluate,
        epoch_metrics=lambda g: {"score": 0.5},
    )
    first = runner.run({"base": TINY, "cgan": TINY_CGAN})
    again = runner.run({"baseline again": TINY})
    assert len(calls) == 2  # the baseline was not trained or evaluated a second time
    assert again["baseline again"].result is first["base"].result
    assert again["baseline again"].label == "baseline again"
    assert first["cgan"].config.conditional and len(first["cgan"].generator.inputs) == 2
    assert len(first["base"].generator.inputs) == 1
    assert list(first["base"].history["score"]) == [0.5, 0.5]
    assert (tmp_path / "tiny-s0" / "generator.keras").exists()


def test_runner_needs_labels_for_a_conditional_config(tmp_path):
    runner = VariantRunner(IMAGES, run_dir_for=lambda c, s: tmp_path / c.name)
    with pytest.raises(ValueError, match="give the runner labels"):
        runner.run({"cgan": TINY_CGAN})


def _fake_run(label, steps, history, metrics=None, seconds=10.0):
    result = TrainResult(None, None, history, steps, Path("."), "completed", seconds)
    return VariantRun(label, TINY, result, metrics or {})


def _steps(d_loss, g_loss, d_updates=1, g_updates=2):
    n = len(d_loss)
    return pd.DataFrame(
        {
            "epoch": np.arange(1, n + 1) / n * 2,  # two epochs of rounds
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_updates": d_updates,
            "g_updates": g_updates,
        }
    )


def test_stability_summary_reads_late_losses_updates_and_the_metric_trajectory():
    steps = _steps([9, 9, 1, 3], [5, 5, 2, 2], d_updates=[1, 2, 1, 1], g_updates=[1, 1, 3, 3])
    history = pd.DataFrame({"epoch": [1, 2, 3], "fid": [50.0, 60.0, 40.0], "seconds": [9, 4, 6]})
    out = stability_summary(_fake_run("x", steps, history, seconds=19.0))
    # The last half of training (epoch > 1): rounds 3 and 4 only.
    assert out["d_loss_std"] == pytest.approx(np.std([1, 3], ddof=1))
    assert out["g_loss_std"] == 0.0
    assert (out["d_updates"], out["g_updates"], out["g_per_d"]) == (5, 8, 8 / 5)
    assert out["epoch_fid_final"] == 40.0 and out["epoch_fid_worst_rise"] == 10.0
    assert out["seconds_per_epoch"] == 6.0 and out["train_seconds"] == 19.0
    improving = history.assign(fid=[50.0, 40.0, 30.0])
    assert stability_summary(_fake_run("x", steps, improving))["epoch_fid_worst_rise"] == 0.0
    one_epoch = stability_summary(_fake_run("x", steps[:1], history[:1]), metric="nope")
    assert np.isnan(one_epoch["d_loss_std"]) and np.isnan(one_epoch["epoch_nope_final"])
    with pytest.raises(ValueError, match="late"):
        stability_summary(_fake_run("x", steps, history), late=0)


def test_comparison_table_has_a_row_per_variant_and_drops_metrics_nobody_has():
    history = pd.DataFrame({"epoch": [1, 2], "seconds": [5.0, 3.0]})
    runs = {
        "a": _fake_run("a", _steps([1, 1], [1, 1]), history, {"fid": 10.0, "kid": 1.0}),
        "b": _fake_run("b", _steps([1, 1], [1, 1], 5, 1), history, {"fid": 20.0}),
    }
    table = comparison_table(runs, {"fid": 5.0, "kid": 0.1, "tarr": 0.99})
    assert list(table["variant"]) == ["a", "b", FLOOR_LABEL]
    assert "tarr" not in table and "inception_score" not in table
    assert list(table["fid"]) == [10.0, 20.0, 5.0] and np.isnan(table["kid"][1])
    assert table["kid"][2] == 0.1
    assert list(table["d_updates"][:2]) == [2, 10] and list(table["g_updates"][:2]) == [4, 2]
    assert list(table["seconds_per_epoch"][:2]) == [4.0, 4.0]
    assert list(table["epochs"][:2]) == [2, 2] and table["epochs"].isna()[2]
    with pytest.raises(ValueError, match="floor is empty"):
        comparison_table(runs, {})


def test_estimate_vs_quality_is_a_rank_correlation_over_epochs():
    history = pd.DataFrame(
        {
            "wasserstein": [3.0, 2.0, 1.5, 1.0],
            "fid": [300.0, 100.0, 90.0, 20.0],  # falls with the estimate: +1
            "inception_score": [2.0, 5.0, 6.0, 8.0],  # rises as it falls: -1
        }
    )
    out = estimate_vs_quality(history)
    assert out == {"fid": pytest.approx(1.0), "inception_score": pytest.approx(-1.0)}
    assert np.isnan(estimate_vs_quality(history[:2])["fid"])
    assert np.isnan(estimate_vs_quality(history.assign(fid=1.0))["fid"])
    with pytest.raises(ValueError, match="lacks"):
        estimate_vs_quality(history, ["tarr"])


def test_interpolation_strips_share_their_end_images():
    from gankit.nets import build_gan

    g, _ = build_gan(TINY, seed=0)
    strips = interpolation_strips(g, seed=3, steps=5)
    assert list(strips) == ["slerp", "lerp", "pixel"]
    for strip in strips.values():
        assert strip.shape == (5, 28, 28, 1)
        np.testing.assert_allclose(strip[0], strips["slerp"][0], atol=1e-5)
        np.testing.assert_allclose(strip[-1], strips["slerp"][-1], atol=1e-5)
    # Only the pixel fade is a straight line between the two end images.
    np.testing.assert_allclose(strips["pixel"][2], (strips["pixel"][0] + strips["pixel"][4]) / 2)


def test_class_strips_walk_from_one_class_to_another():
    from gankit.nets import build_gan

    g, _ = build_gan(TINY_CGAN, seed=0)
    strips = class_strips(g, 3, 8, seed=1, steps=4)
    assert list(strips) == ["label code", "pixel"]
    z = np.random.default_rng(1).standard_normal((1, 8)).astype("float32")
    ends = g([np.repeat(z, 2, axis=0), np.array([3, 8])], training=False).numpy()
    for strip in strips.values():
        assert strip.shape == (4, 28, 28, 1)
        np.testing.assert_allclose(strip[0], ends[0], atol=1e-5)
        np.testing.assert_allclose(strip[-1], ends[1], atol=1e-5)
    with pytest.raises(ValueError, match="conditional"):
        class_strips(build_gan(TINY, seed=0)[0], 3, 8)


def test_config_differences_lists_only_the_fields_that_change():
    configs = {
        "base": TINY,
        "wgan": with_overrides(TINY, {"train.loss": "wgan", "train.weight_clip": 0.01}),
        "cgan": TINY_CGAN,
    }
    table = config_differences(configs)
    assert list(table["variant"]) == ["base", "wgan", "cgan"]
    assert set(table.columns) == {
        "variant",
        "train.loss",
        "train.weight_clip",
        "generator.conditioning",
        "discriminator.conditioning",
    }
    assert list(table["train.loss"]) == ["nonsaturating", "wgan", "nonsaturating"]


def test_studies_table_stacks_the_studies_and_appends_the_floor_row():
    history = pd.DataFrame({"epoch": [1], "seconds": [2.0]})
    base = _fake_run("tuned", _steps([1], [1]), history, {"fid": 10.0})
    wide = _fake_run("wide", _steps([1], [1]), history, {"fid": 8.0, "tarr": 0.9})
    table = studies_table(
        {"loss": {"DCGAN": base, "CGAN": wide}, "latent": {"100": base}},
        {"fid": 1.0, "tarr": 0.99, "mmd": 0.1},
    )
    assert list(table.columns[:2]) == ["study", "variant"] and "mmd" not in table
    assert list(table["study"]) == ["loss", "loss", "latent", "reference"]
    assert list(table["variant"]) == ["DCGAN", "CGAN", "100", FLOOR_LABEL]
    assert list(table["fid"]) == [10.0, 8.0, 10.0, 1.0]
    assert np.isnan(table["tarr"][2]) and np.isnan(table["seconds_per_epoch"][3])
    assert list(table["epochs"][:3]) == [1, 1, 1] and table["epochs"].isna()[3]
    assert str(table["g_updates"].dtype) == "Int64"  # counts print as integers
    with pytest.raises(ValueError, match="empty"):
        studies_table({}, {"fid": 1.0})
    with pytest.raises(ValueError, match="floor is empty"):
        studies_table({"latent": {"100": base}}, {})
