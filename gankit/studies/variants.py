"""Running the variant studies: train each config once, measure it, tabulate.

- `QualityMeter`: ``suite(G)`` is the kit's final metric suite under its one protocol
  (`gankit.evaluate.suite.Evaluator`: N = 10,000 against the first 10,000 training
  images); ``per_epoch(G)`` is a cheaper meter logged after every epoch for
  ``train_gan(epoch_metrics=...)``: FID and IS (and TARR for a conditional G) of a few
  samples against a smaller reference, for trajectories only, never final tables.
- `VariantRunner`: trains (or reloads) and evaluates configs, each run directory once,
  so a baseline shared by several studies is trained and measured one time.
- `config_differences`: what the configs of a study change, as a table.
- `comparison_table`: one row per variant: metrics, epochs, D and G updates, seconds,
  and the real floor as the last row; `studies_table` stacks those of several studies.
- `stability_summary`: how a run trained: loss spread late in training, D:G update
  counts, the per-epoch meter's trajectory and the wall-clock.
- `estimate_vs_quality`: does the critic's Wasserstein estimate track sample quality
  over the epochs (rank correlation with FID and IS)?
- `interpolation_strips` / `class_strips`: the latent (lerp, slerp), pixel and class
  walks of `gankit.studies.interpolation`, ready for
  `gankit.plots.variants.plot_interpolation_strips`.

The studies and their configs are in `gankit.presets` (`VARIANT_STUDIES`, `gan_variants`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from gankit.config import GANConfig, resolved, to_dict
from gankit.evaluate import metrics
from gankit.evaluate import suite as evaluation
from gankit.evaluate.protocol import FLOOR_LABEL
from gankit.nets.sampling import latent_dim_of, sample_noise
from gankit.studies import interpolation
from gankit.train.loop import TrainResult, train_gan

TABLE_METRICS = (
    "inception_score",
    "fid",
    "kid",
    "precision",
    "recall",
    "classes_covered",
    "tarr",
)
"""Columns of the suite that `comparison_table` keeps (``tarr`` only if some run has it)."""


@dataclass(frozen=True)
class QualityMeter:
    """Final metrics under the kit's protocol, and a cheaper meter for after each epoch."""

    evaluator: evaluation.Evaluator
    """The protocol bound to the reference classifier: what `suite` measures with."""
    epoch_reference: evaluation.ReferenceSet
    """The per-epoch meter's real reference (a few thousand training images)."""
    epoch_n: int = 1000
    """Samples per `per_epoch` call (few: it runs after every epoch)."""

    @classmethod
    def build(
        cls, evaluator: evaluation.Evaluator, epoch_reference_images: np.ndarray, *, epoch_n=1000
    ) -> QualityMeter:
        """A meter whose per-epoch reference is ``epoch_reference_images`` (training
        images; their count sets the per-epoch FID's level, so keep it fixed across runs
        that are compared)."""
        reference = evaluation.ReferenceSet.from_images(
            epoch_reference_images, evaluator.classifier
        )
        return cls(evaluator, reference, epoch_n)

    def per_epoch(self, generator: keras.Model) -> dict[str, float]:
        """``fid`` and ``inception_score`` (10 splits) of ``epoch_n`` samples against
        ``epoch_reference``, and ``tarr`` for a conditional generator: cheap enough to log
        after every epoch; label these as the per-epoch meter wherever they are shown."""
        from gankit.evaluate.inference import predict_and_embed

        seed = self.evaluator.protocol.seed + 1  # not the final suite's samples
        samples = evaluation.draw_samples(generator, self.epoch_n, seed=seed)
        probs, emb = predict_and_embed(self.evaluator.classifier, samples.images)
        out = {
            "fid": metrics.frechet_distance(emb, self.epoch_reference.embedding),
            "inception_score": metrics.inception_score(probs, n_splits=10)[0],
        }
        if samples.labels is not None:
            out["tarr"] = metrics.tarr(probs, samples.labels)["success_rate"]
        return out

    def suite(self, generator: keras.Model) -> dict[str, float]:
        """The final suite of ``generator`` under the protocol (`Evaluator.score`)."""
        return self.evaluator.score(generator)


