"""Tests for gankit.experiments.preset_runs: presets trained in their run directories."""

import numpy as np
import pytest
from test_variants import IMAGES, LABELS, TINY, TINY_CGAN, template_classifier, template_generator

from gankit.experiments.preset_runs import tarr_per_epoch, train_preset
from gankit.nets.sampling import digit_rows


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_RUNS_DIR", str(tmp_path))
    return tmp_path


def test_a_preset_trains_once_in_its_run_directory_and_then_reloads(runs, capsys):
    first = train_preset(TINY, IMAGES, LABELS, seed=3, progress=False)
    assert first.run_dir.parent == runs and first.run_dir.name.endswith("-s3")
    assert "tiny: 2 epochs" in capsys.readouterr().out
    again = train_preset(TINY, IMAGES, seed=3, progress=False, verbose=False)
    assert again.run_dir == first.run_dir
    assert again.history.equals(first.history)
    assert capsys.readouterr().out.startswith(f"{first.run_dir.name}: already trained")


def test_labels_go_to_conditional_presets_only(runs):
    result = train_preset(
        TINY_CGAN,
        IMAGES,
        LABELS,
        progress=False,
        verbose=False,
        epoch_metrics=tarr_per_epoch(template_classifier(), n=20),
    )
    assert "tarr" in result.history and result.history["tarr"].between(0, 1).all()
    with pytest.raises(ValueError, match="conditional GAN: pass the training labels"):
        train_preset(TINY_CGAN, IMAGES, progress=False)


def test_bad_presets_are_rejected(runs):
    with pytest.raises(ValueError, match="unknown preset"):
        train_preset("no_such_preset", IMAGES)
    with pytest.raises(TypeError, match="preset name or a GANConfig"):
        train_preset(42, IMAGES)
    with pytest.raises(ValueError, match="n must be >= 1"):
        tarr_per_epoch(template_classifier(), n=0)


def test_tarr_per_epoch_is_the_success_rate_of_balanced_samples():
    tarr = tarr_per_epoch(template_classifier(), n=100, seed=1)
    assert tarr(template_generator(conditional=True)) == {"tarr": 1.0}


def test_digit_rows_hold_one_digit_per_row():
    images = digit_rows(template_generator(conditional=True, noise_scale=0.0), per_class=3)
    assert images.shape == (30, 28, 28, 1)
    rows = images.reshape(10, 3, -1)
    assert np.allclose(rows, rows[:, :1])  # no noise: the three samples of a row agree
    assert not np.allclose(rows[0, 0], rows[1, 0])
    with pytest.raises(ValueError, match="conditional generator"):
        digit_rows(template_generator(conditional=False))
