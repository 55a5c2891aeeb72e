"""`SeqClass`: classify multivariate numeric sequences (sensors, physiological signals, speech features).

    task = SeqClass().fit((X, y))          # LSTM-FCN, 1000 optimizer steps (the defaults)
    frame = task.predict(X_new)            # series_id, prediction, p_<class> ...
    task.evaluate((X_test, y_test))        # {"lstm_fcn": {...}, "dtw": {...}, "minirocket": {...}, ...}
    task.predict_proba_steps(X_new)        # unidirectional model: probabilities after every step
    task.gate_traces(X_new[:2])            # what the LSTM's gates did, step by step
    task.save("model/");  SeqClass.load("model/")   # same predictions

Data: any input of :func:`~lstmkit.tasks.seqclass.data.read_sequences` (3-D
arrays, lists of unequal-length series, sktime nested frames, ``.ts`` files,
long CSVs; a pair ``(X, y)`` where labels are needed). The training data fixes
the classes, the channel count and the per-channel standardisation; the
training series (standardised) are kept in the saved model, because the
baselines of :meth:`SeqClass.evaluate` are fitted on them.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from lstmkit.tasks.base import Task
from lstmkit.tasks.seqclass.baselines import BASELINES, Baseline
from lstmkit.tasks.seqclass.config import TRAIN_DEFAULTS, SeqClassConfig
from lstmkit.tasks.seqclass.data import (
    Preprocessor,
    SequenceBatches,
    Sequences,
    collate,
    pad,
    read_sequences,
)
from lstmkit.tasks.seqclass.model import SeqClassModule, SeqClassNet


def _native(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, float]:
    """Accuracy, balanced accuracy and macro F1 of class indices."""
    from sklearn.metrics import balanced_accuracy_score, f1_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"accuracy": float(np.mean(y_true == y_pred)),
                "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
                "macro_f1": float(f1_score(y_true, y_pred, average="macro", labels=list(range(n_classes)),
                                           zero_division=0)),
                "n": int(len(y_true))}


class SeqClass(Task):
    """An LSTM sequence classifier in the task shape (see the module docstring)."""

    NAME: ClassVar[str] = "seqclass"
    CONFIG: ClassVar[type] = SeqClassConfig
    TRAIN_DEFAULTS: ClassVar[dict[str, Any]] = TRAIN_DEFAULTS
    SUPPORTS_VAL: ClassVar[bool] = True
    OUTPUT: ClassVar[str] = "frame"
    STREAMING: ClassVar[bool] = True  # predict_proba_steps, for unidirectional LSTMs

    def __init__(self, config: SeqClassConfig | None = None, train: Any = None) -> None:
        super().__init__(config, train)
        self.nets: list[SeqClassNet] = []
        self.prep: Preprocessor | None = None
        self.classes: list[Any] = []
        self.train_series: list[np.ndarray] = []
        self.train_targets = np.zeros(0, dtype=np.int64)

    @property
    def is_fitted(self) -> bool:
        return bool(self.nets)

    @property
    def model_name(self) -> str:
        """The report's key for the network: ``bilstm``, ``lstm`` or ``lstm_fcn``."""
        mc = self.config.model
        if mc.model == "lstm":
            return "bilstm" if mc.bidirectional else "lstm"
        return mc.model

    # ------------------------------------------------------------------ data
    def _targets(self, seqs: Sequences, what: str) -> np.ndarray:
        if seqs.labels is None:
            raise ValueError(f"{what}: labels are needed (a pair (X, y), a .ts file with class values, "
                             f"or a {self.config.data.label_col!r} column)")
        index = {str(c): k for k, c in enumerate(self.classes)}
        unknown = sorted({str(v) for v in seqs.labels} - set(index))
        if unknown:
            raise ValueError(f"{what}: label(s) {', '.join(unknown[:5])} were not seen in training "
                             f"(classes: {', '.join(map(str, self.classes))})")
        return np.array([index[str(v)] for v in seqs.labels], dtype=np.int64)

    def _prepare(self, data: Any, what: str) -> tuple[Sequences, list[np.ndarray]]:
        seqs = read_sequences(data, self.config.data, what)
        return seqs, self.prep.transform(seqs, what)

    def _loader(self, series: list[np.ndarray], targets: np.ndarray | None, shuffle: bool,
                seed: int = 0, batch_size: int | None = None) -> DataLoader:
        return DataLoader(SequenceBatches(series, targets), batch_size=batch_size or self.config.data.batch_size,
                          shuffle=shuffle, collate_fn=collate,
                          generator=torch.Generator().manual_seed(seed) if shuffle else None)

    def _split(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stratified hold-out of ``val_fraction`` (each class keeps at least one training series)."""
        rng = np.random.default_rng(self.train_config.seed)
        train_idx, val_idx = [], []
        for k in np.unique(targets):
            members = rng.permutation(np.flatnonzero(targets == k))
            take = min(len(members) - 1, int(round(self.config.data.val_fraction * len(members))))
            val_idx += members[:take].tolist()
            train_idx += members[take:].tolist()
        return np.sort(train_idx), np.sort(val_idx)

    # ------------------------------------------------------------------ fit
    def _fit(self, train: Any, val: Any) -> None:
        """Train on labelled sequences; ``val``: labelled sequences for the kept epoch."""
        dc, mc = self.config.data, self.config.model
        seqs = read_sequences(train, dc, "training data")
        if seqs.labels is None:
            self.classes = []
            self._targets(seqs, "training data")
        self.classes = [_native(c) for c in sorted(pd.unique(seqs.labels), key=str)]
        if len(self.classes) < 2:
            raise ValueError(f"training data: needs at least two classes, found {len(self.classes)}")
        targets = self._targets(seqs, "training data")
        self.prep = Preprocessor.fit(seqs, dc.missing, dc.downsample, dc.normalize)
        series = self.prep.transform(seqs, "training data")
        fit_idx = np.arange(len(series))
        val_series, val_targets = None, None
        if val is not None:
            vseqs, val_series = self._prepare(val, "validation data")
            val_targets = self._targets(vseqs, "validation data")
        elif dc.val_fraction > 0:
            fit_idx, val_idx = self._split(targets)
            if len(val_idx):
                val_series, val_targets = [series[i] for i in val_idx], targets[val_idx]
        fit_series, fit_targets = [series[i] for i in fit_idx], targets[fit_idx]
        self.train_series, self.train_targets = series, targets
        val_loader = None if val_series is None else self._loader(val_series, val_targets, False, batch_size=256)
        self.nets = []
        seed = self.train_config.seed
        for k in range(self.members):
            torch.manual_seed(seed + k)
            net = SeqClassNet.from_config(self.prep.input_size, len(self.classes), mc)
            module = SeqClassModule(net, self.train_config)
            loader = self._loader(fit_series, fit_targets, True, seed + k)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*does not have many workers.*")
                warnings.filterwarnings("ignore", message=".*val_dataloader.*")
                self._train_member(module, loader, val_loader, member=k)
            self.nets.append(net.cpu().eval())
        if val_series is not None:
            pred = self._proba(val_series).argmax(1)
            self.val_metrics = {"val_accuracy": float(np.mean(pred == val_targets))}

    # ------------------------------------------------------------------ predict
    @torch.no_grad()
    def _proba(self, series: list[np.ndarray], batch_size: int = 256) -> np.ndarray:
        """Mean over members of softmax probabilities, ``(n, K)``."""
        out = np.zeros((len(series), len(self.classes)))
        for net in self.nets:
            net.eval()
            for i in range(0, len(series), batch_size):
                x, lengths = pad(series[i:i + batch_size])
                out[i:i + batch_size] += torch.softmax(net(x, lengths), dim=1).double().numpy()
        return out / len(self.nets)

    def predict_proba(self, data: Any) -> np.ndarray:
        """Class probabilities ``(n, K)`` (columns in the order of :attr:`classes`)."""
        self._check_fitted("predict_proba")
        return self._proba(self._prepare(data, "data")[1])

    def predict(self, data: Any) -> pd.DataFrame:
        """One row per series: id, predicted class, ``p_<class>`` for every class (and the label, if given)."""
        self._check_fitted("predict")
        dc = self.config.data
        seqs, series = self._prepare(data, "data")
        proba = self._proba(series)
        frame = pd.DataFrame({dc.id_col: seqs.ids, "prediction": [self.classes[k] for k in proba.argmax(1)]})
        for k, c in enumerate(self.classes):
            frame[f"p_{c}"] = proba[:, k]
        if seqs.labels is not None:
            frame[dc.label_col] = seqs.labels
        return frame

    def evaluate(self, data: Any, baselines: tuple[str, ...] | None = BASELINES) -> dict[str, dict[str, Any]]:
        """Accuracy, balanced accuracy, macro F1 of the network and of each of ``baselines`` (same data).

        The baselines (see :mod:`~lstmkit.tasks.seqclass.baselines`) are fitted on the training series.
        """
        self._check_fitted("evaluate")
        seqs, series = self._prepare(data, "evaluation data")
        targets = self._targets(seqs, "evaluation data")
        k = len(self.classes)
        report = {self.model_name: classification_metrics(targets, self._proba(series).argmax(1), k)}
        for name in baselines or ():
            model = Baseline(name, self.train_series, self.train_targets, seed=self.train_config.seed)
            report[name] = classification_metrics(targets, model.predict(series), k)
        return report

    # ------------------------------------------------------------------ streaming and inspection
    @torch.no_grad()
    def predict_proba_steps(self, data: Any) -> list[np.ndarray]:
        """Per series, the class probabilities after every (downsampled) step: ``(length, K)`` each.

        Row ``t`` uses only the first ``t + 1`` steps, so it is what a monitor
        would say at that moment; the last row equals :meth:`predict_proba`.
        Needs a unidirectional LSTM (``model="lstm"``, ``bidirectional=False``).
        """
        self._check_fitted("predict_proba_steps")
        _, series = self._prepare(data, "data")
        out = [np.zeros((len(s), len(self.classes))) for s in series]
        for net in self.nets:
            for i in range(0, len(series), 256):
                chunk = series[i:i + 256]
                x, lengths = pad(chunk)
                probs = torch.softmax(net.step_logits(x, lengths), dim=2).double().numpy()   # (B, T, K)
                for j, s in enumerate(chunk):
                    out[i + j] += probs[j, : len(s)]
        return [p / len(self.nets) for p in out]

    def gate_traces(self, data: Any, member: int = 0) -> list[dict[str, Any]]:
        """Per series, the LSTM's gate activations and states per layer and direction
        (:class:`lstmkit.inspect.traces.GateTrace`: ``values["i" | "f" | "g" | "o" | "c" | "h"]``
        of shape ``(length, H)``), from the LSTM branch of member ``member``."""
        from lstmkit.inspect.traces import trace

        self._check_fitted("gate_traces")
        _, series = self._prepare(data, "data")
        x, lengths = pad(series)
        lstm = self.nets[member].lstm
        return [trace(lstm, x, lengths, index=i) for i in range(len(series))]

    # ------------------------------------------------------------------ persistence
    def _state_dict(self) -> dict[str, Any]:
        state = {f"member{k}.{name}": t for k, net in enumerate(self.nets) for name, t in net.state_dict().items()}
        state["train.values"] = torch.from_numpy(np.concatenate(self.train_series))      # (sum L, C')
        state["train.lengths"] = torch.tensor([len(s) for s in self.train_series], dtype=torch.long)
        state["train.targets"] = torch.from_numpy(self.train_targets)
        return state

    def _extras(self) -> dict[str, Any]:
        return {"classes": self.classes, "preprocessor": self.prep.to_dict()}

    def _restore(self, saved: Any) -> None:
        self.classes = list(saved.extras["classes"])
        self.prep = Preprocessor.from_dict(saved.extras["preprocessor"])
        state = saved.state_dict
        values, lengths = state["train.values"].numpy(), state["train.lengths"].numpy()
        self.train_series = np.split(values, np.cumsum(lengths)[:-1])
        self.train_targets = state["train.targets"].numpy().astype(np.int64)
        self.nets = []
        for k in range(self.members):
            prefix = f"member{k}."
            own = {n[len(prefix):]: t for n, t in state.items() if n.startswith(prefix)}
            net = SeqClassNet.from_config(self.prep.input_size, len(self.classes), self.config.model)
            dataclasses.replace(saved, state_dict=own).load_into(net)
            self.nets.append(net.eval())
