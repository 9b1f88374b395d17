"""One run of an experiment: train a config on MNIST, then evaluate it and write the
metrics next to the run.

`TrainAndEvaluate` is the default run function of ``gankit train`` and ``gankit sweep``
(see `gankit.experiments.sweep.run_sweep`, which handles run directories, resume, locks and the
registry): `gankit.train.loop.train_gan` on the verified MNIST cache (`load_scaled_mnist`),
then `evaluate_generator` (the metric suite of `gankit.evaluate.suite.evaluate`), written by
`write_metrics` as ``run_dir/metrics.json`` and ``run_dir/metrics.{csv,md,tex}``.
`evaluate_run_dir` does the evaluation alone for a finished run (``gankit evaluate``);
`config_from_source` reads the config a command names (a preset or a JSON file).
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gankit.config import GANConfig
from gankit.experiments.sweep import RunResult
from gankit.io import atomic_write

METRICS_STEM = "metrics"
"""``run_dir/metrics.json`` and the table ``run_dir/metrics.{csv,md,tex}``."""
_HISTORY_COLUMNS = ("d_loss", "g_loss", "d_acc_real", "d_acc_fake", "images_per_second")

Arrays = tuple[tuple[Any, Any], tuple[Any, Any]]


def load_scaled_mnist() -> Arrays:
    """``((x_train, y_train), (x_test, y_test))`` from the verified MNIST cache, images as
    float32 (N, 28, 28) in [-1, 1], labels uint8 (N,)."""
    from gankit.data.images import scale_images
    from gankit.data.mnist import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist()
    return (scale_images(x_train), y_train), (scale_images(x_test), y_test)


def config_from_source(source: str, overrides: Sequence[str] = (), *, quick: bool) -> GANConfig:
    """The config named by ``source`` (a preset name, or a JSON config file such as a run
    directory's config.json) with the ``key=value`` ``overrides`` applied.

    Raises:
        ValueError: ``source`` is neither a preset nor a file (with the closest preset
            name), or an override is malformed or names an unknown key.
        TypeError: an override value has the wrong type for its field.
    """
    from gankit import presets
    from gankit.config import load_config, parse_overrides, with_overrides

    if Path(source).is_dir():
        raise ValueError(f"{source} is a folder: give a preset name or a JSON config file")
    if source.endswith(".json") or Path(source).is_file():
        config = load_config(source)
    elif source in presets.preset_names():
        config = presets.get_preset(source, quick=quick)
    else:
        close = difflib.get_close_matches(source, presets.preset_names(), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise ValueError(
            f"{source!r} is neither a preset nor a config file.{hint} Presets: "
            f"{', '.join(presets.preset_names())}"
        )
    return with_overrides(config, parse_overrides(overrides))


def default_eval_n(quick: bool) -> int:
    """Generated samples per evaluation: the kit's protocol (`gankit.evaluate.protocol`),
    10,000 in full mode and 1,000 in quick mode."""
    from gankit.evaluate.protocol import protocol_for

    return protocol_for(quick).n


def evaluate_generator(
    generator: Any, data: Arrays, *, quick: bool, n: int, seed: int
) -> dict[str, dict[str, float]]:
    """`gankit.evaluate.suite.evaluate` (the whole metric suite, conditional or not) for
    ``generator`` and for real test images, as ``{"generated": {...}, "real test": {...}}``.

    ``data`` is ``((x_train, y_train), (x_test, y_test))`` as from `load_scaled_mnist`:
    the first ``n`` training images are the real reference both rows are compared with.
    The measuring instrument is the reference classifier (its quick variant if ``quick``;
    trained once and cached).
    """
    from gankit.evaluate import suite as evaluation
    from gankit.evaluate.classifier import load_or_train_classifier
    from gankit.evaluate.classifier_config import REFERENCE

    (x_train, _), (x_test, y_test) = data
    classifier = load_or_train_classifier(REFERENCE.quick() if quick else REFERENCE, verbose=False)
    return evaluation.evaluate(
        generator,
        classifier=classifier,
        real_test=x_test,
        real_test_labels=y_test,
        reference=x_train,
        n=n,
        seed=seed,
    )


def write_metrics(
    run_dir: str | os.PathLike[str],
    metrics: Mapping[str, Mapping[str, float]],
    *,
    n: int,
    seed: int,
) -> dict[str, Path]:
    """Writes ``metrics`` next to a run: ``metrics.json`` and a table ``metrics.{csv,md,tex}``
    with one row per evaluated image set. Returns the paths by suffix."""
    from gankit.experiments.registry import plain_json
    from gankit.report import write_table

    run_dir = Path(run_dir)
    path = run_dir / f"{METRICS_STEM}.json"
    with atomic_write(path) as f:
        f.write(json.dumps(plain_json({"n": n, "seed": seed, "metrics": metrics}), indent=2) + "\n")
    from gankit.evaluate.protocol import FLOOR_LABEL

    # The real test row is the floor of every metric: named so in the table.
    table = [
        {"images": FLOOR_LABEL if row == "real test" else row, **values}
        for row, values in metrics.items()
    ]
    paths = write_table(
        table,
        run_dir / METRICS_STEM,
        caption=f"Metrics of {run_dir.name} ({n} samples, seed {seed})",
    )
    return {"json": path, **paths}


def evaluate_run_dir(
    run_dir: str | os.PathLike[str],
    *,
    seed: int = 0,
    n: int | None = None,
    quick: bool = False,
    data: Callable[[], Arrays] = load_scaled_mnist,
) -> dict[str, dict[str, float]]:
    """Evaluates the finished run in ``run_dir`` and writes the metrics next to it.

    Args:
      seed: seeds the generated samples.
      n: samples (default `default_eval_n`).
      data: returns the MNIST arrays (see `load_scaled_mnist`); tests pass fake ones.

    Raises:
      FileNotFoundError: no such folder, or the run has not finished (no generator.keras).
      ValueError: ``n`` is not a positive int.
      PermissionError, OSError: ``run_dir`` cannot be written (checked first).
    """
    from gankit.experiments.faults import check_writable_dir

    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"n must be a positive number of samples, got {n!r}")
    check_writable_dir(run_dir, "run directory", create=False)
    from gankit.train.loop import load_generator  # TensorFlow: after the cheap checks

    generator = load_generator(run_dir)
    n = n or default_eval_n(quick)
    metrics = evaluate_generator(generator, data(), quick=quick, n=n, seed=seed)
    write_metrics(run_dir, metrics, n=n, seed=seed)
    return metrics


def _limit_threads(threads: int | None) -> None:
    """Caps TensorFlow's thread pools, so parallel runs do not fight over the cores."""
    if threads is None:
        return
    import tensorflow as tf

    with contextlib.suppress(RuntimeError):  # already initialised here: keep its pools
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


@dataclass(frozen=True)
class TrainAndEvaluate:
    """The run function of ``gankit train`` and ``gankit sweep``: `gankit.train.loop.train_gan`
    on MNIST (with its labels for a conditional config), then `evaluate_generator`.

    Picklable, so joblib can send it to worker processes. Metrics: the evaluation's rows
    plus ``training`` (the last epoch's losses, D accuracies and images/s).
    """

    quick: bool = False
    """Use the quick reference classifier and `default_eval_n` of quick mode."""
    eval_n: int | None = None
    """Generated samples to evaluate; None: `default_eval_n`."""
    evaluate: bool = True
    progress: bool = False
    """Progress bars while training (off for parallel runs)."""
    threads: int | None = None
    """TensorFlow threads per run (None: TensorFlow's default, all cores)."""
    data: Callable[[], Arrays] = load_scaled_mnist

    def __post_init__(self) -> None:
        """Raises ValueError for an ``eval_n`` or ``threads`` that is not None or an int
        >= 1, before any run starts (not after the first one has trained)."""
        for name in ("eval_n", "threads"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(f"{name} must be None or an int >= 1, got {value!r}")

    def prepare(self) -> None:
        """Fetches MNIST and the classifier once, before runs start in parallel."""
        self.data()
        if self.evaluate:
            from gankit.runtime import quiet_tensorflow

            quiet_tensorflow()
            from gankit.evaluate.classifier import load_or_train_classifier
            from gankit.evaluate.classifier_config import REFERENCE

            load_or_train_classifier(REFERENCE.quick() if self.quick else REFERENCE)

    def __call__(self, config: GANConfig, seed: int, run_dir: Path) -> RunResult:
        from gankit.runtime import quiet_tensorflow

        quiet_tensorflow()  # a worker's log would otherwise start with TF's C++ banners
        _limit_threads(self.threads)
        import keras

        from gankit.train.loop import train_gan

        arrays = self.data()
        (x_train, y_train), _ = arrays
        labels = {"labels": y_train} if config.takes_labels else {}
        result = train_gan(config, x_train, run_dir, seed=seed, progress=self.progress, **labels)
        metrics: dict[str, dict[str, float]] = {}
        n = self.eval_n or default_eval_n(self.quick)
        if self.evaluate:
            metrics = evaluate_generator(result.generator, arrays, quick=self.quick, n=n, seed=seed)
            write_metrics(run_dir, metrics, n=n, seed=seed)
        if len(result.history):
            last = result.history.iloc[-1]
            metrics["training"] = {c: float(last[c]) for c in _HISTORY_COLUMNS if c in last}
        keras.backend.clear_session()  # a worker trains many runs: free the old graphs
        return RunResult(
            metrics,
            train_seconds=result.train_seconds,
            extra={
                "eval_n": n if self.evaluate else None,
                "epochs_trained": len(result.history),
                "stopped": result.stopped,
            },
        )
