"""Classification of multivariate numeric sequences: `SeqClass` and its parts (see `api`).

Public API: `SeqClass`, the configs (`SeqClassConfig`, `SeqClassModelConfig`,
`SeqClassDataConfig`), the readers (`read_sequences`, `Sequences`,
`Preprocessor`), the network (`SeqClassNet`), `classification_metrics`, and
early classification (`early_accuracy`, `plot_early_accuracy`).

Names are imported on first use, so reading the configs (what the command line
needs to build its parsers) does not load torch's trainer.
"""

from __future__ import annotations

import importlib
from typing import Any

from lstmkit._extras import require

_EXPORTS = {
    "SeqClass": "api", "classification_metrics": "api",
    "SeqClassConfig": "config", "SeqClassModelConfig": "config", "SeqClassDataConfig": "config",
    "TRAIN_DEFAULTS": "config",
    "Preprocessor": "data", "Sequences": "data", "read_sequences": "data",
    "SeqClassNet": "model",
    "early_accuracy": "streaming", "plot_early_accuracy": "streaming",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lstmkit.tasks.seqclass' has no attribute {name!r}")
    if _EXPORTS[name] != "config":  # the configs need no extra; the rest needs the trainer
        require("train", feature="lstmkit.tasks.seqclass")
    value = getattr(importlib.import_module(f"lstmkit.tasks.seqclass.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
