"""The task pipelines, each one class with the same life cycle (see :mod:`lstmkit.tasks.base`).

``lstmkit.tasks.Forecast``, ``lstmkit.tasks.Detect``, ... are imported on
first use (:data:`lstmkit.tasks.base.TASKS` is the registry), so importing
one task does not import the others.
"""

from __future__ import annotations

from typing import Any

from lstmkit.tasks.base import TASKS, task_class

_CLASSES = {path.rpartition(":")[2]: name for name, path in TASKS.items()}


def __getattr__(name: str) -> Any:
    if name not in _CLASSES:
        raise AttributeError(f"module 'lstmkit.tasks' has no attribute {name!r}")
    value = task_class(_CLASSES[name])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_CLASSES))


__all__ = ["TASKS", "task_class", *sorted(_CLASSES)]
