"""Q3 training sets: real subsets, synthetic draws, the elite filter and augmentation.

The pieces `gankit.studies.retrain` puts together for one retraining run:

- `split_real`: a seeded, stratified split of the 60k MNIST *training* images into a
  validation set (``val_per_class`` of each class) and a training subset of ``n_real``
  per class, disjoint from it. Sizes are counts per class (``10``) or a percentage of
  each class (``"10%"``). The test set is never an argument here.
- `SyntheticPool`: labelled images from a conditional generator, an `ensemble_source` of
  several, or any callable ``source(labels, seed) -> images`` (a stub in tests, the PCA
  baseline).
- the elite filter (`gankit.studies.retrain_elite`): keep the synthetic images the
  reference classifier recognises as their conditioning label with confidence >= a
  threshold (at most a stated share of each class, if asked).
"""

from __future__ import annotations

import functools
import hashlib
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from gankit.evaluate.inference import IMAGE_SHAPE, N_CLASSES, as_model_input
from gankit.nets.sampling import generate, is_conditional
from gankit.studies.retrain_elite import select_elite

SYNTH_FULL_PER_CLASS = 6000
"""What ``n_synth="100%"`` means: as many synthetic images as real training images
(60k, i.e. 6000 per class), so "10% of synthetic" is 600 per class."""
SYNTH_MAX_PER_CLASS = 60_000
"""The most synthetic images per class a run may ask for (600k images, 1.9 GB as float32):
a generator is not limited to the real set's size, memory is."""

SyntheticSource = Callable[[np.ndarray, int], Any]
"""``source(labels, seed) -> images``: int labels (n,) in, float images (n, 28, 28, 1)
in [-1, 1] (or uint8 (n, 28, 28)) out; the same seed must give the same images."""

Size = int | str


# ------------------------------------------------------------------------------ sizes


