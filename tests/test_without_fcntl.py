"""gankit without ``fcntl`` (as on Windows): the lock, registry and sweep-lock tests rerun in
a Python where ``import fcntl`` fails, in every process they start."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import gankit

PACKAGE = Path(gankit.__file__).parent
TESTS = Path(__file__).parent


def test_no_gankit_module_imports_fcntl():
    importers = [
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
        and "fcntl" in {getattr(node, "module", None), *(a.name for a in node.names)}
    ]
    assert importers == []


def _without_fcntl(tmp_path: Path) -> dict[str, str]:
    """An environment whose Pythons (this test's children and theirs) cannot import fcntl:
    a sitecustomize on PYTHONPATH, ahead of gankit's own folder."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['fcntl'] = None\n")
    path = [str(site), str(PACKAGE.parent), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


def test_locks_registry_and_sweep_locks_work_without_fcntl(tmp_path):
    env = _without_fcntl(tmp_path)
    probe = "import filelock, gankit.experiments.sweep\nimport fcntl"
    blocked = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert "ModuleNotFoundError: import of fcntl halted" in blocked.stderr, blocked.stderr
    tests = [
        str(TESTS / "test_run_lock.py"),
        str(TESTS / "test_registry.py"),
        str(TESTS / "test_io.py"),
        str(TESTS / "test_sweep.py") + "::test_a_run_locked_by_another_sweep_is_left_alone",
        str(TESTS / "test_sweep.py") + "::test_sweep_resumes_after_the_process_is_killed_mid_run",
        str(TESTS / "test_sweep.py") + "::test_parallel_sweep_runs_in_loky_worker_processes",
    ]
    args = ["-q", "-p", "no:cacheprovider", "-p", "no:nbval"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args, *tests],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "failed" not in summary and "skipped" not in summary and " passed" in summary
