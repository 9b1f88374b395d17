"""Running the reference classifier on images: probabilities, embeddings, accuracy.

Every function takes images in gankit's format (``gankit.data.images.check_images``: float
in [-1, 1] or uint8 pixels, (N, 28, 28[, 1])) and a model from
``gankit.evaluate.classifier``, and runs it in inference mode, a chunk at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from gankit.checks import N_CLASSES
from gankit.data.images import IMAGE_SIZE, check_images

__all__ = [
    "EMBEDDING_LAYER",
    "IMAGE_SHAPE",
    "N_CLASSES",
    "PROBS_LAYER",
    "accuracy",
    "as_model_input",
    "embed",
    "embedding_model",
    "frozen_logits",
    "predict_and_embed",
    "predict_proba",
]

IMAGE_SHAPE = (*IMAGE_SIZE, 1)
"""The classifier's input shape per image."""
PROBS_LAYER = "probs"
"""Name of the softmax output layer."""
EMBEDDING_LAYER = "embedding"
"""Name of the penultimate layer, whose output is the FID embedding."""


def as_model_input(images: Any) -> np.ndarray:
    """``images`` as the classifier's input: ``gankit.data.images.check_images`` with the
    MNIST size and empty batches allowed; float32 (N, 28, 28, 1) in [-1, 1].

    Raises:
        TypeError, ValueError: as ``check_images`` (uint8 pixels are scaled, not rejected).
    """
    return check_images(images, min_samples=0)


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
            (see ``gankit.data.images.check_images``); numpy arrays or eager tensors.
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


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``images`` whose most probable class is ``labels`` (uint8 or [-1, 1])."""
    predicted = predict_proba(model, images).argmax(axis=1)
    return float(np.mean(predicted == np.asarray(labels)))


def frozen_logits(classifier: keras.Model) -> Callable:
    """``images -> logits`` (batch, 10) of a `gankit.evaluate.classifier` model in inference mode:
    its "embedding" features times the "probs" layer's weights, before the softmax. (The
    log of the softmax output would have no gradient where a probability underflows or is
    clipped: exactly the fakes of the wrong class that need it most.)

    Raises:
      ValueError: if ``classifier`` has no "embedding" and "probs" layers.
    """
    features = keras.Model(classifier.inputs, classifier.get_layer(EMBEDDING_LAYER).output)
    head = classifier.get_layer(PROBS_LAYER)

    def logits(images):
        return keras.ops.matmul(features(images, training=False), head.kernel) + head.bias

    return logits
