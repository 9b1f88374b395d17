"""The default run function: train on MNIST, evaluate, write the metrics (fake data)."""

import json

import numpy as np
import pytest

from gankit.config import with_overrides
from gankit.experiments.run import TrainAndEvaluate, evaluate_run_dir
from gankit.experiments.sweep import run_status, run_sweep
from gankit.experiments.sweep_grid import RunSpec
from gankit.presets import get_preset


def fake_mnist():
    rng = np.random.default_rng(0)
    images = np.tanh(rng.standard_normal((256, 28, 28))).astype(np.float32)
    labels = rng.integers(0, 10, 256).astype(np.uint8)
    return (images, labels), (images[:128], labels[:128])


@pytest.fixture
def fake_evaluation(monkeypatch):
    import gankit.evaluate.classifier
    import gankit.evaluate.suite

    calls = []

    def evaluate(generator, *, classifier, real_test, real_test_labels, reference, n, seed):
        calls.append(n)
        assert len(reference) >= n and len(real_test) >= n
        images = np.asarray(generator(np.zeros((4, generator.inputs[0].shape[-1]))))
        return {"generated": {"fid": float(np.abs(images).mean())}, "real test": {"fid": 0.0}}

    monkeypatch.setattr(gankit.evaluate.suite, "evaluate", evaluate, raising=False)
    monkeypatch.setattr(
        gankit.evaluate.classifier, "load_or_train_classifier", lambda *a, **k: None
    )
    return calls


def test_train_and_evaluate_resumes_an_interrupted_training(tmp_path, fake_evaluation, capsys):
    from gankit.train.loop import train_gan

    config = with_overrides(
        get_preset("dcgan_tuned", quick=True),
        {
            "train.n_train": 128,
            "train.batch_size": 32,
            "train.epochs": 2,
            "train.grid_size": 4,
            "generator.depth": 1,
            "discriminator.depth": 1,
            "generator.base_filters": 4,
            "discriminator.base_filters": 4,
        },
    )
    spec = RunSpec(config, seed=0)
    run_dir = tmp_path / spec.run_id

    def stop_after_first_epoch(epoch, row):
        raise KeyboardInterrupt  # as if the laptop lid closed after epoch 1

    with pytest.raises(KeyboardInterrupt):
        train_gan(
            config,
            fake_mnist()[0][0],
            run_dir,
            seed=0,
            progress=False,
            callbacks=[stop_after_first_epoch],
        )
    assert run_status(run_dir) == "incomplete"

    run = TrainAndEvaluate(quick=True, eval_n=64, data=fake_mnist)
    (outcome,) = run_sweep([spec], run, root=tmp_path)
    assert "resuming from epoch 1/2" in capsys.readouterr().out
    assert outcome.status == "ok" and fake_evaluation == [64]
    row = outcome.row
    assert row["extra"]["epochs_trained"] == 2 and row["train_seconds"] > 0
    assert set(row["metrics"]) == {"generated", "real test", "training"}
    assert json.loads((run_dir / "metrics.json").read_text())["n"] == 64
    assert (run_dir / "generator.keras").exists() and (run_dir / "metrics.tex").exists()
    # The metrics table names the real test row as what it is: the floor.
    assert "real test (floor)" in (run_dir / "metrics.md").read_text()

    metrics = evaluate_run_dir(run_dir, seed=1, n=32, quick=True, data=fake_mnist)
    assert fake_evaluation == [64, 32] and "generated" in metrics
