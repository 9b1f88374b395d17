"""Self-conditioned GAN: k-means pseudo-classes, the cluster sampler (known answers,
frequencies, independence of the noise), config rules and the trainer's unconditional
output."""

import numpy as np
import pytest
from scipy.stats import norm
from tiny_gan import TINY_GAN

from gankit.config import GANConfig, validate, with_overrides
from gankit.data.clusters import cluster_purity, kmeans_labels
from gankit.nets import ClusterFromNoise, build_gan, cluster_sampler
from gankit.nets.sampling import is_conditional
from gankit.train.loop import load_generator, train_gan

CONDITIONING = {"generator.conditioning": "embedding", "discriminator.conditioning": "projection"}
SELF_CONDITIONED = with_overrides(
    GANConfig(name="tiny"), {**TINY_GAN, **CONDITIONING, "train.self_conditioned": True}
)


def _two_shapes(n_per_shape: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Noisy copies of two different images: k-means must find the two groups."""
    rng = np.random.default_rng(0)
    shapes = np.zeros((2, 28, 28), np.float32) - 1
    shapes[0, 4:24, 12:16] = 1  # a bar
    shapes[1, 6:22, 6:22] = 1  # a square
    which = np.repeat([0, 1], n_per_shape)
    images = shapes[which] + 0.1 * rng.standard_normal((len(which), 28, 28)).astype(np.float32)
    return np.clip(images, -1, 1), which


def test_kmeans_finds_separated_groups_the_same_way_for_a_seed():
    images, which = _two_shapes()
    clusters = kmeans_labels(images, 2, seed=3)
    assert clusters.dtype == np.int32 and cluster_purity(clusters, which) == 1.0
    np.testing.assert_array_equal(clusters, kmeans_labels(images, 2, seed=3))
    with pytest.raises(ValueError, match="2 <= k <= the number of images"):
        kmeans_labels(images[:3], 5)


def test_cluster_purity_known_answer_and_errors():
    assert cluster_purity(np.array([0, 0, 1, 1]), np.array([3, 3, 3, 5])) == 0.75
    with pytest.raises(ValueError, match="one length"):
        cluster_purity(np.array([0, 1]), np.array([1]))


def test_cluster_from_noise_known_answer():
    # z0 = 0: u = 0.5 falls in class 1 of [0.25, 0.75], 1/3 of the way in.
    noise = np.array([[0.0, 7.0], [-3.0, 1.0]], np.float32)
    fresh, classes = ClusterFromNoise([1.0, 3.0])(noise)  # normalised to [0.25, 0.75]
    np.testing.assert_array_equal(np.asarray(classes), [1, 0])
    u = norm.cdf(-3.0)
    expected = [[norm.ppf(1 / 3), 7.0], [norm.ppf(u / 0.25), 1.0]]
    np.testing.assert_allclose(np.asarray(fresh), expected, rtol=1e-4)


def test_cluster_from_noise_draws_the_frequencies_and_fresh_standard_noise():
    frequencies = [0.5, 0.3, 0.2]
    noise = np.random.default_rng(0).standard_normal((100_000, 3)).astype(np.float32)
    fresh, classes = (np.asarray(a) for a in ClusterFromNoise(frequencies)(noise))
    np.testing.assert_allclose(np.bincount(classes) / len(classes), frequencies, atol=0.005)
    for c in range(3):  # the first coordinate is standard normal within every class
        first = fresh[classes == c, 0]
        assert abs(first.mean()) < 0.03 and abs(first.std() - 1) < 0.03
    np.testing.assert_array_equal(fresh[:, 1:], noise[:, 1:])
    with pytest.raises(ValueError, match="positive"):
        ClusterFromNoise([0.5, 0.0])


def test_cluster_sampler_is_unconditional_and_saves_as_one_model(tmp_path):
    generator, _ = build_gan(SELF_CONDITIONED, seed=0)
    sampler = cluster_sampler(generator, np.arange(1, 11))
    assert is_conditional(generator) and not is_conditional(sampler)
    noise = np.random.default_rng(1).standard_normal((6, 8)).astype(np.float32)
    sampler.save(tmp_path / "generator.keras")
    reloaded = load_generator(tmp_path)  # safe mode: the layer is registered
    np.testing.assert_allclose(reloaded(noise), sampler(noise), atol=1e-6)
    with pytest.raises(ValueError, match="needs a conditional generator"):
        cluster_sampler(sampler, [1.0])


def test_config_rules_for_self_conditioning():
    validate(SELF_CONDITIONED)
    unconditional = with_overrides(
        SELF_CONDITIONED,
        {"generator.conditioning": "none", "discriminator.conditioning": "none"},
    )
    with pytest.raises(ValueError, match=r"set generator\.conditioning"):
        validate(unconditional)
    with pytest.raises(ValueError, match="clusters it does not know"):
        validate(with_overrides(SELF_CONDITIONED, {"train.classifier_loss_weight": 1.0}))


def test_trainer_clusters_the_images_and_returns_an_unconditional_generator(tmp_path):
    images, _ = _two_shapes(64)
    images = images[..., None]
    result = train_gan(SELF_CONDITIONED, images, tmp_path / "run", seed=1, progress=False)
    assert not is_conditional(result.generator)
    noise = np.random.default_rng(2).standard_normal((5, 8)).astype(np.float32)
    np.testing.assert_allclose(load_generator(tmp_path / "run")(noise), result.generator(noise),
                               atol=1e-6)  # fmt: skip
    with pytest.raises(ValueError, match="finds its own classes"):
        train_gan(SELF_CONDITIONED, images, tmp_path / "other", labels=np.zeros(128, int))


def test_the_clusters_are_kept_in_the_run_and_reused_on_reload(tmp_path, monkeypatch):
    import gankit.train.loop as loop

    images, _ = _two_shapes(64)
    train_gan(SELF_CONDITIONED, images[..., None], tmp_path / "run", seed=1, progress=False)
    saved = np.load(tmp_path / "run" / loop.CLUSTERS_FILE)
    expected = kmeans_labels(images[..., None], SELF_CONDITIONED.n_classes, seed=1)
    np.testing.assert_array_equal(saved, expected)

    def no_clustering(*args, **kwargs):
        raise AssertionError("k-means ran again")

    monkeypatch.setattr(loop, "kmeans_labels", no_clustering)
    again = train_gan(SELF_CONDITIONED, images[..., None], tmp_path / "run", seed=1,
                      progress=False)  # fmt: skip
    noise = np.random.default_rng(2).standard_normal((5, 8)).astype(np.float32)
    np.testing.assert_allclose(again.generator(noise), load_generator(tmp_path / "run")(noise),
                               atol=1e-6)  # fmt: skip


def test_only_digit_conditional_configs_take_labels():
    from gankit.presets import get_preset

    takes = {name: get_preset(name).takes_labels for name in
             ("cgan", "dcgan_tuned", "dcgan_self_conditioned")}  # fmt: skip
    assert takes == {"cgan": True, "dcgan_tuned": False, "dcgan_self_conditioned": False}
    info = with_overrides(
        get_preset("dcgan_tuned"),
        {"generator.conditioning": "code", "discriminator.conditioning": "acgan"},
    )
    assert not info.takes_labels  # an InfoGAN code is drawn, not given


def test_more_or_fewer_clusters_build_networks_for_that_many_classes(tmp_path):
    config = with_overrides(SELF_CONDITIONED, {"train.clusters": 3, "train.epochs": 1})
    assert config.n_classes == 3 and SELF_CONDITIONED.n_classes == 10
    images, _ = _two_shapes(64)
    result = train_gan(config, images[..., None], tmp_path / "run", seed=1, progress=False)
    assert not is_conditional(result.generator)
    (embedding,) = [w for w in result.discriminator.weights if "class_projection" in w.path]
    assert embedding.shape[0] == 3
    with pytest.raises(ValueError, match=r"set train\.self_conditioned=True"):
        validate(with_overrides(GANConfig(name="x"), {"train.clusters": 20}))
    with pytest.raises(ValueError, match="clusters must be >= 2"):
        validate(with_overrides(SELF_CONDITIONED, {"train.clusters": 1}))
