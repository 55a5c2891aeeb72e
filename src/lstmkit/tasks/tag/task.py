"""`Tag`: the BiLSTM(-CRF) tagger and its fold-per-member ensemble on the one task life cycle.

    task = Tag(TagConfig(model=TagModelConfig(members=5, lexicon="tr_TR.dic")),
               train=Tag.default_train(monitor="val_acc", monitor_mode="max"))
    task.fit("train.conllu")              # no val=: member k holds out validation fold k
    frame = task.predict("new.conllu")    # sentence, position, token, tag
    task.evaluate("test.conllu", train="train.conllu")   # lstm, most_frequent_tag, feature_tagger
    task.save("model/");  Tag.load("model/")

Data is a CoNLL-U / two-column CoNLL path (``data.format``, ``data.column``),
a list of :class:`~.conll.Sentence` or of ``(tokens, tags)`` pairs (for
prediction, token lists too). ``fit`` checks that every validation tag
occurs in training (the error names the file and line). With
``model.members`` K > 1 the K taggers (seeds seed..seed+K-1) decode as one
CRF with averaged scores (:class:`~.ensemble.TaggerEnsemble`); given
``val`` every member validates on it, else member k holds out fold k of
``data.folds`` (:func:`~.ensemble.fold_split`), so that together they learn
from every training sentence. The saved model holds every member.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from lstmkit.tasks._loading import load_errors
from lstmkit.tasks.base import Task

from .api import Tagger, check_lexicon
from .baselines import FeatureTagger, MostFrequentTagger
from .config import TRAIN_DEFAULTS, TagConfig
from .data import TagEncoder
from .ensemble import MANIFEST, TaggerEnsemble, fold_split
from .metrics import tag_scores
from .model import TaggerNet

__all__ = ["Tag", "read_sentences"]

TASK = "tag"


def read_sentences(data: Any, fmt: str = "auto", column: str = "upos", require_tags: bool = True,
                   what: str = "data") -> list[tuple[list[str], list[str] | None, str]]:
    """``(tokens, tags, where)`` per sentence of a CoNLL(-U) path, Sentences or pairs (or token lists)."""
    if isinstance(data, (str, os.PathLike)):
        from lstmkit.text.conll import read_conll

        return [(s.tokens, s.tags, f"{data}:{s.start_line}")
                for s in read_conll(data, fmt, column, require_tags=require_tags)]
    out = []
    for i, s in enumerate(data):
        if hasattr(s, "tokens"):
            toks, tags = s.tokens, s.tags
        elif isinstance(s, (tuple, list)) and len(s) == 2 and isinstance(s[0], (list, tuple)):
            toks, tags = s
        elif isinstance(s, (tuple, list)) and all(isinstance(w, str) for w in s) and not require_tags:
            toks, tags = s, None
        else:
            raise TypeError(f"{what}: sentence {i}: expected (tokens, tags) or a Sentence, got {type(s).__name__}")
        if len(toks) == 0:
            raise ValueError(f"{what}: sentence {i} has no tokens")
        if tags is not None and len(tags) != len(toks):
            raise ValueError(f"{what}: sentence {i}: {len(toks)} tokens but {len(tags)} tags")
        if require_tags and tags is None:
            raise ValueError(f"{what}: sentence {i} has no tags")
        out.append((list(toks), None if tags is None else list(tags), f"{what} sentence {i}"))
    if not out:
        raise ValueError(f"{what}: no sentences given")
    return out


class Tag(Task):
    """BiLSTM(-CRF) sequence tagger, one network or an ensemble (see the module docstring)."""

    NAME: ClassVar[str] = TASK
    CONFIG: ClassVar[type] = TagConfig
    TRAIN_DEFAULTS: ClassVar[dict[str, Any]] = TRAIN_DEFAULTS
    SUPPORTS_VAL: ClassVar[bool] = True
    OUTPUT: ClassVar[str] = "frame"

    def __init__(self, config: TagConfig | None = None, train: Any = None) -> None:
        super().__init__(config, train)
        self.taggers: list[Tagger] = []
        self.most_frequent: MostFrequentTagger | None = None
        self.last_decode_seconds = 0.0

    @property
    def is_fitted(self) -> bool:
        return bool(self.taggers)

    @property
    def tagger(self) -> Tagger | TaggerEnsemble:
        """What decodes: the one tagger, or the members as a :class:`TaggerEnsemble`."""
        self._check_fitted("predict")
        return self.taggers[0] if len(self.taggers) == 1 else TaggerEnsemble(self.taggers)

    @property
    def tags(self) -> list[str]:
        return self.taggers[0].encoder.tags

    def sentences(self, data: Any, what: str, require_tags: bool = True):
        dc = self.config.data
        return read_sentences(data, dc.format, dc.column, require_tags, what)

    def check_tags(self, sentences, known: set[str]) -> None:
        """Every tag of ``sentences`` occurs in training; the error names the sentence."""
        for _, tags, where in sentences:
            bad = [t for t in tags if t not in known]
            if bad:
                raise ValueError(f"{where}: tag {bad[0]!r} does not occur in the training sentences")

    # ------------------------------------------------------------------ fit
    def _fit(self, train: Any, val: Any) -> None:
        import time

        rows = self.sentences(train, "training data")
        pairs = [(t, g) for t, g, _ in rows]
        val_pairs = None
        if val is not None:
            val_rows = self.sentences(val, "validation data")
            self.check_tags(val_rows, {t for _, g in pairs for t in g})
            val_pairs = [(t, g) for t, g, _ in val_rows]
        elif len(pairs) < self.config.data.folds:
            raise ValueError(f"training data: need at least {self.config.data.folds} sentences to hold out "
                             f"validation folds (data.folds), got {len(pairs)}; or give val=")
        tags = sorted({t for _, g in pairs for t in g})
        net_cfg, vectors = self.config.network(), self.config.model.vectors
        self.taggers = []
        for k in range(self.members):
            part, held = (pairs, val_pairs) if val_pairs is not None else fold_split(
                pairs, k, self.config.data.folds)
            tagger = Tagger(net_cfg, self.train_config.replace(seed=self.train_config.seed + k))
            module, loader, val_loader = tagger.prepare(part, held, tags, vectors)
            started = time.perf_counter()
            result = self._train_member(module, loader, val_loader, k)
            tagger.finish(part, result, time.perf_counter() - started)
            self.taggers.append(tagger)
        self.most_frequent = MostFrequentTagger().fit(pairs)
        if val_pairs is not None:
            scores = self._scores(val_pairs, self.predict_tags([t for t, _ in val_pairs]))
            self.val_metrics = {f"val_{k}": v for k, v in scores.items() if k in ("accuracy", "span_f1")}

    # ------------------------------------------------------------------ predict
    def predict_tags(self, token_lists: list[list[str]], batch_size: int = 256) -> list[list[str]]:
        """One tag list per token list."""
        tagger = self.tagger
        out = tagger.predict(token_lists, batch_size)
        self.last_decode_seconds = tagger.last_decode_seconds
        return out

    def predict(self, data: Any) -> pd.DataFrame:
        """One row per token: ``sentence`` (0-based), ``position``, ``token``, ``tag`` (predicted)."""
        self._check_fitted("predict")
        rows = self.sentences(data, "prediction data", require_tags=False)
        pred = self.predict_tags([t for t, _, _ in rows])
        records = [(i, j, w, tag) for i, ((toks, _, _), tags) in enumerate(zip(rows, pred))
                   for j, (w, tag) in enumerate(zip(toks, tags))]
        return pd.DataFrame(records, columns=["sentence", "position", "token", "tag"])

    def write_predictions(self, data: str | os.PathLike, out: str | os.PathLike) -> tuple[Path, int, int]:
        """Tag the file ``data`` and write ``out`` in its format: ``(path, sentences, tokens)``."""
        from lstmkit.text.conll import detect_format, read_conll, write_conll

        self._check_fitted("predict")
        dc = self.config.data
        sentences = read_conll(data, dc.format, dc.column, require_tags=False)
        fmt = detect_format(data) if dc.format == "auto" else dc.format
        pred = self.predict_tags([s.tokens for s in sentences])
        path = write_conll(out, sentences, pred, fmt=fmt, column=dc.column)
        return path, len(sentences), sum(len(s.tokens) for s in sentences)

    # ------------------------------------------------------------------ evaluate
    def _unseen(self, tokens: list[str]) -> list[bool]:
        return [all(m.encoder.words.stoi.get(w.lower() if m.encoder.lowercase else w) is None
                    for m in self.taggers) for w in tokens]

    def _scores(self, pairs, pred) -> dict[str, float]:
        unseen = [self._unseen(t) for t, _ in pairs]
        scores = tag_scores([g for _, g in pairs], pred, unseen)
        # a score without tokens to score (no unseen words) is left out, not reported as nan
        return {**{k: v for k, v in scores.items() if not (isinstance(v, float) and v != v)},
                "unseen_tokens": float(sum(map(sum, unseen))),
                "tokens": float(sum(len(t) for t, _ in pairs))}

    def evaluate(self, data: Any, train: Any = None, baselines: bool = True) -> dict[str, dict[str, float]]:
        """``{"lstm": scores, "most_frequent_tag": ...[, "feature_tagger": ...]}`` on tagged ``data``.

        Scores: token accuracy (all and unseen words), span precision / recall / F1
        where the tags are BIO. ``most_frequent_tag`` uses the training counts kept
        with the model; ``feature_tagger`` (logistic regression on hand features) is
        fitted on ``train`` when given. Unseen: in no member's vocabulary.
        """
        self._check_fitted("evaluate")
        rows = self.sentences(data, "evaluation data")
        for _, tags, where in rows:
            self.taggers[0].encoder.tag_ids(tags, where=f"{where}: sentence ")
        pairs = [(t, g) for t, g, _ in rows]
        tokens = [t for t, _ in pairs]
        out = {"lstm": self._scores(pairs, self.predict_tags(tokens))}
        if baselines:
            out["most_frequent_tag"] = self._scores(pairs, self.most_frequent.predict(tokens))
            if train is not None:
                train_pairs = [(t, g) for t, g, _ in self.sentences(train, "training data")]
                out["feature_tagger"] = self._scores(pairs, FeatureTagger().fit(train_pairs).predict(tokens))
        return out

    # ------------------------------------------------------------------ persistence
    def _state_dict(self) -> dict[str, Any]:
        return {f"member-{k}.{name}": value for k, m in enumerate(self.taggers)
                for name, value in m.net.state_dict().items()}

    def _extras(self) -> dict[str, Any]:
        return {"encoders": [m.encoder.to_dict() for m in self.taggers],
                "most_frequent": {"best": self.most_frequent.best, "default": self.most_frequent.default}}

    def _restore(self, saved: Any, lexicon: str | None = None) -> None:
        from dataclasses import replace

        net_cfg = self.config.network()
        self.taggers = []
        for k, raw in enumerate(saved.extras["encoders"]):
            raw = dict(raw)
            if lexicon is not None:
                raw["lexicon"] = lexicon
            tagger = Tagger(net_cfg, self.train_config.replace(seed=self.train_config.seed + k))
            tagger.encoder = TagEncoder.from_dict(raw)
            check_lexicon(tagger.encoder, saved.path)
            tagger.net = TaggerNet(net_cfg, len(tagger.encoder.words), len(tagger.encoder.chars),
                                   tagger.encoder.tags, _lexicon_size(tagger.encoder))
            prefix = f"member-{k}."
            member = {n[len(prefix):]: v for n, v in saved.state_dict.items() if n.startswith(prefix)}
            replace(saved, state_dict=member).load_into(tagger.net)
            tagger.net.eval()
            self.taggers.append(tagger)
        mf = saved.extras["most_frequent"]
        self.most_frequent = MostFrequentTagger()
        self.most_frequent.best, self.most_frequent.default = dict(mf["best"]), mf["default"]

    @classmethod
    @load_errors("tag")
    def load(cls, path: str | os.PathLike, lexicon: str | os.PathLike | None = None) -> Tag:
        """Rebuild a saved tagger; also reads 0.1 layouts (one tagger, or an ``ensemble.json`` folder).

        ``lexicon``: where the model's Hunspell lexicon is now, when it moved.
        """
        from lstmkit.train import ModelLoadError, load_model

        if (Path(path) / MANIFEST).exists():
            return cls.from_taggers(TaggerEnsemble.load(path).members)
        saved = load_model(path, task=cls.saved_name())
        if "model" not in saved.config:  # lstmkit 0.1: one tagger, flat config
            return cls.from_taggers([Tagger.load(path, lexicon=lexicon)])
        config, train = cls.config_from_record(saved.config)
        if lexicon is not None:
            from dataclasses import replace

            config = replace(config, model=replace(config.model, lexicon=os.fspath(lexicon)))
        task = cls(config, train)
        try:
            task._restore(saved, None if lexicon is None else os.fspath(lexicon))
        except (KeyError, TypeError, RuntimeError) as err:
            raise ModelLoadError(f"'{path}' has unusable tag weights or extras: {err}") from None
        return task

    @classmethod
    def from_taggers(cls, taggers: list[Tagger]) -> Tag:
        """A task around trained taggers (a 0.1 model); their tag sets and heads must agree."""
        if len(taggers) > 1:
            TaggerEnsemble(taggers)  # checks tags and heads
        first = taggers[0]
        task = cls(TagConfig.from_network(first.config, members=len(taggers)), first.train_config)
        task.taggers = list(taggers)
        mf = MostFrequentTagger()
        mf.best, mf.default = {}, first.encoder.tags[0]  # 0.1 saved no tag counts
        task.most_frequent = mf
        return task


def _lexicon_size(encoder: TagEncoder) -> int:
    lexicon = encoder.lexicon_features
    return 0 if lexicon is None else lexicon.size
