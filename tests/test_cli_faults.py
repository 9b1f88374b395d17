"""Bad input and faults on the command line: each ends in one line and its exit code
(docs/experiments.md), before any run directory, registry row or training where it can.

The run function is a stub (no data, no TensorFlow). Tests run as root, where chmod
cannot make a folder read-only: permission and disk faults are simulated by making the
functions that write raise the OSError the system would (PermissionError, EROFS, ENOSPC).
"""

import errno
import json
import types

import pytest

import gankit.experiments.faults
import gankit.experiments.run
import gankit.experiments.sweep
from gankit.cli import main
from gankit.data.mnist import MnistUnavailableError
from gankit.experiments.registry import read_rows
from gankit.experiments.sweep import run_status

CONFIG_FILES = {
    "epochs_bool.json": '{"train": {"epochs": true}}',
    "n_train_text.json": '{"train": {"n_train": "abc"}}',
    "hidden_mixed.json": '{"generator": {"hidden": [1.5, "a"]}}',
    "monitor_int.json": '{"train": {"early_stopping_monitor": 5}}',
    "epochs_zero.json": '{"train": {"epochs": 0}}',
    "lr_nan.json": '{"train": {"d_lr": NaN}}',
    "damaged.json": '{"train": {"epochs": 2',
    "a_list.json": "[1, 2]",
    "unknown_section.json": '{"trian": {}}',
    "not_a_dict.json": '{"train": 5}',
    "not_text.json": b"\xff\xfe\x00",
}
GRID = ["--grid", "train.g_lr=1e-3"]

