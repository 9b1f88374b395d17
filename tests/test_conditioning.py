"""Conditional builders: every way a label enters G and D, the label actually matters,
projection and conditional batch norm do what they say, and they save and load."""

import itertools

import keras
import numpy as np
import pytest

from gankit.config import GANConfig, with_overrides
from gankit.nets import (
    ConditionalBatchNormalization,
    build_discriminator,
    build_gan,
    build_generator,
    build_mlp_discriminator,
    build_mlp_generator,
)

Z = np.random.default_rng(0).standard_normal((6, 16)).astype("float32")
X = np.random.default_rng(1).uniform(-1, 1, (6, 28, 28, 1)).astype("float32")
Y = np.array([0, 1, 2, 3, 4, 9], np.int32)
REF = np.random.default_rng(2).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
REF_Y = np.arange(8, dtype=np.int32)


def _perturb(model):
    # Fresh label embeddings/scales start at zero or near it; random weights make the
    # label's effect visible in a test.
    rng = np.random.default_rng(3)
    model.set_weights([w + 0.3 * rng.standard_normal(w.shape) for w in model.get_weights()])
    return model


@pytest.mark.parametrize(
    ("conditioning", "norm"),
    [("concat", "batch"), ("embedding", "batch"), ("batchnorm", "batch"), ("concat", "virtual")],
)
def test_conditional_generator_output_depends_on_the_label(conditioning, norm):
    g = build_generator(
        16,
        base_filters=4,
        depth=1,
        kernel_size=3,
        norm=norm,
        conditioning=conditioning,
        reference_size=4,
    )
    assert [tuple(i.shape) for i in g.inputs] == [(None, 16), (None,)]
    _perturb(g)
    a = g([Z, Y], training=False).numpy()
    b = g([Z, (Y + 1) % 10], training=False).numpy()
    assert a.shape == (6, 28, 28, 1) and np.all(np.abs(a) <= 1)
    assert np.abs(a - b).max() > 1e-3


@pytest.mark.parametrize(
    ("conditioning", "norm"),
    list(itertools.product(["concat", "embedding", "projection"], ["none", "batch", "virtual"])),
)
def test_conditional_discriminator_logit_depends_on_the_label(conditioning, norm):
    d = build_discriminator(
        base_filters=4,
        depth=2,
        kernel_size=3,
        norm=norm,
        conditioning=conditioning,
        reference_images=REF,
        reference_labels=REF_Y,
        dropout=0.0,
    )
    _perturb(d)
    a = d([X, Y], training=False).numpy()
    b = d([X, (Y + 1) % 10], training=False).numpy()
    assert a.shape == (6, 1)
    assert np.abs(a - b).max() > 1e-4


@pytest.mark.parametrize("conditioning", ["concat", "embedding", "batchnorm"])
def test_mlp_cgan_builders(conditioning):
    g = build_mlp_generator(16, hidden=(32,), conditioning=conditioning)
    d_kind = "projection" if conditioning == "batchnorm" else conditioning
    d = build_mlp_discriminator(hidden=(32,), conditioning=d_kind)
    images = np.asarray(g([Z, Y], training=True))
    assert images.shape == (6, 28, 28, 1)
    assert d([images, Y], training=True).shape == (6, 1)


def test_projection_adds_the_inner_product_of_label_embedding_and_features():
    d = build_mlp_discriminator(hidden=(8,), dropout=0.0, conditioning="projection")
    _perturb(d)
    features = keras.Model(d.inputs, d.get_layer("logit").input)([X, Y]).numpy()
    embedding = d.get_layer("class_projection").get_weights()[0]
    w, b = d.get_layer("logit").get_weights()
    expected = features @ w + b + np.sum(embedding[Y] * features, axis=1, keepdims=True)
    np.testing.assert_allclose(d([X, Y]).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_conditional_batch_norm_starts_as_batch_norm_and_shifts_per_class():
    x = np.random.default_rng(4).standard_normal((6, 5)).astype("float32") * 3 + 2
    layer = ConditionalBatchNormalization()
    out = layer([x, Y], training=True).numpy()
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    gamma, beta = np.zeros((10, 5), "float32"), np.zeros((10, 5), "float32")
    beta[9] = 7.0
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    shifted = layer([x, Y], training=True).numpy()
    np.testing.assert_allclose(shifted[:5], out[:5], atol=1e-5)
    np.testing.assert_allclose(shifted[5], out[5] + 7.0, atol=1e-5)


@pytest.mark.parametrize("g_kind", ["embedding", "batchnorm"])
def test_conditional_generator_saves_and_loads_in_safe_mode(tmp_path, g_kind):
    g = _perturb(build_generator(16, base_filters=4, depth=1, conditioning=g_kind))
    g.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras", safe_mode=True, compile=False)
    np.testing.assert_allclose(
        loaded([Z, Y], training=False).numpy(), g([Z, Y], training=False).numpy(), atol=1e-5
    )


def test_invalid_conditioning_options_are_rejected_with_the_choices():
    with pytest.raises(ValueError, match="concat, embedding, batchnorm"):
        build_generator(16, conditioning="projection")
    with pytest.raises(ValueError, match="needs norm='batch'"):
        build_generator(16, norm="none", conditioning="batchnorm")
    with pytest.raises(ValueError, match="concat, embedding, projection"):
        build_discriminator(conditioning="batchnorm")
    with pytest.raises(ValueError, match="reference_labels"):
        build_discriminator(norm="virtual", reference_images=REF, conditioning="concat")
    half = with_overrides(GANConfig(), {"generator.conditioning": "concat"})
    with pytest.raises(ValueError, match="both"):
        build_gan(half)
