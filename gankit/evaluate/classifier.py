"""The reference MNIST classifier: the measuring instrument for generated digits.

Inception score, TARR (how often a class-conditional sample is classified as its class),
FID on the "embedding" layer, t-SNE and confidence histograms all read this model. It
takes images in [-1, 1] of shape (N, 28, 28, 1), exactly what the generators output.

- `gankit.evaluate.classifier_config` says how to build and train it (`ClassifierConfig`,
  `REFERENCE`, `MEDIOCRE`).
- `train_classifier` trains one and measures it on the 10k test images.
- `load_or_train_classifier` trains once per (config, seed) and caches a ``.keras`` file.
- `gankit.evaluate.inference` runs it on images (`predict_proba`, `embed`, `accuracy`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from filelock import FileLock

from gankit.data.mnist import resolve_data_dir
from gankit.evaluate.classifier_config import (
    REFERENCE,
    ClassifierConfig,
    check_config,
    config_to_dict,
    default_config,
)
from gankit.evaluate.inference import (
    EMBEDDING_LAYER,
    IMAGE_SHAPE,
    N_CLASSES,
    PROBS_LAYER,
    accuracy,
    as_model_input,
)
from gankit.io import atomic_path, atomic_write
from gankit.processes import load_average

CACHE_FORMAT_VERSION = 1
"""Part of every cache key: bump it when training or saving changes in a way the config
does not show, so that old cached models are never reused."""

_CACHE_SUBDIR = "classifiers"


# ------------------------------------------------------------------------------ model


def build_classifier(config: ClassifierConfig = REFERENCE) -> keras.Model:
    """The CNN of ``config`` (untrained, uncompiled); see `ClassifierConfig`.

    Input (N, 28, 28, 1) float32 in [-1, 1]. Outputs the (N, 10) float32 softmax of the
    layer "probs"; the layer before it, "embedding", gives (N, embedding_dim) features.

    Raises:
        ValueError: an invalid config.
    """
    check_config(config)
    layers = keras.layers
    # float32 throughout, whatever the global dtype policy (GAN training may set
    # mixed_bfloat16): the instrument, its embeddings and its cache key must not change.
    f32 = "float32"
    inputs = keras.Input(IMAGE_SHAPE, dtype=f32, name="images")
    x = inputs
    if config.translate_pixels:
        # Active only in training; a no-op at inference, so saved models stay plain.
        shift = config.translate_pixels / IMAGE_SHAPE[0]
        x = layers.RandomTranslation(
            shift, shift, fill_mode="constant", fill_value=-1.0, dtype=f32, name="shift"
        )(x)
    for stage, width in enumerate(config.conv_widths):
        if stage:
            x = layers.MaxPooling2D(dtype=f32, name=f"pool{stage}")(x)
        for conv in range(config.convs_per_stage):
            name = f"conv{stage + 1}_{conv + 1}"
            # no bias: the batch norm that follows has its own shift
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, dtype=f32, name=name)(x)
            x = layers.BatchNormalization(
                momentum=config.bn_momentum, dtype=f32, name=f"{name}_bn"
            )(x)
            x = layers.ReLU(dtype=f32, name=f"{name}_relu")(x)
    if config.pooling == "gap":
        x = layers.GlobalAveragePooling2D(dtype=f32, name="gap")(x)
    else:
        x = layers.Flatten(dtype=f32, name="flatten")(x)
    if config.dropout:
        # before "embedding", so that "embedding" is the layer right below "probs"
        x = layers.Dropout(config.dropout, dtype=f32, name="dropout")(x)
    x = layers.Dense(config.embedding_dim, activation="relu", dtype=f32, name=EMBEDDING_LAYER)(x)
    probs = layers.Dense(N_CLASSES, activation="softmax", dtype=f32, name=PROBS_LAYER)(x)
    return keras.Model(inputs, probs, name="mnist_classifier")


def learning_rate_schedule(
    config: ClassifierConfig, total_steps: int
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Linear warm-up from ``initial_lr_fraction * learning_rate`` to ``learning_rate``
    over ``warmup_fraction`` of ``total_steps`` optimiser steps, then cosine decay to
    ``final_lr_fraction * learning_rate`` at the last step (a one-cycle-like shape)."""
    warmup_steps = round(config.warmup_fraction * total_steps)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate * config.initial_lr_fraction,
        decay_steps=max(total_steps - warmup_steps, 1),
        alpha=config.final_lr_fraction,
        warmup_target=config.learning_rate,
        warmup_steps=warmup_steps,
    )


def compile_classifier(model: keras.Model, config: ClassifierConfig, total_steps: int) -> None:
    """Compiles ``model`` for training: AdamW on the schedule, cross-entropy, accuracy."""
    optimizer = keras.optimizers.AdamW(
        learning_rate=learning_rate_schedule(config, total_steps),
        weight_decay=config.weight_decay,
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
        jit_compile=config.jit_compile,
    )


# --------------------------------------------------------------------------- training

MnistArrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def split_training_data(
    config: ClassifierConfig, x_train: np.ndarray, y_train: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(train, validation)`` pairs from the training arrays.

    Validation is the last ``config.validation_size`` images (possibly none); training is
    the first ``config.n_train`` of the rest (all if None). MNIST's order is already
    mixed, so the first n are close to balanced across classes.

    Raises:
        ValueError: fewer images than ``validation_size`` + ``n_train``.
    """
    n_val = config.validation_size
    n_rest = len(x_train) - n_val
    n_train = n_rest if config.n_train is None else config.n_train
    if n_rest <= 0 or n_train > n_rest:
        raise ValueError(
            f"{len(x_train)} training images are too few for validation_size={n_val} "
            f"and n_train={config.n_train}"
        )
    return (x_train[:n_train], y_train[:n_train]), (x_train[n_rest:], y_train[n_rest:])


def _fit_verbosity(verbose: bool | int) -> int:
    """Keras' fit verbosity: True -> 1 (progress bar), False -> 0, ints pass through."""
    return int(verbose) if not isinstance(verbose, bool) else (1 if verbose else 0)


def train_classifier(
    config: ClassifierConfig = REFERENCE,
    *,
    seed: int = 0,
    data: MnistArrays | None = None,
    verbose: bool | int = True,
) -> tuple[keras.Model, dict[str, Any]]:
    """Trains the classifier of ``config`` and measures it on the test set.

    Args:
        config: architecture and training settings.
        seed: seeds Python, NumPy and TensorFlow (``keras.utils.set_random_seed``).
        data: ``((x_train, y_train), (x_test, y_test))`` as uint8 arrays from
            ``gankit.data.mnist.load_mnist`` (loaded if None). Tests pass subsets.
        verbose: Keras fit verbosity (True: progress bar, 2: a line per epoch, False: quiet).

    Returns:
        ``(model, info)``; ``info`` holds ``test_accuracy`` (fraction of the test images),
        ``validation_accuracy`` (None without a validation slice), ``train_seconds``
        (wall clock of building and fitting), ``epochs``, ``n_train``, ``n_test``,
        ``history`` (per-epoch metrics), ``seed``, ``config`` (a dict), the CPU
        ``load_average`` (1 min, when training ended: timings are noisy on a shared
        machine) and library versions.

    Raises:
        ValueError: an invalid config, or too few training images for it.
    """
    check_config(config)
    if data is None:
        from gankit.data.mnist import load_mnist

        data = load_mnist(verbose=bool(verbose))
    (x_train, y_train), (x_test, y_test) = data
    (x_fit, y_fit), (x_val, y_val) = split_training_data(config, x_train, y_train)
    x_fit, x_val = as_model_input(x_fit), as_model_input(x_val)
    validation = (x_val, _one_hot(y_val)) if len(x_val) else None

    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    model = build_classifier(config)
    total_steps = config.epochs * math.ceil(len(x_fit) / config.batch_size)
    compile_classifier(model, config, total_steps)
    history = model.fit(
        x_fit,
        _one_hot(y_fit),
        batch_size=config.batch_size,
        epochs=config.epochs,
        validation_data=validation,
        shuffle=True,
        verbose=_fit_verbosity(verbose),
    )
    train_seconds = time.perf_counter() - started

    info = {
        "test_accuracy": accuracy(model, x_test, y_test),
        "validation_accuracy": accuracy(model, x_val, y_val) if len(x_val) else None,
        "train_seconds": round(train_seconds, 2),
        "epochs": config.epochs,
        "n_train": len(x_fit),
        "n_test": len(x_test),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "seed": seed,
        "config": config_to_dict(config),
        "load_average": load_average(),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
    }
    if verbose:
        print(
            f"classifier: test accuracy {info['test_accuracy']:.4f} after "
            f"{config.epochs} epochs on {len(x_fit)} images in {train_seconds:.0f} s "
            f"(load average {info['load_average']})"
        )
    return model, info


def _one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(N_CLASSES, dtype=np.float32)[np.asarray(labels, dtype=np.int64)]


# ------------------------------------------------------------------------------ cache


class ClassifierCacheWarning(UserWarning):
    """A cached classifier was unusable (it is re-trained) or could not be written."""


def cache_key(config: ClassifierConfig, seed: int) -> str:
    """16 hex digits of SHA-256 over every config field, the seed and the format version."""
    payload = {"config": config_to_dict(config), "seed": int(seed), "format": CACHE_FORMAT_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``cache_dir``, else ``$GANKIT_DATA_DIR/classifiers``, else
    ``~/.cache/gankit/classifiers``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    return resolve_data_dir() / _CACHE_SUBDIR


def cache_paths(
    config: ClassifierConfig, seed: int = 0, cache_dir: str | os.PathLike[str] | None = None
) -> tuple[Path, Path]:
    """``(model_path, info_path)``: ``mnist-classifier-<key>.keras`` and ``.json``."""
    stem = resolve_cache_dir(cache_dir) / f"mnist-classifier-{cache_key(config, seed)}"
    return stem.with_suffix(".keras"), stem.with_suffix(".json")


def save_classifier(
    model: keras.Model, info: dict[str, Any], model_path: Path, info_path: Path
) -> None:
    """Writes ``info`` as JSON, then the model's architecture and weights, each atomically.

    The model file comes last, so a model file in the cache always has its info beside it.
    """
    with atomic_write(info_path) as f:
        f.write(json.dumps(info, indent=2) + "\n")
    with atomic_path(model_path, suffix=model_path.suffix) as tmp:
        _save_model_quietly(model, tmp)


def _save_model_quietly(model: keras.Model, path: Path) -> None:
    with warnings.catch_warnings():
        # Keras 3.15 converts TF variables with np.array(x), which NumPy 2 flags as a
        # DeprecationWarning per variable; harmless, and not ours to fix.
        warnings.filterwarnings(
            "ignore", message=r"__array__ implementation doesn't accept a copy keyword"
        )
        # Keras ignores include_optimizer for .keras files (and clone_model compiles its
        # copy); a copy rebuilt from the config holds no optimiser state, which would
        # triple the file (AdamW keeps two slots per weight).
        inference_copy = keras.Model.from_config(model.get_config())
        inference_copy.set_weights(model.get_weights())
        inference_copy.save(path)


def _load_cached(
    config: ClassifierConfig, model_path: Path, info_path: Path
) -> tuple[keras.Model, dict[str, Any]]:
    """The cached model and info; raises (any error) if either is unusable or mismatched."""
    info = json.loads(info_path.read_text())
    if info.get("config") != config_to_dict(config):
        raise ValueError(f"{info_path} was written for another config")
    model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    if model.outputs[0].shape[-1] != N_CLASSES:
        raise ValueError(f"{model_path} has output shape {model.outputs[0].shape}")
    model.get_layer(EMBEDDING_LAYER)  # raises ValueError if missing
    return model, info


def classifier_info(
    config: ClassifierConfig | None = None,
    *,
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any] | None:
    """The stored info (test accuracy, seconds, config, ...) of a cached classifier, or
    None if it has not been trained (or its info file is unreadable)."""
    _, info_path = cache_paths(config or default_config(), seed, cache_dir)
    try:
        return json.loads(info_path.read_text())
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def _cache_lock(model_path: Path) -> Iterator[None]:
    """Holds ``<model_path>.lock``; without it (a read-only cache) runs unlocked."""
    try:
        lock = FileLock(f"{model_path}.lock")
        lock.acquire()
    except OSError:
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _load_or_train(
    config: ClassifierConfig,
    seed: int,
    model_path: Path,
    info_path: Path,
    data: MnistArrays | None,
    verbose: bool | int,
) -> tuple[keras.Model, dict[str, Any], bool]:
    model = info = None
    if model_path.exists():
        try:
            model, info = _load_cached(config, model_path, info_path)
        # A damaged file can fail in many ways (zip, JSON, h5, config); all mean "re-train".
        except Exception as err:
            warnings.warn(
                f"cached classifier {model_path} is unusable ({type(err).__name__}: {err}); "
                "training it again",
                ClassifierCacheWarning,
                stacklevel=3,
            )
    if model is not None:
        if verbose:
            print(f"classifier: loaded {model_path} (test accuracy {info['test_accuracy']:.4f})")
        return model, info, True
    model, info = train_classifier(config, seed=seed, data=data, verbose=verbose)
    try:
        save_classifier(model, info, model_path, info_path)
    except OSError as err:
        warnings.warn(
            f"could not cache the classifier in {model_path}: {err}",
            ClassifierCacheWarning,
            stacklevel=3,
        )
    return model, info, False


def load_or_train_classifier(
    config: ClassifierConfig | None = None,
    *,
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
    verbose: bool | int = True,
    return_info: bool = False,
    data: MnistArrays | None = None,
) -> keras.Model | tuple[keras.Model, dict[str, Any]]:
    """The trained classifier of ``config`` and ``seed``, from the cache or trained now.

    The cache file name hashes every config field, the seed and `CACHE_FORMAT_VERSION`
    (see `cache_paths`), so a changed config trains a new model. A cached file that fails
    to load issues a `ClassifierCacheWarning` and is re-trained and overwritten.

    Args:
        config: default `default_config()`: `REFERENCE`, or its quick variant when
            ``GANKIT_QUICK=1``.
        seed: training seed (part of the cache key).
        cache_dir: folder of the cached files; default ``$GANKIT_DATA_DIR/classifiers``
            or ``~/.cache/gankit/classifiers``.
        verbose: training progress (see `train_classifier`).
        return_info: also return the info dict (see `train_classifier`) with
            ``from_cache`` (True if loaded) and ``path`` added.
        data: arrays for `train_classifier` if it trains (tests). They are not part of
            the cache key: pass them only with a private ``cache_dir``.

    Returns:
        the model, or ``(model, info)`` with ``return_info``.
    """
    config = config or default_config()
    model_path, info_path = cache_paths(config, seed, cache_dir)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    # Two notebooks (or a notebook and `gankit q3`) started on a fresh machine would each
    # train the same classifier for minutes: the second waits for the first and loads it.
    with _cache_lock(model_path):
        model, info, from_cache = _load_or_train(config, seed, model_path, info_path, data, verbose)
    if not return_info:
        return model
    return model, {**info, "from_cache": from_cache, "path": str(model_path)}