# (argv after the command's base arguments, what the one-line message must contain)
BAD_INPUTS = [
    (["train", "dcgan_tuned", "--eval-n", "-5"], "--eval-n: expects an int >= 1"),
    (["train", "dcgan_tuned", "--eval-n", "0"], "--eval-n: expects an int >= 1"),
    (["train", "dcgan_tuned", "--eval-n", "many"], "--eval-n: expects an int"),
    (["train", "dcgan_tuned", "--seed", "-1"], "--seed: expects an int >= 0"),
    (["train", "dcgan_tuned", "--seed", "1.5"], "--seed: expects an int >= 0"),
    (["train", "dcgan_tuned", "train.epochs=0"], "epochs must be >= 1"),
    (["train", "dcgan_tuned", "train.epochs=-3"], "epochs must be >= 1"),
    (["train", "dcgan_tuned", "train.batch_size=0"], "batch_size must be >= 2"),
    (["train", "dcgan_tuned", "train.batch_size=1"], "batch_size must be >= 2"),
    (["train", "dcgan_tuned", "generator.latent_dim=0"], "latent_dim must be >= 1"),
    (["train", "dcgan_tuned", "train.g_lr=-1e-3"], "learning rates must be > 0"),
    (["train", "dcgan_tuned", "train.loss=foo"], "loss must be one of"),
    (["train", "dcgan_tuned", "train.d_lr=NaN"], "train.d_lr must be a finite number"),
    (["train", "dcgan_tuned", "train.d_lr=Infinity"], "train.d_lr must be a finite number"),
    (["train", "dcgan_tuned", "train.epochs=true"], "train.epochs expects int"),
    (["train", "dcgan_tuned", "train.n_train=abc"], "train.n_train expects None or int"),
    (["train", "dcgan_tuned", 'generator.hidden=[1.5,"a"]'], "list of ints"),
    (["train", "dcgan_tuned", "train.g_lrr=1e-3"], "Did you mean train.g_lr"),
    (["train", "dcgan_tuned", "train.g_lr"], "section.field=value"),
    (["train", "dcgan_tuned", "name="], "name must be a non-empty string"),
    (["train", "dcgan_tuend"], "Did you mean dcgan_tuned?"),
    (["train", "dcgan_tuned", "--no-such-option"], "unrecognized arguments"),
    (["train", "missing.json"], "No such file"),
    (["train", "{tmp}"], "is a folder"),
    *(
        (["train", f"{{tmp}}/{name}"], name)  # the message names the file...
        for name in CONFIG_FILES
    ),
    (["sweep", "dcgan_tuned", "--runs", "[1,2]"], "must be a dict of overrides"),
    (["sweep", "dcgan_tuned", "--runs", '"abc"'], "runs must be a list of override dicts"),
    (["sweep", "dcgan_tuned", "--runs", "{}"], "the sweep has no runs"),
    (["sweep", "dcgan_tuned", "--runs", "{bad"], "a JSON file nor inline JSON"),
    (["sweep", "dcgan_tuned", "--runs", '{"a": {"train.lr": 1}}'], "unknown config key"),
    (["sweep", "dcgan_tuned", "--grid", "foo=1"], "unknown config key 'foo'"),
    (["sweep", "dcgan_tuned", "--grid", "train.g_lr="], "must look like key=v1,v2"),
    (["sweep", "dcgan_tuned", "--grid", "train.epochs=0,1"], "epochs must be >= 1"),
    (["sweep", "dcgan_tuned", "--grid", "train.epochs=1,x"], "train.epochs expects int"),
    (["sweep", "dcgan_tuned", *GRID, "--jobs", "0"], "--jobs: expects an int >= 1 or -1"),
    (["sweep", "dcgan_tuned", *GRID, "--jobs", "-2"], "--jobs: expects an int >= 1 or -1"),
    (["sweep", "dcgan_tuned", *GRID, "--threads-per-run", "0"], "expects an int >= 1"),
    (["sweep", "dcgan_tuned", *GRID, "--seeds", "-1"], "seeds must be ints >= 0"),
    (["sweep", "dcgan_tuned", *GRID, "--seeds", "a"], "seeds must be ints"),
    (["sweep", "dcgan_tuned", *GRID, "--seeds", "0,0"], "seeds repeat"),
    (["sweep", "dcgan_tuned", *GRID, "--eval-n", "-5"], "--eval-n: expects an int >= 1"),
    (["sweep", "dcgan_tuned", *GRID, "--backend", "mpi"], "invalid choice"),
    (["sweep", "dcgan_tuned", *GRID, "--gpus", "0,,1"], "--gpus: gpus must be a comma-sep"),
    (["sweep", "dcgan_tuned", *GRID, "--gpus", "cuda:0"], "'cuda:0' is not a GPU index"),
    (["sweep", "dcgan_tuned", *GRID, "--gpus", "0", "--backend", "dask"], "LocalCUDACluster"),
    (["sweep", "dcgan_tuned", *GRID, "--gpus", "0"], "n_jobs >= 2"),
    (["sweep", "dcgan_tuned", *GRID, "--runs", "[{}]"], "either --grid"),
    (["sweep", "dcgan_tuned"], "either --grid"),
    (["evaluate", "{tmp}/no-run", "--n", "0"], "--n: expects an int >= 1"),
    (["evaluate", "{tmp}/no-run", "--n", "-5"], "--n: expects an int >= 1"),
    (["evaluate", "{tmp}/no-run", "--seed", "-1"], "--seed: expects an int >= 0"),
    (["evaluate", "{tmp}/no-run"], "does not exist"),
    (["report", "--root", "{tmp}/no-runs"], "no registry"),
    (["no-such-command"], "invalid choice"),
    (["figures", "{tmp}/missing.ipynb", "--quick"], "notebook"),
    (["figures", "--quick", "-p", "SEED"], "expected 2 arguments"),
]


@pytest.fixture
def stub_runs(monkeypatch):
    """Replaces training + evaluation by a stub; ``calls`` lists the runs it was asked for;
    ``raises`` (set by a test) is raised instead of returning metrics."""

    Stub = types.SimpleNamespace(calls=[], raises=None)

    def fake_call(self, config, seed, run_dir):
        Stub.calls.append(run_dir.name)
        (run_dir / "checkpoint.txt").write_text("epoch 1")  # a started run
        if Stub.raises is not None:
            raise Stub.raises
        return {"fid": 1.0}

    monkeypatch.setattr(gankit.experiments.run.TrainAndEvaluate, "__call__", fake_call)
    monkeypatch.setattr(gankit.experiments.run.TrainAndEvaluate, "prepare", lambda self: None)
    return Stub


