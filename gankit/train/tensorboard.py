"""TensorBoard event files of a run, written from the rows it logs: ``tensorboard --logdir
runs`` shows every run directory as a TensorBoard run.

`write_epoch_summaries` writes one epoch into its own event file in ``run_dir/tensorboard/``
(named ``...epoch###.v2``): each column of the step log per round (tags ``step/<column>``,
at the round's number counted from the start of the run), each value of the epoch's
history row (``epoch/<column>``, at the epoch number: losses, accuracies, seconds, images
per second and the ``epoch_metrics``) and the epoch's sample grid (``samples``, read
from its PNG). `gankit.train.run_dir.RunDir.save_epoch` calls it before the epoch's
checkpoint and `RunDir.restore` deletes the files of epochs the checkpoint does not hold,
so after a crash and a resume each epoch is in TensorBoard exactly once, as its rows are
in the CSV logs.

TensorFlow 2.20 and later no longer install TensorBoard, and without it
``tf.summary.scalar`` and ``tf.summary.image`` raise. The events are therefore written
with TensorFlow's own ``tf.summary.write`` and the metadata of TensorBoard's scalar and
image plugins (what those two functions write), so training needs no TensorBoard; only
viewing does (``pip install tensorboard``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import tensorflow as tf
from tensorflow.core.framework.summary_pb2 import DataClass, SummaryMetadata

EPOCH_FILE_SUFFIX = ".epoch{:03d}.v2"
"""The end of an epoch's event file name (TensorFlow puts time, host and pid before it)."""
# TensorBoard's plugin metadata (its ScalarPluginData / ImagePluginData at version 0
# serialise to empty content).
_SCALAR = SummaryMetadata(data_class=DataClass.DATA_CLASS_SCALAR)
_SCALAR.plugin_data.plugin_name = "scalars"
_IMAGE = SummaryMetadata(data_class=DataClass.DATA_CLASS_BLOB_SEQUENCE)
_IMAGE.plugin_data.plugin_name = "images"


def write_epoch_summaries(
    directory: Path,
    epoch: int,
    steps: pd.DataFrame,
    row: Mapping[str, float],
    sample: Path | None,
    first_step: int,
) -> None:
    """Writes ``epoch``'s summaries to a new event file in ``directory`` and closes it.

    Args:
      steps: the epoch's step-log rows (their ``epoch`` column is left out: it is the
        x axis); row i is written at step ``first_step + i + 1``.
      row: the epoch's history row (its ``epoch`` is the step).
      sample: the epoch's sample grid as a PNG (skipped if None or missing).
    """
    directory.mkdir(parents=True, exist_ok=True)
    writer = tf.summary.create_file_writer(
        str(directory), filename_suffix=EPOCH_FILE_SUFFIX.format(epoch)
    )
    with writer.as_default():
        columns = [c for c in steps.columns if c != "epoch"]
        values = steps[columns].to_numpy(float)
        for i, step_values in enumerate(values):
            for column, value in zip(columns, step_values, strict=True):
                _scalar(f"step/{column}", value, first_step + i + 1)
        for name, value in row.items():
            if name != "epoch":
                _scalar(f"epoch/{name}", value, epoch)
        if sample is not None and sample.exists():
            png = sample.read_bytes()
            height, width = _png_size(png)
            # The image plugin's tensor: width and height as text, then the encoded images.
            tensor = tf.constant([str(width), str(height), png])
            tf.summary.write("samples", tensor, step=epoch, metadata=_IMAGE)
    writer.close()


def _scalar(tag: str, value: float, step: int) -> None:
    tf.summary.write(tag, tf.constant(float(value), tf.float32), step=step, metadata=_SCALAR)


def _png_size(png: bytes) -> tuple[int, int]:
    """(height, width) of a PNG, from its header (IHDR: width then height, big-endian)."""
    return int.from_bytes(png[20:24], "big"), int.from_bytes(png[16:20], "big")
