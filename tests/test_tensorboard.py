"""train_gan's TensorBoard events: every step-log column per round, the history row per
epoch and the sample grid as an image, one event file per epoch."""

import re

import numpy as np
from tensorboard_events import read_events
from tiny_gan import TINY_GAN

from gankit.config import GANConfig, with_overrides
from gankit.io import read_csv_exact
from gankit.train.loop import train_gan
from gankit.train.steps import STEP_COLUMNS

IMAGES = np.tanh(np.random.default_rng(0).standard_normal((128, 28, 28, 1))).astype("float32")


def test_scalars_and_sample_grids_are_written_per_round_and_epoch(tmp_path):
    cfg = with_overrides(GANConfig(name="tiny"), TINY_GAN)
    metrics = {"mean_pixel": lambda g: float(np.mean(g(np.zeros((4, 8), "float32"))))}
    run = train_gan(
        cfg,
        IMAGES,
        tmp_path / "run",
        seed=1,
        progress=False,
        epoch_metrics=lambda g: {k: f(g) for k, f in metrics.items()},
    )
    files = read_events(run.run_dir)
    assert [re.sub(r".*\.(epoch\d+)\.v2", r"\1", name) for name in files] == [
        "epoch001",
        "epoch002",
    ]
    steps = read_csv_exact(run.run_dir / "steps.csv")
    history = read_csv_exact(run.run_dir / "history.csv")
    events = [e for file in files.values() for e in file]
    scalars = {(tag, step): value for tag, step, plugin, value in events if plugin == "scalars"}
    step_tags = {f"step/{c}" for c in (*STEP_COLUMNS, "d_loss")}
    epoch_tags = step_tags | {"seconds", "images_per_second", "mean_pixel"}
    epoch_tags = {t.replace("step/", "epoch/") if "/" in t else f"epoch/{t}" for t in epoch_tags}
    assert {tag for tag, _ in scalars} == step_tags | epoch_tags
    # every row of the logs, at the round's number in the run and at the epoch
    for i, row in steps.iterrows():
        for column in (*STEP_COLUMNS, "d_loss"):
            assert scalars[f"step/{column}", i + 1] == np.float32(row[column])
    for _, row in history.iterrows():
        for column in ("d_loss", "g_loss", "d_acc_real", "mean_pixel", "seconds"):
            assert scalars[f"epoch/{column}", row["epoch"]] == np.float32(row[column])
    images = [(step, value) for tag, step, plugin, value in events if tag == "samples"]
    assert [step for step, _ in images] == [1, 2]
    for step, (width, height, png) in images:
        assert png == (run.run_dir / f"samples/epoch_{step:03d}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and int(width) > 0 and int(height) > 0


def test_tensorboard_itself_reads_the_scalars_and_the_image(tmp_path):
    # The events are written with tf.summary.write and TensorBoard's plugin metadata:
    # TensorBoard's own loader must see them as scalars and an image, not raw tensors.
    from tensorboard.backend.event_processing import event_accumulator as accumulator

    cfg = with_overrides(GANConfig(name="tiny"), TINY_GAN)
    run = train_gan(cfg, IMAGES, tmp_path / "run", seed=1, progress=False)
    events = accumulator.EventAccumulator(str(run.run_dir / "tensorboard"), size_guidance={})
    events.Reload()
    tags = events.Tags()
    assert {"step/g_loss", "epoch/d_loss"} <= set(tags["tensors"]) | set(tags["scalars"])
    assert "samples" in set(tags["tensors"]) | set(tags["images"])
