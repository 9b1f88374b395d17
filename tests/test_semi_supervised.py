"""The semi-supervised GAN: its losses' known answers, shapes, validation and exact resume."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from gankit.train import semi_supervised as ssl
from gankit.train.run_dir import TrainingDivergedError

TINY = ssl.SemiSupervisedConfig(
    epochs=2, batch_size=16, latent_dim=8, g_filters=4, d_filters=4, dropout=0.3, input_noise=0.1
)

# The paper's networks (their sizes are fixed), with every option of the trainer on.
PAPER_TINY = ssl.SemiSupervisedConfig(
    **{
        **ssl.IMPROVED_GAN.__dict__,
        "epochs": 2,
        "batch_size": 16,
        "lr_decay_start": 0.5,
        "ema_decay": 0.9,
        "entropy_weight": 0.3,
    }
)


def tiny_data(seed=0):
    rng = np.random.default_rng(seed)
    unlabelled = rng.uniform(-1, 1, (48, 28, 28, 1)).astype(np.float32)
    labels = np.arange(20) % 10
    return unlabelled, unlabelled[:20], labels


def test_unsupervised_loss_known_answers():
    zeros = tf.zeros((4, 10))
    # Z = 10 for zero logits: -log D = log(11/10) on reals, -log(1 - D) = log 11 on fakes.
    assert float(ssl.unsupervised_loss(zeros, tf.fill((4, 10), -50.0))) == pytest.approx(
        math.log(1.1), rel=1e-5
    )
    assert float(ssl.unsupervised_loss(tf.fill((4, 10), 50.0), zeros)) == pytest.approx(
        math.log(11.0), rel=1e-5
    )


def test_unsupervised_loss_is_finite_for_extreme_logits():
    extreme = tf.constant([[1e4] * 10, [-1e4] * 10])
    assert np.isfinite(float(ssl.unsupervised_loss(extreme, extreme)))


def test_feature_matching_compares_batch_means_only():
    real = tf.constant([[0.0, 2.0], [2.0, 0.0]])
    assert float(ssl.feature_matching_loss(real, tf.ones((2, 2)))) == 0.0  # same mean (1, 1)
    assert float(ssl.feature_matching_loss(real, tf.zeros((3, 2)))) == pytest.approx(1.0)


def test_discriminator_gives_class_logits_and_features():
    d = ssl.build_semi_supervised_discriminator(TINY)
    logits, features = d(np.zeros((3, 28, 28, 1), np.float32))
    assert logits.shape == (3, 10) and features.shape[0] == 3 and features.shape[1] > 10


def test_training_writes_history_and_a_working_classifier(tmp_path):
    unlabelled, labelled, labels = tiny_data()
    result = ssl.train_semi_supervised(
        TINY,
        unlabelled,
        labelled,
        labels,
        tmp_path,
        seed=0,
        test=(labelled, labels),
        progress=False,
    )
    assert list(result.history["epoch"]) == [1, 2]
    assert set(ssl.LOG_COLUMNS) <= set(result.history.columns)
    assert result.history["test_accuracy"].between(0, 1).all()
    probs = result.classifier.predict_on_batch(labelled)
    np.testing.assert_allclose(np.asarray(probs).sum(1), 1.0, atol=1e-5)
    assert result.generator(tf.zeros((2, TINY.latent_dim))).shape == (2, 28, 28, 1)
    assert pd.read_csv(tmp_path / "history.csv").shape[0] == 2


@pytest.mark.parametrize("config", [TINY, PAPER_TINY], ids=["dcgan", "improved_gan"])
def test_resume_continues_exactly(tmp_path, config):
    unlabelled, labelled, labels = tiny_data()
    test = {"val": (labelled, labels)}
    whole = ssl.train_semi_supervised(
        config,
        unlabelled,
        labelled,
        labels,
        tmp_path / "whole",
        seed=3,
        test=test,
        progress=False,
    )
    # Stopped after epoch 1 of the full budget (the learning-rate schedule depends on it).
    _train_and_stop_after_one_epoch(
        config, (unlabelled, labelled, labels), tmp_path / "split", test
    )
    resumed = ssl.train_semi_supervised(
        config,
        unlabelled,
        labelled,
        labels,
        tmp_path / "split",
        seed=3,
        test=test,
        progress=False,
    )
    for a, b in zip(whole.classifier.weights, resumed.classifier.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(whole.generator.weights, resumed.generator.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    pd.testing.assert_frame_equal(
        whole.history.drop(columns="seconds"), resumed.history.drop(columns="seconds")
    )


def _train_and_stop_after_one_epoch(config, data, run_dir, test):
    """Trains ``config`` and interrupts it after its first epoch was saved."""

    class Stop(Exception):
        pass

    real_save = ssl.RunDir.save_epoch

    def save_then_stop(self, epoch, *args, **kwargs):
        real_save(self, epoch, *args, **kwargs)
        raise Stop

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ssl.RunDir, "save_epoch", save_then_stop)
        with pytest.raises(Stop):
            ssl.train_semi_supervised(config, *data, run_dir, seed=3, test=test, progress=False)


def test_paper_networks_train_with_averaged_classifier(tmp_path):
    unlabelled, labelled, labels = tiny_data()
    one = ssl.SemiSupervisedConfig(**{**PAPER_TINY.__dict__, "epochs": 1})
    result = ssl.train_semi_supervised(
        one, unlabelled, labelled, labels, tmp_path, test=(labelled, labels), progress=False
    )
    assert {"test_accuracy", "test_accuracy_last"} <= set(result.history.columns)
    assert result.classifier.get_layer("class_logits") is not None
    assert result.generator(tf.zeros((2, 100))).shape == (2, 28, 28, 1)


def test_prediction_entropy_known_answers():
    assert float(ssl.prediction_entropy(tf.zeros((3, 10)))) == pytest.approx(math.log(10))
    confident = tf.one_hot([1, 4], 10) * 100.0
    assert float(ssl.prediction_entropy(confident)) == pytest.approx(0.0, abs=1e-6)


def test_a_run_written_before_new_fields_existed_still_resumes(tmp_path):
    unlabelled, labelled, labels = tiny_data()
    one = ssl.SemiSupervisedConfig(**{**TINY.__dict__, "epochs": 1})
    ssl.train_semi_supervised(one, unlabelled, labelled, labels, tmp_path, progress=False)
    path = tmp_path / "config.json"
    saved = json.loads(path.read_text())
    for field in ("architecture", "hidden_noise", "lr_decay_start", "ema_decay"):
        del saved["config"][field]
    path.write_text(json.dumps(saved))
    resumed = ssl.train_semi_supervised(
        TINY, unlabelled, labelled, labels, tmp_path, progress=False
    )
    assert list(resumed.history["epoch"]) == [1, 2]


def test_a_finished_run_is_reloaded_not_retrained(tmp_path, capsys):
    unlabelled, labelled, labels = tiny_data()
    first = ssl.train_semi_supervised(
        TINY, unlabelled, labelled, labels, tmp_path, seed=0, progress=False
    )
    again = ssl.train_semi_supervised(
        TINY, unlabelled, labelled, labels, tmp_path, seed=0, progress=False
    )
    assert "already trained" in capsys.readouterr().out
    assert again.train_seconds == pytest.approx(first.train_seconds)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"labels": np.arange(20) % 9}, "every class 0-9 present"),
        ({"labels": np.arange(19) % 10}, "must have shape"),
        ({"unlabelled": np.zeros((8, 28, 28, 1), np.float32)}, "cannot fill a batch"),
        ({"labelled": np.full((20, 28, 28, 1), 2.0, np.float32)}, r"\[-1, 1\]"),
    ],
)
def test_bad_inputs_are_refused(tmp_path, change, match):
    unlabelled, labelled, labels = tiny_data()
    args = {"unlabelled": unlabelled, "labelled": labelled, "labels": labels, **change}
    with pytest.raises(ValueError, match=match):
        ssl.train_semi_supervised(TINY, run_dir=tmp_path, progress=False, **args)


def test_labels_that_are_not_integers_are_refused(tmp_path):
    unlabelled, labelled, labels = tiny_data()
    with pytest.raises(TypeError, match="must be integers"):
        ssl.train_semi_supervised(
            TINY, unlabelled, labelled, labels.astype(float), tmp_path, progress=False
        )


def test_another_config_or_seed_in_the_same_run_dir_is_refused(tmp_path):
    unlabelled, labelled, labels = tiny_data()
    one = ssl.SemiSupervisedConfig(**{**TINY.__dict__, "epochs": 1})
    ssl.train_semi_supervised(one, unlabelled, labelled, labels, tmp_path, progress=False)
    wider = ssl.SemiSupervisedConfig(**{**one.__dict__, "d_filters": 8})
    for config, seed in [(wider, 0), (one, 1)]:
        with pytest.raises(ValueError, match="different config or seed"):
            ssl.train_semi_supervised(
                config, unlabelled, labelled, labels, tmp_path, seed=seed, progress=False
            )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("epochs", 0),
        ("batch_size", 1.5),
        ("dropout", 1.0),
        ("lr", 0.0),
        ("unsupervised_weight", -1.0),
        ("architecture", "resnet"),
        ("hidden_noise", -0.5),
        ("entropy_weight", -1.0),
        ("ema_decay", 1.0),
        ("lr_decay_start", 1.5),
        ("adam_epsilon", 0.0),
        ("labelled_shift", 5),
    ],
)
def test_config_validation(field, value):
    with pytest.raises(ValueError, match=field):
        ssl.SemiSupervisedConfig(**{field: value})


def test_history_csv_keeps_its_columns(tmp_path):
    unlabelled, labelled, labels = tiny_data()
    one = ssl.SemiSupervisedConfig(**{**TINY.__dict__, "epochs": 1})
    ssl.train_semi_supervised(
        one, unlabelled, labelled, labels, tmp_path, test=(labelled, labels), progress=False
    )
    assert list(pd.read_csv(tmp_path / "history.csv").columns) == [
        "epoch",
        "d_supervised_loss",
        "d_unsupervised_loss",
        "g_loss",
        "labelled_accuracy",
        "seconds",
        "test_accuracy",
    ]


def test_a_nan_loss_stops_at_its_step_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    unlabelled, labelled, labels = tiny_data()
    one = ssl.SemiSupervisedConfig(**{**TINY.__dict__, "epochs": 1})
    ssl.train_semi_supervised(one, unlabelled, labelled, labels, tmp_path, progress=False)
    monkeypatch.setattr(
        ssl, "feature_matching_loss", lambda real, fake: np.nan * tf.reduce_sum(fake)
    )
    with pytest.raises(TrainingDivergedError, match=r"NaN or inf at epoch 2, round 0 .*ckpt-1"):
        ssl.train_semi_supervised(TINY, unlabelled, labelled, labels, tmp_path, progress=False)
    assert len(pd.read_csv(tmp_path / "history.csv")) == 1
    assert tf.train.latest_checkpoint(tmp_path / "checkpoints").endswith("ckpt-1")


def test_shift_images_moves_each_image_within_the_range():
    images = -np.ones((64, 28, 28, 1), np.float32)
    images[:, 14, 14] = 1.0  # one bright pixel in the middle
    shifted = np.asarray(ssl.shift_images(tf.constant(images), 2, [0, 5]))
    rows, cols = np.nonzero(shifted[..., 0] > 0)[1:]
    assert len(rows) == 64  # the pixel survives in every image, once
    assert set(rows - 14) == set(cols - 14) == {-2, -1, 0, 1, 2}  # 64 draws reach each offset
    assert shifted.min() == -1.0
    again = np.asarray(ssl.shift_images(tf.constant(images), 2, [0, 5]))
    np.testing.assert_array_equal(shifted, again)
