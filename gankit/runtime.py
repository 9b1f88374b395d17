"""TensorFlow start-up without its C++ log noise, for notebooks and scripts, and GPU set-up.

TensorFlow 2.21 prints oneDNN and CUDA-probe messages from C++ at import and at the first
operation, before ``TF_CPP_MIN_LOG_LEVEL`` is read, straight to file descriptor 2. In a
notebook they land in the committed outputs. `quiet_tensorflow` imports TensorFlow and
runs one operation with that descriptor pointed at /dev/null, then restores it, so later
warnings and errors still show. Where a GPU may be present (`gankit.device.gpu_hinted`:
an NVIDIA driver or ``nvidia-smi``) it hides nothing: there those messages say whether
CUDA loaded, and a failure must not vanish.

`gpu_memory_growth` lets TensorFlow take GPU memory as it needs it instead of all of it
at the first operation (Colab, a shared GPU, a second process on the same GPU).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any


def quiet_tensorflow() -> None:
    """Imports TensorFlow, turns on GPU memory growth and initialises its devices, with C++
    start-up logs silenced unless a GPU may be present (`gankit.device.gpu_hinted`).

    Call it once, before anything else imports TensorFlow (later calls do nothing).
    Python exceptions are not affected: they propagate as usual.
    """
    from gankit.device import gpu_hinted

    silenced = contextlib.nullcontext() if gpu_hinted() else native_stderr_silenced()
    with silenced:
        import tensorflow as tf

        gpu_memory_growth()
        tf.config.list_logical_devices()
        tf.constant(0.0) + 1.0  # the first op probes for CUDA and logs if there is none


def gpu_memory_growth() -> list[str]:
    """Turns on memory growth for every GPU TensorFlow sees, so it allocates GPU memory as
    needed rather than all of it up front. Effective only before TensorFlow initialises
    its devices (its first operation): `quiet_tensorflow` and `gankit.train.train_gan` call
    it; once initialised, a GPU keeps its setting and is skipped.

    Returns:
      The names of the GPUs whose setting is now memory growth ([] without a GPU).
    """
    import tensorflow as tf

    grown = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # "Physical devices cannot be modified after being initialized"
            if not tf.config.experimental.get_memory_growth(gpu):
                continue
        grown.append(gpu.name)
    return grown


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """File descriptor 2 (where TensorFlow's C++ code logs) points at /dev/null inside.

    For known-harmless C++ messages only; Python exceptions and warnings are unaffected
    (Python's ``sys.stderr`` in a notebook is not descriptor 2).
    """
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def first_call_silenced(step: Callable[..., Any]) -> Callable[..., Any]:
    """``step`` (a compiled training step) with its first call under
    `native_stderr_silenced`: Grappler optimises the graph then, and logs a harmless C++
    error when it declines to fuse a conv + LeakyReLU gradient (WGAN-GP's double backprop,
    dynamic balancing's loop, the semi-supervised D); it would land in notebook outputs."""
    called = False

    def call(*args, **kwargs):
        nonlocal called
        if called:
            return step(*args, **kwargs)
        called = True
        with native_stderr_silenced():
            return step(*args, **kwargs)

    return call
