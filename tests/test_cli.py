"""The command line: help, config files and overrides, train/sweep/evaluate/report, figures."""

import json
import subprocess
import sys

import nbformat
import numpy as np
import pytest

import gankit.experiments.run
from gankit.cli import main
from gankit.config import load_config, parse_overrides, to_dict
from gankit.experiments.notebooks import inject_parameters
from gankit.experiments.registry import load_registry
from gankit.presets import get_preset


@pytest.mark.parametrize(
    "command", ["train", "sweep", "evaluate", "report", "figures", "data", "q3"]
)
def test_every_command_explains_itself_with_an_example(command):
    out = subprocess.run(
        [sys.executable, "-m", "gankit", command, "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Example:" in out and f"python -m gankit {command}" in out


# --------------------------------------------------------------------------------------
# Config files and overrides
# --------------------------------------------------------------------------------------
def test_a_run_directory_config_file_loads_back_as_its_config(tmp_path):
    config = get_preset("dcgan_failing", quick=True)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(to_dict(config), indent=2, sort_keys=True))  # as train_gan
    assert load_config(path) == config


def test_overrides_are_typed_by_their_field():
    overrides = parse_overrides(
        [
            "train.g_lr=1e-3",
            "train.batch_size=64",
            "train.n_train=none",
            "generator.norm=none",
            "generator.hidden=[64, 128]",
            "name=fast",
        ]
    )
    assert overrides == {
        "train.g_lr": 1e-3,
        "train.batch_size": 64,
        "train.n_train": None,
        "generator.norm": "none",  # a text field keeps the word
        "generator.hidden": [64, 128],
        "name": "fast",
    }


@pytest.mark.parametrize(
    ("items", "error", "match"),
    [
        (["train.g_lrr=1e-3"], ValueError, r"unknown config key 'train\.g_lrr'\. Did you mean"),
        (["batch_size=64"], ValueError, r"Did you mean train\.batch_size"),
        (["train.epochs=two"], TypeError, r"train\.epochs expects int, got 'two'.*epochs=2"),
        (["train.n_train=lots"], TypeError, r"expects None or int"),
        (["generator.hidden=[1.5]"], TypeError, "list of ints"),
        (["train.g_lr"], ValueError, r"section\.field=value"),
        (["train.g_lr=1", "train.g_lr=2"], ValueError, "given twice"),
    ],
)
def test_bad_overrides_say_what_to_write_instead(items, error, match):
    with pytest.raises(error, match=match):
        parse_overrides(items)


def test_bad_config_file_names_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"train": {"lr": 1}}))
    with pytest.raises(ValueError, match=r"bad\.json: unknown config key 'train\.lr'"):
        load_config(path)


# --------------------------------------------------------------------------------------
# train, sweep, evaluate, report (in-process, with a fake run function)
# --------------------------------------------------------------------------------------
@pytest.fixture
def fake_runs(monkeypatch):
    """Replaces training + evaluation by a stub that fails for batch size 32."""
    calls = []

    def fake_call(self, config, seed, run_dir):
        calls.append((config, seed, self))
        if config.train.batch_size == 32:
            raise RuntimeError("out of memory")
        return {"fid": 10.0 * config.train.g_lr * 1e3 + seed, "inception_score": 3.0}

    monkeypatch.setattr(gankit.experiments.run.TrainAndEvaluate, "__call__", fake_call)
    monkeypatch.setattr(gankit.experiments.run.TrainAndEvaluate, "prepare", lambda self: None)
    return calls


def test_cli_errors_exit_2_with_the_fix(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "dcgan_tuned", "train.g_lrr=1e-3"])
    assert exit_info.value.code == 2
    assert "Did you mean train.g_lr" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "dcgan_tuend"])
    assert "Did you mean dcgan_tuned?" in capsys.readouterr().err


