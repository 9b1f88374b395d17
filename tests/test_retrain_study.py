"""Tests of gankit.studies.retrain_study and retrain_tables: the resumable study, the results
file, the mean ± std tables, paired gains, and the fair generator's training set.

Bookkeeping tests replace `run_cell` with a stub that returns a row without training;
one study trains a classifier of a few hundred weights for a few steps.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from gankit.data.mnist import load_mnist, stratified_indices
from gankit.evaluate.classifier_config import ClassifierConfig
from gankit.experiments.registry import RegistryWarning
from gankit.studies import retrain, retrain_study, retrain_tables
from gankit.studies.retrain_sets import split_real

TINY = retrain.RetrainConfig(
    n_real=3, steps=4, finetune_steps=2, eval_every=2, patience=1, val_per_class=2,
    classifier=ClassifierConfig(
        conv_widths=(4, 8), embedding_dim=8, dropout=0.1, batch_size=32, translate_pixels=0
    ),
)  # fmt: skip


def tiny(strategy="real", **changes):
    sizes = {"n_synth": 0 if strategy in ("real", "augment") else 3}
    return dataclasses.replace(TINY, strategy=strategy, **{**sizes, **changes})


def fake_row(config, seed, **_):
    """A finished run's row without training (for the study's bookkeeping)."""
    return {
        "run_id": retrain.run_key(config, seed),
        "status": "ok",
        "strategy": config.strategy,
        "n_real": config.n_real,
        "n_synth": config.n_synth,
        "seed": seed,
        "test_accuracy": 0.5 + seed / 100,
        "n_train_real": 10 * config.n_real if isinstance(config.n_real, int) else 5000,
        "seconds": 0.0,
    }


# ------------------------------------------------------------------------------ study


def test_an_interrupted_study_resumes_with_the_runs_it_lacks(tmp_path, monkeypatch):
    path = tmp_path / "results.jsonl"
    configs = [tiny("real"), tiny("real", n_real=5)]
    calls = []

    def interrupted(config, seed, **kwargs):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append((config.n_real, seed))
        return fake_row(config, seed)

    monkeypatch.setattr(retrain_study, "run_cell", interrupted)
    with pytest.raises(KeyboardInterrupt):
        retrain_study.run_study(configs, [0, 1], path, data="unused", progress=False, verbose=False)
    assert calls == [(3, 0), (5, 0), (3, 1)]  # seed by seed
    assert len(path.read_text().splitlines()) == 3  # each run appended as it finished

    calls.clear()
    results = retrain_study.run_study(configs, [0, 1], path, data="unused", progress=False)
    assert calls == [(5, 1)]
    assert len(results) == 4 and sorted(results["seed"]) == [0, 0, 1, 1]

    calls.clear()
    retrain_study.run_study(configs + configs, [1, 0, 1], path, data="unused", progress=False)
    assert calls == []  # all done; duplicates in the grid are one run


def test_a_study_checks_its_generator_and_reference_before_running(tmp_path, monkeypatch):
    monkeypatch.setattr(retrain_study, "run_cell", None)  # would fail if called
    path = tmp_path / "results.jsonl"
    with pytest.raises(ValueError, match="synthetic="):
        retrain_study.run_study([tiny("real"), tiny("mix")], [0], path, data="unused")
    with pytest.raises(ValueError, match="reference="):
        retrain_study.run_study([tiny("real_then_elite")], [0], path, data="unused",
                                synthetic=print)  # fmt: skip
    assert not path.exists()


def test_a_run_cut_off_while_being_recorded_is_run_again(tmp_path, monkeypatch):
    path = tmp_path / "results.jsonl"
    monkeypatch.setattr(retrain_study, "run_cell", fake_row)
    retrain_study.run_study([tiny("real")], [0, 1], path, data="unused", progress=False)
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n" + lines[1][:20])  # the last append was cut short
    with pytest.warns(RegistryWarning):
        results = retrain_study.run_study(
            [tiny("real")], [0, 1], path, data="unused", progress=False
        )
    assert len(results) == 2


def test_results_have_per_class_counts_for_plots(tmp_path, monkeypatch):
    path = tmp_path / "results.jsonl"
    monkeypatch.setattr(retrain_study, "run_cell", fake_row)
    configs = [tiny("real", n_real="10%"), tiny("mix", n_synth="10%"), tiny("mix", n_synth=7)]
    results = retrain_study.run_study(
        configs, [0], path, data="unused", synthetic=print, progress=False
    )
    assert results["real_per_class"].tolist() == [500.0, 3.0, 3.0]
    assert results["synth_per_class"].tolist() == [0, 600, 7]  # "10%" of 6000 per class
    assert retrain_study.load_results(tmp_path / "none.jsonl").empty


@pytest.fixture(scope="module")
def mnist_small():
    """10 real training and 10 real test images per class."""
    (x_train, y_train), (x_test, y_test) = load_mnist(verbose=False)
    train, test = stratified_indices(y_train, 10, seed=0), stratified_indices(y_test, 10, seed=0)
    return (x_train[train], y_train[train]), (x_test[test], y_test[test])


def test_a_real_study_writes_rows_it_can_read_back(tmp_path, mnist_small, monkeypatch):
    path = tmp_path / "results.jsonl"
    results = retrain_study.run_study([tiny()], [0], path, data=mnist_small, progress=False)
    assert results.loc[0, "run_id"] == retrain.run_key(tiny(), 0)
    loaded = retrain_study.load_results(path)
    assert results.loc[0, "test_accuracy"] == loaded.loc[0, "test_accuracy"]
    monkeypatch.setattr(retrain_study, "run_cell", None)  # would fail if called
    retrain_study.run_study([tiny()], [0], path, data=mnist_small, progress=False)


def test_describe_names_what_differs():
    assert retrain_study.describe(tiny("real")) == "real real=3"
    assert retrain_study.describe(tiny("mix", mix_ratio=0.5)) == "mix real=3 synth=3 ratio=0.5"


# ----------------------------------------------------------------------- the fair GAN


def test_the_fair_generator_sees_exactly_the_runs_real_training_images(tmp_path, monkeypatch):
    from gankit import presets
    from gankit.train import loop as train

    seen = {}

    def spy(config, images, run_dir, *, labels, seed, progress):
        seen.update(images=images, labels=labels, seed=seed, run_dir=run_dir)
        return "result"

    monkeypatch.setattr(train, "train_gan", spy)
    y = np.repeat(np.arange(10), 20).astype(np.uint8)  # 200 images: indices fit in uint8
    x = (np.arange(len(y))[:, None, None] * np.ones((1, 28, 28))).astype(np.uint8)  # pixel = index
    config = presets.get_preset("cgan_fewshot10", quick=False)
    run_dir = tmp_path / "fair"
    result = retrain_study.train_fewshot_generator(
        config, ((x, y), None), n_real=5, seed=3, val_per_class=4, repeats=2, run_dir=run_dir
    )
    assert result == "result" and seen["seed"] == 3 and seen["run_dir"] == run_dir
    split = split_real(y, 5, 4, seed=3)
    indices = np.rint((seen["images"][:, 0, 0, 0] + 1) * 127.5).astype(int)
    assert sorted(indices) == sorted(np.tile(split.train, 2))  # the subset, twice
    assert not set(indices) & set(split.validation)  # never a validation image
    np.testing.assert_array_equal(seen["labels"], y[indices])
    assert json.loads((run_dir / "real_subset.json").read_text())["n_real"] == 5
    with pytest.raises(ValueError, match="another real subset"):
        retrain_study.train_fewshot_generator(
            config, ((x, y), None), n_real=6, seed=3, val_per_class=4, run_dir=run_dir
        )
    with pytest.raises(ValueError, match="n_train"):
        retrain_study.train_fewshot_generator(
            dataclasses.replace(config, train=dataclasses.replace(config.train, n_train=100)),
            ((x, y), None), n_real=5, seed=3,
        )  # fmt: skip


def class_mean_generator(images, labels, latent_dim=4):
    """A conditional (noise, label) -> image model that draws the mean of the training
    images of the class it is asked for: what a CGAN would learn if it kept its classes."""
    import keras

    flat = np.asarray(images).reshape(len(images), -1)
    means = np.stack([flat[np.asarray(labels) == c].mean(axis=0) for c in range(10)])
    noise = keras.Input((latent_dim,), name="noise")
    label = keras.Input((), dtype="int32", name="label")
    table = keras.layers.Embedding(10, flat.shape[1], trainable=False)
    image = keras.layers.Flatten()(table(label[:, None]))
    ignored = keras.layers.Dense(flat.shape[1], kernel_initializer="zeros", use_bias=False)(noise)
    model = keras.Model([noise, label], keras.layers.Reshape((28, 28, 1))(image + ignored))
    table.set_weights([means.astype(np.float32)])
    return model


def test_the_fair_generators_synthetic_set_keeps_the_class_order(tmp_path, monkeypatch):
    """The fair CGAN's path end to end with a stand-in for training: the real subset and
    its labels go into train_gan, the generator it returns is asked for classes by the
    study's pool, and each synthetic image must be the class its label names. A label
    shuffled, shifted or tiled out of step anywhere on the way fails here."""
    from gankit import presets
    from gankit.studies.retrain_sets import SyntheticPool
    from gankit.train import loop as train

    def fake_train(config, images, run_dir, *, labels, seed, progress):
        return dataclasses.make_dataclass("Result", ["generator"])(
            class_mean_generator(images, labels)
        )

    monkeypatch.setattr(train, "train_gan", fake_train)
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 20).astype(np.uint8)
    x = rng.integers(0, 256, (len(y), 28, 28)).astype(np.uint8)
    x[:, 0, :10] = 0
    x[np.arange(len(y)), 0, y] = 255  # each image marks its class in the top row
    config = presets.get_preset("cgan_fewshot10", quick=False)
    result = retrain_study.train_fewshot_generator(
        config, ((x, y), None), n_real=5, seed=3, val_per_class=4, run_dir=tmp_path / "fair"
    )
    images, labels = SyntheticPool(result.generator, n_max=7, batch_size=4).take(7, seed=0)
    assert np.bincount(labels, minlength=10).tolist() == [7] * 10
    marked = images[:, 0, :10, 0].argmax(axis=1)  # the class each image marks
    np.testing.assert_array_equal(marked, labels)
    subset = split_real(y, 5, 4, seed=3).train  # and it is the mean of that class's subset
    expected = [(x[subset][y[subset] == c] / 127.5 - 1).mean(axis=0) for c in labels[:10]]
    np.testing.assert_allclose(images[:10, ..., 0], expected, atol=1e-5)


# ----------------------------------------------------------------------------- tables


def results_frame():
    rows = []
    for n_real in (10, "10%"):
        for strategy, base in (("real", 0.7), ("mix", 0.9)):
            for seed, noise in enumerate((-0.01, 0.0, 0.01)):
                rows.append(
                    {"n_real": n_real, "strategy": strategy, "seed": seed,
                     "n_synth": 0 if strategy == "real" else 100, "source": "cgan",
                     "test_accuracy": base + noise}
                )  # fmt: skip
    rows.append({"n_real": 1, "strategy": "real", "seed": 0, "n_synth": 0, "source": "cgan",
                 "test_accuracy": 0.5})  # fmt: skip
    return pd.DataFrame(rows)


def test_aggregate_gives_mean_std_and_seed_count_per_group():
    stats = retrain_tables.aggregate(results_frame(), ["n_real", "strategy"])
    first = stats.iloc[0]
    assert (first["n_real"], first["strategy"], first["n"]) == (10, "real", 3)
    assert first["mean"] == pytest.approx(0.7) and first["std"] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="nope"):
        retrain_tables.aggregate(results_frame(), ["nope"])


def test_mean_std_table_in_percent_flags_thin_cells_and_marks_missing_ones():
    table = retrain_tables.mean_std_table(results_frame(), "n_real", "strategy")
    assert list(table.columns) == ["n_real", "real", "mix"]
    assert table["n_real"].tolist() == [10, "10%", 1]  # order of first appearance
    assert table.loc[0, "real"] == "70.00 ± 1.00" and table.loc[0, "mix"] == "90.00 ± 1.00"
    assert table.loc[2, "real"] == "50.00 (n=1)"  # one seed: no std, and it says so
    assert table.loc[2, "mix"] == "–"
    single = retrain_tables.mean_std_table(results_frame(), "strategy", digits=1)
    assert single.loc[1].tolist() == ["mix", "90.0 ± 0.9"]  # 6 runs pooled over n_real


def test_mean_std_table_takes_an_order_and_several_index_columns():
    table = retrain_tables.mean_std_table(
        results_frame(), "n_real", "n_synth", rows=[1, 10, 100], heads=[0, 100, 600]
    )
    assert list(table.columns) == ["n_real", "0", "100", "600"]
    assert table["n_real"].tolist() == [1, 10, 100]
    assert table.loc[1].tolist() == [10, "70.00 ± 1.00", "90.00 ± 1.00", "–"]
    assert table.loc[2, "0"] == "–"  # asked for, never run
    multi = retrain_tables.mean_std_table(results_frame(), ["strategy", "source"], "n_real")
    assert list(multi.columns) == ["strategy", "source", "10", "10%", "1"]
    assert multi.loc[1, ["strategy", "source", "10%"]].tolist() == ["mix", "cgan", "90.00 ± 1.00"]
    ordered = retrain_tables.mean_std_table(
        results_frame(), ["strategy", "source"], rows=[("mix", "cgan"), ("real", "cgan")]
    )
    assert ordered["strategy"].tolist() == ["mix", "real"]


def test_select_matches_values_and_lists_of_values_without_mixing_types():
    frame = results_frame()
    assert len(retrain_tables.select(frame, strategy="mix")) == 6
    assert len(retrain_tables.select(frame, strategy=["real", "mix"], n_real=[1, "10%"])) == 7
    assert retrain_tables.select(frame, n_real="10").empty  # "10" is not 10
    frame["mix_ratio"] = [None] * 12 + [0.5]  # pandas stores the Nones as NaN
    assert len(retrain_tables.select(frame, mix_ratio=None)) == 12
    assert len(retrain_tables.select(frame, mix_ratio=[0.5])) == 1
    with pytest.raises(ValueError, match="nope"):
        retrain_tables.select(frame, nope=1)


def test_paired_gain_subtracts_the_real_only_run_of_the_same_seed_and_size():
    frame = results_frame()
    frame.loc[(frame["strategy"] == "mix") & (frame["seed"] == 2), "test_accuracy"] = 0.95
    gains = retrain_tables.paired_gain(frame, pair_on=("n_real", "seed"))
    assert set(gains["strategy"]) == {"mix"} and len(gains) == 6
    assert gains["gain"].tolist() == pytest.approx([0.2, 0.2, 0.24] * 2)
    unpaired = frame[~((frame["strategy"] == "real") & (frame["seed"] == 0))]
    assert len(retrain_tables.paired_gain(unpaired, pair_on=("n_real", "seed"))) == 4
    with pytest.raises(ValueError, match="steps"):
        retrain_tables.paired_gain(frame)  # the default pairs on the step budget too
    with pytest.raises(ValueError, match="share"):
        retrain_tables.paired_gain(pd.concat([frame, frame]), pair_on=("n_real", "seed"))


def study_labels(frame):
    return retrain_tables.readable(frame)["strategy"].tolist()


def test_readable_names_strategies_and_hides_the_source_of_real_only_runs():
    shown = retrain_tables.readable(results_frame(), {"cgan": "CGAN (60k)"})
    assert shown.loc[0, ["strategy", "source"]].tolist() == ["real only", "none"]
    assert shown.loc[3, ["strategy", "source"]].tolist() == ["real + synthetic", "CGAN (60k)"]
    assert results_frame().loc[0, "strategy"] == "real"  # a copy
    ratios = results_frame().assign(mix_ratio=[None] * 11 + [0.5, None])  # the last mix run
    assert study_labels(ratios)[-3:] == [
        "real + synthetic", "real + synthetic (50% real)", "real only"
    ]  # fmt: skip
    assert set(retrain_tables.STRATEGY_LABELS) == set(retrain.STRATEGIES)


def test_steps_table_counts_steps_passes_over_real_and_minutes_per_cell():
    def run(strategy, seed, phases, n_real=100, n_synth=0, mix_ratio=None):
        return {
            "strategy": strategy,
            "seed": seed,
            "n_train_real": n_real,
            "n_train_synth": n_synth,
            "mix_ratio": mix_ratio,
            "train_seconds": 60.0 * seed,
            "classifier": {"batch_size": 10},
            "phases": {n: {"steps_run": s, "best_step": b} for n, (s, b) in phases.items()},
        }

    runs = pd.DataFrame([
        run("real", 1, {"train": (30, 20)}),
        run("real", 3, {"train": (50, 40)}),
        run("mix", 1, {"train": (40, 40)}, n_synth=300),  # a quarter of each batch real
        run("mix", 1, {"train": (40, 40)}, n_synth=300, mix_ratio=0.5),
        run("real_then_elite", 1, {"pretrain": (20, 20), "finetune": (70, 10)}, n_synth=50),
        run("synth", 1, {"train": (30, 30)}, n_real=0, n_synth=300),
    ])  # fmt: skip
    table = retrain_tables.steps_table(runs, ["strategy", "mix_ratio"]).set_index("strategy")
    assert table.loc["real", "steps run"] == 40 and table.loc["real", "minutes"] == 2
    assert table.loc["real", "passes over real"] == pytest.approx(4.0)  # (3 + 5) / 2
    assert table.loc["real", "kept step (last phase)"] == 30
    mixes = table.loc["mix", "passes over real"].tolist()
    assert mixes == pytest.approx([40 * 10 * 0.25 / 100, 40 * 10 * 0.5 / 100])
    assert table.loc["real_then_elite", "passes over real"] == pytest.approx(2.0)
    assert table.loc["real_then_elite", "kept step (last phase)"] == 10
    assert np.isnan(table.loc["synth", "passes over real"])
    with pytest.raises(ValueError, match="phases"):
        retrain_tables.steps_table(runs.drop(columns="phases"), ["strategy"])


def test_coverage_table_averages_over_digits_with_samples_and_keeps_the_worst():
    cov = {
        "effective_images": np.array([1.0, 3.0, np.nan]),
        "images_used": np.array([1, 4, 0]),
        "top_share": np.array([1.0, 0.5, np.nan]),
    }
    table = retrain_tables.coverage_table({"fair": cov})
    cols = retrain_tables.COVERAGE_COLUMNS
    row = table.loc["fair"]
    assert row[cols["effective_images"]] == 2.0 and row[cols["effective_images_min"]] == 1.0
    assert row[cols["images_used"]] == 2.5 and row[cols["top_share"]] == 0.75
    with pytest.raises(ValueError, match="no class has samples"):
        retrain_tables.coverage_table({"empty": {**cov, "effective_images": np.full(3, np.nan)}})
    with pytest.raises(ValueError, match="at least one"):
        retrain_tables.coverage_table({})
