"""What a sweep runs: `RunSpec` (a config and a seed), and the lists of them made from a
grid of overrides (`expand_grid`), named sets of overrides (`expand_list`), or their
command-line forms (`parse_grid_item`, `load_runs`). `gankit.experiments.sweep` runs them.
"""

from __future__ import annotations

import itertools
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.config import GANConfig, config_hash, parse_value, with_overrides

__all__ = [
    "RunSpec",
    "expand_grid",
    "expand_list",
    "load_runs",
    "parse_grid_item",
    "run_id",
]


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: a config, a seed and how the sweep described it."""

    config: GANConfig
    seed: int
    label: str | None = None
    """A short name for the table, e.g. 'train.g_lr=0.001 train.batch_size=64'."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """The overrides that made ``config`` from the sweep's base config."""

    @property
    def run_id(self) -> str:
        """``<name>-<config hash>-s<seed>``: the run directory's name."""
        return run_id(self.config, self.seed)


def run_id(config: GANConfig, seed: int) -> str:
    """The run directory name of ``config`` and ``seed``: ``<name>-<hash>-s<seed>``."""
    return f"{config.name}-{config_hash(config)}-s{seed}"


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty: pass at least one seed, e.g. seeds=[0, 1]")
    for seed in seeds:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise TypeError(f"seeds must be ints >= 0, got {seed!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds repeat: {seeds}")
    return seeds


def _label(overrides: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in overrides.items()) or "base"


def _unique(specs: list[RunSpec]) -> list[RunSpec]:
    seen: dict[str, RunSpec] = {}
    for spec in specs:
        if spec.run_id in seen:
            warnings.warn(
                f"{spec.label!r} gives the same config as {seen[spec.run_id].label!r}; "
                "it is run once",
                stacklevel=3,
            )
            continue
        seen[spec.run_id] = spec
    return list(seen.values())


def expand_grid(
    base: GANConfig,
    grid: Mapping[str, Sequence[Any]],
    seeds: Sequence[int],
    *,
    fixed: Mapping[str, Any] | None = None,
) -> list[RunSpec]:
    """Every combination of the ``grid`` values, for each seed (seed-major order, so an
    interrupted sweep has seen every config at least once with the first seed).

    Args:
      grid: ``{key: [values]}``. A key may name several fields separated by commas that
        take the same value, e.g. ``{"train.g_lr,train.d_lr": [1e-4, 1e-3]}``.
      fixed: overrides applied to every run before the grid's.

    Raises:
      ValueError: an empty grid axis, an unknown key, or bad seeds.
      TypeError: a value of the wrong type for its field.
    """
    if not isinstance(grid, Mapping):
        raise TypeError("grid must be a dict {key: [values]}")
    for key, values in grid.items():
        if isinstance(values, str) or not isinstance(values, Sequence) or not len(values):
            raise ValueError(f"grid[{key!r}] must be a non-empty list of values, got {values!r}")
    combos = [
        {k.strip(): v for keys, v in zip(grid, values, strict=True) for k in keys.split(",")}
        for values in itertools.product(*grid.values())
    ]
    return expand_list(base, combos, seeds, fixed=fixed)


def expand_list(
    base: GANConfig,
    runs: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
    seeds: Sequence[int],
    *,
    fixed: Mapping[str, Any] | None = None,
) -> list[RunSpec]:
    """One run per set of overrides in ``runs`` and per seed (seed-major order).

    Args:
      runs: a list of override dicts, or ``{label: overrides}`` (e.g.
        `gankit.presets.DCGAN_TUNING`) to name each in the tables.
      fixed: overrides applied to every run before its own.

    Raises:
      ValueError: no runs, an unknown key, or bad seeds.
      TypeError: ``runs`` or one of its entries is not as above, or a value of the wrong
        type for its field.
    """
    if isinstance(runs, Mapping):
        labelled = [(str(k), v) for k, v in runs.items()]
    elif isinstance(runs, Sequence) and not isinstance(runs, str):
        labelled = [(None, v) for v in runs]
    else:
        raise TypeError(
            f"runs must be a list of override dicts or {{label: overrides}}, got {runs!r}"
        )
    for label, overrides in labelled:
        if not isinstance(overrides, Mapping):
            where = f"runs[{label!r}]" if label is not None else "an entry of runs"
            raise TypeError(
                f'{where} must be a dict of overrides such as {{"train.g_lr": 0.001}}, '
                f"got {overrides!r}"
            )
    labelled = [(label, dict(overrides)) for label, overrides in labelled]
    if not labelled:
        raise ValueError("the sweep has no runs: give at least one set of overrides")
    seeds = _check_seeds(seeds)
    fixed_config = with_overrides(base, dict(fixed or {}))
    configs = [
        (label or _label(overrides), overrides, with_overrides(fixed_config, overrides))
        for label, overrides in labelled
    ]
    specs = [
        RunSpec(config, seed, label, overrides)
        for seed in seeds
        for label, overrides, config in configs
    ]
    return _unique(specs)


def parse_grid_item(item: str) -> tuple[str, list[Any]]:
    """A command-line grid axis, ``"train.g_lr,train.d_lr=1e-4,2e-4"`` or
    ``'generator.hidden=[[256],[512]]'`` (a JSON list), as (key, values).

    Raises:
      ValueError: no ``=`` or no values.
    """
    key, sep, text = item.partition("=")
    if not sep or not key.strip() or not text.strip():
        raise ValueError(
            f"grid axis {item!r} must look like key=v1,v2 (e.g. train.batch_size=64,128) "
            "or key=[json list]"
        )
    text = text.strip()
    if text.startswith("["):
        try:
            values = json.loads(text)
        except ValueError as err:
            raise ValueError(f"grid axis {item!r}: the value list is not JSON ({err})") from err
    else:
        first_key = key.split(",")[0].strip()  # linked keys share a type
        values = [parse_value(v.strip(), first_key) for v in text.split(",") if v.strip()]
    if not values:
        raise ValueError(f"grid axis {item!r} has no values")
    return key.strip(), values


def load_runs(text: str) -> Any:
    """A list of override dicts or {label: overrides}: a named study of
    `gankit.presets.SWEEP_RUNS` (e.g. ``q1-tuning``), a JSON file or inline JSON."""
    from gankit.presets import SWEEP_RUNS

    if text in SWEEP_RUNS:
        return SWEEP_RUNS[text]
    path = Path(text)
    try:
        return json.loads(path.read_text() if path.is_file() else text)
    except ValueError as err:
        raise ValueError(
            f"--runs {text!r} is neither a named study ({', '.join(SWEEP_RUNS)}), a JSON "
            f"file nor inline JSON ({err}); e.g. "
            '--runs \'{"lr 1e-3": {"train.g_lr": 0.001}}\''
        ) from err