def test_train_prints_the_config_it_would_train_from_a_preset_or_a_file(tmp_path, capsys):
    assert main(["train", "dcgan_tuned", "--quick", "train.epochs=3", "--print-config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["train"]["epochs"] == 3 and printed["train"]["n_train"] == 2048
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(printed))
    assert main(["train", str(path), "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out) == printed


def test_train_records_one_run_and_skips_it_the_second_time(tmp_path, fake_runs, capsys):
    args = ["train", "dcgan_tuned", "--quick", "--root", str(tmp_path), "--seed", "3"]
    assert main([*args, "train.g_lr=1e-3", "--eval-n", "100"]) == 0
    config, seed, run_fn = fake_runs[0]
    assert seed == 3 and config.train.g_lr == 1e-3 and run_fn.quick and run_fn.eval_n == 100
    df = load_registry(tmp_path / "results.jsonl")
    assert list(df["seed"]) == [3] and list(df["fid"]) == [13.0]
    assert main([*args, "train.g_lr=1e-3"]) == 0
    assert len(fake_runs) == 1 and "skipped" in capsys.readouterr().out
    assert main([*args, "train.batch_size=32"]) == 1  # a failed run is a failed command
    assert "RuntimeError: out of memory" in capsys.readouterr().out


def test_sweep_dry_run_lists_one_directory_per_config_and_seed(tmp_path, capsys):
    argv = ["sweep", "dcgan_tuned", "--quick", "--root", str(tmp_path), "--dry-run"]
    grid = ["--grid", "train.g_lr,train.d_lr=1e-4,2e-4,1e-3", "--grid", "train.batch_size=64,128"]
    assert main([*argv, *grid, "--seeds", "0,1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "12 run(s); nothing was run (--dry-run)"
    assert len({line.split()[0] for line in lines[:-1]}) == 12
    assert not list(tmp_path.iterdir())


def test_sweep_runs_a_list_records_failures_and_exits_1(tmp_path, fake_runs, capsys):
    runs = json.dumps({"small batch": {"train.batch_size": 32}, "lr 1e-3": {"train.g_lr": 1e-3}})
    argv = ["sweep", "dcgan_tuned", "--quick", "--root", str(tmp_path), "--runs", runs]
    assert main([*argv, "--seeds", "0,1", "train.epochs=2"]) == 1
    out = capsys.readouterr().out
    assert "done in" in out and "2 ok, 2 failed" in out
    df = load_registry(tmp_path / "results.jsonl")
    assert sorted(df["label"].unique()) == ["lr 1e-3", "small batch"]
    assert set(df["train.epochs"]) == {2}


def test_sweep_needs_exactly_one_of_grid_and_runs(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "dcgan_tuned", "--seeds", "0"])
    assert "either --grid" in capsys.readouterr().err


def test_evaluate_prints_and_writes_the_metrics(tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_evaluate_run_dir(run_dir, *, seed, n, quick):
        seen.update(run_dir=run_dir, seed=seed, n=n, quick=quick)
        return {"generated": {"fid": 12.5}, "real test": {"fid": 1.5}}

    monkeypatch.setattr(gankit.experiments.run, "evaluate_run_dir", fake_evaluate_run_dir)
    monkeypatch.delenv("GANKIT_QUICK", raising=False)  # `make test` sets it; full is the default
    assert main(["evaluate", str(tmp_path), "--seed", "4", "--n", "500"]) == 0
    assert seen == {"run_dir": str(tmp_path), "seed": 4, "n": 500, "quick": False}
    assert "| generated |" in capsys.readouterr().out


def test_report_turns_the_registry_into_tables_and_plots(tmp_path, fake_runs, capsys):
    grid = ["--grid", "train.g_lr=1e-4,1e-3", "--seeds", "0,1"]
    main(["sweep", "dcgan_tuned", "--quick", "--root", str(tmp_path), *grid])
    capsys.readouterr()
    assert main(["report", "--root", str(tmp_path), "--metrics", "fid"]) == 0
    out = capsys.readouterr().out
    assert "| train.g_lr |" in out and "0.0001" in out and "±" in out
    for name in ("sweep.md", "sweep.tex", "sweep.csv", "sweep_runs.md", "sweep_fid.png"):
        assert (tmp_path / "report" / name).exists()
    with pytest.raises(SystemExit):
        main(["report", "--root", str(tmp_path / "empty")])
    assert "no registry" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# figures: papermill-style parameters
# --------------------------------------------------------------------------------------
def _notebook(tag_parameters=True):
    params = nbformat.v4.new_code_cell("SEED = 0\nN = 10")
    if tag_parameters:
        params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# t"), params, nbformat.v4.new_code_cell("SEED")]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def test_parameters_are_injected_after_the_parameters_cell_and_replaced_next_time():
    nb = inject_parameters(_notebook(), {"SEED": 7, "NAME": "x"})
    assert nb.cells[2].source.endswith("SEED = 7\nNAME = 'x'\n")
    assert nb.cells[2].metadata["tags"] == ["injected-parameters"]
    nb = inject_parameters(nb, {"SEED": 8})
    assert len(nb.cells) == 4 and nb.cells[2].source.endswith("SEED = 8\n")
    assert len(inject_parameters(nb, None).cells) == 3  # back to the notebook's defaults
    untagged = inject_parameters(_notebook(tag_parameters=False), {"N": 5})
    assert untagged.cells[2].source.endswith("N = 5\n")  # after the cell that assigns N
    with pytest.raises(ValueError, match="tag the notebook's parameters cell"):
        inject_parameters(_notebook(tag_parameters=False), {"OTHER": 1})


def test_figures_runs_a_notebook_with_a_parameter(tmp_path):
    path = tmp_path / "01_nb.ipynb"
    nbformat.write(_notebook(), path)
    assert main(["figures", str(path), "--quick", "-p", "SEED", "7"]) == 0
    done = nbformat.read(path, as_version=4)
    assert done.cells[-1].outputs[0]["data"]["text/plain"] == "7"


def test_figures_records_each_notebooks_minutes_in_results_json(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_FIGURES_DIR", str(tmp_path / "figs"))
    path = tmp_path / "02_nb.ipynb"
    nbformat.write(_notebook(), path)
    assert main(["figures", str(path), "--quick"]) == 0
    record = json.loads((tmp_path / "figs" / "results.json").read_text())["executions"]["02_nb"]
    assert record["mode"] == "quick" and 0 < record["minutes"] < 5
    assert set(record) == {
        "mode",
        "minutes",
        "finished_utc",
        "load_average_before",
        "load_average_after",
    }


def test_q3_runs_its_part_of_the_plan_and_resumes_from_the_results_file(
    tmp_path, monkeypatch, capsys
):
    import types

    import gankit.evaluate.classifier
    import gankit.experiments.preset_runs

    monkeypatch.setenv("GANKIT_RUNS_DIR", str(tmp_path / "runs"))
    trained = []

    def stub_cgan(config, images, labels, *, seed, **kwargs):  # the default CGAN, drawn fast
        trained.append((config.name, seed, len(images)))
        digits = (np.arange(10)[:, None, None] - 4.5) / 5  # a grey level per class
        source = lambda labels, seed: np.broadcast_to(  # noqa: E731
            digits[labels], (len(labels), 28, 28)).astype(np.float32)  # fmt: skip
        return types.SimpleNamespace(run_dir=tmp_path / f"cgan-stub-s{seed}", generator=source)

    monkeypatch.setattr(gankit.experiments.preset_runs, "train_preset", stub_cgan)
    monkeypatch.setattr(gankit.evaluate.classifier, "load_or_train_classifier", lambda c: None)
    results = tmp_path / "q3.jsonl"
    argv = ["q3", "--quick", "--parts", "grid", "--seeds", "0", "--results", str(results),
            "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert [(r["strategy"], r["n_real"], r["n_synth"]) for r in rows] == [
        ("real", "10%", 0), ("mix", "10%", "10%")
    ]  # fmt: skip
    assert rows[1]["source"] == "cgan-stub-s0"  # the default CGAN's run directory
    assert trained == [("cgan", 0, 60000)]
    capsys.readouterr()
    assert main(argv) == 0  # nothing left to run
    assert "2 of 2 runs already" in capsys.readouterr().out
    assert len(results.read_text().splitlines()) == 2
    with pytest.raises(SystemExit):
        main(["q3", "--parts", "table_z"])
    # the ensemble part trains the other CGANs of the ensemble and names its source by all
    trained.clear()
    argv[argv.index("grid")] = "ensemble"
    assert main(argv) == 0
    assert trained == [("cgan", s, 60000) for s in (0, 1, 2)]
    rows = [json.loads(line) for line in results.read_text().splitlines()][2:]
    ensemble = "cgan-stub-s0+cgan-stub-s1+cgan-stub-s2"
    assert [(r["strategy"], r["n_real"], r["source"]) for r in rows] == [
        ("synth", 0, ensemble), ("augment_synth", 0, ensemble),
        ("augment_mix", 10, ensemble), ("augment_mix", 10, "cgan-stub-s0"),
    ]  # fmt: skip
