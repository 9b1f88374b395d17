"""Presets: every name builds a valid config; quick mode shrinks the budget only."""

import dataclasses

import pytest

from gankit.config import GANConfig, from_dict, to_dict, validate
from gankit.presets import (
    VARIANT_BUDGETS,
    VARIANT_STUDIES,
    gan_variants,
    get_preset,
    preset_names,
)


@pytest.mark.parametrize("quick", [False, True])
@pytest.mark.parametrize("name", preset_names())
def test_every_preset_is_a_valid_config(name, quick):
    config = get_preset(name, quick=quick)
    assert isinstance(config, GANConfig) and config.name == name
    validate(config)
    assert from_dict(to_dict(config)) == config  # as a run directory stores it


@pytest.mark.parametrize("quick", [False, True])
@pytest.mark.parametrize("study", list(VARIANT_STUDIES))
def test_every_variant_of_every_study_is_a_valid_config(study, quick):
    for config in gan_variants(study, quick=quick).values():
        validate(config)


def test_quick_mode_changes_only_the_budget(monkeypatch):
    full = get_preset("dcgan_tuned", quick=False)
    quick = get_preset("dcgan_tuned", quick=True)
    assert quick.generator == full.generator and quick.discriminator == full.discriminator
    changed = {
        f.name
        for f in dataclasses.fields(full.train)
        if getattr(full.train, f.name) != getattr(quick.train, f.name)
    }
    assert changed == {"epochs", "n_train"}
    monkeypatch.setenv("GANKIT_QUICK", "1")
    assert get_preset("dcgan_tuned") == quick


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"known: .*dcgan_tuned"):
        get_preset("dcgan_best")


@pytest.mark.parametrize("name", [n for n in preset_names() if n.startswith("cgan")])
def test_cgan_presets_build_conditional_networks(name):
    from gankit.nets import build_gan

    config = get_preset(name, quick=True)
    g, d = build_gan(config)
    assert config.conditional and len(g.inputs) == 2 and len(d.inputs) == 2


def test_failing_cgans_differ_from_the_default_in_what_they_claim():
    default = get_preset("cgan", quick=False)
    assert get_preset("cgan_latent1", quick=False).generator.latent_dim == 1
    assert get_preset("cgan_smoothing", quick=False).train.real_label == 0.9
    assert (
        dataclasses.replace(get_preset("cgan_smoothing", quick=False).train, real_label=1.0)
        == default.train
    )
    mlp = get_preset("cgan_mlp_failing", quick=False)
    assert mlp.generator.kind == "mlp" and mlp.train.g_lr == 5e-3 and mlp.train.g_beta1 == 0.95


def test_the_fewshot_cgan_is_the_default_cgan_with_a_few_shot_budget():
    fewshot, default = get_preset("cgan_fewshot10", quick=False), get_preset("cgan", quick=False)
    assert fewshot.generator == default.generator
    assert fewshot.discriminator == default.discriminator
    assert fewshot.train.n_train is None  # the subset comes from retrain_study
    assert fewshot.train.batch_size == 32 < default.train.batch_size


@pytest.mark.parametrize("study", list(VARIANT_STUDIES))
def test_variant_studies_share_one_budget_per_base(study):
    full, quick = gan_variants(study, quick=False), gan_variants(study, quick=True)
    assert list(full) == list(VARIANT_STUDIES[study])
    for label, config in full.items():
        base = VARIANT_STUDIES[study][label][0]
        budget = VARIANT_BUDGETS[base]
        assert config.train.epochs == budget["train.epochs"]
        assert config.train.n_train == budget["train.n_train"]
        assert config.conditional == base.startswith("cgan")
        shrunk = quick[label]
        assert (shrunk.train.epochs, shrunk.train.n_train) == (1, 2048)
        assert (
            dataclasses.replace(
                shrunk.train, epochs=config.train.epochs, n_train=config.train.n_train
            )
            == config.train
        )


def test_the_tuned_dcgan_is_one_run_shared_by_the_studies():
    from gankit.config import config_hash

    baselines = {
        (cfg.name, config_hash(cfg))
        for study in VARIANT_STUDIES
        for label, cfg in gan_variants(study, quick=False).items()
        if VARIANT_STUDIES[study][label] == ("dcgan_tuned", {})
    }
    assert len(baselines) == 1
    names = [cfg.name for s in VARIANT_STUDIES for cfg in gan_variants(s, quick=False).values()]
    assert len(set(names)) == len(names) - 3  # the baseline appears in 4 studies


def test_variants_change_what_their_label_says():
    loss = gan_variants("loss", quick=False)
    wgan, gp = loss["DCGAN + WGAN"].train, loss["DCGAN + WGAN-GP"]
    assert (wgan.loss, wgan.optimizer, wgan.weight_clip, wgan.d_steps, wgan.g_steps) == (
        "wgan",
        "rmsprop",
        0.01,
        5,
        1,
    )
    assert wgan.g_lr == wgan.d_lr == 5e-5
    assert (gp.train.loss, gp.train.gp_weight, gp.train.d_steps, gp.train.g_lr) == (
        "wgan-gp",
        10.0,
        5,
        1e-4,
    )
    assert (gp.train.d_beta1, gp.train.d_beta2) == (0.5, 0.9)
    assert gp.discriminator.norm == "none" and loss["DCGAN"].discriminator.norm == "batch"
    assert loss["CGAN + WGAN-GP"].conditional and loss["CGAN + WGAN-GP"].train.loss == "wgan-gp"
    tuned = loss["DCGAN + WGAN-GP, tuned critic"]
    assert (tuned.train.loss, tuned.train.d_steps, tuned.train.g_steps) == ("wgan-gp", 1, 1)
    assert (tuned.train.d_lr, tuned.train.g_lr, tuned.train.precision) == (4e-4, 1e-4, "float32")
    assert (tuned.discriminator.depth, tuned.discriminator.norm) == (3, "none")
    assert loss["CGAN + WGAN-GP, tuned critic"].conditional
    up = gan_variants("upsampling", quick=False)
    assert [c.generator.upsampling for c in up.values()] == ["transpose", "nearest", "bilinear"]
    latent = gan_variants("latent", quick=False)
    assert [c.generator.latent_dim for c in latent.values()] == [2, 10, 100, 200]
    balance = gan_variants("balancing", quick=False)
    schedules = [(c.train.balance, c.train.d_steps, c.train.g_steps) for c in balance.values()]
    assert schedules == [("fixed", 1, 1), ("fixed", 1, 2), ("fixed", 2, 1), ("dynamic", 1, 1)]


def test_unknown_study_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"known: loss, upsampling"):
        gan_variants("spectral norm")
