"""Reading a run's TensorBoard event files back, for the tests."""

from pathlib import Path

import numpy as np
import tensorflow as tf


def read_events(run_dir: Path) -> dict[str, list]:
    """{file name: [(tag, step, value)]} of ``run_dir/tensorboard``, in file order; a
    scalar's value is a float, an image's the list of its strings (width, height, PNG)."""
    files = {}
    for path in sorted((run_dir / "tensorboard").iterdir()):
        events = []
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                tensor = tf.make_ndarray(value.tensor)
                plugin = value.metadata.plugin_data.plugin_name
                content = float(tensor) if tensor.dtype == np.float32 else list(tensor)
                events.append((value.tag, event.step, plugin, content))
        files[path.name] = events
    return files
