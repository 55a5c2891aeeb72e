"""Lazy public names for the task packages.

A task package lists its public names in a table ``name -> submodule`` and
imports each one on first use, so that building the command line (which reads
only the configs) never loads Lightning, and a missing optional extra is one
line (``pip install 'lstmkit[train]'``) when a name that needs it is first used.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

from lstmkit._extras import require


def lazy_exports(package: str, exports: Mapping[str, str], extra: str | None = "train",
                 free: tuple[str, ...] = ("config",)) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` (PEP 562).

    ``exports``: public name -> submodule of ``package`` (or a full dotted module path);
    names from a submodule in ``free`` never need ``extra``; the others ``require(extra)``.
    A name, once imported, is stored in the package so later lookups are plain attribute reads.
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = exports[name]
        if extra is not None and module not in free:
            require(extra, feature=package)
        value = getattr(importlib.import_module(module if "." in module else f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
