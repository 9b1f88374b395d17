"""The reference MNIST classifier: the measuring instrument for generated digits.

Inception score, TARR (how often a class-conditional sample is classified as its class),
FID on the "embedding" layer, t-SNE and confidence histograms all read this model. It
takes images in [-1, 1] of shape (N, 28, 28, 1), exactly what the generators output.

- `ClassifierConfig` says how to build and train it; `REFERENCE` (99.5 % test accuracy
  in about 2 CPU minutes) and `MEDIOCRE` (about 90 %, for the confidence study).
- `train_classifier` trains one and measures it on the 10k test images.
- `load_or_train_classifier` trains once per (config, seed) and caches a ``.keras`` file.
- `predict_proba` and `embed` run it on image arrays in chunks, after validating them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from gankit.config import is_quick
from gankit.data.mnist import resolve_data_dir

N_CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)
PROBS_LAYER = "probs"
EMBEDDING_LAYER = "embedding"
POOLINGS = ("gap", "flatten")

CACHE_FORMAT_VERSION = 1
"""Part of every cache key: bump it when training or saving changes in a way the config
does not show, so that old cached models are never reused."""

_CACHE_SUBDIR = "classifiers"


@dataclass(frozen=True)
class ClassifierConfig:
    """How to build and train the MNIST classifier; every field is part of the cache key.

    The network is ``len(conv_widths)`` stages of ``convs_per_stage`` x (3x3 conv, batch
    norm, ReLU); a 2x2 max pool follows every stage but the last (28 -> 14 -> 7 pixels).
    Then flatten (or global average pooling), dropout, the dense "embedding" layer (ReLU)
    and the 10-way softmax "probs". Training: AdamW, linear warm-up then cosine decay of
    the learning rate, per optimiser step; optional random shifts of the training images.

    Defaults are `REFERENCE`, chosen on 5000 held-out training images (validation
    accuracy, 55k training images, seed 1): global average pooling 99.28 %, flatten
    99.42 %, flatten with 2-pixel shifts 99.58 % (the shifts cost no measurable time).
    """

    conv_widths: tuple[int, ...] = (32, 64, 128)
    """Filters of each stage; 3 stages end at 7x7 pixels."""
    convs_per_stage: int = 1
    """3x3 conv layers per stage (2 is stronger but about 2.5x slower)."""
    pooling: str = "flatten"
    """How the last feature map becomes a vector: 'gap' (global average pooling; small,
    translation-tolerant) or 'flatten' (keeps the layout; better for shallow nets)."""
    embedding_dim: int = 128
    """Width of the penultimate dense layer "embedding" (the FID features)."""
    bn_momentum: float = 0.9
    """Batch-norm moving-average momentum; Keras' 0.99 needs ~500 steps to forget its
    initial statistics, too slow for short runs (a 2k-image run scored 13 % with it)."""
    dropout: float = 0.2
    """Dropout rate on the pooled features before "embedding" (active only in training)."""
    epochs: int = 6
    batch_size: int = 128
    learning_rate: float = 3e-3
    """Peak learning rate, reached after the warm-up."""
    warmup_fraction: float = 0.1
    """Fraction of all optimiser steps spent rising linearly to ``learning_rate``."""
    initial_lr_fraction: float = 0.1
    """The warm-up starts at ``initial_lr_fraction * learning_rate``."""
    final_lr_fraction: float = 0.01
    """The cosine decay ends at ``final_lr_fraction * learning_rate``."""
    weight_decay: float = 1e-4
    """AdamW's decoupled weight decay."""
    label_smoothing: float = 0.0
    """0 keeps the probabilities honest: smoothing caps the confidence (at 1 - 0.9 *
    smoothing) and so would bias the inception score and the confidence histograms."""
    translate_pixels: int = 2
    """Random shifts of up to this many pixels during training (0: no augmentation)."""
    n_train: int | None = None
    """Train on the first n training images (None: all not held out for validation)."""
    validation_size: int = 0
    """Hold out the last n of the 60k TRAINING images to report validation accuracy
    (for tuning; the test set is never used for any choice). 0: none held out."""
    jit_compile: bool = False
    """XLA. Off: on the 2-core CPU it measured about 5x slower per step (180-320 ms vs
    42 ms at batch 128), and Keras turns it off anyway with ``translate_pixels`` (the
    RandomTranslation layer does not support XLA)."""

    def quick(self) -> ClassifierConfig:
        """This config for quick mode (``GANKIT_QUICK=1``): at most 10k images, 2 epochs.

        Cheap configs (such as `MEDIOCRE`) come back unchanged. The quick `REFERENCE`
        measured 98.45 % test accuracy in 10 s of training.
        """
        n_train = min(self.n_train or _QUICK_N_TRAIN, _QUICK_N_TRAIN)
        return dataclasses.replace(self, n_train=n_train, epochs=min(self.epochs, _QUICK_EPOCHS))


