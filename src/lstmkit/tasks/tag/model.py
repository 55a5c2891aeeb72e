r"""BiLSTM tagger: word embeddings + character BiLSTM, then a CRF or a softmax head.

For a sentence :math:`w_1..w_T`:

.. math::
    c_t &= [\overrightarrow{h}^{char}_{|w_t|};\ \overleftarrow{h}^{char}_{1}]
        \quad\text{(final states of a BiLSTM over the characters of } w_t)\\
    x_t &= [E_{word}(w_t) + \overline{E_{sub}}(w_t);\ c_t;\ \overline{E_{lex}}(\phi(w_t))],\qquad
    h_{1..T} = \mathrm{BiLSTM}(x_{1..T}),\qquad
    E_t = W h_t + b \in \mathbb{R}^K

where :math:`\overline{E_{sub}}` is the mean embedding of the word's hashed
character n-grams (``subword_buckets > 0``) and :math:`\overline{E_{lex}}` the
mean embedding of its Hunspell lexicon features :math:`\phi(w_t)`
(``lexicon``, :mod:`lstmkit.text.lexicon`); both are optional.

The head is a linear-chain :class:`~lstmkit.tasks.tag.crf.CRF` over the
emissions :math:`E` (loss :math:`-\log p(y|x)`, Viterbi decoding) or a
per-token softmax (cross-entropy, argmax). Both LSTMs get the true lengths,
so padding never enters the recurrence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

import lstmkit
from lstmkit.text import lengths_to_mask
from lstmkit.train import TaskModule, TrainConfig

from .crf import CRF, bio_constraints
from .metrics import has_span_tags, span_prf

__all__ = ["TaggerConfig", "TaggerNet", "TaggerModule"]

from .config import HEADS  # noqa: E402  (declared once, beside the config)


@dataclass(frozen=True)
class TaggerConfig:
    """Architecture and data knobs of the tagger.

    ``word_dim``/``char_dim``: embedding sizes; ``char_hidden``: per-direction
    size of the character BiLSTM (0 = no character encoder); ``hidden``:
    per-direction size of the sentence BiLSTM, ``num_layers`` of them;
    ``dropout`` on embeddings and LSTM outputs; ``word_dropout``: probability
    of replacing a word id by ``<unk>`` while training (teaches the unknown
    embedding); ``head``: ``"crf"`` or ``"softmax"``; ``bio``: constrain the
    CRF to valid BIO transitions; ``min_freq``/``max_vocab``: word vocabulary;
    ``lowercase``: lowercase words for the word vocabulary (characters keep
    case); ``batch_size``; ``subword_buckets``: when > 0, the word embedding
    is added to the mean embedding of the word's hashed character n-grams
    (``subword_min_n`` to ``subword_max_n``, :mod:`lstmkit.text.subword`);
    ``lexicon``: path of a Hunspell ``.dic`` (``.aff`` beside it) whose
    feature bag per word (:mod:`lstmkit.text.lexicon`) is embedded in
    ``lexicon_dim`` and concatenated to each word's input (None = off).
    """

    word_dim: int = 100
    char_dim: int = 32
    char_hidden: int = 50
    hidden: int = 128
    num_layers: int = 1
    dropout: float = 0.33
    word_dropout: float = 0.05
    head: str = "crf"
    bio: bool = True
    min_freq: int = 1
    max_vocab: int | None = None
    lowercase: bool = True
    batch_size: int = 32
    subword_buckets: int = 0
    subword_min_n: int = 2
    subword_max_n: int = 4
    lexicon: str | None = None
    lexicon_dim: int = 50

    def __post_init__(self) -> None:
        for name in ("word_dim", "hidden", "num_layers", "batch_size", "min_freq", "lexicon_dim"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"TaggerConfig.{name}: expected an int >= 1, got {v!r}")
        for name in ("char_dim", "char_hidden"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 0:
                raise ValueError(f"TaggerConfig.{name}: expected an int >= 0, got {v!r}")
        for name in ("dropout", "word_dropout"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise ValueError(f"TaggerConfig.{name}: expected a float in [0, 1), got {v!r}")
        if not isinstance(self.subword_buckets, int) or self.subword_buckets < 0:
            raise ValueError(f"TaggerConfig.subword_buckets: expected an int >= 0, got {self.subword_buckets!r}")
        if not 1 <= self.subword_min_n <= self.subword_max_n:
            raise ValueError("TaggerConfig.subword_min_n/max_n: expected 1 <= min_n <= max_n, got "
                             f"{self.subword_min_n}, {self.subword_max_n}")
        if self.head not in HEADS:
            raise ValueError(f"TaggerConfig.head: expected one of {HEADS}, got {self.head!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class TaggerNet(nn.Module):
    """The network: batch dict -> emissions (B, T, K)."""

    def __init__(self, cfg: TaggerConfig, n_words: int, n_chars: int, tags: list[str], n_lexicon: int = 0) -> None:
        super().__init__()
        self.cfg = cfg
        self.tags = list(tags)
        self.word_emb = nn.Embedding(n_words, cfg.word_dim, padding_idx=0)
        if cfg.subword_buckets:
            self.subword = nn.EmbeddingBag(cfg.subword_buckets, cfg.word_dim, mode="mean")
        in_size = cfg.word_dim
        if cfg.char_hidden > 0:
            self.char_emb = nn.Embedding(n_chars, cfg.char_dim, padding_idx=0)
            self.char_lstm = lstmkit.LSTM(cfg.char_dim, cfg.char_hidden, batch_first=True, bidirectional=True)
            in_size += 2 * cfg.char_hidden
        if cfg.lexicon:
            if n_lexicon < 1:
                raise ValueError("TaggerNet: a lexicon is configured but n_lexicon (its feature count) is 0")
            self.lexicon = nn.EmbeddingBag(n_lexicon, cfg.lexicon_dim, mode="mean")
            in_size += cfg.lexicon_dim
        self.drop = nn.Dropout(cfg.dropout)
        self.lstm = lstmkit.LSTM(in_size, cfg.hidden, num_layers=cfg.num_layers, batch_first=True,
                                 bidirectional=True, dropout=cfg.dropout if cfg.num_layers > 1 else 0.0)
        self.proj = nn.Linear(2 * cfg.hidden, len(tags))
        if cfg.head == "crf":
            masks = bio_constraints(tags) if cfg.bio else (None, None, None)
            self.crf = CRF(len(tags), *masks)

    def emissions(self, batch: dict[str, torch.Tensor], unk_id: int = 1) -> torch.Tensor:
        words = batch["words"]
        lengths = batch["lengths"]
        if self.training and self.cfg.word_dropout > 0:
            drop = torch.rand(words.shape, device=words.device) < self.cfg.word_dropout
            words = torch.where(drop & (words != 0), torch.full_like(words, unk_id), words)
        x = self.word_emb(words)  # (B, T, Dw)
        if self.cfg.subword_buckets:
            forms = self.subword(batch["ngram_ids"], batch["ngram_offsets"])  # (U, Dw)
            x = x + forms[batch["word_index"]]  # (B, T, Dw)
        if self.cfg.char_hidden > 0:
            c = self.char_emb(batch["chars"])  # (U, C, Dc)
            _, (h, _) = self.char_lstm(c, lengths=batch["char_lengths"])  # h: (2, U, Hc)
            char_forms = torch.cat([h[0], h[1]], dim=-1)  # (U, 2Hc)
            x = torch.cat([x, char_forms[batch["word_index"]]], dim=-1)  # (B, T, Dw + 2Hc)
        if self.cfg.lexicon:
            lex = self.lexicon(batch["lex_ids"], batch["lex_offsets"])  # (U, Dl)
            x = torch.cat([x, lex[batch["word_index"]]], dim=-1)  # (B, T, ... + Dl)
        out, _ = self.lstm(self.drop(x), lengths=lengths)  # (B, T, 2H), zero past each length
        return self.proj(self.drop(out))  # (B, T, K)

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        em = self.emissions(batch)
        mask = lengths_to_mask(batch["lengths"], em.shape[1])
        if self.cfg.head == "crf":
            return self.crf(em, batch["tags"], mask)
        logp = torch.log_softmax(em, dim=-1)
        nll = -logp.gather(-1, batch["tags"].unsqueeze(-1)).squeeze(-1)  # (B, T)
        return (nll * mask).sum() / mask.sum()

    @torch.no_grad()
    def decode(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Best tag ids (B, T) for the whole batch at once."""
        em = self.emissions(batch)
        if self.cfg.head == "crf":
            mask = lengths_to_mask(batch["lengths"], em.shape[1])
            return self.crf.decode(em, mask)[0]
        return em.argmax(-1)


