"""Presets: every name builds a valid config; quick mode shrinks the budget only."""

import dataclasses

import pytest

from gankit.config import GANConfig
from gankit.presets import DCGAN_VARIANTS, dcgan_variants, get_preset, preset_names
from gankit.train import validate_train_config


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_is_a_valid_config(name):
    config = get_preset(name, quick=False)
    assert isinstance(config, GANConfig) and config.name == name
    validate_train_config(config.train)


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


def test_variants_change_one_thing_each_on_the_same_budget():
    variants = dcgan_variants(epochs=2, n_train=1000)
    assert list(variants) == list(DCGAN_VARIANTS)
    base = variants["tuned"]
    assert base.train.epochs == 2 and base.train.n_train == 1000
    names = {cfg.name for cfg in variants.values()}
    assert len(names) == len(variants)  # distinct run directories
    for label, cfg in variants.items():
        assert cfg.train.epochs == 2 and cfg.train.n_train == 1000
        if label != "tuned":
            assert dataclasses.replace(cfg, name=base.name) != base, label


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