def derived_seed(seed: int, purpose: str) -> int:
    """A stable 31-bit seed for one purpose (e.g. "synthetic") of a run seeded ``seed``,
    so that the parts of a run draw independent random numbers from one user seed."""
    digest = hashlib.sha256(f"{int(seed)}/{purpose}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFF_FFFF


def check_size(size: object, name: str) -> None:
    """Raises TypeError/ValueError unless ``size`` is an int >= 0 or a string "p%"
    with 0 < p <= 100 (a percentage of each class)."""
    if isinstance(size, str):
        text = size.strip()
        try:
            percent = float(text[:-1]) if text.endswith("%") else None
        except ValueError:
            percent = None
        if percent is None or not 0 < percent <= 100:
            raise ValueError(
                f"{name} as text must be a percentage in (0, 100] like '10%', got {size!r}"
            )
        return
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise TypeError(
            f"{name} must be an int (images per class) or a str like '10%', got {size!r}"
        )
    if size < 0:
        raise ValueError(f"{name} must be >= 0 images per class, got {size}")


def per_class_count(size: Size, available: int, name: str = "size") -> int:
    """Images per class that ``size`` means when a class has ``available`` images.

    An int is taken as is; ``"p%"`` is ``round(p / 100 * available)``, at least 1.

    Raises:
        TypeError, ValueError: as `check_size`; ValueError if the count exceeds
            ``available``.
    """
    check_size(size, name)
    if isinstance(size, str):
        count = max(1, round(float(size.strip()[:-1]) / 100 * available))
    else:
        count = int(size)
    if count > available:
        raise ValueError(f"{name}={size!r} asks for {count} images of a class that has {available}")
    return count


def synth_count(n_synth: Size) -> int:
    """Synthetic images per class that ``n_synth`` means: ``"p%"`` of
    `SYNTH_FULL_PER_CLASS` (at most 100%), or an int taken as is, up to
    `SYNTH_MAX_PER_CLASS` (a generator can draw more images than the real set holds, e.g.
    fresh images for every pass of a synthetic-only classifier).

    Raises:
        TypeError, ValueError: as `check_size`; ValueError above `SYNTH_MAX_PER_CLASS`.
    """
    check_size(n_synth, "n_synth")
    if isinstance(n_synth, str):
        return per_class_count(n_synth, SYNTH_FULL_PER_CLASS, "n_synth")
    if n_synth > SYNTH_MAX_PER_CLASS:
        raise ValueError(
            f"n_synth={n_synth} is above {SYNTH_MAX_PER_CLASS} synthetic images per class "
            "(memory); draw fewer"
        )
    return int(n_synth)


# ------------------------------------------------------------------------------- real


@dataclass(frozen=True)
class RealSplit:
    """Indices into the real training arrays; disjoint, each shuffled."""

    train: np.ndarray
    """int64 (n_train,): the training subset."""
    validation: np.ndarray
    """int64 (val_per_class * 10,): for early stopping only."""


def split_real(y_train: np.ndarray, n_real: Size, val_per_class: int, seed: int) -> RealSplit:
    """A stratified, seeded split of the real training images into validation and training.

    Each class is shuffled once with ``seed``: its first ``val_per_class`` images are the
    validation set, the next ones the training subset. So for one seed the validation
    set is the same whatever ``n_real`` is (every strategy and size is early-stopped on
    the same images), and the training subsets are nested (1 per class is in 5 per class,
    5 in 10, ..., "10%" in "20%"); percentages are of the images left after validation.

    What is fair: validation images are real *training* images held out of the training
    subset, never test images. With 1 real image per class and 10 validation images per
    class, early stopping sees more labelled real images than training does; they only
    pick the step to stop at, the same way for every strategy. ``val_per_class=0``
    (no early stopping) is the strict few-shot protocol.

    Args:
        y_train: int labels (N,) of the real training images, 0..9.
        n_real: training images per class (int >= 0) or a percentage of each class ("10%").
        val_per_class: validation images per class (>= 0).
        seed: the split's seed.

    Raises:
        ValueError: ``y_train`` not 1-D or labels outside 0..9, or a class too small.
        TypeError: ``n_real``, ``val_per_class`` or ``seed`` of the wrong type.
    """
    y_train = np.asarray(y_train)
    if y_train.ndim != 1:
        raise ValueError(f"y_train must be 1-D labels, got shape {y_train.shape}")
    if len(y_train) and (y_train.min() < 0 or y_train.max() >= N_CLASSES):
        raise ValueError(f"labels must be in 0..{N_CLASSES - 1}")
    check_size(val_per_class, "val_per_class")
    if isinstance(val_per_class, str):
        raise TypeError("val_per_class must be an int (images per class)")
    rng = np.random.default_rng(int(seed))
    train, validation = [], []
    for label in range(N_CLASSES):
        members = rng.permutation(np.flatnonzero(y_train == label))
        if len(members) <= val_per_class:
            raise ValueError(
                f"class {label} has {len(members)} training images, too few for "
                f"val_per_class={val_per_class}"
            )
        n = per_class_count(n_real, len(members) - val_per_class, "n_real")
        validation.append(members[:val_per_class])
        train.append(members[val_per_class : val_per_class + n])
    # Validation first: its shuffle must not depend on the training subset's size.
    validation = rng.permutation(np.concatenate(validation)).astype(np.int64)
    return RealSplit(
        train=rng.permutation(np.concatenate(train)).astype(np.int64), validation=validation
    )


# -------------------------------------------------------------------------- synthetic


def synthetic_labels(n_per_class: int) -> np.ndarray:
    """int32 labels 0, 1, ..., 9, 0, 1, ... with ``n_per_class`` of each class.

    Any prefix of 10 k labels holds k of each class, which is what makes smaller
    synthetic sets prefixes of larger ones.
    """
    return np.tile(np.arange(N_CLASSES, dtype=np.int32), int(n_per_class))


def as_synthetic_source(synthetic: Any, batch_size: int = 1000) -> SyntheticSource:
    """A `SyntheticSource` from a conditional Keras generator or a callable.

    Raises:
        ValueError: an unconditional generator (it cannot be asked for a class).
        TypeError: neither a Keras model nor a callable.
    """
    if isinstance(synthetic, keras.Model):
        if not is_conditional(synthetic):
            raise ValueError(
                "the generator is unconditional; retraining needs labelled images, so pass "
                "a conditional generator (or a callable source(labels, seed))"
            )
        return functools.partial(_draw_from_generator, synthetic, batch_size=batch_size)
    if callable(synthetic):
        return synthetic
    raise TypeError(
        "synthetic must be a conditional keras generator or a callable "
        f"source(labels, seed) -> images, got {type(synthetic).__name__}"
    )


def ensemble_source(generators: Sequence[Any], batch_size: int = 1000) -> SyntheticSource:
    """A `SyntheticSource` that draws the j-th image of each class from
    ``generators[j % k]`` (k of them), each with noise of its own seed, so every class is
    shared evenly between them.

    Generators trained from different seeds cover different parts of the real digits'
    variety; their union is more varied than any one of them (a classifier trained on it
    alone scores higher on real images).

    Raises:
        ValueError: fewer than two generators, or as `as_synthetic_source` for any of them.
        TypeError: as `as_synthetic_source`.
    """
    sources = [as_synthetic_source(g, batch_size) for g in generators]
    if len(sources) < 2:
        raise ValueError(f"an ensemble needs at least two generators, got {len(sources)}")
    return functools.partial(_draw_from_ensemble, sources)


def ensemble_owners(labels: np.ndarray, k: int) -> np.ndarray:
    """int (n,): which of ``k`` generators draws each label (the j-th of its class: j % k)."""
    labels = np.asarray(labels)
    owners = np.empty(len(labels), np.int64)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        owners[members] = np.arange(len(members)) % k
    return owners


def _draw_from_ensemble(sources: list[SyntheticSource], labels: np.ndarray, seed: int):
    labels = np.asarray(labels)
    owners = ensemble_owners(labels, len(sources))
    images = np.empty((len(labels), *IMAGE_SHAPE), np.float32)
    for k, source in enumerate(sources):
        mine = owners == k
        if mine.any():
            images[mine] = as_model_input(source(labels[mine], derived_seed(seed, f"ensemble/{k}")))
    return images


def _draw_from_generator(
    generator: keras.Model, labels: np.ndarray, seed: int, *, batch_size: int
) -> np.ndarray:
    return generate(generator, labels=labels, seed=seed, batch_size=batch_size)


class SyntheticPool:
    """Synthetic images per seed, drawn once and shared by every run of that seed.

    ``take(n, seed)`` returns the first ``10 n`` images of one draw of ``n_max`` per
    class (see `synthetic_labels`), so for one seed a smaller set is part of a larger one
    and a study draws the generator once per seed, not once per run. Only the last seed's
    draw is kept (a study runs seed by seed), which bounds memory to one draw: 60k images
    (188 MB) at ``n_max=6000``.
    """

    def __init__(self, synthetic: Any, n_max: int, batch_size: int = 1000):
        """Args: a generator or source (see `as_synthetic_source`); ``n_max`` images per
        class to draw per seed (int >= 1).

        Raises:
            ValueError, TypeError: as `as_synthetic_source`, or ``n_max`` < 1.
        """
        check_size(n_max, "n_max")
        if isinstance(n_max, str) or n_max < 1:
            raise ValueError(f"n_max must be an int >= 1 (images per class), got {n_max!r}")
        self.source = as_synthetic_source(synthetic, batch_size)
        self.n_max = int(n_max)
        self._seed: int | None = None
        self._images: np.ndarray | None = None
        self.draw_seconds = 0.0
        """Wall-clock seconds the last draw took (0 when served from memory)."""

    def take(self, n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``(images float32 (10 n, 28, 28, 1) in [-1, 1], labels int32 (10 n,))``.

        Raises:
            ValueError: ``n_per_class`` > ``n_max``, or the source returned images of the
                wrong shape, with NaN or outside [-1, 1].
        """
        if n_per_class > self.n_max:
            raise ValueError(f"n_per_class={n_per_class} is above this pool's n_max={self.n_max}")
        labels = synthetic_labels(self.n_max)
        self.draw_seconds = 0.0
        if self._seed != seed or self._images is None:
            started = time.perf_counter()
            images = as_model_input(self.source(labels, derived_seed(seed, "synthetic")))
            if len(images) != len(labels):
                raise ValueError(
                    f"the source returned {len(images)} images for {len(labels)} labels"
                )
            self._seed, self._images = seed, images
            self.draw_seconds = time.perf_counter() - started
        n = n_per_class * N_CLASSES
        return self._images[:n], labels[:n]


# ------------------------------------------------------------------------ training sets


@dataclass(frozen=True)
class TrainingSets:
    """The arrays of one run: images float32 (n, 28, 28, 1) in [-1, 1], labels int (n,)."""

    real: tuple[np.ndarray, np.ndarray]
    synthetic: tuple[np.ndarray, np.ndarray]
    """Empty without synthetic images; only the elite ones with an elite threshold."""
    validation: tuple[np.ndarray, np.ndarray] | None
    """Real training images held out of ``real``; None if ``val_per_class`` is 0."""
    elite_kept_fraction: float | None = None
    synth_seconds: float = 0.0
    """Seconds spent drawing synthetic images (0 when the pool already held them)."""


def build_training_sets(
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    n_real: Size,
    val_per_class: int,
    seed: int,
    n_synth: Size = 0,
    pool: SyntheticPool | None = None,
    reference: keras.Model | None = None,
    elite_threshold: float | None = None,
    elite_fraction: float | None = None,
) -> TrainingSets:
    """The real subset, real validation set and synthetic set of one run.

    Only the real *training* arrays come in, so no test image can reach training.

    Args:
        x_train, y_train: real training images (uint8 or [-1, 1]) and labels.
        n_real, val_per_class, seed: as `split_real` (``seed`` also picks the synthetic
            draw of ``pool``).
        n_synth: synthetic images per class, as `synth_count`; 0: none.
        pool: where synthetic images come from (needed if ``n_synth`` is not 0).
        reference, elite_threshold, elite_fraction: with a threshold, keep only the
            synthetic images `select_elite` accepts, at most ``elite_fraction`` of each
            class if it is set (``reference`` is then needed).

    Raises:
        ValueError: ``pool`` or ``reference`` missing when needed, no synthetic image
            passes the elite filter, or as `split_real` / `SyntheticPool.take`.
    """
    split = split_real(y_train, n_real, val_per_class, seed)
    y_train = np.asarray(y_train)
    real = (as_model_input(x_train[split.train]), y_train[split.train])
    validation = None
    if val_per_class:
        validation = (as_model_input(x_train[split.validation]), y_train[split.validation])
    synthetic = (np.zeros((0, *IMAGE_SHAPE), np.float32), np.zeros(0, np.int32))
    kept, seconds = None, 0.0
    if n_synth != 0:
        if pool is None:
            raise ValueError("synthetic images were asked for: pass synthetic= (a generator)")
        synthetic = pool.take(synth_count(n_synth), seed)
        seconds = pool.draw_seconds
    if elite_threshold is not None:
        if reference is None:
            raise ValueError("elite filtering needs reference= (load_or_train_classifier())")
        *synthetic, kept = select_elite(reference, *synthetic, elite_threshold, elite_fraction)
        if not len(synthetic[0]):
            raise ValueError("no synthetic image passed the elite filter; lower elite_threshold")
    return TrainingSets(real, tuple(synthetic), validation, kept, seconds)


def one_hot(labels: np.ndarray) -> np.ndarray:
    """float32 (n, 10) one-hot rows of int labels (n,)."""
    return np.eye(N_CLASSES, dtype=np.float32)[np.asarray(labels, dtype=np.int64)]


def training_stream(parts, batch_size: int, seed: int, ratio: float | None = None):
    """A ``tf.data.Dataset`` of endless shuffled batches of (images, one-hot labels).

    Args:
        parts: ``[(x, y)]`` or ``[(x_real, y_real), (x_synth, y_synth)]``, images float32
            (n, 28, 28, 1) and int labels (n,).
        batch_size: images per batch (a set smaller than that repeats within a batch).
        seed: seeds the order (and the choice between parts).
        ratio: with two parts, the chance that an image comes from the first one (the
            expected share of real images in a batch); None: the parts are concatenated.
    """
    import tensorflow as tf  # lazy: importing TensorFlow takes seconds

    def endless(x, y, purpose):
        data = tf.data.Dataset.from_tensor_slices((x, one_hot(y)))
        return data.shuffle(len(x), seed=derived_seed(seed, purpose)).repeat()

    if ratio is None or len(parts) == 1:
        x = np.concatenate([p[0] for p in parts])
        stream = endless(x, np.concatenate([p[1] for p in parts]), "order")
    else:
        streams = [endless(x, y, f"order{i}") for i, (x, y) in enumerate(parts)]
        stream = tf.data.Dataset.sample_from_datasets(
            streams, weights=[ratio, 1.0 - ratio], seed=derived_seed(seed, "mix")
        )
    return stream.batch(batch_size).prefetch(tf.data.AUTOTUNE)
