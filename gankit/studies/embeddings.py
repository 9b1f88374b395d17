"""Where do synthetic digits sit among real ones? 2-D maps of classifier embeddings and
the classifier's confidence, for the coursework's "further thoughts".

The recipe (plots in ``gankit.plots.analysis``)::

    subset = sample_real_and_synthetic(x_test, y_test, fake, fake_labels, n=100, seed=0)
    emb = gankit.evaluate.inference.embed(clf, subset.images)  # penultimate layer, (200, 128)
    points = project_2d(emb, "tsne", seed=0)                # (200, 2)
    conf_real, conf_fake = subset.split(confidence(predict_proba(clf, subset.images)))

Nothing here imports TensorFlow: the caller runs the classifier and passes arrays in.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from gankit import checks
from gankit.checks import N_CLASSES
from gankit.evaluate.diversity import validate_images
from gankit.evaluate.inputs import validate_embeddings, validate_labels, validate_probs

METHODS = ("tsne", "pca")
TSNE_INITS = ("pca", "random")
_MIN_TSNE_POINTS = 4  # perplexity (N - 1) / 3 >= 1


def _check_seed(seed) -> int:
    return checks.seed(seed)


# ---------------------------------------------------------------------------- projection


def effective_perplexity(n_points: int, perplexity: float) -> float:
    """The perplexity `project_2d` uses for ``n_points``: min(perplexity, (N - 1) / 3).

    t-SNE looks at the 3 x perplexity nearest neighbours of each point, so with fewer
    points than that it would ask for neighbours that do not exist (scikit-learn refuses
    perplexity >= N). 100 points keep the usual 30; 50 points get 16.3.
    """
    return float(min(perplexity, (n_points - 1) / 3))


def project_2d(
    embeddings,
    method: str = "tsne",
    *,
    seed: int = 0,
    perplexity: float = 30.0,
    init: str = "pca",
    threads: int | None = 1,
) -> np.ndarray:
    """Project embeddings (N, D) to 2-D points (N, 2), float64.

    Args:
        embeddings: (N, D) floats, e.g. ``gankit.evaluate.inference.embed`` output; D >= 2.
        method: "tsne" (scikit-learn's Barnes-Hut t-SNE, automatic learning rate, 1000
            iterations) keeps neighbourhoods, not distances: cluster sizes and gaps
            between clusters mean little. "pca" (the two axes of largest variance, each
            axis' sign fixed) keeps the global layout and is linear.
        seed: seeds t-SNE's random initialisation. With ``init="pca"`` the map does not
            depend on it (the PCA start and the optimisation are deterministic); the same
            (data, seed, init) always gives the same map. PCA ignores it.
        perplexity: t-SNE's effective neighbour count; lowered automatically to
            (N - 1) / 3 for small N (see `effective_perplexity`).
        init: t-SNE's starting layout, "pca" (stabler global layout, Kobak & Berens 2019)
            or "random" (use several seeds to see how much the map varies).
        threads: CPU threads (OpenMP and BLAS; None: all). 1 by default: on a small
            machine whose cores are busy, threads that spin while waiting make t-SNE
            several times slower than one thread.

    Raises:
        ValueError: bad embeddings (not 2-D, NaN, D < 2), too few points (2 for "pca", 4
            for "tsne"), an unknown method or init, perplexity <= 0, or threads < 1.
        TypeError: seed or threads not an int.
    """
    seed = _check_seed(seed)
    _check_projection_options(method, perplexity, init, threads)
    min_points = _MIN_TSNE_POINTS if method == "tsne" else 2
    x = validate_embeddings(embeddings, "embeddings", min_samples=min_points)
    if x.shape[1] < 2:
        raise ValueError(f"embeddings need at least 2 features to map to 2-D, got {x.shape[1]}")
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    with threadpool_limits(limits=threads):
        if method == "pca":
            return _pca_2d(x)
        return _tsne_2d(x, seed, effective_perplexity(len(x), perplexity), init)


def _check_projection_options(method: str, perplexity, init: str, threads) -> None:
    """ValueError (TypeError for a non-int ``threads``) naming the first invalid option."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not (isinstance(perplexity, numbers.Real) and perplexity > 0):
        raise ValueError(f"perplexity must be a positive number, got {perplexity!r}")
    if init not in TSNE_INITS:
        raise ValueError(f"init must be one of {TSNE_INITS}, got {init!r}")
    if threads is not None:
        checks.positive_int(threads, "threads")


def _pca_2d(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2]
    # sign fix as scikit-learn's svd_flip: the largest |loading| of each axis is positive
    signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(axis=1)])
    return centred @ (axes * np.where(signs == 0, 1.0, signs)[:, None]).T


