"""Imports point one way (docs/architecture.md, "Layers"): an AST walk over src/.

Every module gets the rank of its layer; a module may import its own layer and
the layers below it, never a layer above. Imports inside functions count too: a
lazy import still makes the lower layer depend on the upper one.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# (module prefix, rank): the longest matching prefix wins. Low ranks are the bottom.
LAYERS: tuple[tuple[str, int], ...] = (
    ("lstmkit.checks", 0), ("lstmkit._extras", 0), ("lstmkit.io", 0), ("lstmkit.init", 0),
    ("lstmkit.kernels.spec", 1),
    ("lstmkit.cells", 2),
    ("lstmkit.kernels", 3),
    ("lstmkit.layers", 4), ("lstmkit", 4),  # the package itself re-exports cells and layers
    ("lstmkit.inspect", 5),
    ("lstmkit.text", 6), ("lstmkit.data", 6),
    ("lstmkit.train", 7),
    ("lstmkit.tasks", 8), ("lstmkit.exporter.tasks", 8),  # exporter: layers; its per-task programs: tasks
    # the interactive view runs any task's model: it sits with the tasks (lstmkit.inspect reaches it by name)
    ("lstmkit.inspect.viewer", 8), ("lstmkit.inspect.adapters", 8), ("lstmkit.inspect.payload", 8),
    ("lstmkit.commands", 9), ("lstmkit.cli", 9), ("lstmkit.testing", 9), ("lstmkit.benchmark", 9),
)
NAMES = {0: "base", 1: "spec", 2: "cells", 3: "kernels", 4: "layers", 5: "inspect", 6: "text/data",
         7: "train", 8: "tasks", 9: "commands/cli"}

# Known edges against the layering, each to be removed by the change named beside it (none now).
EXPECTED: set[tuple[str, str]] = set()


def rank(module: str) -> int:
    best = max((p for p, _ in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return dict(LAYERS)[best]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in (SRC / "lstmkit").rglob("*.py")}


def imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The lstmkit modules ``module`` imports (``from pkg import mod`` resolves to pkg.mod)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            subs = {f"{target}.{a.name}" for a in node.names} & known.keys()
            found |= subs or {target}
    return {name for name in found if name == "lstmkit" or name.startswith("lstmkit.")}


def violations() -> set[tuple[str, str]]:
    known = _modules()
    bad = set()
    for module, path in known.items():
        for target in imports(module, path, known):
            if rank(target) > rank(module):
                bad.add((module, target))
    return bad


def test_imports_point_down():
    bad = violations() - EXPECTED
    assert not bad, "\n".join(f"{a} ({NAMES[rank(a)]}) imports {b} ({NAMES[rank(b)]})" for a, b in sorted(bad))


def test_expected_exceptions_still_exist():
    """An exception that no longer happens must be deleted from EXPECTED."""
    assert EXPECTED <= violations(), sorted(EXPECTED - violations())


def test_the_walk_sees_an_upward_import(tmp_path):
    """The checker itself: a kernel module importing the top-level package is caught."""
    path = tmp_path / "bench.py"
    path.write_text("def f():\n    import lstmkit\n    from lstmkit.tasks.tag import conll\n")
    found = imports("lstmkit.kernels.cpu.bench", path, {"lstmkit.tasks.tag.conll": path})
    assert found == {"lstmkit", "lstmkit.tasks.tag.conll"}
    assert all(rank(t) > rank("lstmkit.kernels.cpu.bench") for t in found)
