"""Classification of multivariate numeric sequences: `SeqClass` and its parts (see `api`).

Public API: `SeqClass`, the configs (`SeqClassConfig`, `SeqClassModelConfig`,
`SeqClassDataConfig`), the readers (`read_sequences`, `Sequences`,
`Preprocessor`), the network (`SeqClassNet`), `classification_metrics`, and
early classification (`early_accuracy`, `plot_early_accuracy`).

Names are imported on first use, so reading the configs (what the command line
needs to build its parsers) does not load torch's trainer.
"""

from __future__ import annotations

from lstmkit.tasks._lazy import lazy_exports

_EXPORTS = {
    "SeqClass": "api", "classification_metrics": "api",
    "SeqClassConfig": "config", "SeqClassModelConfig": "config", "SeqClassDataConfig": "config",
    "TRAIN_DEFAULTS": "config",
    "Preprocessor": "data", "Sequences": "data", "read_sequences": "data",
    "SeqClassNet": "model",
    "early_accuracy": "streaming", "plot_early_accuracy": "streaming",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
