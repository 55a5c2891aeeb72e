"""``TextClassifier``: the 0.1 interface of the classifier, a thin wrapper over :class:`~.task.Classify`.

    clf = TextClassifier(ClassifierConfig(pooling="attention"), TrainConfig(max_epochs=10))
    clf.fit(train_texts, train_labels, val_texts, val_labels)   # -> FitResult
    clf.predict(["free entry to win a prize"])                  # -> Predictions

New code uses ``Classify`` (fit -> self, predict -> DataFrame, evaluate with
baselines, save/load with config sections); a ``TextClassifier`` trains and
saves exactly what a ``Classify`` does (its ``task``), with no hold-out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lstmkit.tasks._loading import load_errors
from lstmkit.train import FitResult, TrainConfig

from .config import ClassifyConfig
from .frames import Rows
from .model import ClassifierConfig
from .task import Classify, Predictions

__all__ = ["TextClassifier", "Predictions", "TASK_NAME"]

TASK_NAME = "classify"


class TextClassifier:
    """(Bi)LSTM text classifier or regressor with the 0.1 call signatures (see the module docstring)."""

    def __init__(self, config: ClassifierConfig | None = None, train_config: TrainConfig | None = None):
        config = ClassifierConfig() if config is None else config
        if not isinstance(config, ClassifierConfig):
            raise TypeError(f"config: expected a ClassifierConfig, got {type(config).__name__}")
        train = train_config or Classify.default_train(progress=False)
        self.task = Classify(ClassifyConfig.from_network(config, val_fraction=0.0), train)

    @classmethod
    def _wrap(cls, task: Classify) -> TextClassifier:
        clf = cls.__new__(cls)
        clf.task = task
        return clf

    # the attributes of 0.1, read from the task
    @property
    def config(self) -> ClassifierConfig:
        return self.task.config.network()

    @property
    def train_config(self) -> TrainConfig:
        return self.task.train_config

    @property
    def encoder(self) -> Any:
        return self.task.encoder

    @encoder.setter
    def encoder(self, value: Any) -> None:
        self.task.encoder = value

    @property
    def net(self) -> Any:
        return self.task.net

    @net.setter
    def net(self, value: Any) -> None:
        self.task.net = value

    @property
    def train_seconds(self) -> float:
        return self.task.fit_seconds

    @property
    def transfer_report(self) -> Any:
        return self.task.transfer_report

    @property
    def vectors_report(self) -> dict | None:
        return self.task.vectors_report

    def _require(self) -> None:
        if not self.task.is_fitted:
            raise RuntimeError("the classifier is not trained: call fit() or TextClassifier.load() first")

    @staticmethod
    def _rows(texts, labels, name: str) -> Rows:
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(f"{name}: expected a sequence of strings, got {type(texts).__name__}")
        if len(texts) == 0:
            raise ValueError(f"{name}: no texts given")
        if labels is not None and len(labels) != len(texts):
            raise ValueError(f"{name}: {len(texts)} texts but {len(labels)} labels")
        return Rows(list(texts), None if labels is None else list(labels),
                    [f"item {i}" for i in range(len(texts))], name)

    def fit(self, texts: Sequence[str], labels: Sequence, val_texts: Sequence[str] | None = None,
            val_labels: Sequence | None = None, *, encoder: str | Path | None = None,
            freeze_epochs: int = 1, unfreeze_every: int = 1, vectors: str | Path | None = None) -> FitResult:
        """Train on ``texts`` (validating on ``val_texts`` when given); see :class:`Classify`.

        ``encoder`` (a ``generate fit`` directory), ``freeze_epochs``, ``unfreeze_every``
        and ``vectors`` are the model section's fields of the same names.
        """
        from dataclasses import replace

        if vectors is not None and encoder is not None:
            raise ValueError("give vectors or encoder, not both: both initialise the token embedding")
        task = self.task
        model = replace(task.config.model, vectors=None if vectors is None else os.fspath(vectors),
                        encoder=None if encoder is None else os.fspath(encoder),
                        freeze_epochs=freeze_epochs, unfreeze_every=unfreeze_every)
        task.config = replace(task.config, model=model)
        rows = self._rows(texts, labels, "texts")
        val = None if val_texts is None else self._rows(val_texts, val_labels, "val_texts")
        task._hooks = ([], None)
        task.fit_results = []
        import time

        started = time.perf_counter()
        task.fit_rows(rows, val)
        task.fit_seconds = time.perf_counter() - started
        return task.fit_results[-1]

    def predict(self, texts: Sequence[str], batch_size: int = 256) -> Predictions:
        """Labels with class probabilities (or scores), tokens and attention weights."""
        self._require()
        rows = self._rows(texts, None, "texts")
        return self.task.predict_texts(rows.texts, batch_size)

    def evaluate(self, texts: Sequence[str], labels: Sequence, positive: str | None = None) -> dict:
        """Accuracy, macro-F1 and confusion matrix (classes) or RMSE and Pearson r (regression)."""
        import time

        self._require()
        rows = self._rows(texts, labels, "texts")
        if self.task.encoder.labels is not None:
            for i, lab in enumerate(rows.labels):
                self.task.encoder.target(lab, where=f"item {i}: ")
        start = time.perf_counter()
        report = self.task._report(rows, positive)
        report["texts_per_s"] = len(rows) / max(time.perf_counter() - start, 1e-9)
        return report

    def save(self, path: str | os.PathLike) -> Path:
        """Write a saved-model directory (the :class:`Classify` layout), atomically."""
        self._require()
        return self.task.save(path)

    @classmethod
    @load_errors("classify")
    def load(cls, path: str | os.PathLike) -> TextClassifier:
        """Load a directory written by :meth:`save` or by ``Classify.save`` (0.1 layouts too)."""
        return cls._wrap(Classify.load(path))