def _fails(argv, capsys) -> tuple[int, str]:
    """The exit code and the stderr of ``main(argv)``, which must exit with an error."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    return info.value.code, err


def _one_error_line(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    prefix = f"gankit {command}: error: " if command else "gankit: error: "
    assert lines[0].startswith(prefix), err
    return lines[0]


@pytest.mark.parametrize(("argv", "match"), BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_exits_2_with_one_line_and_touches_nothing(
    argv, match, tmp_path, stub_runs, capsys
):
    for name, text in CONFIG_FILES.items():
        path = tmp_path / name
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    root = tmp_path / "runs"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    options = ["--root", str(root)] if argv[0] in ("train", "sweep") else []
    code, err = _fails([*argv, *options], capsys)
    command = argv[0] if argv[0] in ("train", "sweep", "evaluate", "report", "figures") else ""
    line = _one_error_line(err, command)
    assert code == 2 and match in line
    assert not root.exists() and stub_runs.calls == []


# --------------------------------------------------------------------------------------
# Faults of the machine
# --------------------------------------------------------------------------------------
def _train(tmp_path, *extra):
    return ["train", "dcgan_tuned", "--quick", "--root", str(tmp_path / "runs"), *extra]


def _raise(error):
    def fail(*args, **kwargs):
        raise error

    return fail


@pytest.mark.parametrize(
    ("setup", "extra", "match"),
    [
        ("root_is_file", [], "the run folder (--root) is a file"),
        ("root_under_file", [], "Not a directory"),
        ("registry_is_folder", ["--registry", "{tmp}/reg"], "the registry is a folder"),
        ("registry_under_file", ["--registry", "{tmp}/file/r.jsonl"], "registry is a file"),
        ("read_only_root", [], "Read-only file system"),
        ("permission_denied", [], "Permission denied"),
    ],
)
def test_unwritable_places_exit_3_before_training(
    setup, extra, match, tmp_path, stub_runs, capsys, monkeypatch
):
    (tmp_path / "file").write_text("")
    (tmp_path / "reg").mkdir()
    root = {"root_is_file": "file", "root_under_file": "file/runs"}.get(setup, "runs")
    if setup in ("read_only_root", "permission_denied"):
        code = errno.EROFS if setup == "read_only_root" else errno.EACCES
        error = OSError(code, "Read-only file system" if code == errno.EROFS else "")
        if code == errno.EACCES:
            error = PermissionError(errno.EACCES, "Permission denied", str(tmp_path))
        monkeypatch.setattr(gankit.experiments.faults.tempfile, "mkstemp", _raise(error))
    extra = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    argv = ["train", "dcgan_tuned", "--quick", "--root", str(tmp_path / root), *extra]
    code, err = _fails(argv, capsys)
    line = _one_error_line(err, "train")
    assert code == 3 and match in line and "choose a writable place" in line
    assert stub_runs.calls == []


def test_a_full_disk_stops_the_sweep_records_why_and_the_run_resumes(
    tmp_path, stub_runs, capsys, monkeypatch
):
    registry = tmp_path / "runs" / "results.jsonl"
    stub_runs.raises = OSError(errno.ENOSPC, "No space left on device", "ckpt.weights.h5")
    # The disk is full for run.json and error.txt too; the registry row still says why.
    monkeypatch.setattr(
        gankit.experiments.sweep, "atomic_write", _raise(OSError(errno.ENOSPC, "full"))
    )
    argv = ["sweep", "dcgan_tuned", "--quick", "--root", str(tmp_path / "runs")]
    code, err = _fails([*argv, "--grid", "train.g_lr=1e-3,2e-3"], capsys)
    line = _one_error_line(err, "sweep")
    assert code == 4 and "disk full" in line and "rerun the same command to resume" in line
    assert len(stub_runs.calls) == 1  # the second run was not started on a full disk
    [row] = read_rows(registry)
    assert row["status"] == "failed" and "No space left on device" in row["error"]
    run_dir = tmp_path / "runs" / stub_runs.calls[0]
    assert run_status(run_dir) == "incomplete"  # no run.json: it resumes

    monkeypatch.undo()  # space again: the rerun finishes both runs
    stub_runs.raises = None
    monkeypatch.setattr(gankit.experiments.run.TrainAndEvaluate, "prepare", lambda self: None)
    monkeypatch.setattr(
        gankit.experiments.run.TrainAndEvaluate,
        "__call__",
        lambda self, config, seed, run_dir: {"fid": 1.0},
    )
    assert main([*argv, "--grid", "train.g_lr=1e-3,2e-3"]) == 0
    assert [r["status"] for r in read_rows(registry)] == ["failed", "ok", "ok"]


def test_a_full_disk_reported_by_a_library_is_found_in_its_text(tmp_path, stub_runs, capsys):
    # As TensorFlow reports a checkpoint write on a full disk (ResourceExhaustedError).
    stub_runs.raises = RuntimeError(
        "{{function_node __wrapped__SaveV2_dtypes_47_device_/job:localhost/replica:0/task:0"
        "/device:CPU:0}} ckpt-2_temp/part-00000; No space left on device [Op:SaveV2]"
    )
    code, err = _fails(_train(tmp_path), capsys)
    line = _one_error_line(err, "train")
    assert code == 4 and "disk full (" in line and "function_node" not in line
    [row] = read_rows(tmp_path / "runs" / "results.jsonl")
    assert row["status"] == "failed" and "No space left on device" in row["error"]


def test_train_and_evaluate_checks_its_options_before_any_run():
    for options in ({"eval_n": -5}, {"eval_n": 0}, {"threads": 0}, {"eval_n": True}):
        with pytest.raises(ValueError, match="must be None or an int >= 1"):
            gankit.experiments.run.TrainAndEvaluate(**options)


def test_evaluate_on_a_read_only_run_dir_exits_3_before_evaluating(tmp_path, capsys, monkeypatch):
    error = OSError(errno.EROFS, "Read-only file system", str(tmp_path))
    monkeypatch.setattr(gankit.experiments.faults.tempfile, "mkstemp", _raise(error))
    code, err = _fails(["evaluate", str(tmp_path)], capsys)
    assert code == 3 and "Read-only file system" in _one_error_line(err, "evaluate")


def test_mnist_unavailable_exits_5_with_one_line(tmp_path, stub_runs, capsys, monkeypatch):
    why = "MNIST is not available: every source failed.\nTried, in order:\n  - npm: offline"
    monkeypatch.setattr(
        gankit.experiments.run.TrainAndEvaluate, "prepare", _raise(MnistUnavailableError(why))
    )
    code, err = _fails(_train(tmp_path), capsys)
    line = _one_error_line(err, "train")
    assert code == 5 and "python -m gankit data" in line and stub_runs.calls == []


def test_ctrl_c_exits_130_and_the_run_resumes(tmp_path, stub_runs, capsys):
    stub_runs.raises = KeyboardInterrupt()
    code, err = _fails(_train(tmp_path), capsys)
    line = _one_error_line(err, "train")
    assert code == 130 and line.endswith("interrupted; rerun the same command to resume")
    run_dir = tmp_path / "runs" / stub_runs.calls[0]
    assert run_status(run_dir) == "incomplete" and not (run_dir / ".lock").exists()
    assert read_rows(tmp_path / "runs" / "results.jsonl") == []
    stub_runs.raises = None
    assert main(_train(tmp_path)) == 0
    assert [r["status"] for r in read_rows(tmp_path / "runs" / "results.jsonl")] == ["ok"]


@pytest.mark.parametrize("how", ["--debug", "GANKIT_DEBUG"])
def test_debug_adds_the_traceback(how, tmp_path, stub_runs, capsys, monkeypatch):
    stub_runs.raises = KeyboardInterrupt()
    argv = _train(tmp_path)
    if how == "--debug":
        argv.append("--debug")
    else:
        monkeypatch.setenv("GANKIT_DEBUG", "1")
    code, err = _fails(argv, capsys)
    assert code == 130 and "Traceback (most recent call last)" in err
    assert err.strip().splitlines()[-1].startswith("gankit train: error: interrupted")


def test_a_config_file_error_names_the_file_and_the_field(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"train": {"epochs": 2, "batch_size": "64"}}))
    code, err = _fails(["train", str(path), "--print-config"], capsys)
    line = _one_error_line(err, "train")
    assert code == 2 and str(path) in line and "train.batch_size expects int" in line
    path.write_text('{"train": {"epochs": 2,\n  "batch_size": }}')
    code, err = _fails(["train", str(path), "--print-config"], capsys)
    line = _one_error_line(err, "train")
    assert code == 2 and f"{path} is not valid JSON" in line and "line 2 column" in line