@dataclass(frozen=True)
class VariantRun:
    """One trained variant: its label in a study, config, training result and metrics."""

    label: str
    config: GANConfig
    result: TrainResult
    metrics: Mapping[str, float]

    @property
    def generator(self) -> keras.Model:
        return self.result.generator

    @property
    def history(self) -> pd.DataFrame:
        return self.result.history

    @property
    def steps(self) -> pd.DataFrame:
        return self.result.steps


@dataclass
class VariantRunner:
    """Trains and evaluates configs on one data set, each run directory once.

    ``run(configs)`` trains every config with `gankit.train.loop.train_gan` in
    ``run_dir_for(config, seed)`` (a finished run is reloaded, an interrupted one resumed),
    passing ``labels`` to conditional configs only, then calls ``evaluate`` on its
    generator. A config met again (the baseline of several studies) reuses both.
    """

    images: np.ndarray
    """Training images in [-1, 1], (N, 28, 28[, 1])."""
    labels: np.ndarray | None = None
    """Their classes (N,); required if a config is conditional."""
    run_dir_for: Callable[[GANConfig, int], os.PathLike | str] | None = None
    """Default: `gankit.paths.run_dir_for` (runs/, or runs/quick in quick mode)."""
    evaluate: Callable[[keras.Model], Mapping[str, float]] | None = None
    """Final metrics of a generator, e.g. `QualityMeter.suite`; None: no metrics."""
    epoch_metrics: Callable[[keras.Model], Mapping[str, float]] | None = None
    """Logged after every epoch, e.g. `QualityMeter.per_epoch`."""
    seed: int = 0
    progress: bool = False
    _done: dict[Path, tuple[TrainResult, dict[str, float]]] = field(
        default_factory=dict, init=False, repr=False
    )

    def run(self, configs: Mapping[str, GANConfig]) -> dict[str, VariantRun]:
        """``{label: VariantRun}`` in the order of ``configs``.

        Raises:
          ValueError: a conditional config without ``labels``, or as `train_gan`.
        """
        from gankit.paths import run_dir_for

        where = self.run_dir_for or run_dir_for
        out = {}
        for label, config in configs.items():
            run_dir = Path(where(config, self.seed))
            if run_dir not in self._done:
                if config.takes_labels and self.labels is None:
                    raise ValueError(f"{label!r} is a conditional GAN: give the runner labels")
                result = train_gan(
                    config,
                    self.images,
                    run_dir,
                    labels=self.labels if config.takes_labels else None,
                    seed=self.seed,
                    progress=self.progress,
                    epoch_metrics=self.epoch_metrics,
                )
                scores = dict(self.evaluate(result.generator)) if self.evaluate else {}
                self._done[run_dir] = (result, scores)
            result, scores = self._done[run_dir]
            out[label] = VariantRun(label, config, result, scores)
        return out


def _flat(data: Mapping, prefix: str = "") -> dict[str, object]:
    out = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_differences(configs: Mapping[str, GANConfig]) -> pd.DataFrame:
    """The config fields (dotted keys such as ``train.loss``) whose values differ between
    ``configs``: one row per config (column ``variant``), in order; ``name`` left out.
    Precision 'auto' shows as the precision it trains with here."""
    rows = {label: _flat(to_dict(resolved(config))) for label, config in configs.items()}
    df = pd.DataFrame.from_dict(rows, orient="index")
    differing = [c for c in df.columns if c != "name" and df[c].astype(str).nunique() > 1]
    return df[differing].rename_axis("variant").reset_index()


def _seconds_per_epoch(history: pd.DataFrame) -> float:
    """Median training seconds of an epoch (the first includes compiling the steps)."""
    return float(history["seconds"].median()) if len(history) else float("nan")


