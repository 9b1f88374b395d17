"""Builders: output shapes and ranges for every option, weight init, VBN independence."""

import itertools

import keras
import numpy as np
import pytest

from gankit.config import GANConfig, with_overrides
from gankit.nets import (
    VirtualBatchNormalization,
    build_discriminator,
    build_gan,
    build_generator,
    build_mlp_discriminator,
    build_mlp_generator,
)

Z = np.random.default_rng(0).standard_normal((5, 16)).astype("float32")
X = np.random.default_rng(1).uniform(-1, 1, (5, 28, 28, 1)).astype("float32")
REF = np.random.default_rng(2).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")


@pytest.mark.parametrize(
    ("upsampling", "norm", "depth"),
    list(
        itertools.product(
            ["transpose", "nearest", "bilinear"], ["batch", "virtual", "none"], [1, 2, 3]
        )
    ),
)
def test_generator_shapes_for_every_option(upsampling, norm, depth):
    g = build_generator(
        16,
        base_filters=4,
        depth=depth,
        kernel_size=3,
        upsampling=upsampling,
        norm=norm,
        reference_size=4,
    )
    out = g(Z, training=True).numpy()
    assert out.shape == (5, 28, 28, 1)
    assert np.all(np.abs(out) <= 1.0)


@pytest.mark.parametrize(
    ("norm", "depth"), list(itertools.product(["batch", "virtual", "none"], [1, 2, 3]))
)
def test_discriminator_shapes_for_every_option(norm, depth):
    d = build_discriminator(
        base_filters=4, depth=depth, kernel_size=3, norm=norm, reference_images=REF
    )
    assert d(X, training=True).shape == (5, 1)


def test_tutorial_architecture_layer_sizes():
    g = build_generator(100, base_filters=64, depth=2, act="leaky_relu")
    dense = next(la for la in g.layers if isinstance(la, keras.layers.Dense))
    assert dense.units == 7 * 7 * 256
    convs = [la.filters for la in g.layers if isinstance(la, keras.layers.Conv2DTranspose)]
    assert convs == [128, 64, 1]
    d = build_discriminator(base_filters=64, depth=2)
    assert [la.filters for la in d.layers if isinstance(la, keras.layers.Conv2D)] == [64, 128]


def test_weights_follow_dcgan_init():
    g = build_generator(100, base_filters=32, depth=2)
    kernel = next(la for la in g.layers if isinstance(la, keras.layers.Dense)).kernel.numpy()
    assert abs(kernel.mean()) < 1e-3
    assert kernel.std() == pytest.approx(0.02, rel=0.05)


def test_dropout_and_leaky_slope_are_applied():
    d = build_discriminator(base_filters=4, depth=2, dropout=0.5, leaky_slope=0.1)
    drops = [la.rate for la in d.layers if isinstance(la, keras.layers.Dropout)]
    slopes = [la.negative_slope for la in d.layers if isinstance(la, keras.layers.LeakyReLU)]
    assert drops == [0.5, 0.5]
    assert slopes == pytest.approx([0.1, 0.1])


def test_mlp_builders():
    g = build_mlp_generator(16, hidden=(32, 64))
    assert g(Z).shape == (5, 28, 28, 1)
    assert build_mlp_discriminator(hidden=(32,))(X).shape == (5, 1)