def _tsne_2d(x: np.ndarray, seed: int, perplexity: float, init: str) -> np.ndarray:
    from sklearn.manifold import TSNE  # lazy: importing scikit-learn takes a second

    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        init=init,
        learning_rate="auto",
        random_state=seed,
    )
    return tsne.fit_transform(x).astype(np.float64)


# ---------------------------------------------------------------------------- confidence


def confidence(probs) -> np.ndarray:
    """The classifier's confidence in each image: max softmax probability, (N,) float64.

    Lies in [1/C, 1]; 1/C (0.1 for MNIST) means the classifier cannot tell.

    Raises:
        ValueError: not a valid (N, C) probability matrix (see
            ``gankit.evaluate.inputs.validate_probs``), or empty.
    """
    return validate_probs(probs, "probs", min_samples=1).max(axis=1)


# ------------------------------------------------------------------------------- subsets


@dataclass(frozen=True, eq=False)
class MixedSample:
    """Real and synthetic images in one array, real first.

    Attributes:
        images: float32 (N_real + N_synthetic, 28, 28, 1) in [-1, 1].
        digits: int64 (N,) digit of each image (true label, or the synthetic image's
            conditioning label / predicted class).
        is_synthetic: bool (N,).
    """

    images: np.ndarray = field(repr=False)
    digits: np.ndarray = field(repr=False)
    is_synthetic: np.ndarray = field(repr=False)

    def __repr__(self) -> str:
        n_fake = int(self.is_synthetic.sum())
        return f"MixedSample(real={len(self.digits) - n_fake}, synthetic={n_fake})"

    def split(self, values) -> tuple[np.ndarray, np.ndarray]:
        """``(values[real], values[synthetic])`` for per-image ``values`` (N, ...).

        Raises:
            ValueError: ``values`` does not have one entry per image.
        """
        values = np.asarray(values)
        if len(values) != len(self.digits):
            raise ValueError(f"values has {len(values)} rows, expected {len(self.digits)}")
        return values[~self.is_synthetic], values[self.is_synthetic]


def sample_real_and_synthetic(
    real_images,
    real_digits,
    synthetic_images,
    synthetic_digits,
    *,
    n: int = 100,
    seed: int = 0,
    balanced: bool = False,
) -> MixedSample:
    """``n`` random real and ``n`` random synthetic images (all digits), drawn without
    replacement with ``seed``.

    Args:
        real_images: e.g. the test set; uint8 pixels or float in [-1, 1], (N, 28, 28[, 1]).
        real_digits: int (N,) labels 0-9.
        synthetic_images: generated images, as ``real_images``.
        synthetic_digits: int (M,) digits: the conditioning labels of a conditional
            generator; for an unconditional one, the classifier's predicted class.
        n: images drawn from each set.
        balanced: draw n / 10 of every digit (n must be a multiple of 10) instead of n
            uniformly at random (which leaves the digit counts to chance).

    Raises:
        ValueError: bad images or digits, mismatched lengths, n < 1, more images asked
            than a set (or, balanced, a digit) holds, or n not a multiple of 10 with
            ``balanced``.
        TypeError: n or seed not an int.
    """
    rng = np.random.default_rng(_check_seed(seed))
    n = checks.integer(n, "n")
    if n < 1 or (balanced and n % N_CLASSES):
        raise ValueError(f"n must be >= 1 (and a multiple of 10 when balanced), got {n}")
    parts = []
    for name, images, digits in (
        ("real", real_images, real_digits),
        ("synthetic", synthetic_images, synthetic_digits),
    ):
        x = validate_images(images, f"{name}_images").reshape(-1, 28, 28, 1)
        y = validate_labels(digits, f"{name}_digits", N_CLASSES)
        if len(x) != len(y):
            raise ValueError(f"{name}: {len(x)} images but {len(y)} digits")
        idx = _draw(y, n, balanced, rng, name)
        parts.append((x[idx], y[idx]))
    (xr, yr), (xs, ys) = parts
    return MixedSample(
        images=np.concatenate([xr, xs]).astype(np.float32),
        digits=np.concatenate([yr, ys]),
        is_synthetic=np.repeat([False, True], n),
    )


def _draw(digits: np.ndarray, n: int, balanced: bool, rng, name: str) -> np.ndarray:
    """Indices of n items of ``digits`` (n / 10 per digit if ``balanced``), shuffled."""
    if not balanced:
        if n > len(digits):
            raise ValueError(f"asked for {n} {name} images but there are {len(digits)}")
        return rng.choice(len(digits), size=n, replace=False)
    chosen = []
    for digit in range(N_CLASSES):
        members = np.flatnonzero(digits == digit)
        if len(members) < n // N_CLASSES:
            raise ValueError(
                f"{name} set has {len(members)} images of digit {digit}, fewer than "
                f"{n // N_CLASSES}; lower n or pass balanced=False"
            )
        chosen.append(rng.choice(members, size=n // N_CLASSES, replace=False))
    return rng.permutation(np.concatenate(chosen))
