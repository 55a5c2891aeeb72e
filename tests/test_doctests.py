"""The examples in every module's docstrings run and hold.

Every module under ``src/lstmkit`` (found by :func:`pkgutil.walk_packages`)
is imported and handed to :func:`doctest.testmod`; any failed example fails
its module's test. A module that needs an optional extra which is not
installed is skipped with the install line that would enable it; a missing
module that no extra provides is a bug and fails. ``__main__`` modules are
not imported (importing one runs the command line).

Examples that need data, a long training run or a GPU are marked
``# doctest: +SKIP`` in the docstring, so they stay readable but do not run.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import lstmkit
from lstmkit._extras import extra_of, install_hint

# modules whose examples the suite has always run: their docstrings must keep examples
MUST_HAVE_EXAMPLES = (
    "lstmkit.commands._common",
    "lstmkit.layers.recurrent",
    "lstmkit.tasks.configs",
    "lstmkit.tasks.flags",
    "lstmkit.train.module",
    "lstmkit.train.tbptt",
)
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _module_names() -> list[str]:
    names = ["lstmkit"]
    # a package that cannot be imported is listed, its submodules not: its own test says why
    for info in pkgutil.walk_packages(lstmkit.__path__, prefix="lstmkit."):
        if info.name.rsplit(".", 1)[-1] != "__main__":
            names.append(info.name)
    return sorted(names)


MODULES = _module_names()


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        extra = extra_of(err.name or "")
        if extra is None:
            raise
        pytest.skip(f"{name} needs the '{extra}' extra ({err.name} is missing): {install_hint(extra)}")


def test_every_module_is_found():
    assert len(MODULES) > 100
    assert set(MUST_HAVE_EXAMPLES) <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = _import(name)
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False, report=True)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} docstring examples failed"
    if name in MUST_HAVE_EXAMPLES:
        assert result.attempted > 0, f"{name}: its docstring examples are gone"
