"""Task-agnostic training on Lightning, saved models and truncated BPTT.

- :class:`TrainConfig`: how to train (frozen dataclass).
- :class:`TaskModule`: base class of task models (AdamW + schedule provided).
- :func:`fit` -> :class:`FitResult`: train with progress, validation, early
  stopping, clipping, seeding, precision, atomic checkpoints, resume, DDP.
- :func:`save_model` / :func:`load_model` -> :class:`SavedModel`;
  :class:`ModelLoadError` on any unusable directory.
- :mod:`lstmkit.train.tbptt`: windows over long sequences with the recurrent
  state carried (detached) between them.
"""

from lstmkit.train.config import TrainConfig
from lstmkit.train.engine import FitResult, fit, seed_everything
from lstmkit.train.module import TaskModule, WarmupDecay
from lstmkit.train.tbptt import TBPTTModule, detach_state, split_batch, split_windows
from lstmkit.train.saved import (
    FORMAT_VERSION,
    ModelLoadError,
    SavedModel,
    load_model,
    save_model,
)

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