def test_mixed_bfloat16_outputs_float32():
    g = build_generator(16, base_filters=4, dtype="mixed_bfloat16")
    d = build_discriminator(base_filters=4, dtype="mixed_bfloat16")
    assert g(Z).dtype == "float32"
    assert d(X).dtype == "float32"
    assert g.layers[1].compute_dtype == "bfloat16"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: build_generator(16, upsampling="cubic"), "upsampling must be one of"),
        (lambda: build_generator(16, norm="layer"), "norm must be one of"),
        (lambda: build_generator(0), "latent_dim must be > 0"),
        (lambda: build_generator(16, dropout=1.0), r"dropout must be in \[0, 1\)"),
        (lambda: build_discriminator(norm="virtual"), "needs reference_images"),
        (lambda: build_mlp_generator(16, hidden=()), "at least one layer"),
        (lambda: build_mlp_generator(16, norm="virtual"), "norm must be one of"),
    ],
)
def test_builders_reject_bad_options(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_build_gan_from_config_and_errors():
    cfg = with_overrides(
        GANConfig(),
        {"generator.base_filters": 4, "discriminator.base_filters": 4, "generator.latent_dim": 16},
    )
    g, d = build_gan(cfg, seed=3)
    assert g.output_shape == (None, 28, 28, 1) and d.output_shape == (None, 1)
    g2, _ = build_gan(cfg, seed=3)
    np.testing.assert_array_equal(g(Z).numpy(), g2(Z).numpy())  # same seed, same weights
    with pytest.raises(ValueError, match=r"generator\.kind"):
        build_gan(with_overrides(cfg, {"generator.kind": "rnn"}))
    with pytest.raises(ValueError, match="precision"):
        build_gan(with_overrides(cfg, {"train.precision": "float16"}))


def test_vbn_output_of_an_example_does_not_depend_on_its_batch():
    g = build_generator(16, base_filters=4, depth=2, norm="virtual", reference_size=4)
    rng = np.random.default_rng(5)
    others_a = rng.standard_normal((3, 16)).astype("float32")
    others_b = 5.0 * rng.standard_normal((6, 16)).astype("float32")
    out_a = g(np.concatenate([Z[:1], others_a]), training=True).numpy()[0]
    out_b = g(np.concatenate([others_b, Z[:1]]), training=True).numpy()[-1]
    np.testing.assert_allclose(out_a, out_b, atol=1e-5)


def test_batch_norm_output_does_depend_on_its_batch():
    # The control for the VBN test: the same check fails for ordinary batch norm.
    g = build_generator(16, base_filters=4, depth=2, norm="batch")
    rng = np.random.default_rng(5)
    out_a = g(np.concatenate([Z[:1], rng.standard_normal((3, 16))]), training=True).numpy()[0]
    out_b = g(np.concatenate([5 * rng.standard_normal((6, 16)), Z[:1]]), training=True).numpy()[-1]
    assert np.abs(out_a - out_b).max() > 1e-3


def _vbn_reference(x: np.ndarray, r: int, gamma, beta, eps: float) -> np.ndarray:
    """Salimans et al. 2016, section 3.4, computed directly: the reference batch x[:r] is
    normalised with its own statistics; every other example with the reference statistics
    and its own, weighted 1/(R + 1). Moments per channel, over the batch and spatial axes."""
    axes = tuple(range(1, x.ndim - 1))
    ref = x[:r]
    ref_mean = ref.mean(axis=(0, *axes))
    ref_sq = (ref**2).mean(axis=(0, *axes))
    out = np.empty_like(x, dtype=np.float64)
    out[:r] = (ref - ref_mean) / np.sqrt(ref_sq - ref_mean**2 + eps)
    for i in range(r, len(x)):
        own_mean = x[i].mean(axis=tuple(a - 1 for a in axes))
        own_sq = (x[i] ** 2).mean(axis=tuple(a - 1 for a in axes))
        mean = (r * ref_mean + own_mean) / (r + 1)
        var = (r * ref_sq + own_sq) / (r + 1) - mean**2
        out[i] = (x[i] - mean) / np.sqrt(var + eps)
    return gamma * out + beta


@pytest.mark.parametrize("shape", [(7, 3, 2, 4), (7, 5)])
def test_vbn_matches_the_papers_definition(shape):
    # Conv activations (batch, H, W, C) and dense ones (batch, C); gamma and beta not 1, 0.
    x = (np.random.default_rng(0).standard_normal(shape) * 2 + 0.5).astype("float32")
    layer = VirtualBatchNormalization(reference_size=3, epsilon=1e-3)
    layer.build(x.shape)
    gamma = np.linspace(0.5, 1.5, shape[-1]).astype("float32")
    beta = np.linspace(-0.2, 0.3, shape[-1]).astype("float32")
    layer.set_weights([gamma, beta])
    expected = _vbn_reference(x.astype(np.float64), 3, gamma, beta, 1e-3)
    np.testing.assert_allclose(layer(x).numpy(), expected, atol=1e-4)


def test_vbn_generator_saves_and_loads(tmp_path):
    g = build_generator(16, base_filters=4, depth=1, norm="virtual", reference_size=4)
    g.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras", safe_mode=True)
    np.testing.assert_allclose(loaded(Z).numpy(), g(Z).numpy(), atol=1e-6)
