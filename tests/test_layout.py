"""The package layout: every module imports on its own, nothing but ``gankit.__main__``
imports the command line, no import cycles between modules, and no module grows past the
size limit."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import gankit

PACKAGE = Path(gankit.__file__).parent
MAX_LINES = 450  # modules are kept to about 400 lines; this is the hard stop


def _modules() -> dict[str, Path]:
    """{dotted module name: file} of every module in the gankit package."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imported(path: Path, modules: dict[str, Path], *, top_level_only: bool) -> set[str]:
    """The gankit modules ``path`` imports (at module level only, if asked)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in modules:  # "gankit.plots.style.save_figure" -> module
                name = name.rpartition(".")[0]
            if name.startswith("gankit"):
                found.add(name)
    return found


def test_only_main_imports_the_command_line():
    modules = _modules()
    importers = sorted(
        name
        for name, path in modules.items()
        if "gankit.cli" in _imported(path, modules, top_level_only=False)
    )
    assert importers == ["gankit.__main__"]


def test_no_import_cycles_between_modules():
    modules = _modules()
    graph = {
        name: _imported(path, modules, top_level_only=True) - {name}
        for name, path in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = [*trail[trail.index(name) :], name]
            raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
        if name in done:
            return
        for other in sorted(graph.get(name, ())):
            visit(other, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_every_module_imports_in_a_fresh_interpreter_without_the_cli():
    # __main__ modules run their command when imported
    names = [n for n in _modules() if n != "gankit.cli" and not n.endswith(".__main__")]
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print('cli imported:', 'gankit.cli' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    ).stdout
    assert out.strip().splitlines()[-1] == "cli imported: False"


def test_no_module_is_over_the_size_limit():
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in _modules().items()
    }
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not too_long, f"split these modules (at most {MAX_LINES} lines): {too_long}"


# The packages in data-flow order (docs/architecture.md): a module may import its own
# package and the ones before it, never one after it (lazy imports inside functions too).
LAYERS = (
    (
        "gankit",
        "device",
        "config",
        "checks",
        "io",
        "processes",
        "paths",
        "runtime",
        "report",
        "results_readme",
        "bench_record",
        "bench_readme",
        "presets",
    ),
    ("data",),
    ("nets",),
    ("evaluate",),
    ("train",),
    ("studies",),
    ("plots",),
    ("experiments",),
    ("cli", "__main__"),
)


def _layer(module: str) -> int:
    part = module.split(".")[1] if "." in module else module
    for index, names in enumerate(LAYERS):
        if part in names:
            return index
    raise AssertionError(f"{module} is in no layer of LAYERS: add its package there")


def test_packages_import_only_earlier_packages():
    modules = _modules()
    upward = sorted(
        f"{name} -> {target}"
        for name, path in modules.items()
        for target in _imported(path, modules, top_level_only=False)
        if _layer(target) > _layer(name)
    )
    assert upward == []
