"""Config: JSON round trip, overrides with helpful errors, hashing, validation."""

import dataclasses
import json
import math

import pytest

from gankit.config import (
    GANConfig,
    TrainConfig,
    config_hash,
    from_dict,
    is_quick,
    to_dict,
    validate,
    with_overrides,
)


def test_round_trip_through_json():
    cfg = with_overrides(
        GANConfig(), {"generator.hidden": [64, 128], "train.g_lr": 1e-3, "name": "x"}
    )
    again = from_dict(json.loads(json.dumps(to_dict(cfg))))
    assert again == cfg
    assert again.generator.hidden == (64, 128)


def test_overrides_change_only_what_they_name():
    cfg = with_overrides(GANConfig(), {"train.d_steps": 2, "discriminator.norm": "batch"})
    assert cfg.train.d_steps == 2 and cfg.discriminator.norm == "batch"
    assert cfg.generator == GANConfig().generator
    assert with_overrides(cfg, {"train.g_lr": 1}).train.g_lr == 1.0  # ints pass as floats


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        (
            {"train.lr": 1e-3},
            ValueError,
            r"unknown config key 'train\.lr'\. Did you mean train\.g_lr",
        ),
        ({"optimizer.lr": 1e-3}, ValueError, "unknown config key 'optimizer.lr'"),
        ({"train": 3}, ValueError, "section.field"),
        ({"train.epochs": "ten"}, TypeError, r"train\.epochs expects int"),
        ({"train.epochs": True}, TypeError, r"train\.epochs expects int, got True \(bool\)"),
        ({"train.g_lr": "fast"}, TypeError, r"train\.g_lr expects float"),
        ({"train.n_train": 1.5}, TypeError, r"train\.n_train expects None or int"),
        ({"generator.hidden": [64, 1.5]}, TypeError, "list of ints"),
        ({"name": ""}, TypeError, "non-empty string"),
    ],
)
def test_bad_overrides_explain_themselves(overrides, error, match):
    with pytest.raises(error, match=match):
        with_overrides(GANConfig(), overrides)


def test_from_dict_rejects_unknown_sections_and_fields():
    with pytest.raises(ValueError, match="unknown config sections"):
        from_dict({"model": {}})
    with pytest.raises(ValueError, match=r"unknown config key 'generator\.width'"):
        from_dict({"generator": {"width": 3}})
    with pytest.raises(TypeError, match="section 'train' must be a dict"):
        from_dict({"train": 3})
    with pytest.raises(TypeError, match=r"train\.epochs expects int"):
        from_dict({"train": {"epochs": True}})


def test_hash_ignores_name_but_not_values():
    a = GANConfig()
    assert config_hash(a) == config_hash(with_overrides(a, {"name": "other"}))
    assert config_hash(a) != config_hash(with_overrides(a, {"train.g_lr": 1e-3}))


def test_quick_mode_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GANKIT_QUICK", "1")
    assert is_quick()
    monkeypatch.setenv("GANKIT_QUICK", "0")
    assert not is_quick()


# Run directories are named by these hashes; a new field must not rename existing runs.
def test_hashes_of_existing_configs_do_not_change():
    from gankit.presets import get_preset

    # Q1's first tuned DCGAN (before it took the CGAN's recipe) keeps its directory name.
    first_tuned = {"generator.base_filters": 32, "discriminator.base_filters": 32,
                   "train.g_steps": 2, "train.g_lr": 2e-4, "train.d_lr": 2e-4,
                   "train.ema_decay": 0.0, "train.lr_decay_start": 1.0,
                   "train.precision": "float32"}  # fmt: skip
    assert config_hash(with_overrides(get_preset("dcgan_tuned", quick=False), first_tuned)) == (
        "585a1d7124"
    )
    # the default config of before precision 'auto' (float32)
    assert config_hash(with_overrides(GANConfig(), {"train.precision": "float32"})) == "2f8570d9b4"


@pytest.mark.parametrize(
    "override",
    [
        {"train.loss": "wgan-gp"},
        {"train.optimizer": "rmsprop"},
        {"train.weight_clip": 0.01},
        {"train.gp_weight": 5.0},
        {"train.balance": "dynamic"},
        {"train.d_loss_threshold": 0.5},
        {"train.g_loss_threshold": 2.0},
        {"train.max_consecutive": 3},
        {"train.jit_compile": True},
    ],
)
def test_new_train_fields_change_the_hash_only_when_set(override):
    assert config_hash(with_overrides(GANConfig(), override)) != config_hash(GANConfig())


def test_a_config_saved_before_the_wgan_fields_loads_with_their_defaults():
    saved = to_dict(GANConfig())
    for key in ("optimizer", "weight_clip", "gp_weight", "balance", "max_consecutive"):
        del saved["train"][key]
    assert from_dict(saved) == GANConfig()


