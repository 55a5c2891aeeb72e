"""Packaging: every third-party import under src/ is declared, ``all`` holds every
extra, a missing extra is one line naming it, and the typed-package marker ships."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import pytest

from lstmkit import _extras

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _dist(requirement: str) -> str:
    """The normalised distribution name of a requirement string."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> the src files importing it (module level or inside functions)."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "src" / "lstmkit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("lstmkit", "__future__"):
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared():
    core = {_dist(r) for r in PYPROJECT["dependencies"]}
    extras = {name: {_dist(r) for r in reqs} for name, reqs in PYPROJECT["optional-dependencies"].items()}
    declared = core.union(*extras.values())
    missing = {module: sorted(files) for module, files in third_party_imports().items()
               if _dist(_extras.DIST_NAMES.get(module, module)) not in declared}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_the_extras_table_matches_pyproject():
    """lstmkit._extras names the right extra for each of its modules."""
    extras = {name: {_dist(r) for r in reqs} for name, reqs in PYPROJECT["optional-dependencies"].items()}
    for extra, modules in _extras.EXTRAS.items():
        for module in modules:
            assert _dist(_extras.DIST_NAMES.get(module, module)) in extras[extra], (extra, module)


def test_all_includes_every_extra():
    extras = PYPROJECT["optional-dependencies"]
    (spec,) = extras["all"]
    included = set(re.fullmatch(r"lstmkit\[([a-z,]+)\]", spec).group(1).split(","))
    assert included == set(extras) - {"all"}


def test_typed_package_marker_ships():
    assert (ROOT / "src" / "lstmkit" / "py.typed").is_file()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data["lstmkit"]
    assert "Copyright (c) 2026 the lstmkit authors" in (ROOT / "LICENSE").read_text()


def test_a_missing_extra_is_one_line_naming_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "lightning" else real(name, *a))
    with pytest.raises(_extras.MissingExtra) as info:
        _extras.require("train", feature="lstmkit.tasks.classify")
    message = str(info.value)
    assert "\n" not in message and "pip install 'lstmkit[train]'" in message and "lightning" in message


def test_the_command_line_turns_a_missing_extra_into_one_line(monkeypatch, capsys):
    from lstmkit import cli

    def broken_parser():
        raise ModuleNotFoundError("No module named 'lightning'", name="lightning")

    monkeypatch.setattr(cli, "build_parser", broken_parser)
    assert cli.main(["classify", "--help"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("lstmkit: error:") and "lstmkit[train]" in err


def test_an_unrelated_missing_module_keeps_its_traceback(monkeypatch):
    from lstmkit import cli

    def broken_parser():
        raise ModuleNotFoundError("No module named 'not_a_dependency'", name="not_a_dependency")

    monkeypatch.setattr(cli, "build_parser", broken_parser)
    with pytest.raises(ModuleNotFoundError):
        cli.main(["classify", "--help"])
