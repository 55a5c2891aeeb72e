"""`Classify`: the text classifier / regressor on the one task life cycle.

    task = Classify(ClassifyConfig(model=ClassifyModelConfig(pooling="attention")),
                    train=Classify.default_train(max_epochs=10, monitor="val_acc", monitor_mode="max"))
    task.fit("train.csv")                        # no val=: 10% of the rows held out (data.val_fraction)
    frame = task.predict("new.csv")              # the input columns, prediction, p_<class>
    task.evaluate("test.csv", train="train.csv") # {"lstm": ..., "majority": ..., "tfidf": ...}
    task.save("model/");  Classify.load("model/")

Data is a CSV/TSV path, a DataFrame or ``(texts, labels)`` (:mod:`.frames`).
What ``lstmkit classify fit`` does, ``fit`` does: the hold-out when no
validation data is given, the check that every validation label occurs in
training (``file:line: label 'x' is not in the training labels``), the
report on the validation rows (:attr:`val_report`, baselines beside the
LSTM). ``evaluate`` reports the LSTM beside the majority class (regression:
the training mean) and, given the training data, TF-IDF + logistic
regression (ridge).
"""

from __future__ import annotations

import json
import random
import warnings
from dataclasses import replace
from typing import Any, ClassVar

import pandas as pd
import torch

from lstmkit.tasks.base import Task

from .config import TRAIN_DEFAULTS, ClassifyConfig
from .data import TextEncoder, make_loader
from .frames import Rows, input_frame, read_rows
from .metrics import classification_report, regression_report
from .model import ClassifierConfig, ClassifierNet, subword_inputs

__all__ = ["Classify", "Predictions", "SUMMARY_KEYS"]

TASK = "classify"
SUMMARY_KEYS = ("accuracy", "macro_f1", "positive_f1", "rmse", "pearson_r")


class Predictions:
    """Predicted ``labels`` (class names) or ``scores`` (regression); class ``probabilities``
    (N, C) in the order of ``classes``; per-text ``tokens`` and ``attention`` weights (attention
    pooling only, else None)."""

    def __init__(self, labels, scores, probabilities, classes, tokens, attention) -> None:
        self.labels, self.scores, self.probabilities = labels, scores, probabilities
        self.classes, self.tokens, self.attention = classes, tokens, attention

    def __repr__(self) -> str:
        return (f"Predictions(labels={self.labels!r}, scores={self.scores!r}, "
                f"probabilities={self.probabilities!r}, classes={self.classes!r}, ...)")


