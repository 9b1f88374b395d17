"""The Q3 study the brief asks for, as retraining configs that share one protocol: `grid`
(strategies x real sizes), `real_synthetic_grid` (real x synthetic) and `brief_plan`.

Three parts, each a list of `gankit.studies.retrain.RetrainConfig` for
`gankit.studies.retrain_study.run_study` (the notebook and ``gankit q3`` build them here, so
they share finished runs in one results file):

- ``grid``: real {10, 20, 50, 100}% of each class x synthetic {0, 10, 20, 50, 100}% of 60k
  (class-balanced), real only where the synthetic share is 0, one shuffled set otherwise;
- ``few_shot``: {1, 5, 10, 20, 50, 100} real images per class, each of `FEW_SHOT_STRATEGIES`
  (`FEW_SHOT_SYNTH` synthetic images per class where a strategy uses them; the elite
  fine-tuning keeps the `ELITE_FRACTION` most confident of each class);
- ``synthetic_only``: the classification accuracy score, a classifier trained on 60k
  synthetic images alone, without and with augmentation (`SYNTHETIC_ONLY_STRATEGIES`);
- ``ensemble``: the same with 60k images from several default CGANs (`ENSEMBLE_SEEDS`),
  and the few-shot learner at `ENSEMBLE_FEW_SHOT` real per class fed all 60k of them.

One rule for every cell: each phase trains until its batches have shown its set (the real
part of a mix) `REAL_PASSES` times, and at least `MIN_STEPS` steps, its learning-rate
schedule to the end, and keeps the weights of the lowest validation loss on real images
held out of the training images (never the test set): `GRID_VAL_PER_CLASS` per class in
the grid, `FEW_SHOT_VAL_PER_CLASS` in the few-shot part (a few-shot learner has few labels
to spare). The synthetic-only runs have no real validation image and keep their last
weights. Stopping early instead cut the schedule short: 100% real, seed 0, measured once
on 2 CPU cores, gave 99.17% test accuracy stopped after 5 validations without a lower
loss (1,500 of 2,800 steps) and 99.46% with the whole schedule (best at step 1,900).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from gankit.studies.retrain import _USES_SYNTHETIC, RetrainConfig, check_retrain_config

REAL_PORTIONS: tuple[str, ...] = ("10%", "20%", "50%", "100%")
SYNTH_PORTIONS: tuple[int | str, ...] = (0, "10%", "20%", "50%", "100%")
FEW_SHOT: tuple[int, ...] = (1, 5, 10, 20, 50, 100)
FEW_SHOT_STRATEGIES: tuple[str, ...] = (
    "real",
    "augment",
    "mix",
    "augment_mix",
    "synth_then_real",
    "real_then_elite",
)
SYNTHETIC_ONLY_STRATEGIES: tuple[str, ...] = ("synth", "augment_synth")
"""The classification accuracy score as is, and with the augmentation of the few-shot
strategies on the synthetic images (what else the generator's samples lack)."""
FEW_SHOT_SYNTH = "10%"
"""Synthetic images per class of the few-shot strategies that use them (600)."""
ELITE_FRACTION = 0.5
"""The elite fine-tuning keeps at most this share of each class's synthetic images."""
REAL_PASSES = 6
"""Passes over each phase's set (the real part of a mix): the reference classifier's 6
epochs on the 60k real images."""
MIN_STEPS = 300
"""The least a phase trains: few-shot sets are not starved of updates."""
GRID_VAL_PER_CLASS = 100
GRID_EVAL_EVERY = 100
"""Steps between validations in the grid (up to ~6,000 steps a cell; the few-shot cells
validate every 25 of their 300)."""
FEW_SHOT_VAL_PER_CLASS = 10
PARTS: tuple[str, ...] = ("grid", "few_shot", "synthetic_only", "ensemble")
DEFAULT_PARTS: tuple[str, ...] = ("grid", "few_shot", "synthetic_only")
"""The parts that need one generator only (``ensemble`` needs several trained)."""
ENSEMBLE_SEEDS: tuple[int, ...] = (0, 1, 2)
"""Seeds of the default CGANs whose samples make the ``ensemble`` part's synthetic set
(`gankit.studies.retrain_sets.ensemble_source`)."""
ENSEMBLE_FEW_SHOT = 10
"""Real images per class of the ``ensemble`` part's few-shot cell."""
FAIR_MIX_RATIO = 0.5
"""Share of real images in each batch of the fair comparison's mixes: the few real images
are not drowned in near-copies of themselves."""

_COMMON = {"real_passes": REAL_PASSES, "steps": MIN_STEPS, "patience": None}
_QUICK = {
    "grid": {"n_real": ("10%",), "n_synth": (0, "10%")},
    "few_shot": {"n_real": (10,), "strategies": ("real", "mix", "real_then_elite")},
}


def grid(
    strategies: Sequence[str], n_real: Sequence[int | str], *, n_synth: int | str = 0, **fields
) -> list[RetrainConfig]:
    """A config per (n_real, strategy), n_real-major: the rows x columns of a table.

    Strategies that use synthetic images get ``n_synth``, the others 0; ``fields`` go to
    every config (e.g. ``steps=300``). The synthetic-only "synth" takes no ``n_real``:
    make its config directly.

    Raises:
        ValueError: "synth" in ``strategies``, or an invalid config.
    """
    if {"synth", "augment_synth"} & set(strategies):
        raise ValueError(
            '"synth" has no n_real: use RetrainConfig(strategy="synth", n_real=0, ...)'
        )
    configs = [
        RetrainConfig(
            strategy=strategy,
            n_real=n,
            n_synth=n_synth if strategy in _USES_SYNTHETIC else 0,
            **fields,
        )
        for n in n_real
        for strategy in strategies
    ]
    for config in configs:
        check_retrain_config(config)
    return configs


def real_synthetic_grid(
    n_real: Sequence[int | str], n_synth: Sequence[int | str], **fields
) -> list[RetrainConfig]:
    """The brief's grid: a config per (real, synthetic) pair, real-major. A synthetic
    amount of 0 is the real-only baseline ("real"); the others mix real and synthetic
    images in one set ("mix"). ``fields`` go to every config; give them ``real_passes``
    (and the same ``val_per_class``) so every cell trains to convergence under one rule
    and sees its real images as often as the real-only cell of its row.

    Example: ``real_synthetic_grid(["10%", "20%", "50%", "100%"],
    [0, "10%", "20%", "50%", "100%"], real_passes=6, val_per_class=100, source=MAIN)``.

    Raises:
        ValueError: an empty axis, a repeated value, or an invalid config.
    """
    for name, axis in (("n_real", n_real), ("n_synth", n_synth)):
        if not len(axis):
            raise ValueError(f"{name} needs at least one value")
        if len({str(v) for v in axis}) != len(axis):
            raise ValueError(f"{name} repeats a value: {list(axis)}")
    configs = [
        RetrainConfig(strategy="real" if s == 0 else "mix", n_real=r, n_synth=s, **fields)
        for r in n_real
        for s in n_synth
    ]
    for config in configs:
        check_retrain_config(config)
    return configs


def ensemble_name(run_names: Sequence[str]) -> str:
    """The source name of an ensemble of generators: their run names joined by "+"."""
    if len(run_names) < 2 or not all(isinstance(n, str) and n for n in run_names):
        raise ValueError(f"an ensemble needs two or more run names, got {list(run_names)}")
    return "+".join(run_names)


def brief_plan(
    source: str,
    *,
    quick: bool = False,
    parts: Sequence[str] = DEFAULT_PARTS,
    ensemble_source: str | None = None,
) -> dict[str, list[RetrainConfig]]:
    """The configs of each part in ``parts``, with synthetic images from ``source`` (the
    name of the generator's run, e.g. the default CGAN's run directory name).

    The ``ensemble`` part draws from ``ensemble_source`` (see `ensemble_name`; the
    default CGANs of `ENSEMBLE_SEEDS`): synthetic only, without and with augmentation,
    and augmentation + all 60k synthetic images with `ENSEMBLE_FEW_SHOT` real per class;
    plus the same few-shot cell with ``source`` alone, to compare.

    Quick mode keeps a corner of each part (10% real x {0, 10%} synthetic; 10 real per
    class with three strategies) at `RetrainConfig.quick` budgets (a smoke test).

    Raises:
        ValueError: an unknown part, an empty ``source``, or the ``ensemble`` part
            without ``ensemble_source``.
    """
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise ValueError(f"parts must be some of {', '.join(PARTS)}; got {list(parts)}")
    if not isinstance(source, str) or not source:
        raise ValueError("source must name the generator's run (e.g. its run directory)")
    if "ensemble" in parts and not ensemble_source:
        raise ValueError("the ensemble part needs ensemble_source (see ensemble_name)")
    common = {**_COMMON, "source": source}
    plan: dict[str, list[RetrainConfig]] = {}
    if "grid" in parts:
        axes = _QUICK["grid"] if quick else {"n_real": REAL_PORTIONS, "n_synth": SYNTH_PORTIONS}
        plan["grid"] = real_synthetic_grid(
            axes["n_real"],
            axes["n_synth"],
            val_per_class=GRID_VAL_PER_CLASS,
            eval_every=GRID_EVAL_EVERY,
            **common,
        )
    if "few_shot" in parts:
        shots = _QUICK["few_shot"] if quick else {
            "n_real": FEW_SHOT, "strategies": FEW_SHOT_STRATEGIES
        }  # fmt: skip
        configs = grid(
            shots["strategies"],
            shots["n_real"],
            n_synth=FEW_SHOT_SYNTH,
            val_per_class=FEW_SHOT_VAL_PER_CLASS,
            **common,
        )
        plan["few_shot"] = [
            dataclasses.replace(c, elite_fraction=ELITE_FRACTION)
            if c.strategy == "real_then_elite"
            else c
            for c in configs
        ]
    if "synthetic_only" in parts:
        plan["synthetic_only"] = [
            RetrainConfig(strategy=s, n_real=0, n_synth="100%", val_per_class=0, **common)
            for s in SYNTHETIC_ONLY_STRATEGIES
        ]
    if "ensemble" in parts:
        ensemble = {**common, "source": ensemble_source}
        few_shot = {"n_real": ENSEMBLE_FEW_SHOT, "n_synth": "100%"}
        few_shot["val_per_class"] = FEW_SHOT_VAL_PER_CLASS
        plan["ensemble"] = [
            *(
                RetrainConfig(strategy=s, n_real=0, n_synth="100%", val_per_class=0, **ensemble)
                for s in SYNTHETIC_ONLY_STRATEGIES
            ),
            RetrainConfig(strategy="augment_mix", **few_shot, **ensemble),
            RetrainConfig(strategy="augment_mix", **few_shot, **common),
        ]
    if quick:
        plan = {part: [c.quick() for c in configs] for part, configs in plan.items()}
    return plan


def fair_configs(
    fair_source: str,
    main_source: str,
    *,
    n_real: int = 10,
    mix_ratio: float = FAIR_MIX_RATIO,
    quick: bool = False,
) -> dict[str, list[RetrainConfig]]:
    """The fair comparison's runs under the few-shot protocol of `brief_plan`:
    ``"fair"`` (synthetic images from ``fair_source``, a CGAN trained on the same
    ``n_real`` real images per class as the classifier: real + synthetic with
    ``mix_ratio`` of each batch real, and synthetic only) and ``"main"`` (the same mix
    with ``main_source``, the CGAN that saw all 60k). Its real-only and plain-mix
    partners are the few-shot part's rows at ``n_real``.

    Raises:
        ValueError: an empty source, or an invalid config (e.g. ``mix_ratio`` not in (0, 1)).
    """
    for name, source in (("fair_source", fair_source), ("main_source", main_source)):
        if not isinstance(source, str) or not source:
            raise ValueError(f"{name} must name a generator's run (e.g. its run directory)")
    few_shot = {**_COMMON, "val_per_class": FEW_SHOT_VAL_PER_CLASS, "n_synth": FEW_SHOT_SYNTH}
    mix = {**few_shot, "strategy": "mix", "n_real": n_real, "mix_ratio": mix_ratio}
    plan = {
        "fair": [
            RetrainConfig(**mix, source=fair_source),
            RetrainConfig(
                **{**few_shot, "val_per_class": 0}, strategy="synth", n_real=0, source=fair_source
            ),
        ],
        "main": [RetrainConfig(**mix, source=main_source)],
    }
    for configs in plan.values():
        for config in configs:
            check_retrain_config(config)
    if quick:
        plan = {part: [c.quick() for c in configs] for part, configs in plan.items()}
    return plan
