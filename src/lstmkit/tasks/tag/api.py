"""The tagging task's Python API: :class:`Tagger` with fit / predict / evaluate / save / load.

Example:
    >>> tagger = Tagger(TaggerConfig(head="crf"), TrainConfig(max_epochs=20))  # doctest: +SKIP
    >>> tagger.fit(train_sentences, val_sentences)                              # doctest: +SKIP
    >>> tagger.predict([["Ali", "geldi", "."]])                                 # doctest: +SKIP
    [['NOUN', 'VERB', 'PUNCT']]

Sentences are ``(tokens, tags)`` pairs or :class:`~lstmkit.text.conll.Sentence`.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import torch

from lstmkit.tasks._loading import load_errors
from lstmkit.text import init_embedding
from lstmkit.train import FitResult, ModelLoadError, TrainConfig, fit, load_model, save_model

from .data import TagEncoder, make_loader
from .metrics import tag_scores
from .model import TaggerConfig, TaggerModule, TaggerNet

__all__ = ["Tagger", "TASK_NAME", "as_pairs", "report"]

TASK_NAME = "tag"


def as_pairs(sentences) -> list[tuple[list[str], list[str] | None]]:
    """Normalise sentences to ``(tokens, tags)`` pairs."""
    out = []
    for i, s in enumerate(sentences):
        if hasattr(s, "tokens"):
            toks, tags = s.tokens, s.tags
        elif isinstance(s, (tuple, list)) and len(s) == 2 and isinstance(s[0], (list, tuple)):
            toks, tags = s
        else:
            raise TypeError(f"sentence {i}: expected (tokens, tags) or a Sentence, got {type(s).__name__}")
        if len(toks) == 0:
            raise ValueError(f"sentence {i} has no tokens")
        if tags is not None and len(tags) != len(toks):
            raise ValueError(f"sentence {i}: {len(toks)} tokens but {len(tags)} tags")
        out.append((list(toks), list(tags) if tags is not None else None))
    if not out:
        raise ValueError("no sentences given")
    return out


def report(pairs, pred, unseen, decode_seconds: float) -> dict[str, float]:
    """The evaluation dict of predictions ``pred`` for gold ``pairs`` (``unseen``: per-token flags);
    span scores only for BIO tags."""
    gold = [t for _, t in pairs]
    n_tokens = sum(len(t) for t, _ in pairs)
    return {
        **tag_scores(gold, pred, unseen),
        "unseen_tokens": sum(map(sum, unseen)),
        "tokens": n_tokens,
        "decode_tokens_per_s": n_tokens / max(decode_seconds, 1e-9),
    }


def _lexicon_size(encoder: TagEncoder) -> int:
    lexicon = encoder.lexicon_features
    return 0 if lexicon is None else lexicon.size


class Tagger:
    """BiLSTM(-CRF) sequence tagger (see :mod:`lstmkit.tasks.tag.model`)."""

    def __init__(self, config: TaggerConfig | None = None, train_config: TrainConfig | None = None) -> None:
        config = TaggerConfig() if config is None else config
        if not isinstance(config, TaggerConfig):
            raise TypeError(f"config: expected a TaggerConfig, got {type(config).__name__}")
        self.config = config
        self.train_config = train_config or TrainConfig(max_epochs=20, lr=2e-3, progress=False)
        self.encoder: TagEncoder | None = None
        self.net: TaggerNet | None = None
        self.train_seconds = 0.0
        self.train_tokens = 0
        self.vectors_report: dict | None = None

    def _require(self) -> TaggerNet:
        if self.net is None or self.encoder is None:
            raise RuntimeError("the tagger is not trained: call fit() or Tagger.load() first")
        return self.net

    def fit(self, train, val=None, tags=(), vectors: str | os.PathLike | None = None) -> FitResult:
        """Build vocabularies from ``train`` and train; ``val`` drives early stopping / best weights.

        ``tags``: labels to include in the tag set even when ``train`` lacks them (so that models
        trained on different parts of a data set share one tag set). ``vectors``: a GloVe /
        word2vec text file the word embedding starts from (its size must be ``word_dim``; what
        was found is in :attr:`vectors_report`); the trained weights are saved with the model.
        """
        train_pairs = as_pairs(train)
        val_pairs = None if val is None else as_pairs(val)
        module, tr, va = self.prepare(train_pairs, val_pairs, tags, vectors)
        started = time.perf_counter()
        result = fit(module, tr, va, self.train_config)
        self.finish(train_pairs, result, time.perf_counter() - started)
        return result

    def prepare(self, train_pairs, val_pairs=None, tags=(), vectors: str | os.PathLike | None = None):
        """Build the vocabularies and the network from ``train_pairs``: ``(module, train_loader, val_loader)``.

        What :meth:`fit` trains; ``lstmkit.tasks.Tag`` trains it through its own member loop.
        """
        if any(t is None for _, t in train_pairs):
            raise ValueError("training sentences need tags")
        cfg = self.config
        self.encoder = TagEncoder.build(train_pairs, cfg.min_freq, cfg.max_vocab, cfg.lowercase,
                                        subword=(cfg.subword_buckets, cfg.subword_min_n, cfg.subword_max_n), tags=tags,
                                        lexicon=cfg.lexicon)
        torch.manual_seed(self.train_config.seed)
        self.net = TaggerNet(cfg, len(self.encoder.words), len(self.encoder.chars), self.encoder.tags,
                             _lexicon_size(self.encoder))
        if vectors is not None:
            self.vectors_report = init_embedding(self.net.word_emb, vectors, self.encoder.words,
                                                 lowercase=self.encoder.lowercase, seed=self.train_config.seed)
        tr = make_loader(self.encoder, train_pairs, cfg.batch_size, shuffle=True, seed=self.train_config.seed)
        va = None
        if val_pairs is not None:
            va = make_loader(self.encoder, val_pairs, 4 * cfg.batch_size, shuffle=False)
        return TaggerModule(self.net, self.train_config), tr, va

    def finish(self, train_pairs, result: FitResult, seconds: float) -> None:
        """Record the training time and tokens of a finished :meth:`prepare` run; eval mode."""
        self.train_seconds = seconds
        self.train_tokens = sum(len(t) for t, _ in train_pairs) * max(result.epochs, 1)
        self.net.eval()

    def _batches(self, sentences, batch_size: int):
        """``(loader, order)``: length-bucketed batches of the tokens and the input index of each row."""
        token_lists = []
        for i, s in enumerate(sentences):
            toks = s.tokens if hasattr(s, "tokens") else (s[0] if isinstance(s, tuple) else s)
            if len(toks) == 0:
                raise ValueError(f"sentence {i} has no tokens")
            token_lists.append(list(toks))
        loader = make_loader(self.encoder, [(t, None) for t in token_lists], batch_size, shuffle=False)
        return loader, [i for b in loader.batch_sampler for i in b]

    def predict(self, sentences, batch_size: int = 256) -> list[list[str]]:
        """Tags for each sentence (a list of tokens, a pair or a Sentence); decoded batch by batch."""
        net = self._require()
        loader, order = self._batches(sentences, batch_size)
        net.eval()
        out: list[list[str]] = [[] for _ in order]
        rows = iter(order)
        start = time.perf_counter()
        for batch in loader:
            ids = net.decode(batch)
            for row, n in zip(ids.tolist(), batch["lengths"].tolist()):
                out[next(rows)] = [self.encoder.tags[k] for k in row[:n]]
        self.last_decode_seconds = time.perf_counter() - start
        return out

    @torch.no_grad()
    def emissions(self, sentences, batch_size: int = 256) -> list[torch.Tensor]:
        """The emission scores :math:`E` of each sentence, a ``(T_i, K)`` tensor per sentence, in input order.

        Columns follow ``self.encoder.tags``; with the CRF head they are the
        unnormalised scores the CRF adds to its transitions, with the softmax
        head the logits.
        """
        net = self._require()
        loader, order = self._batches(sentences, batch_size)
        net.eval()
        out: list[torch.Tensor] = [torch.empty(0) for _ in order]
        rows = iter(order)
        for batch in loader:
            em = net.emissions(batch)
            for row, n in zip(em, batch["lengths"].tolist()):
                out[next(rows)] = row[:n].clone()
        return out

    def evaluate(self, sentences) -> dict[str, float]:
        """Token accuracy (all / unseen words), span P/R/F1, decode tokens per second."""
        pairs = as_pairs(sentences)
        if any(t is None for _, t in pairs):
            raise ValueError("evaluation sentences need tags")
        self._require()
        for i, (_, tags) in enumerate(pairs):
            self.encoder.tag_ids(tags, where=f"sentence {i}: ")
        pred = self.predict([t for t, _ in pairs])
        unseen = [[self.encoder.words.stoi.get(w.lower() if self.encoder.lowercase else w) is None
                   for w in toks] for toks, _ in pairs]
        return report(pairs, pred, unseen, self.last_decode_seconds)

    def save(self, path: str | os.PathLike) -> Path:
        """Write a saved-model directory (weights + config + vocabularies), atomically."""
        net = self._require()
        return save_model(path, task=TASK_NAME, config=self.config.to_dict(), state_dict=net.state_dict(),
                          extras={"encoder": self.encoder.to_dict(), "train_config": self.train_config.to_dict()})

    @classmethod
    @load_errors("tag")
    def load(cls, path: str | os.PathLike, lexicon: str | os.PathLike | None = None) -> "Tagger":
        """Load a directory written by :meth:`save` (raises ``ModelLoadError`` when unusable).

        ``lexicon``: where the Hunspell lexicon the model was trained with is now, when it moved
        (default: the path saved with the model). A lexicon whose bytes differ from the one used
        in training gives a warning: its features, and so some predictions, may differ.
        """
        saved = load_model(path, task=TASK_NAME)
        if "model" in saved.config:  # a Tag model directory: its one tagger
            from .task import Tag

            task = Tag.load(path, lexicon=lexicon)
            if task.members != 1:
                raise ModelLoadError(f"'{path}' holds an ensemble of {task.members} taggers: "
                                     "load it with Tag.load or load_tagger")
            return task.taggers[0]
        config = dict(saved.config)
        encoder = dict(saved.extras["encoder"])
        if lexicon is not None:
            config["lexicon"] = encoder["lexicon"] = str(lexicon)
        tagger = cls(TaggerConfig(**config), TrainConfig.from_dict(saved.extras["train_config"]))
        tagger.encoder = TagEncoder.from_dict(encoder)
        check_lexicon(tagger.encoder, path)
        tagger.net = TaggerNet(tagger.config, len(tagger.encoder.words), len(tagger.encoder.chars),
                               tagger.encoder.tags, _lexicon_size(tagger.encoder))
        saved.load_into(tagger.net)
        tagger.net.eval()
        return tagger


def check_lexicon(encoder: TagEncoder, path) -> None:
    """A model's lexicon must exist (ModelLoadError) and should be the one it was trained with (warning)."""
    if not encoder.lexicon:
        return
    try:
        digest = encoder.lexicon_features.sha256()
    except FileNotFoundError as e:
        raise ModelLoadError(f"'{path}' was trained with a lexicon that is missing here: {e}; "
                             "pass load(..., lexicon=PATH) if it moved") from None
    if digest != encoder.lexicon_sha256:
        warnings.warn(f"'{path}': the lexicon {encoder.lexicon} differs from the one the model "
                      "was trained with; predictions may differ", stacklevel=3)
