"""The classification task's Python API: :class:`TextClassifier` (fit / predict / evaluate / save / load).

Example:
    >>> clf = TextClassifier(ClassifierConfig(pooling="attention"))   # doctest: +SKIP
    >>> clf.fit(train_texts, train_labels, val_texts, val_labels)     # doctest: +SKIP
    >>> clf.predict(["free entry to win a prize"])                    # doctest: +SKIP
    Predictions(labels=['1'], probabilities=[[0.03, 0.97]], classes=['0', '1'], ...)
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from lstmkit.tasks._loading import load_errors
from lstmkit.text import init_embedding
from lstmkit.train import FitResult, ModelLoadError, TrainConfig, fit, load_model, save_model

from .data import TextEncoder, make_loader
from .metrics import classification_report, regression_report
from .model import ClassifierConfig, ClassifierModule, ClassifierNet, subword_inputs

__all__ = ["TextClassifier", "Predictions", "TASK_NAME"]

TASK_NAME = "classify"


@dataclass
class Predictions:
    """Predicted ``labels`` (class names) or ``scores`` (regression); class ``probabilities``
    (N, C) in the order of ``classes``; per-text ``tokens`` and ``attention`` weights (attention
    pooling only, else None)."""

    labels: list[str] | None
    scores: list[float] | None
    probabilities: list[list[float]] | None
    classes: list[str] | None
    tokens: list[list[str]]
    attention: list[list[float]] | None


class TextClassifier:
    """(Bi)LSTM text classifier or regressor (see :mod:`lstmkit.tasks.classify.model`)."""

    def __init__(self, config: ClassifierConfig | None = None, train_config: TrainConfig | None = None):
        config = ClassifierConfig() if config is None else config
        if not isinstance(config, ClassifierConfig):
            raise TypeError(f"config: expected a ClassifierConfig, got {type(config).__name__}")
        self.config = config
        self.train_config = train_config or TrainConfig(max_epochs=10, lr=2e-3, progress=False)
        self.encoder: TextEncoder | None = None
        self.net: ClassifierNet | None = None
        self.train_seconds = 0.0
        self.transfer_report = None  # what --encoder copied (TransferReport), if used
        self.vectors_report: dict | None = None  # what vectors= found (init_embedding), if used

    def _require(self) -> ClassifierNet:
        if self.net is None or self.encoder is None:
            raise RuntimeError("the classifier is not trained: call fit() or TextClassifier.load() first")
        return self.net

    @staticmethod
    def _check(texts, labels, name: str) -> None:
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(f"{name}: expected a sequence of strings, got {type(texts).__name__}")
        if len(texts) == 0:
            raise ValueError(f"{name}: no texts given")
        if labels is not None and len(labels) != len(texts):
            raise ValueError(f"{name}: {len(texts)} texts but {len(labels)} labels")

    def fit(self, texts: Sequence[str], labels: Sequence, val_texts: Sequence[str] | None = None,
            val_labels: Sequence | None = None, *, encoder: str | Path | None = None,
            freeze_epochs: int = 1, unfreeze_every: int = 1, vectors: str | Path | None = None) -> FitResult:
        """Build tokenizer and vocabulary from ``texts`` and train; validation picks the best weights.

        ``encoder``: a language-model directory written by ``lstmkit generate fit``
        (ULMFiT-style transfer): the classifier's embedding rows of shared tokens and
        its LSTM start from the language model's, frozen for ``freeze_epochs`` epochs,
        then unfrozen one layer (top first) every ``unfreeze_every`` epochs. The
        encoder's sizes (embedding, hidden, layers, one direction) replace the
        configured ones, with a warning when they differ.

        ``vectors``: a GloVe / word2vec text file the token embedding starts from (its size must
        be ``embed_dim``; what was found is in :attr:`vectors_report`); not with ``encoder``.
        """
        if vectors is not None and encoder is not None:
            raise ValueError("give vectors or encoder, not both: both initialise the token embedding")
        self._check(texts, labels, "texts")
        if encoder is not None:
            self.config = _encoder_config(self.config, encoder)
        cfg = self.config
        self.encoder = TextEncoder.build(cfg, texts, labels)
        n_out = 1 if cfg.task == "regression" else len(self.encoder.labels)
        torch.manual_seed(self.train_config.seed)
        self.net = ClassifierNet(cfg, len(self.encoder.vocab), n_out)
        if vectors is not None:
            self.vectors_report = init_embedding(self.net.embed, vectors, self.encoder.vocab,
                                                 lowercase=cfg.lowercase, seed=self.train_config.seed)
        tr = make_loader(self.encoder, texts, labels, cfg.batch_size, shuffle=True, seed=self.train_config.seed)
        va = None
        if val_texts is not None:
            self._check(val_texts, val_labels, "val_texts")
            va = make_loader(self.encoder, val_texts, val_labels, 4 * cfg.batch_size, shuffle=False)
        module = ClassifierModule(self.net, self.train_config)
        unfreezer = None
        if encoder is not None:
            from lstmkit.tasks.generate.transfer import init_from_lm

            self.transfer_report, unfreezer = init_from_lm(
                encoder, self.net.embed, self.net.lstm, self.encoder.vocab,
                freeze_epochs=freeze_epochs, unfreeze_every=unfreeze_every,
                epoch=lambda: module.current_epoch)
        started = time.perf_counter()
        try:
            result = fit(module, tr, va, self.train_config)
        finally:
            if unfreezer is not None:
                unfreezer.remove()
        self.train_seconds = time.perf_counter() - started
        self.net.eval()
        return result

    @torch.no_grad()
    def predict(self, texts: Sequence[str], batch_size: int = 256) -> Predictions:
        """Labels with class probabilities (or scores), tokens and attention weights."""
        net = self._require()
        self._check(texts, None, "texts")
        enc = self.encoder
        loader = make_loader(enc, texts, None, batch_size, shuffle=False)
        order = [i for b in loader.batch_sampler for i in b]
        net.eval()
        rows: list = []
        attn: list = []
        for batch in loader:
            y, w = net(batch["tokens"], batch["lengths"], subword_inputs(batch))
            if enc.labels is None:
                rows.extend((y * enc.std + enc.mean).tolist())
            else:
                rows.extend(torch.softmax(y, dim=-1).tolist())
            if w is not None:
                attn.extend(r[:n] for r, n in zip(w.tolist(), batch["lengths"].tolist()))
        out_rows: list = [None] * len(texts)
        out_attn: list = [None] * len(texts)
        for k, i in enumerate(order):
            out_rows[i] = rows[k]
            if attn:
                out_attn[i] = attn[k]
        tokens = [enc.forms(t) for t in texts]
        attention = out_attn if attn else None
        if enc.labels is None:
            return Predictions(None, out_rows, None, None, tokens, attention)
        labels = [enc.labels[max(range(len(p)), key=p.__getitem__)] for p in out_rows]
        return Predictions(labels, None, out_rows, list(enc.labels), tokens, attention)

    def evaluate(self, texts: Sequence[str], labels: Sequence, positive: str | None = None) -> dict:
        """Accuracy, macro-F1 and confusion matrix (classes) or RMSE and Pearson r (regression)."""
        self._require()
        self._check(texts, labels, "texts")
        enc = self.encoder
        if enc.labels is not None:
            for i, lab in enumerate(labels):
                enc.target(lab, where=f"item {i}: ")
        start = time.perf_counter()
        pred = self.predict(texts)
        seconds = time.perf_counter() - start
        if enc.labels is None:
            report = regression_report([float(v) for v in labels], pred.scores)
        else:
            pos = positive if positive is not None else (enc.labels[-1] if len(enc.labels) == 2 else None)
            report = classification_report([str(v) for v in labels], pred.labels, enc.labels, positive=pos)
        report["texts_per_s"] = len(texts) / max(seconds, 1e-9)
        return report

    def save(self, path: str | os.PathLike) -> Path:
        """Write a saved-model directory (weights, config, tokenizer, vocabulary, labels), atomically."""
        net = self._require()
        return save_model(path, task=TASK_NAME, config=self.config.to_dict(), state_dict=net.state_dict(),
                          extras={"encoder": self.encoder.to_dict(), "train_config": self.train_config.to_dict()})

    @classmethod
    @load_errors("classify")
    def load(cls, path: str | os.PathLike) -> "TextClassifier":
        """Load a directory written by :meth:`save` (raises ``ModelLoadError`` when unusable)."""
        saved = load_model(path, task=TASK_NAME)
        clf = cls(ClassifierConfig(**saved.config), TrainConfig.from_dict(saved.extras["train_config"]))
        clf.encoder = TextEncoder.from_dict(saved.extras["encoder"])
        labels = clf.encoder.labels
        if clf.config.task != "regression" and not (isinstance(labels, list) and len(labels) >= 2
                                                   and all(isinstance(c, str) for c in labels)):
            raise ModelLoadError(f"'{path}' is a classification model without its class labels "
                                 f"(config.json extras.encoder.labels: expected >= 2 names, found {labels!r})")
        n_out = 1 if clf.config.task == "regression" else len(clf.encoder.labels)
        clf.net = ClassifierNet(clf.config, len(clf.encoder.vocab), n_out)
        saved.load_into(clf.net)
        clf.net.eval()
        return clf


def _encoder_config(cfg: ClassifierConfig, encoder: str | Path) -> ClassifierConfig:
    """The classifier config with the pretrained language model's encoder sizes."""
    from lstmkit.tasks.generate.transfer import load_lm_encoder

    pre = load_lm_encoder(encoder)
    sizes = {"embed_dim": pre.embed_size, "hidden": pre.hidden_size, "num_layers": pre.num_layers,
             "bidirectional": False}
    changed = {k: (getattr(cfg, k), v) for k, v in sizes.items() if getattr(cfg, k) != v}
    if changed:
        warnings.warn(f"encoder {encoder}: using the language model's sizes "
                      + ", ".join(f"{k}={new} (was {old})" for k, (old, new) in changed.items()),
                      stacklevel=3)
    return replace(cfg, **sizes)