def _variant_rows(
    runs: Mapping[str, VariantRun], metric_columns: Sequence[str]
) -> list[dict[str, object]]:
    rows = []
    for label, run in runs.items():
        row = {"variant": label}
        row.update({c: run.metrics.get(c, np.nan) for c in metric_columns})
        row.update(
            epochs=len(run.history),
            d_updates=int(run.steps["d_updates"].sum()) if len(run.steps) else 0,
            g_updates=int(run.steps["g_updates"].sum()) if len(run.steps) else 0,
            seconds_per_epoch=_seconds_per_epoch(run.history),
            train_seconds=run.result.train_seconds,
        )
        rows.append(row)
    return rows


def _with_floor(
    table: pd.DataFrame, floor: Mapping[str, float], metric_columns: Sequence[str], **cells
) -> pd.DataFrame:
    """``table`` without the metric columns no run has, then the floor row (`FLOOR_LABEL`)
    with the metrics the table keeps; counts stay integers beside its empty cells."""
    if not floor:
        raise ValueError("floor is empty: pass Evaluator.floor, the suite of real test images")
    empty = [c for c in metric_columns if c in table and table[c].isna().all()]
    table = table.drop(columns=empty)
    row = {**cells, "variant": FLOOR_LABEL}
    row.update({c: floor[c] for c in metric_columns if c in table and c in floor})
    table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
    return table.astype({c: "Int64" for c in ("epochs", "d_updates", "g_updates")})


def comparison_table(
    runs: Mapping[str, VariantRun],
    floor: Mapping[str, float],
    metric_columns: Sequence[str] = TABLE_METRICS,
) -> pd.DataFrame:
    """One row per variant: its label, the metrics in ``metric_columns`` it has (a column
    no run has is left out), epochs, D and G updates, median seconds per epoch and total
    training time; then the real floor (``floor``, e.g. `Evaluator.floor`) as a last row
    named `FLOOR_LABEL`.

    Raises:
      ValueError: an empty ``floor``.
    """
    return _with_floor(pd.DataFrame(_variant_rows(runs, metric_columns)), floor, metric_columns)


def studies_table(
    studies: Mapping[str, Mapping[str, VariantRun]],
    floor: Mapping[str, float],
    *,
    metric_columns: Sequence[str] = TABLE_METRICS,
) -> pd.DataFrame:
    """The variants of every study stacked, with a ``study`` column first (a baseline
    shared by studies appears in each), then the real floor (``floor``, e.g.
    `Evaluator.floor`) as a last row of study ``reference`` named `FLOOR_LABEL`.

    Raises:
      ValueError: if ``studies`` or ``floor`` is empty.
    """
    if not studies:
        raise ValueError("studies is empty: pass {study: {label: VariantRun}}")
    parts = [
        pd.DataFrame(_variant_rows(runs, metric_columns)).assign(study=study)
        for study, runs in studies.items()
    ]
    table = _with_floor(
        pd.concat(parts, ignore_index=True), floor, metric_columns, study="reference"
    )
    return table[["study", *(c for c in table.columns if c != "study")]]