# --------------------------------------------------------------------------------------
# validate: every rule in one place
# --------------------------------------------------------------------------------------
def test_the_default_config_is_valid():
    assert validate(GANConfig()) is None


def _train(**changes) -> GANConfig:
    return dataclasses.replace(GANConfig(), train=dataclasses.replace(TrainConfig(), **changes))


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("field", ["g_lr", "d_lr"])
def test_non_finite_learning_rates_are_rejected(field, value):
    with pytest.raises(ValueError, match=rf"train\.{field} must be a finite number"):
        validate(_train(**{field: value}))
    with pytest.raises(ValueError, match="finite"):
        validate(with_overrides(GANConfig(), {f"train.{field}": value}))


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"epochs": True}, r"train\.epochs expects int, got True \(bool\)"),
        ({"batch_size": 64.0}, r"train\.batch_size expects int"),
        ({"loss": None}, r"train\.loss expects str"),
    ],
)
def test_fields_of_the_wrong_type_are_rejected(changes, match):
    with pytest.raises(TypeError, match=match):
        validate(_train(**changes))


def test_a_config_that_is_not_a_ganconfig_is_rejected():
    with pytest.raises(TypeError, match="must be a GANConfig"):
        validate(to_dict(GANConfig()))


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (
            {"train.precision": "float16"},
            "precision must be one of auto, float32, mixed_bfloat16, mixed_float16",
        ),
        ({"generator.conditioning": "concat"}, "must both be 'none'"),
        ({"discriminator.conditioning": "projection"}, "must both be 'none'"),
        ({"generator.kind": "rnn"}, r"generator\.kind must be 'dcgan' or 'mlp'"),
        ({"discriminator.kind": "rnn"}, r"discriminator\.kind must be 'dcgan' or 'mlp'"),
        ({"generator.upsampling": "cubic"}, r"generator\.upsampling must be one of"),
        ({"generator.norm": "layer"}, r"generator\.norm must be one of batch, virtual"),
        ({"generator.kind": "mlp", "generator.norm": "virtual"}, "kind='dcgan'"),
        ({"generator.act": "tanh"}, r"generator\.act must be one of relu, leaky_relu"),
        ({"discriminator.norm": "layer"}, r"discriminator\.norm must be one of"),
        (
            {"generator.conditioning": "projection", "discriminator.conditioning": "concat"},
            r"generator\.conditioning must be one of none, concat, embedding, batchnorm",
        ),
        (
            {"generator.conditioning": "concat", "discriminator.conditioning": "batchnorm"},
            r"discriminator\.conditioning must be one of none, concat",
        ),
        (
            {
                "generator.conditioning": "batchnorm",
                "generator.norm": "none",
                "discriminator.conditioning": "concat",
            },
            "needs generator.norm='batch'",
        ),
        ({"generator.latent_dim": 0}, r"generator\.latent_dim must be >= 1"),
        ({"discriminator.depth": 0}, r"discriminator\.depth must be >= 1"),
        ({"discriminator.hidden": []}, r"discriminator\.hidden must be widths >= 1"),
        ({"generator.hidden": [64, 0]}, r"generator\.hidden must be widths >= 1"),
        ({"discriminator.dropout": 1.0}, r"discriminator\.dropout must be in \[0, 1\)"),
        ({"discriminator.leaky_slope": -0.2}, r"discriminator\.leaky_slope must be >= 0"),
    ],
)
def test_network_options_are_checked_with_the_config(overrides, match):
    with pytest.raises(ValueError, match=match):
        validate(with_overrides(GANConfig(), overrides))


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"train.epochs": 0}, "invalid TrainConfig: epochs must be >= 1"),
        ({"train.g_top_k": 0.0}, r"g_top_k must be in \(0, 1\]"),
        ({"train.g_top_k": 1.5}, r"g_top_k must be in \(0, 1\]"),
        ({"train.r1_weight": -1.0}, "r1_weight must be >= 0"),
        ({"train.loss": "wgan-gp", "train.r1_weight": 1.0}, "has its own constraint"),
        ({"train.r1_weight": 1.0, "discriminator.norm": "batch"}, "breaks the R1"),
        ({"train.loss": "wgan"}, "loss='wgan' needs weight_clip > 0"),
        ({"train.balance": "dynamic", "train.lr_decay_start": 0.5}, "cannot decay"),
        ({"train.classifier_loss_weight": 1.0}, "needs a conditional GAN"),
        ({"train.acgan_class_weight": 0.3}, "class-head discriminator"),
        ({"train.loss": "wgan-gp", "discriminator.norm": "batch"}, "breaks the"),
    ],
)
def test_train_rules_and_rules_across_sections(overrides, match):
    with pytest.raises(ValueError, match=match):
        validate(with_overrides(GANConfig(), overrides))
