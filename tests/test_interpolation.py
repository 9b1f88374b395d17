"""Interpolation: paths hit their endpoints, slerp keeps the norm, generator walks have the
right shapes, and class codes reproduce the integer-label generator exactly."""

import keras
import numpy as np
import pytest

from gankit.nets import build_generator, build_mlp_generator
from gankit.studies.interpolation import (
    class_code_generator,
    class_interpolation,
    latent_interpolation,
    lerp,
    pixel_interpolation,
    slerp,
)

RNG = np.random.default_rng(0)
Z0, Z1 = RNG.standard_normal((2, 16)).astype("float32")


def _perturb(model):
    # Fresh label embeddings start near zero; random weights make the label matter.
    rng = np.random.default_rng(3)
    model.set_weights([w + 0.3 * rng.standard_normal(w.shape) for w in model.get_weights()])
    return model


def _generator(conditioning="none", **kwargs):
    return _perturb(
        build_generator(
            16, base_filters=4, depth=1, kernel_size=3, conditioning=conditioning, **kwargs
        )
    )


@pytest.mark.parametrize("path", [lerp, slerp])
def test_paths_start_and_end_at_the_endpoints(path):
    points = path(Z0, Z1, 7)
    assert points.shape == (7, 16) and points.dtype == np.float32
    np.testing.assert_allclose(points[0], Z0, atol=1e-6)
    np.testing.assert_allclose(points[-1], Z1, atol=1e-6)


def test_lerp_is_straight_and_slerp_keeps_the_norm_of_equal_norm_endpoints():
    mid = lerp(Z0, Z1, 3)[1]
    np.testing.assert_allclose(mid, (Z0 + Z1) / 2, atol=1e-6)
    a, b = Z0 / np.linalg.norm(Z0) * 4, Z1 / np.linalg.norm(Z1) * 4
    np.testing.assert_allclose(np.linalg.norm(slerp(a, b, 9), axis=1), 4.0, rtol=1e-5)
    assert np.linalg.norm(lerp(a, b, 9), axis=1)[4] < 4.0 - 1e-3  # the chord cuts inside
    # Equal angular steps along the arc.
    arc = slerp(a, b, 9)
    cos = np.sum(arc[:-1] * arc[1:], axis=1) / 16
    np.testing.assert_allclose(cos, cos[0], rtol=1e-5)


def test_slerp_of_parallel_vectors_falls_back_to_the_straight_line():
    for b in (2 * Z0, -Z0, np.zeros(16)):
        points = slerp(Z0, b, 5)
        assert np.all(np.isfinite(points))
        np.testing.assert_allclose(points, lerp(Z0, b, 5), atol=1e-6)


def test_pixel_interpolation_fades_between_two_images():
    x0, x1 = -np.ones((28, 28, 1), "float32"), np.ones((28, 28, 1), "float32")
    fade = pixel_interpolation(x0, x1, 5)
    assert fade.shape == (5, 28, 28, 1)
    np.testing.assert_allclose(fade[:, 0, 0, 0], [-1, -0.5, 0, 0.5, 1])


@pytest.mark.parametrize(("steps", "error"), [(1, ValueError), (2.5, ValueError)])
def test_bad_step_counts_are_rejected(steps, error):
    with pytest.raises(error, match="steps"):
        lerp(Z0, Z1, steps)


def test_latent_interpolation_of_an_unconditional_generator():
    g = _generator()
    for method in ("slerp", "lerp"):
        images = latent_interpolation(g, Z0, Z1, 6, method)
        assert images.shape == (6, 28, 28, 1)
        np.testing.assert_allclose(images[0], g(Z0[None], training=False)[0], atol=1e-5)
        np.testing.assert_allclose(images[-1], g(Z1[None], training=False)[0], atol=1e-5)
    with pytest.raises(ValueError, match="unconditional"):
        latent_interpolation(g, Z0, Z1, label=3)
    with pytest.raises(ValueError, match="method"):
        latent_interpolation(g, Z0, Z1, method="cubic")
    with pytest.raises(ValueError, match=r"shape \(16,\)"):
        latent_interpolation(g, Z0[:8], Z1[:8])


def test_latent_interpolation_of_a_conditional_generator_keeps_the_class():
    g = _generator("embedding")
    images = latent_interpolation(g, Z0, Z1, 4, label=7)
    np.testing.assert_allclose(
        images[-1], g([Z1[None], np.array([7])], training=False)[0], atol=1e-5
    )
    with pytest.raises(ValueError, match="needs label"):
        latent_interpolation(g, Z0, Z1)


@pytest.mark.parametrize(
    "make",
    [
        lambda: _generator("concat"),
        lambda: _generator("embedding"),
        lambda: _perturb(build_mlp_generator(16, hidden=(8,), conditioning="embedding")),
    ],
)
def test_class_codes_reproduce_the_generator_and_walk_between_classes(make):
    g = make()
    model, codes = class_code_generator(g)
    assert codes.shape[0] == 10
    labels = np.array([0, 3, 9], np.int32)
    z = RNG.standard_normal((3, 16)).astype("float32")
    np.testing.assert_allclose(
        model([z, codes[labels]], training=False).numpy(),
        g([z, labels], training=False).numpy(),
        atol=1e-5,
    )
    walk = class_interpolation(g, Z0, 3, 8, steps=5)
    assert walk.shape == (5, 28, 28, 1)
    ends = g([np.stack([Z0, Z0]), np.array([3, 8])], training=False).numpy()
    np.testing.assert_allclose(walk[[0, -1]], ends, atol=1e-5)
    # The middle is not a blend of the two end images: G is non-linear in its code.
    assert np.abs(walk[2] - (ends[0] + ends[1]) / 2).max() > 1e-3


def test_class_code_generator_shares_weights_with_the_generator():
    g = _generator("concat")
    model, _ = class_code_generator(g)
    dense = next(layer for layer in g.layers if isinstance(layer, keras.layers.Dense))
    dense.kernel.assign(dense.kernel * 0)  # a change to G shows in the code model at once
    code = np.eye(10, dtype="float32")[[4]]
    out = model([Z0[None], code], training=False).numpy()
    np.testing.assert_allclose(out, g([Z0[None], np.array([4])], training=False).numpy())


@pytest.mark.parametrize(
    "kwargs", [{"conditioning": "batchnorm"}, {"conditioning": "concat", "norm": "virtual"}]
)
def test_generators_without_a_single_code_fall_back_to_pixel_space(kwargs):
    g = _generator(reference_size=4, **kwargs)
    with pytest.raises(ValueError, match="method='pixel'"):
        class_interpolation(g, Z0, 1, 2)
    fade = class_interpolation(g, Z0, 1, 2, steps=3, method="pixel")
    ends = g([np.stack([Z0, Z0]), np.array([1, 2])], training=False).numpy()
    np.testing.assert_allclose(fade[1], (ends[0] + ends[1]) / 2, atol=1e-5)


def test_class_interpolation_rejects_bad_inputs():
    with pytest.raises(ValueError, match="conditional"):
        class_interpolation(_generator(), Z0, 1, 2)
    g = _generator("concat")
    with pytest.raises(ValueError, match=r"class_b must be in \[0, 10\)"):
        class_interpolation(g, Z0, 1, 10)
    with pytest.raises(TypeError, match="class_a"):
        class_interpolation(g, Z0, 1.5, 2)
    with pytest.raises(ValueError, match="method"):
        class_interpolation(g, Z0, 1, 2, method="embedding")