_QUICK_N_TRAIN = 10_000
_QUICK_EPOCHS = 2

REFERENCE = ClassifierConfig()
"""The measuring instrument: measured 99.50 % (seed 0) and 99.46 % (seed 1) test accuracy;
121 s of training on 2 CPU cores at load average 0.4-1.5 (221 s at load 4.5, when the
machine was shared)."""

MEDIOCRE = ClassifierConfig(
    conv_widths=(4,),
    pooling="flatten",
    embedding_dim=16,
    dropout=0.0,
    epochs=1,
    batch_size=32,
    translate_pixels=0,
    n_train=5000,
)
"""A deliberately weak classifier (89.0 % test accuracy, seed 0, in 1 s): one 4-filter conv
layer and a 16-wide embedding, one epoch on the first 5000 images. For the
confidence-histogram study. (Tuned on held-out training images: 1000 or 2000 images gave
62-76 % with a large spread over seeds; 5000 gave 90.6-91.0 % over 3 seeds.)"""


def default_config() -> ClassifierConfig:
    """`REFERENCE`, or ``REFERENCE.quick()`` when ``GANKIT_QUICK=1``."""
    return REFERENCE.quick() if is_quick() else REFERENCE


def config_to_dict(config: ClassifierConfig) -> dict[str, Any]:
    """A JSON-ready dict of every field of ``config`` (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def check_config(config: ClassifierConfig) -> None:
    """Raises ValueError for a field out of range, naming it."""
    positive = {
        "embedding_dim": config.embedding_dim,
        "convs_per_stage": config.convs_per_stage,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
    }
    for name, value in positive.items():
        if value <= 0:
            raise ValueError(f"ClassifierConfig.{name} must be > 0, got {value!r}")
    if not config.conv_widths or min(config.conv_widths) <= 0:
        raise ValueError(f"conv_widths must be positive ints, got {config.conv_widths!r}")
    if config.pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}; got {config.pooling!r}")
    if len(config.conv_widths) > 3:
        # two pools bring 28 px to 7; a third would leave 3 px for the last stage
        raise ValueError(f"at most 3 conv stages, got {len(config.conv_widths)}")
    in_unit_interval = {  # [0, 1): a rate of 1 would drop everything or learn nothing
        "bn_momentum": config.bn_momentum,
        "dropout": config.dropout,
        "warmup_fraction": config.warmup_fraction,
        "label_smoothing": config.label_smoothing,
    }
    for name, value in in_unit_interval.items():
        if not 0 <= value < 1:
            raise ValueError(f"ClassifierConfig.{name} must be in [0, 1), got {value!r}")
    for name in ("initial_lr_fraction", "final_lr_fraction"):
        value = getattr(config, name)
        if not 0 <= value <= 1:
            raise ValueError(f"ClassifierConfig.{name} must be in [0, 1], got {value!r}")
    if config.weight_decay < 0 or config.translate_pixels < 0 or config.validation_size < 0:
        raise ValueError("weight_decay, translate_pixels and validation_size must be >= 0")
    if config.n_train is not None and config.n_train <= 0:
        raise ValueError(f"n_train must be None or > 0, got {config.n_train!r}")


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
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
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


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``images`` whose most probable class is ``labels`` (uint8 or [-1, 1])."""
    predicted = predict_proba(model, images).argmax(axis=1)
    return float(np.mean(predicted == np.asarray(labels)))


# -------------------------------------------------------------------------- inference


def as_model_input(images: Any) -> np.ndarray:
    """Validated float32 (N, 28, 28, 1) in [-1, 1] from uint8 or [-1, 1] float images.

    Raises:
        ValueError: wrong shape, NaN, or floats outside [-1, 1].
        TypeError: neither uint8 nor float.
    """
    images = np.asarray(images)
    if images.shape[1:] not in ((28, 28), (28, 28, 1)):
        raise ValueError(
            f"expected images of shape (N, 28, 28) or (N, 28, 28, 1), got {images.shape}"
        )
    if images.dtype == np.uint8:
        from gankit.data.mnist import scale_images

        return scale_images(images)
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            f"expected uint8 pixels or floats in [-1, 1], got dtype {images.dtype}; "
            "scale with gankit.data.mnist.scale_images"
        )
    if np.isnan(images).any():
        raise ValueError("images contain NaN (a diverged generator?)")
    if images.size and (images.min() < -1.0 or images.max() > 1.0):
        raise ValueError(
            f"float images must be in [-1, 1], got values in [{images.min():g}, "
            f"{images.max():g}]; scale with gankit.data.mnist.scale_images"
        )
    return images.astype(np.float32, copy=False).reshape(-1, *IMAGE_SHAPE)