def stability_summary(
    run: VariantRun, metric: str = "fid", *, late: float = 0.5
) -> dict[str, float]:
    """How ``run`` trained, as one table row.

    Returns:
      ``d_loss_std`` and ``g_loss_std``: spread of the per-round losses over the last
      ``late`` share of training (after the early transient; NaN with fewer than two
      rounds); ``d_updates``, ``g_updates`` and ``g_per_d`` (G updates per D update);
      ``epoch_<metric>_final`` and ``epoch_<metric>_worst_rise``: the per-epoch meter's
      last value and its largest increase from one epoch to the next (0 for a steadily
      improving FID; NaN without the column or with one epoch), named apart from the
      final suite's ``<metric>`` because the meter uses fewer samples;
      ``seconds_per_epoch`` and ``train_seconds``.

    Raises:
      ValueError: if ``late`` is not in (0, 1].
    """
    if not 0 < late <= 1:
        raise ValueError(f"late must be in (0, 1], got {late}")
    steps, history = run.steps, run.history
    epochs = steps["epoch"].max() if len(steps) else 0.0
    tail = steps[steps["epoch"] > (1 - late) * epochs]
    d_updates = float(steps["d_updates"].sum()) if len(steps) else 0.0
    g_updates = float(steps["g_updates"].sum()) if len(steps) else 0.0
    out = {
        "d_loss_std": float(tail["d_loss"].std()) if len(tail) > 1 else np.nan,
        "g_loss_std": float(tail["g_loss"].std()) if len(tail) > 1 else np.nan,
        "d_updates": d_updates,
        "g_updates": g_updates,
        "g_per_d": g_updates / d_updates if d_updates else np.nan,
    }
    values = history[metric].to_numpy(float) if metric in history else np.array([])
    out[f"epoch_{metric}_final"] = float(values[-1]) if len(values) else np.nan
    out[f"epoch_{metric}_worst_rise"] = (
        float(max(np.diff(values).max(), 0.0)) if len(values) > 1 else np.nan
    )
    out["seconds_per_epoch"] = _seconds_per_epoch(history)
    out["train_seconds"] = run.result.train_seconds
    return out


def estimate_vs_quality(
    history: pd.DataFrame,
    metric_columns: Sequence[str] = ("fid", "inception_score"),
    *,
    estimate: str = "wasserstein",
) -> dict[str, float]:
    """Spearman rank correlation over epochs between the critic's estimate and each metric.

    +1 with FID means the estimate falls exactly when FID falls (it tracks quality), -1
    with IS likewise. NaN for fewer than three epochs or a constant column.

    Raises:
      ValueError: for a missing column.
    """
    missing = [c for c in (estimate, *metric_columns) if c not in history]
    if missing:
        raise ValueError(f"history lacks {missing}; it has {list(history.columns)}")
    out = {}
    for column in metric_columns:
        pair = history[[estimate, column]].astype(float).dropna()
        constant = pair.nunique().min() < 2 if len(pair) else True
        out[column] = (
            np.nan
            if len(pair) < 3 or constant
            else float(pair[estimate].rank().corr(pair[column].rank()))
        )
    return out


def interpolation_strips(
    generator: keras.Model, *, seed: int = 0, steps: int = 10, label: int | None = None
) -> dict[str, np.ndarray]:
    """Walks between the images of two noise vectors drawn with ``seed``: ``slerp`` and
    ``lerp`` in latent space, and ``pixel`` (the fade between the two end images).

    ``label``: the class a conditional generator draws all along (required for one).

    Returns:
      ``{"slerp": ..., "lerp": ..., "pixel": ...}``, each float32 (steps, 28, 28, 1); the
      three share their first and last images.
    """
    z0, z1 = sample_noise(2, latent_dim_of(generator), seed)
    strips = {
        method: interpolation.latent_interpolation(generator, z0, z1, steps, method, label)
        for method in interpolation.LATENT_METHODS[::-1]
    }
    strips["pixel"] = interpolation.pixel_interpolation(
        strips["lerp"][0], strips["lerp"][-1], steps
    )
    return strips


def class_strips(
    generator: keras.Model, class_a: int, class_b: int, *, seed: int = 0, steps: int = 10
) -> dict[str, np.ndarray]:
    """One noise vector (from ``seed``) drawn as ``class_a`` turning into ``class_b``:
    ``{"label code": ..., "pixel": ...}`` (`gankit.studies.interpolation.class_interpolation`)."""
    (z,) = sample_noise(1, latent_dim_of(generator), seed)
    return {
        "label code": interpolation.class_interpolation(
            generator, z, class_a, class_b, steps, method="code"
        ),
        "pixel": interpolation.class_interpolation(
            generator, z, class_a, class_b, steps, method="pixel"
        ),
    }
