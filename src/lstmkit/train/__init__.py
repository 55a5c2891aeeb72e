"""Task-agnostic training on Lightning, saved models and truncated BPTT.

- :class:`TrainConfig`: how to train (frozen dataclass).
- :class:`TaskModule`: base class of task models (AdamW + schedule provided).
- :func:`fit` -> :class:`FitResult`: train with progress, validation, early
  stopping, clipping, seeding, precision, atomic checkpoints, resume, DDP.
- :func:`save_model` / :func:`load_model` -> :class:`SavedModel`;
  :class:`ModelLoadError` on any unusable directory.
- :class:`TBPTTModule`, :func:`split_windows`, :func:`split_batch`,
  :func:`detach_state` (:mod:`lstmkit.train.tbptt`): windows over long
  sequences with the recurrent state carried (detached) between them.

Names are imported on first use, so ``import lstmkit.train.config`` (what the
command line needs to build its parsers) does not load Lightning.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the eager imports, for type checkers and editors
    from lstmkit.train.config import TrainConfig
    from lstmkit.train.engine import FitResult, fit, seed_everything
    from lstmkit.train.module import TaskModule, WarmupDecay
    from lstmkit.train.saved import (
        FORMAT_VERSION,
        ModelLoadError,
        SavedModel,
        load_model,
        save_model,
    )
    from lstmkit.train.tbptt import TBPTTModule, detach_state, split_batch, split_windows

_EXPORTS = {
    "TrainConfig": "config",
    "FitResult": "engine",
    "fit": "engine",
    "seed_everything": "engine",
    "TaskModule": "module",
    "WarmupDecay": "module",
    "TBPTTModule": "tbptt",
    "detach_state": "tbptt",
    "split_batch": "tbptt",
    "split_windows": "tbptt",
    "FORMAT_VERSION": "saved",
    "ModelLoadError": "saved",
    "SavedModel": "saved",
    "load_model": "saved",
    "save_model": "saved",
}

__all__ = [
    "FORMAT_VERSION",
    "FitResult",
    "ModelLoadError",
    "SavedModel",
    "TBPTTModule",
    "TaskModule",
    "TrainConfig",
    "WarmupDecay",
    "detach_state",
    "fit",
    "load_model",
    "save_model",
    "seed_everything",
    "split_batch",
    "split_windows",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lstmkit.train' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lstmkit.train.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
