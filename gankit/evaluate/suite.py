"""Evaluate generators under the kit's one protocol (`gankit.evaluate.protocol`).

- `suite`: the metric suite of one image set against a real reference: TARR, IS, mode
  score, FID, KID, MMD, precision/recall, 1-NN accuracy and class coverage.
- `Evaluator`: a protocol bound to the reference classifier and MNIST: the real reference
  embedded once and the real floor row computed once; ``score(G)`` is the suite of G.
- `metrics_table`: rows of scores with the floor row last, for every final table.
- `evaluate` (Q2, the ``gankit evaluate`` command) and `evaluate_unconditional` (Q1: the
  suite plus pixel diversity, near-duplicates and the memorisation distance).

Every number comes with the same number computed on real test images at the same sample
count, so a reader can tell a good score from the data's own level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import keras
import numpy as np
import pandas as pd

from gankit.evaluate import diversity, metrics, neighbours
from gankit.evaluate.protocol import FLOOR_LABEL, PROTOCOL, EvalProtocol
from gankit.nets.sampling import balanced_labels, generate, is_conditional


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
    is_splits: int = 10,
) -> dict[str, float]:
    """The metric suite of ``images`` against the real ``reference`` set.

    Returns a dict of floats: ``tarr`` (success rate: the classifier agrees with
    ``labels``; NaN without labels), ``inception_score`` and ``inception_score_std``
    (``is_splits`` splits), ``mode_score``, ``fid``, ``kid`` and ``kid_std`` (x 1000: MMD² of the
    cubic kernel on embeddings scaled by `ReferenceSet.kid_scale`), ``mmd`` (Gaussian
    kernel, median bandwidth), ``precision`` and ``recall`` (k = 3), ``one_nn_accuracy``
    (0.5 is ideal), ``classes_covered`` and ``kl_to_uniform``.
    All embedding metrics use the classifier's penultimate layer and compare with the
    reference at its size: compare numbers only at equal sample counts.
    """
    from gankit.evaluate.inference import predict_and_embed

    probs, emb = predict_and_embed(classifier, images)
    is_mean, is_std = metrics.inception_score(probs, n_splits=is_splits)
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


@dataclass(frozen=True, eq=False)
class Evaluator:
    """An `EvalProtocol` bound to a classifier and MNIST: the real reference embedded once
    and the real floor scored once, so every generator scored with it is compared with the
    same sets at the same N. Build it with `Evaluator.build`."""

    protocol: EvalProtocol
    classifier: keras.Model
    reference: ReferenceSet
    """The protocol's real reference (first N training images) through the classifier."""
    reference_images: np.ndarray
    """(N, 28, 28, 1) the reference images (the near-duplicate threshold is set on them)."""
    floor_images: np.ndarray
    """(N, 28, 28, 1) the real floor images (first N test images)."""
    floor: Mapping[str, float]
    """`suite` of the floor images against the reference: each metric's real-data level."""

    @classmethod
    def build(
        cls,
        classifier: keras.Model,
        train_images: np.ndarray,
        test_images: np.ndarray,
        test_labels: np.ndarray,
        protocol: EvalProtocol = PROTOCOL,
    ) -> Evaluator:
        """Embeds the reference and scores the floor (two suites' worth of classifier work).

        Args:
          classifier: the reference classifier (gankit.evaluate.classifier).
          train_images: MNIST training images in [-1, 1] (or uint8), at least N.
          test_images, test_labels: MNIST test images and their classes, at least N.
          protocol: N, seed and IS splits (`PROTOCOL`, or `protocol_for(quick)`).

        Raises:
          ValueError: fewer than ``protocol.n`` images, or labels that do not match.
        """
        reference_images = protocol.reference_images(train_images)
        floor_images, floor_labels = protocol.floor_images(test_images, test_labels)
        reference = ReferenceSet.from_images(reference_images, classifier)
        floor = suite(
            floor_images,
            floor_labels,
            classifier,
            reference,
            seed=protocol.seed,
            is_splits=protocol.is_splits,
        )
        return cls(protocol, classifier, reference, reference_images, floor_images, floor)

    def score(self, generator: keras.Model) -> dict[str, float]:
        """`suite` of N samples of ``generator`` (class-balanced if it is conditional)."""
        samples = draw_samples(generator, self.protocol.n, seed=self.protocol.seed)
        return self.score_images(samples.images, samples.labels)

    def score_images(
        self, images: np.ndarray, labels: np.ndarray | None = None
    ) -> dict[str, float]:
        """`suite` of exactly N ``images`` (e.g. a PCA model's samples) with the classes
        they were drawn for (None: unconditional, ``tarr`` is NaN).

        Raises:
          ValueError: not N images (the metrics depend on the count).
        """
        if len(images) != self.protocol.n:
            raise ValueError(
                f"score N = {self.protocol.n} images, got {len(images)}: FID, KID, precision "
                "and recall compare only at the protocol's sample count"
            )
        return suite(
            images,
            labels,
            self.classifier,
            self.reference,
            seed=self.protocol.seed,
            is_splits=self.protocol.is_splits,
        )

    @cached_property
    def duplicate_threshold(self) -> float:
        """`duplicate_threshold` of the reference images (computed on first use)."""
        return duplicate_threshold(self.reference_images)


