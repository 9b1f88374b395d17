"""Evaluate generators: for Q1 (`evaluate_unconditional`) pixel diversity, duplicates,
memorisation and, with the reference classifier, inception score, class coverage and FID;
for Q2 (`evaluate`) the whole metric suite, conditional or not: TARR, IS, mode score, FID,
KID, MMD, precision/recall, 1-NN accuracy and class coverage.

Every number comes with the same number computed on real test images, so a reader can tell
a good score from the data's own level.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from gankit.evaluate import diversity, metrics, neighbours
from gankit.nets.sampling import balanced_labels, check_labels, generate, is_conditional


def duplicate_threshold(real_images: np.ndarray, quantile: float = 0.01) -> float:
    """A near-duplicate distance calibrated on real data: the ``quantile`` of the distances
    from each real image to its nearest other real image (pixel L2, images in [-1, 1]).

    With the default, 1% of real images count as having a near-duplicate; a collapsed
    generator shows many times that.
    """
    x = diversity.validate_images(real_images, "real_images", min_samples=2)
    nn = diversity.nearest_neighbour_distances(x[: len(x) // 2], x[len(x) // 2 :])
    return float(np.quantile(nn, quantile))


def pixel_statistics(
    images: np.ndarray, train_images: np.ndarray | None, threshold: float, *, seed: int = 0
) -> dict[str, float]:
    """Diversity, near-duplicates and distance to the training set of ``images``.

    Returns a dict with ``pairwise_distance`` (mean L2 between random pairs),
    ``duplicate_fraction`` (nearest other image closer than ``threshold``) and, when
    ``train_images`` is given, ``nn_train_distance`` (median L2 to the nearest training
    image; far below the real test set's value means copying; the costliest number here).
    """
    out = {
        "pairwise_distance": diversity.mean_pairwise_distance(images, seed=seed),
        "duplicate_fraction": diversity.duplicate_fraction(images, threshold),
    }
    if train_images is not None:
        nn = diversity.nearest_neighbour_distances(images, train_images)
        out["nn_train_distance"] = float(np.median(nn))
    return out


def classifier_statistics(
    images: np.ndarray, classifier: keras.Model, real_embedding: np.ndarray | None = None
) -> dict[str, float]:
    """Inception score (10 splits), class coverage and, given real embeddings, FID.

    FID here is the Fréchet distance between Gaussians fitted to the reference classifier's
    penultimate embeddings (not Inception-v3): compare values only at equal sample counts.
    """
    from gankit.evaluate.inference import embed, predict_proba

    probs = predict_proba(classifier, images)
    is_mean, is_std = metrics.inception_score(probs, n_splits=10)
    coverage = metrics.class_coverage(probs)
    out = {
        "inception_score": is_mean,
        "inception_score_std": is_std,
        "classes_covered": coverage["n_covered"],
        "kl_to_uniform": coverage["kl_to_uniform"],
    }
    if real_embedding is not None:
        out["fid"] = metrics.frechet_distance(embed(classifier, images), real_embedding)
    return out


def evaluate_unconditional(
    generator: keras.Model | None,
    real_test: np.ndarray,
    train_images: np.ndarray | None,
    *,
    classifier: keras.Model | None = None,
    n: int = 5000,
    seed: int = 0,
    include_real: bool = True,
) -> dict[str, dict[str, float]]:
    """The Q1 evaluation of ``generator`` beside real test images, as {"generated": ...,
    "real test": ...}.

    Args:
      generator: a trained generator (noise -> (N, 28, 28, 1) in [-1, 1]); None evaluates
        only the real reference.
      real_test: real images in [-1, 1], at least ``2 n`` of them (half for the reference
        row, half to calibrate the duplicate threshold and the FID reference).
      train_images: real training images in [-1, 1] for the memorisation distance; None
        skips it.
      classifier: the reference classifier (gankit.evaluate.classifier); adds IS, coverage and FID.
      n: samples per row.
      include_real: also compute the "real test" row (always, when ``generator`` is None);
        it is the same for every generator, so evaluate it once when comparing many.

    Raises:
      ValueError: if ``real_test`` has fewer than ``2 n`` images.
    """
    if len(real_test) < 2 * n:
        raise ValueError(f"real_test needs at least 2 n = {2 * n} images, got {len(real_test)}")
    reference, calibration = real_test[:n], real_test[n : 2 * n]
    threshold = duplicate_threshold(calibration)
    real_embedding = None
    if classifier is not None:
        from gankit.evaluate.inference import embed

        real_embedding = embed(classifier, calibration)
    rows = {"real test": reference} if include_real or generator is None else {}
    if generator is not None:
        rows = {"generated": generate(generator, n, seed=seed), **rows}
    out = {}
    for name, images in rows.items():
        out[name] = pixel_statistics(images, train_images, threshold, seed=seed)
        if classifier is not None:
            out[name].update(classifier_statistics(images, classifier, real_embedding))
    return out


@dataclass(frozen=True)
class Samples:
    """Images with the labels they were conditioned on (None for an unconditional model)."""

    images: np.ndarray
    labels: np.ndarray | None


def draw_samples(generator: keras.Model, n: int, *, seed: int = 0) -> Samples:
    """``n`` samples; a conditional generator draws n/10 of each class (0, 1, ..., 9, 0, ...).

    Raises:
      ValueError: if n < 1.
    """
    if not is_conditional(generator):
        return Samples(generate(generator, n, seed=seed), None)
    labels = balanced_labels(n)
    return Samples(generate(generator, labels=labels, seed=seed), labels)


@dataclass(frozen=True)
class ReferenceSet:
    """Real images every sample set is compared with, through the classifier's eyes."""

    probs: np.ndarray
    """(N, 10) class probabilities."""
    embedding: np.ndarray
    """(N, D) penultimate-layer features."""

    @classmethod
    def from_images(cls, images: np.ndarray, classifier: keras.Model) -> ReferenceSet:
        from gankit.evaluate.inference import predict_and_embed

        return cls(*predict_and_embed(classifier, images))

    @property
    def kid_scale(self) -> float:
        """The RMS feature value of the reference: KID divides embeddings by it, so that the
        kernel's x·y/D is of order 1 as with Inception features (ReLU features of our
        classifier are ~4 on average and the cubic kernel would amplify that 4^6 times)."""
        return float(np.sqrt(np.mean(np.square(self.embedding)))) or 1.0


def suite(
    images: np.ndarray,
    labels: np.ndarray | None,
    classifier: keras.Model,
    reference: ReferenceSet,
    *,
    seed: int = 0,
) -> dict[str, float]:
    """The Q2 metric suite of ``images`` against the real ``reference`` set.

    Returns a dict of floats: ``tarr`` (success rate: the classifier agrees with
    ``labels``; NaN without labels), ``inception_score`` and ``inception_score_std``
    (10 splits), ``mode_score``, ``fid``, ``kid`` and ``kid_std`` (x 1000: MMD² of the
    cubic kernel on embeddings scaled by `ReferenceSet.kid_scale`), ``mmd`` (Gaussian
    kernel, median bandwidth), ``precision`` and ``recall`` (k = 3), ``one_nn_accuracy``
    (0.5 is ideal), ``classes_covered`` and ``kl_to_uniform``.
    All embedding metrics use the classifier's penultimate layer and compare with the
    reference at its size: compare numbers only at equal sample counts.
    """
    from gankit.evaluate.inference import predict_and_embed

    probs, emb = predict_and_embed(classifier, images)
    is_mean, is_std = metrics.inception_score(probs, n_splits=10)
    scale = reference.kid_scale
    kid, kid_std = metrics.kernel_inception_distance(
        emb / scale, reference.embedding / scale, seed=seed
    )
    pr = neighbours.precision_recall(reference.embedding, emb, seed=seed)
    coverage = metrics.class_coverage(probs)
    return {
        "tarr": metrics.tarr(probs, labels)["success_rate"] if labels is not None else np.nan,
        "inception_score": is_mean,
        "inception_score_std": is_std,
        "mode_score": metrics.mode_score(probs, reference.probs),
        "fid": metrics.frechet_distance(emb, reference.embedding),
        "kid": 1000.0 * kid,
        "kid_std": 1000.0 * kid_std,
        "mmd": metrics.mmd_gaussian(emb, reference.embedding, seed=seed),
        "precision": pr["precision"],
        "recall": pr["recall"],
        "one_nn_accuracy": neighbours.one_nn_accuracy(reference.embedding, emb),
        "classes_covered": coverage["n_covered"],
        "kl_to_uniform": coverage["kl_to_uniform"],
    }


def evaluate(
    generator: keras.Model | None,
    *,
    classifier: keras.Model,
    real_test: np.ndarray,
    real_test_labels: np.ndarray,
    reference: np.ndarray,
    n: int = 10_000,
    seed: int = 0,
    include_real: bool = True,
) -> dict[str, dict[str, float]]:
    """The whole metric suite (`suite`) for ``generator`` and for real test images, as
    {"generated": {...}, "real test": {...}}.

    A conditional generator draws n/10 samples of each class and its ``tarr`` is the success
    rate; the real test row's ``tarr`` is the classifier's accuracy on ``real_test``, the
    number the generated success rate should be read against. Both rows are compared with
    the same real ``reference`` images (use training images: the test images are the other
    row), so the real row is the floor each metric reaches on real data.

    Args:
      generator: a trained generator; None computes only the real row.
      classifier: the reference classifier (gankit.evaluate.classifier.load_or_train_classifier).
      real_test, real_test_labels: real test images in [-1, 1] (or uint8) and their classes;
        the first ``n`` are used.
      reference: at least ``n`` real images (not the test images), the first n are used.
      n: samples per row (10,000 for the report; metrics depend on it).

    Raises:
      ValueError: if ``real_test`` or ``reference`` has fewer than ``n`` images, or the
        labels do not match the test images.
    """
    for name, images in (("real_test", real_test), ("reference", reference)):
        if len(images) < n:
            raise ValueError(f"{name} needs at least n = {n} images, got {len(images)}")
    test_labels = check_labels(real_test_labels, len(real_test))[:n]
    ref = ReferenceSet.from_images(reference[:n], classifier)
    out = {}
    if generator is not None:
        samples = draw_samples(generator, n, seed=seed)
        out["generated"] = suite(samples.images, samples.labels, classifier, ref, seed=seed)
    if include_real or generator is None:
        out["real test"] = suite(real_test[:n], test_labels, classifier, ref, seed=seed)
    return out


@dataclass(frozen=True)
class ClassifiedSamples:
    """Conditional samples with what the classifier sees in them."""

    images: np.ndarray
    """float32 (N, 28, 28, 1) in [-1, 1]."""
    labels: np.ndarray
    """(N,) the classes the samples were conditioned on."""
    predicted: np.ndarray
    """(N,) the classifier's most probable class."""
    confidence: np.ndarray
    """(N,) the classifier's probability of its predicted class."""
    tarr: dict
    """`gankit.evaluate.metrics.tarr`: success_rate, per_class (10,), confusion (10, 10),
    support."""

    @property
    def misclassified(self) -> np.ndarray:
        """Indices of samples the classifier assigns to another class than asked, most
        confidently wrong first."""
        wrong = np.flatnonzero(self.predicted != self.labels)
        return wrong[np.argsort(-self.confidence[wrong], kind="stable")]


def classify_samples(
    generator: keras.Model, classifier: keras.Model, *, n: int = 10_000, seed: int = 0
) -> ClassifiedSamples:
    """Draws ``n`` class-balanced samples from a conditional ``generator`` (as `evaluate`
    does, same seed, same samples) and classifies them, for confusion matrices, per-class
    success rates and the misclassified samples.

    Raises:
      ValueError: if ``generator`` is unconditional or n < 1.
    """
    from gankit.evaluate.inference import predict_proba

    if not is_conditional(generator):
        raise ValueError("classify_samples needs a conditional generator (inputs: noise, label)")
    samples = draw_samples(generator, n, seed=seed)
    probs = predict_proba(classifier, samples.images)
    return ClassifiedSamples(
        samples.images,
        samples.labels,
        probs.argmax(axis=1),
        probs.max(axis=1),
        metrics.tarr(probs, samples.labels),
    )
