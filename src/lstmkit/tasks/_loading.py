"""Turning a saved model's unusable contents into one :class:`~lstmkit.train.ModelLoadError`.

``config.json`` is user-editable input: an emptied ``config`` / ``extras`` section, a
string where a size belongs or a missing label list surface inside a task's ``load``
as ``KeyError``, ``TypeError``, ``IndexError``, ``AttributeError`` or ``ValueError``
from the code that rebuilds the model. :func:`load_errors` converts them at that
boundary (chained, so ``--debug`` still shows where), so the command line prints one
line instead of a traceback, while a ``TypeError`` anywhere else stays a bug.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from lstmkit.train import ModelLoadError

F = TypeVar("F", bound=Callable)

_REBUILD_ERRORS = (KeyError, TypeError, ValueError, IndexError, AttributeError)


def load_errors(task: str) -> Callable[[F], F]:
    """Decorate a ``load(cls, path, ...)`` classmethod body (see the module docstring)."""

    def decorate(load: F) -> F:
        @functools.wraps(load)
        def wrapper(cls, path, *args, **kwargs):
            try:
                return load(cls, path, *args, **kwargs)
            except ModelLoadError:
                raise
            except _REBUILD_ERRORS as err:
                what = f"missing entry {err}" if isinstance(err, KeyError) else f"{type(err).__name__}: {err}"
                raise ModelLoadError(f"'{path}' is not a usable {task} model (config.json: {what})") from err

        return wrapper  # type: ignore[return-value]

    return decorate
