"""Training on whatever device there is: float16 with loss scaling, the precision and
device recorded and printed, XLA as an option, and the device-resident data path, which
must log and train exactly what the host path does (on this CPU, through the same code a
GPU runs)."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from tiny_gan import TINY_GAN

from gankit import device
from gankit.config import GANConfig, with_overrides
from gankit.device import Device
from gankit.io import read_csv_exact
from gankit.nets import build_gan
from gankit.train.loop import train_gan
from gankit.train.steps import GANSteps

IMAGES = np.tanh(np.random.default_rng(0).standard_normal((128, 28, 28, 1))).astype("float32")
LABELS = np.arange(128) % 10
TINY = with_overrides(GANConfig(name="tiny"), TINY_GAN)
FLOAT16 = with_overrides(TINY, {"train.precision": "mixed_float16"})
T4 = Device("gpu", "Tesla T4", (7, 5))
TIMING = ["seconds", "images_per_second"]


def _train(cfg, run_dir, **kwargs):
    return train_gan(cfg, IMAGES, run_dir, seed=1, progress=False, **kwargs)


def _assert_same_weights(a, b):
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)


def test_float16_steps_scale_the_loss_give_finite_losses_and_move_the_weights():
    g, d = build_gan(FLOAT16, seed=1)
    assert g.layers[1].dtype_policy.compute_dtype == "float16"
    steps = GANSteps(g, d, FLOAT16.train, seed=1)
    for opt in (steps.g_opt, steps.d_opt):
        assert isinstance(opt, keras.optimizers.LossScaleOptimizer)
        assert float(opt.dynamic_scale.numpy()) == 2.0**15
    before = [w.copy() for w in g.get_weights() + d.get_weights()]
    real = tf.constant(IMAGES[:32][None])
    labels = tf.zeros((1, 32), tf.int32)
    for round_index in range(3):
        log = steps.round_step(real, labels, tf.constant(round_index, tf.int64))
        assert all(np.isfinite(log[name].numpy()) for name in log)
    after = g.get_weights() + d.get_weights()
    moved = [not np.array_equal(a, b) for a, b in zip(before, after, strict=True)]
    assert sum(moved) >= len(moved) // 2
    # three steps with finite gradients: the scale held, each optimiser counted 3 updates
    assert [int(o.step_counter.numpy()) for o in (steps.g_opt, steps.d_opt)] == [3, 3]
    assert int(steps.d_opt.iterations.numpy()) == 3


def test_float32_and_bfloat16_optimisers_are_not_wrapped():
    for precision in ("float32", "mixed_bfloat16"):
        cfg = with_overrides(TINY, {"train.precision": precision})
        steps = GANSteps(*build_gan(cfg, seed=1), cfg.train, seed=1)
        assert not isinstance(steps.g_opt, keras.optimizers.LossScaleOptimizer)


def test_float16_training_resumes_exactly_with_its_loss_scale(tmp_path):
    cfg = with_overrides(FLOAT16, {"train.epochs": 3})
    straight = _train(cfg, tmp_path / "straight", deterministic=True)

    def stop(epoch, row):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _train(cfg, tmp_path / "resumed", deterministic=True, callbacks=[stop])
    resumed = _train(cfg, tmp_path / "resumed", deterministic=True)
    assert np.isfinite(straight.steps.drop(columns="epoch").to_numpy()).all()
    _assert_same_weights(straight.generator, resumed.generator)
    pd.testing.assert_frame_equal(straight.steps, resumed.steps)
    reader = tf.train.load_checkpoint(str(tmp_path / "resumed" / "checkpoints" / "ckpt-3"))
    keys = reader.get_variable_to_shape_map()
    assert "g_optimizer/dynamic_scale/.ATTRIBUTES/VARIABLE_VALUE" in keys


def test_auto_precision_is_printed_and_recorded_as_the_concrete_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(device, "probe", lambda: T4)
    cfg = with_overrides(TINY, {"train.precision": "auto", "train.epochs": 1})
    _train(cfg, tmp_path / "run")
    out = capsys.readouterr().out
    line = "gankit: training on GPU Tesla T4 (compute capability 7.5) with mixed_float16 (auto)"
    assert line in out.splitlines()
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["train"]["precision"] == "mixed_float16"
    sessions = json.loads((tmp_path / "run" / "device.json").read_text())["sessions"]
    assert sessions == [
        {"from_epoch": 1, "precision": "mixed_float16", "requested": "auto", "device": T4.as_dict()}
    ]
    _train(cfg, tmp_path / "quiet", verbose=False)
    assert "gankit:" not in capsys.readouterr().out


def test_a_run_of_one_precision_is_not_resumed_with_another(tmp_path, monkeypatch):
    cfg = with_overrides(TINY, {"train.precision": "auto", "train.epochs": 1})
    monkeypatch.setattr(device, "probe", lambda: T4)
    _train(cfg, tmp_path / "run")
    monkeypatch.setattr(device, "probe", lambda: Device("cpu", "old", None, False, ""))
    with pytest.raises(
        ValueError,
        match=r"trained with precision 'mixed_float16', but this config means 'float32' on "
        r"CPU \(no bf16 instructions\); set train.precision='mixed_float16' to resume",
    ):
        _train(cfg, tmp_path / "run")
    _train(with_overrides(cfg, {"train.precision": "mixed_float16"}), tmp_path / "run")
    with pytest.raises(ValueError, match="holds a run of a different config"):
        _train(with_overrides(cfg, {"train.g_lr": 1e-3}), tmp_path / "run")


def test_jit_compile_trains(tmp_path):
    cfg = with_overrides(TINY, {"train.jit_compile": True, "train.epochs": 1})
    result = _train(cfg, tmp_path / "run")
    assert np.isfinite(result.steps.drop(columns="epoch").to_numpy()).all()


@pytest.mark.parametrize(
    "overrides, labels",
    [
        ({}, None),
        ({"train.d_steps": 2, "train.g_steps": 1}, None),
        (
            {
                "train.balance": "dynamic",
                "train.max_consecutive": 2,
                "generator.conditioning": "embedding",
                "discriminator.conditioning": "projection",
            },
            LABELS,
        ),
    ],
    ids=["1:2", "2:1", "dynamic-conditional"],
)
def test_device_resident_data_logs_and_trains_exactly_as_the_host_path(tmp_path, overrides, labels):
    cfg = with_overrides(TINY, {**overrides, "train.epochs": 2})
    host = _train(cfg, tmp_path / "host", labels=labels, device_data=False, deterministic=True)
    dev = _train(
        cfg, tmp_path / "dev", labels=labels, device_data=True, fetch_every=3, deterministic=True
    )
    for name in ("steps.csv", "history.csv"):
        a, b = (read_csv_exact(p / name) for p in (tmp_path / "host", tmp_path / "dev"))
        drop = [c for c in TIMING if c in a]
        pd.testing.assert_frame_equal(a.drop(columns=drop), b.drop(columns=drop))
    _assert_same_weights(host.generator, dev.generator)
    _assert_same_weights(host.discriminator, dev.discriminator)


def test_device_resident_data_resumes_exactly(tmp_path):
    cfg = with_overrides(TINY, {"train.epochs": 3})
    straight = _train(cfg, tmp_path / "straight", device_data=False, deterministic=True)

    def stop(epoch, row):
        if epoch == 2:
            raise KeyboardInterrupt

    kwargs = {"device_data": True, "fetch_every": 2, "deterministic": True}
    with pytest.raises(KeyboardInterrupt):
        _train(cfg, tmp_path / "resumed", callbacks=[stop], **kwargs)
    resumed = _train(cfg, tmp_path / "resumed", **kwargs)
    _assert_same_weights(straight.generator, resumed.generator)
    pd.testing.assert_frame_equal(straight.steps, resumed.steps)


def test_a_nan_on_the_device_path_names_the_round_it_happened_in(tmp_path, monkeypatch):
    from gankit.train import feed
    from gankit.train.run_dir import TrainingDivergedError

    real_run_epoch = feed.run_epoch

    def poisoned(round_step, *args, **kwargs):
        def step(images, labels, round_index):
            out = dict(round_step(images, labels, round_index))
            if int(round_index) == 1:
                out["g_loss"] = tf.constant(np.nan, tf.float32)
            return out

        return real_run_epoch(step, *args, **kwargs)

    monkeypatch.setattr("gankit.train.loop.run_epoch", poisoned)
    with pytest.raises(TrainingDivergedError, match="epoch 1, round 1 "):
        _train(TINY, tmp_path / "run", device_data=True, fetch_every=4)