class TaggerModule(TaskModule):
    """Lightning wrapper: loss for training; for validation ``val_loss``, token accuracy ``val_acc``
    and, when the tags mark spans (BIO, IOBES, BILOU), the micro span F1 of the whole validation
    set ``val_span_f1`` (:func:`~lstmkit.tasks.tag.metrics.span_prf`), so
    ``TrainConfig(monitor="val_span_f1", monitor_mode="max")`` keeps the epoch with the best F1."""

    def __init__(self, net: TaggerNet, train_config: TrainConfig | None = None) -> None:
        super().__init__(train_config)
        self.net = net
        self._spans = has_span_tags(net.tags)
        self._val_gold: list[list[str]] = []
        self._val_pred: list[list[str]] = []

    def on_validation_epoch_start(self) -> None:
        self._val_gold, self._val_pred = [], []

    def on_validation_epoch_end(self) -> None:
        if self._spans and self._val_gold:
            f1 = span_prf(self._val_gold, self._val_pred)["f1"]
            self.log("val_span_f1", f1, prog_bar=True, sync_dist=True)
        self._val_gold, self._val_pred = [], []

    def training_step(self, batch, batch_idx):
        return self.net.loss(batch)

    def validation_step(self, batch, batch_idx):
        loss = self.net.loss(batch)
        pred = self.net.decode(batch)
        mask = lengths_to_mask(batch["lengths"], pred.shape[1])
        acc = ((pred == batch["tags"]) & mask).sum().float() / mask.sum()
        n = int(batch["lengths"].numel())
        self.log("val_loss", loss, prog_bar=True, batch_size=n)
        self.log("val_acc", acc, prog_bar=True, batch_size=n)
        if self._spans:
            tags = self.net.tags
            for g, p, k in zip(batch["tags"].tolist(), pred.tolist(), batch["lengths"].tolist()):
                self._val_gold.append([tags[i] for i in g[:k]])
                self._val_pred.append([tags[i] for i in p[:k]])