def _run_in_chunks(model: keras.Model, images: np.ndarray, batch_size: int) -> np.ndarray:
    """``model`` on float32 (N, 28, 28, 1) images, ``batch_size`` at a time (inference)."""

    # predict_on_batch: one compiled inference function, no progress-bar output. It is
    # traced once per input shape, so every chunk is zero-padded to batch_size: one trace
    # per model, not one per caller's array size (and no retracing warnings).
    def padded(chunk):
        padding = np.zeros((batch_size - len(chunk), *chunk.shape[1:]), chunk.dtype)
        out = model.predict_on_batch(np.concatenate([chunk, padding]) if len(padding) else chunk)
        return [np.asarray(out)[: len(chunk)]]

    (out,) = _in_chunks(padded, model, images, batch_size)
    return out


def predict_proba(model: keras.Model, images: Any, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities, float32 (N, 10), rows summing to 1.

    Args:
        model: a classifier from `build_classifier` / `load_or_train_classifier`.
        images: float in [-1, 1] of shape (N, 28, 28) or (N, 28, 28, 1), or uint8 pixels
            (scaled with ``gankit.data.mnist.scale_images``); numpy arrays or eager tensors.
        batch_size: images per forward pass (memory vs call overhead).

    Raises:
        ValueError: wrong shape, NaN, floats outside [-1, 1], or batch_size <= 0.
        TypeError: images neither uint8 nor float.
    """
    return _run_in_chunks(model, as_model_input(images), batch_size)


def embedding_model(model: keras.Model) -> keras.Model:
    """A model sharing ``model``'s weights whose output is the "embedding" layer."""
    return keras.Model(model.input, model.get_layer(EMBEDDING_LAYER).output)


def embed(model: keras.Model, images: Any, batch_size: int = 1000) -> np.ndarray:
    """Penultimate-layer features ("embedding"), float32 (N, embedding_dim), e.g. for FID.

    Args and raises as `predict_proba`.
    """
    # Built per call (cheap; shares weights) rather than cached on the model, where Keras
    # would track it as a sub-layer and change what the model saves.
    (features,) = _eager_chunks(embedding_model(model), as_model_input(images), batch_size)
    return features


def predict_and_embed(
    model: keras.Model, images: Any, batch_size: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """``(predict_proba(model, images), embed(model, images))`` from one forward pass.

    Args and raises as `predict_proba`.
    """
    both = keras.Model(model.input, [model.outputs[0], model.get_layer(EMBEDDING_LAYER).output])
    probs, features = _eager_chunks(both, as_model_input(images), batch_size)
    return probs, features


def _eager_chunks(
    model: keras.Model, images: np.ndarray, batch_size: int
) -> tuple[np.ndarray, ...]:
    """Each output of a throw-away ``model`` on ``images``, float32, ``batch_size`` at a time.

    Eager calls, not predict_on_batch: that would trace a new function for the throw-away
    model on every call (seconds, and TensorFlow's retracing warnings), while the
    convolutions dominate the time anyway.
    """
    return _in_chunks(
        lambda chunk: keras.tree.flatten(model(chunk, training=False)), model, images, batch_size
    )


def _in_chunks(call, model: keras.Model, images: np.ndarray, batch_size: int):
    """``call(chunk)`` (a list of arrays, one per output of ``model``) over ``images`` in
    chunks of ``batch_size``, each output concatenated as float32 (N, width)."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be > 0, got {batch_size}")
    if not len(images):
        return tuple(np.zeros((0, out.shape[-1]), np.float32) for out in model.outputs)
    chunks = [
        call(images[start : start + batch_size]) for start in range(0, len(images), batch_size)
    ]
    return tuple(
        np.concatenate([np.asarray(c[i]) for c in chunks]).astype(np.float32, copy=False)
        for i in range(len(model.outputs))
    )


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


def _write_atomically(path: Path, write) -> None:
    """Calls ``write(tmp_path)``, then renames tmp over ``path``: readers never see a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp's 0o600 would hide the cache from other users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_classifier(
    model: keras.Model, info: dict[str, Any], model_path: Path, info_path: Path
) -> None:
    """Writes ``info`` as JSON, then the model's architecture and weights, each atomically.

    The model file comes last, so a model file in the cache always has its info beside it.
    """
    _write_atomically(info_path, lambda p: p.write_text(json.dumps(info, indent=2) + "\n"))
    _write_atomically(model_path, lambda p: _save_model_quietly(model, p))


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
                stacklevel=2,
            )
    from_cache = model is not None
    if not from_cache:
        model, info = train_classifier(config, seed=seed, data=data, verbose=verbose)
        try:
            save_classifier(model, info, model_path, info_path)
        except OSError as err:
            warnings.warn(
                f"could not cache the classifier in {model_path}: {err}",
                ClassifierCacheWarning,
                stacklevel=2,
            )
    elif verbose:
        print(f"classifier: loaded {model_path} (test accuracy {info['test_accuracy']:.4f})")
    if not return_info:
        return model
    return model, {**info, "from_cache": from_cache, "path": str(model_path)}