def metrics_table(
    scores: Mapping[str, Mapping[str, float]],
    floor: Mapping[str, float],
    *,
    label_col: str = "samples",
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per entry of ``scores`` ({name: {column: value}}), then the real floor as a
    last row named `FLOOR_LABEL` (cells it has no value for are empty): the form of every
    final table of FID, KID, precision and recall.

    Args:
      columns: the columns to keep, in this order, after ``label_col`` (default: all);
        a report table keeps what its question needs.

    Raises:
      ValueError: an empty ``floor`` (the table would have no level to read against), or a
        column in ``columns`` that no row has.
    """
    if not floor:
        raise ValueError("floor is empty: pass Evaluator.floor, the suite of real test images")
    rows = [{label_col: name, **values} for name, values in scores.items()]
    rows.append({label_col: FLOOR_LABEL, **floor})
    table = pd.DataFrame(rows)
    if columns is None:
        return table
    missing = [c for c in columns if c not in table]
    if missing:
        raise ValueError(f"no row has the column(s) {missing}; the rows have {list(table)}")
    return table[[label_col, *columns]]


def evaluate_unconditional(
    generator: keras.Model | None,
    evaluator: Evaluator,
    train_images: np.ndarray | None,
    *,
    include_real: bool = True,
) -> dict[str, dict[str, float]]:
    """The Q1 evaluation: the suite of ``evaluator`` plus pixel statistics
    (`pixel_statistics`: pairwise distance, near-duplicates below the threshold set on
    the reference images and, given ``train_images``, the memorisation distance), as
    ``{"generated": {...}, "real test": {...}}``; the real test row is the floor.

    Args:
      generator: a trained generator (noise -> (N, 28, 28, 1) in [-1, 1]); None evaluates
        only the real floor.
      evaluator: the protocol bound to the classifier (`Evaluator.build`).
      train_images: real training images in [-1, 1] for the memorisation distance; None
        skips it (it is the costliest number here).
      include_real: also return the real test row (always, when ``generator`` is None).
    """
    seed, threshold = evaluator.protocol.seed, evaluator.duplicate_threshold
    out = {}
    if generator is not None:
        samples = draw_samples(generator, evaluator.protocol.n, seed=seed)
        out["generated"] = {
            **evaluator.score_images(samples.images, samples.labels),
            **pixel_statistics(samples.images, train_images, threshold, seed=seed),
        }
    if include_real or generator is None:
        out["real test"] = {
            **evaluator.floor,
            **pixel_statistics(evaluator.floor_images, train_images, threshold, seed=seed),
        }
    return out


def evaluate(
    generator: keras.Model | None,
    *,
    classifier: keras.Model,
    real_test: np.ndarray,
    real_test_labels: np.ndarray,
    reference: np.ndarray,
    n: int = PROTOCOL.n,
    seed: int = PROTOCOL.seed,
    include_real: bool = True,
) -> dict[str, dict[str, float]]:
    """The whole metric suite (`suite`) for ``generator`` and for real test images under
    the protocol with ``n`` and ``seed``, as {"generated": {...}, "real test": {...}}.

    A conditional generator draws n/10 samples of each class and its ``tarr`` is the success
    rate; the real test row's ``tarr`` is the classifier's accuracy on ``real_test``, the
    number the generated success rate should be read against. Both rows are compared with
    the same real ``reference`` images (training images: the test images are the other
    row), so the real row is the floor each metric reaches on real data. To score many
    generators, build one `Evaluator` and call its ``score``.

    Args:
      generator: a trained generator; None computes only the real row.
      classifier: the reference classifier (gankit.evaluate.classifier.load_or_train_classifier).
      real_test, real_test_labels: real test images in [-1, 1] (or uint8) and their classes;
        the first ``n`` are used.
      reference: at least ``n`` real training images, the first n are used.
      n: samples per row (`PROTOCOL`: 10,000; metrics depend on it).

    Raises:
      ValueError: if ``real_test`` or ``reference`` has fewer than ``n`` images, or the
        labels do not match the test images.
    """
    protocol = EvalProtocol(n=n, seed=seed, is_splits=min(PROTOCOL.is_splits, n))
    evaluator = Evaluator.build(classifier, reference, real_test, real_test_labels, protocol)
    out = {}
    if generator is not None:
        out["generated"] = evaluator.score(generator)
    if include_real or generator is None:
        out["real test"] = dict(evaluator.floor)
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