class Classify(Task):
    """(Bi)LSTM text classifier or regressor (see the module docstring)."""

    NAME: ClassVar[str] = TASK
    CONFIG: ClassVar[type] = ClassifyConfig
    TRAIN_DEFAULTS: ClassVar[dict[str, Any]] = TRAIN_DEFAULTS
    SUPPORTS_VAL: ClassVar[bool] = True
    OUTPUT: ClassVar[str] = "frame"

    def __init__(self, config: ClassifyConfig | None = None, train: Any = None) -> None:
        super().__init__(config, train)
        self.encoder: TextEncoder | None = None
        self.net: ClassifierNet | None = None
        self.prior: dict[str, Any] = {}
        self.transfer_report = None
        self.vectors_report: dict | None = None
        self.train_rows: Rows | None = None
        self.val_rows: Rows | None = None
        self.val_report: dict[str, dict] = {}

    @property
    def is_fitted(self) -> bool:
        return self.net is not None and self.encoder is not None

    @property
    def regression(self) -> bool:
        return self.config.model.task == "regression"

    # ------------------------------------------------------------------ data
    def rows(self, data: Any, what: str, labels: bool = True) -> Rows:
        """Read ``data`` (a path, a DataFrame, ``(texts, labels)``) with this task's columns."""
        dc = self.config.data
        return read_rows(data, dc.text_col, dc.label_col if labels else None, dc.delimiter,
                         self.regression, what)

    def holdout(self, rows: Rows) -> tuple[Rows, Rows | None]:
        """``(train, validation)``: ``data.val_fraction`` of the rows, shuffled with the seed (none at 0)."""
        fraction = self.config.data.val_fraction
        if fraction == 0:
            return rows, None
        if len(rows) < 10:
            raise ValueError(f"{rows.name}: need at least 10 rows to hold out validation rows, got {len(rows)}")
        order = list(range(len(rows)))
        random.Random(self.train_config.seed).shuffle(order)
        cut = max(1, int(len(rows) * fraction))
        return rows.take(order[cut:], rows.name), rows.take(order[:cut], f"{fraction:.0%} of {rows.name}")

    def check_labels(self, rows: Rows, known: set[str] | None = None) -> None:
        """Every label of ``rows`` is a training label (classes only); the error names the row."""
        if self.regression or rows.labels is None:
            return
        if known is None:
            known = set(self.encoder.labels) if self.encoder is not None else set()
        for label, where in zip(rows.labels, rows.where):
            if str(label) not in known:
                raise ValueError(f"{where}: label {label!r} was not seen in training; "
                                 f"known labels: {sorted(known)}")

    # ------------------------------------------------------------------ fit
    def _fit(self, train: Any, val: Any) -> None:
        rows = self.rows(train, "training data")
        if val is None:
            rows, val_rows = self.holdout(rows)
        else:
            val_rows = self.rows(val, "validation data")
        if val_rows is not None:
            self.check_labels(val_rows, {str(v) for v in rows.labels})
        self.fit_rows(rows, val_rows)
        self.train_rows, self.val_rows = rows, val_rows
        if val_rows is not None:
            report = self._report(val_rows)
            self.val_metrics = {f"val_{k}": float(report[k]) for k in SUMMARY_KEYS if k in report}

    def fit_rows(self, rows: Rows, val_rows: Rows | None) -> None:
        """Build tokenizer, vocabulary and network from ``rows`` and train (validating on ``val_rows``)."""
        mc = self.config.model
        if mc.encoder is not None:
            self.config = replace(self.config, model=_encoder_model(mc, mc.encoder))
            mc = self.config.model
        net_cfg = self.config.network()
        seed = self.train_config.seed
        self.encoder = TextEncoder.build(net_cfg, rows.texts, rows.labels)
        n_out = 1 if self.regression else len(self.encoder.labels)
        torch.manual_seed(seed)
        self.net = ClassifierNet(net_cfg, len(self.encoder.vocab), n_out)
        if mc.vectors is not None:
            from lstmkit.text import init_embedding

            self.vectors_report = init_embedding(self.net.embed, mc.vectors, self.encoder.vocab,
                                                 lowercase=net_cfg.lowercase, seed=seed)
        batch = net_cfg.batch_size
        loader = make_loader(self.encoder, rows.texts, rows.labels, batch, shuffle=True, seed=seed,
                             where=lambda i: f"{rows.where[i]}: ")
        val_loader = None
        if val_rows is not None:
            val_loader = make_loader(self.encoder, val_rows.texts, val_rows.labels, 4 * batch, shuffle=False,
                                     where=lambda i: f"{val_rows.where[i]}: ")
        from .model import ClassifierModule

        module = ClassifierModule(self.net, self.train_config)
        unfreezer = None
        if mc.encoder is not None:
            from lstmkit.tasks.generate.transfer import init_from_lm

            self.transfer_report, unfreezer = init_from_lm(
                mc.encoder, self.net.embed, self.net.lstm, self.encoder.vocab,
                freeze_epochs=mc.freeze_epochs, unfreeze_every=mc.unfreeze_every,
                epoch=lambda: module.current_epoch)
        try:
            self._train_member(module, loader, val_loader)
        finally:
            if unfreezer is not None:
                unfreezer.remove()
        self.net.eval()
        self.prior = _prior(rows.labels, self.regression)

    # ------------------------------------------------------------------ predict
    @torch.no_grad()
    def predict_texts(self, texts: list[str], batch_size: int = 256) -> Predictions:
        """Labels with class probabilities (or scores), tokens and attention weights, in input order."""
        self._check_fitted("predict")
        enc, net = self.encoder, self.net
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

    def predict(self, data: Any, attention: bool = False) -> pd.DataFrame:
        """The input rows with ``prediction`` and ``p_<class>`` columns (regression: the score).

        ``attention=True`` adds ``tokens`` and ``attention`` (JSON lists; empty
        unless the model pools by attention).
        """
        self._check_fitted("predict")
        rows = self.rows(data, "prediction data", labels=False)
        pred = self.predict_texts(rows.texts)
        frame = input_frame(data, self.config.data.text_col, self.config.data.delimiter)
        if pred.labels is not None:
            frame["prediction"] = pred.labels
            for k, name in enumerate(pred.classes):
                frame[f"p_{name}"] = [p[k] for p in pred.probabilities]
        else:
            frame["prediction"] = pred.scores
        if attention:
            frame["tokens"] = [json.dumps(t, ensure_ascii=False) for t in pred.tokens]
            frame["attention"] = ["" if pred.attention is None else json.dumps([round(w, 5) for w in a])
                                  for a in (pred.attention or [None] * len(rows))]
        return frame

    # ------------------------------------------------------------------ evaluate
    def _report(self, rows: Rows, positive: str | None = None) -> dict[str, Any]:
        pred = self.predict_texts(rows.texts)
        if self.regression:
            return regression_report([float(v) for v in rows.labels], pred.scores)
        labels = self.encoder.labels
        pos = positive if positive is not None else (labels[-1] if len(labels) == 2 else None)
        return classification_report([str(v) for v in rows.labels], pred.labels, labels, positive=pos)

    def evaluate(self, data: Any, train: Any = None, baselines: bool = True) -> dict[str, dict[str, Any]]:
        """``{"lstm": report, "majority": report[, "tfidf": report]}`` on labelled ``data``.

        A report holds accuracy, macro-F1 (and the positive class's F1 for two
        classes), the confusion matrix; RMSE and Pearson r for regression.
        ``majority`` predicts the most frequent training label (the training
        mean); ``tfidf`` (TF-IDF + logistic regression / ridge) is fitted on
        ``train`` when given. ``baselines=False``: the LSTM alone.
        """
        self._check_fitted("evaluate")
        rows = self.rows(data, "evaluation data")
        self.check_labels(rows)
        out = {"lstm": self._report(rows)}
        if baselines:
            out["majority"] = self._majority(rows)
            if train is not None:
                out["tfidf"] = tfidf_report(self.config.model.task, self.rows(train, "training data"), rows)
        return out

    def validation_report(self, baselines: bool = True) -> dict[str, dict[str, Any]]:
        """:meth:`evaluate` on the validation rows of the last ``fit``, TF-IDF fitted on its training rows."""
        if self.val_rows is None or self.train_rows is None:
            raise ValueError("classify: the last fit had no validation rows (val_fraction 0 and no val=)")
        if not baselines:
            return {"lstm": self._report(self.val_rows)}
        return {"lstm": self._report(self.val_rows), "majority": self._majority(self.val_rows),
                "tfidf": tfidf_report(self.config.model.task, self.train_rows, self.val_rows)}

    def _majority(self, rows: Rows) -> dict[str, Any]:
        if self.regression:
            guess = [float(self.prior["mean"])] * len(rows)
            return regression_report([float(v) for v in rows.labels], guess)
        labels = self.encoder.labels
        guess = [str(self.prior["majority"])] * len(rows)
        pos = labels[-1] if len(labels) == 2 else None
        return classification_report([str(v) for v in rows.labels], guess, labels, positive=pos)

    # ------------------------------------------------------------------ persistence
    def _state_dict(self) -> dict[str, Any]:
        return self.net.state_dict()

    def _extras(self) -> dict[str, Any]:
        return {"encoder": self.encoder.to_dict(), "prior": self.prior}

    def _restore(self, saved: Any) -> None:
        from lstmkit.train import ModelLoadError

        self.encoder = TextEncoder.from_dict(saved.extras["encoder"])
        labels = self.encoder.labels
        if not self.regression and not (isinstance(labels, list) and len(labels) >= 2
                                        and all(isinstance(c, str) for c in labels)):
            raise ModelLoadError(f"'{saved.path}' is a classification model without its class labels "
                                 f"(config.json extras.encoder.labels: expected >= 2 names, found {labels!r})")
        if "train_config" in saved.extras and "model" not in saved.config:  # lstmkit 0.1
            from lstmkit.train import TrainConfig

            self.train_config = TrainConfig.from_dict(saved.extras["train_config"])
        self.prior = dict(saved.extras.get("prior") or _legacy_prior(self.encoder))
        net_cfg = self.config.network()
        n_out = 1 if self.regression else len(self.encoder.labels)
        self.net = ClassifierNet(net_cfg, len(self.encoder.vocab), n_out)
        saved.load_into(self.net)
        self.net.eval()

    @classmethod
    def config_from_record(cls, record: Any) -> tuple[Any, Any]:
        """Also reads the flat ``ClassifierConfig`` that lstmkit 0.1 saved."""
        if "model" in record or "data" in record:
            return super().config_from_record(record)
        return ClassifyConfig.from_network(ClassifierConfig(**record)), cls.default_train()


