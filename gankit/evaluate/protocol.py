"""The one evaluation protocol of the kit: how every final FID, KID, precision and recall
is measured, so numbers from different notebooks and tables compare directly.

- ``n`` (10,000) generated samples per row, class-balanced for a conditional generator
  (drawn with ``seed``);
- the **real reference** every row is compared with: the first ``n`` MNIST training
  images;
- the **real floor**: the first ``n`` MNIST *test* images scored against the same
  reference at the same ``n`` (FID 5.1, not 0, with the reference classifier: two finite
  samples of one distribution differ). Every table of these metrics carries this row or
  column, labelled ``FLOOR_LABEL``;
- the **embedding**: the reference classifier's penultimate layer ("embedding",
  ``gankit.evaluate.classifier_config.REFERENCE``; its quick variant in quick mode), not
  Inception-v3, so values compare only within this kit;
- ``seed`` for the generator's noise, KID's subsets and the precision/recall subsample;
  inception score over ``is_splits`` splits of the ``n`` samples (its "± std" is the spread
  over these splits, not over training seeds).

Metrics logged *during* training (per-epoch TARR, FID or IS of a few thousand samples) are
a cheaper meter with other sample counts: they are labelled as such and never enter the
final tables. ``gankit.evaluate.suite.Evaluator`` binds a protocol to the classifier and
MNIST.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from gankit import checks

__all__ = ["FLOOR_LABEL", "PROTOCOL", "QUICK_N", "EvalProtocol", "protocol_for"]

FLOOR_LABEL = "real test (floor)"
"""Row or column name of the real floor in every metric table."""

QUICK_N = 1000
"""``n`` in quick mode (``GANKIT_QUICK=1``): a smoke test, not results."""


@dataclass(frozen=True)
class EvalProtocol:
    """Sample count, real sets and seeds of every final metric table (module docstring)."""

    n: int = 10_000
    """Generated samples per row, real reference images and real floor images."""
    seed: int = 0
    """Seed of the generator's noise and of the metrics' random subsets."""
    is_splits: int = 10
    """Splits of the samples for the inception score and its std."""

    reference_set = "the first n MNIST training images"
    floor_set = "the first n MNIST test images against the same reference"
    embedding = "penultimate layer of the reference classifier"

    def __post_init__(self) -> None:
        checks.positive_int(self.n, "EvalProtocol.n")
        checks.seed(self.seed, "EvalProtocol.seed")
        if checks.positive_int(self.is_splits, "EvalProtocol.is_splits") > self.n:
            raise ValueError(
                f"EvalProtocol.is_splits ({self.is_splits}) must not exceed n ({self.n}): "
                "each split needs at least one sample"
            )

    def reference_images(self, train_images: np.ndarray) -> np.ndarray:
        """The real reference: the first ``n`` of ``train_images`` (N, 28, 28[, 1]).

        Raises:
            ValueError: fewer than ``n`` images (pass all 60,000 training images).
        """
        return self._first_n(train_images, "train_images")

    def floor_images(
        self, test_images: np.ndarray, test_labels: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The real floor's images and labels: the first ``n`` of each.

        Raises:
            ValueError: fewer than ``n`` images, or labels of another length.
        """
        images = self._first_n(test_images, "test_images")
        if test_labels is None:
            return images, None
        return images, checks.labels(test_labels, len(test_images), name="test_labels")[: self.n]

    def _first_n(self, images: np.ndarray, name: str) -> np.ndarray:
        if len(images) < self.n:
            raise ValueError(
                f"{name} needs at least n = {self.n} images, got {len(images)}; pass the "
                "whole MNIST split or a protocol with a smaller n"
            )
        return images[: self.n]

    def quick(self) -> EvalProtocol:
        """The same protocol at ``QUICK_N`` samples (never below ``is_splits``)."""
        return dataclasses.replace(self, n=min(self.n, max(QUICK_N, self.is_splits)))

    def describe(self) -> str:
        """One sentence for captions and notebook outputs."""
        return (
            f"{self.n:,} samples per row (seed {self.seed}) against {self.reference_set}; "
            f"floor: {self.floor_set}; embedding: {self.embedding}"
        ).replace(" n ", f" {self.n:,} ")


PROTOCOL = EvalProtocol()
"""The report's protocol: N = 10,000, seed 0."""


def protocol_for(quick: bool) -> EvalProtocol:
    """``PROTOCOL``, or its quick variant (``QUICK_N`` samples) when ``quick``."""
    return PROTOCOL.quick() if quick else PROTOCOL