def tfidf_report(task: str, train: Rows, rows: Rows) -> dict[str, Any]:
    """The TF-IDF baseline fitted on ``train``, scored on ``rows``."""
    from .baselines import TfidfBaseline

    pred = TfidfBaseline(task).fit(train.texts, train.labels).predict(rows.texts)
    if task == "regression":
        return regression_report([float(v) for v in rows.labels], [float(v) for v in pred])
    from .data import _label_key

    classes = sorted({str(v) for v in train.labels} | {str(v) for v in rows.labels}, key=_label_key)
    pos = classes[-1] if len(classes) == 2 else None
    return classification_report([str(v) for v in rows.labels], [str(v) for v in pred], classes, positive=pos)


def summary_row(report: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of a report (for a table)."""
    return {k: report[k] for k in SUMMARY_KEYS if k in report}


def _prior(labels: list, regression: bool) -> dict[str, Any]:
    if regression:
        values = [float(v) for v in labels]
        return {"mean": sum(values) / len(values)}
    from collections import Counter

    counts = Counter(str(v) for v in labels)
    return {"majority": max(sorted(counts), key=counts.__getitem__), "counts": dict(counts)}


def _legacy_prior(encoder: TextEncoder) -> dict[str, Any]:
    """A 0.1 model saved no label counts: the majority baseline falls back to the first class."""
    if encoder.labels is None:
        return {"mean": encoder.mean}
    return {"majority": encoder.labels[0], "counts": {}}


def _encoder_model(mc: Any, encoder: str) -> Any:
    """The model section with the pretrained language model's encoder sizes (warns when they change)."""
    from lstmkit.tasks.generate.transfer import load_lm_encoder

    pre = load_lm_encoder(encoder)
    sizes = {"embed_size": pre.embed_size, "hidden_size": pre.hidden_size, "num_layers": pre.num_layers,
             "bidirectional": False}
    changed = {k: (getattr(mc, k), v) for k, v in sizes.items() if getattr(mc, k) != v}
    if changed:
        warnings.warn(f"encoder {encoder}: using the language model's sizes "
                      + ", ".join(f"{k}={new} (was {old})" for k, (old, new) in changed.items()),
                      stacklevel=4)
    return replace(mc, **sizes)
