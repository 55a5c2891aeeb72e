r"""LSTM text classifier / regressor with last, max, mean or attention pooling.

For token ids :math:`w_{1..T}` (true length :math:`T`, padding never enters
the recurrence):

.. math::
    h_{1..T} = \mathrm{(Bi)LSTM}(E(w_{1..T})) \in \mathbb{R}^{T \times D},
    \quad D = H \cdot (2 \text{ if bidirectional else } 1)

pooled to one vector :math:`z \in \mathbb{R}^D` by

* ``last``: :math:`z = [\overrightarrow{h}_T; \overleftarrow{h}_1]` (final states of each direction);
* ``max``: :math:`z_d = \max_t h_{t,d}`;
* ``mean``: :math:`z = \frac1T \sum_t h_t`;
* ``attention``: :math:`a = \mathrm{softmax}_t(v^\top \tanh(W_q q + W_k h_t))`,
  :math:`z = \sum_t a_t h_t` with a learned query :math:`q` (lstmkit.AdditiveAttention);
  the weights :math:`a` are returned for display.

Head: :math:`\mathrm{softmax}(W z + b)` over the classes (cross-entropy) or a
scalar :math:`W z + b` for regression (mean squared error on the standardised
score :math:`(y-\mu)/\sigma`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

import lstmkit
from lstmkit.text import lengths_to_mask
from lstmkit.train import TaskModule, TrainConfig

__all__ = ["ClassifierConfig", "ClassifierNet", "ClassifierModule", "POOLINGS", "TOKENIZERS"]

from .config import POOLINGS, TASKS, TOKENIZERS  # noqa: E402  (declared once, beside the config)


@dataclass(frozen=True)
class ClassifierConfig:
    """Architecture and data knobs of the classifier.

    ``task``: ``"classes"`` or ``"regression"``; ``tokenizer``: ``"word"``,
    ``"char"`` or ``"bpe"`` (``bpe_vocab_size`` merges learned on the
    training texts); ``lowercase``; ``min_freq``/``max_vocab``: vocabulary;
    ``embed_dim``; ``hidden`` per direction, ``num_layers``,
    ``bidirectional``; ``pooling`` in ``last | max | mean | attention``;
    ``attn_size``; ``dropout`` on embeddings and the pooled vector;
    ``embed_dropout``: probability of replacing a token by ``<unk>`` while
    training; ``max_tokens``: longer texts are cut; ``batch_size``;
    ``subword_buckets``: when > 0, each token's embedding is added to the
    mean embedding of its hashed character n-grams (``subword_min_n`` to
    ``subword_max_n``; see :mod:`lstmkit.text.subword`), which gives rare and
    unseen words a representation.
    """

    task: str = "classes"
    tokenizer: str = "word"
    lowercase: bool = True
    bpe_vocab_size: int = 8000
    min_freq: int = 1
    max_vocab: int | None = 50000
    embed_dim: int = 128
    hidden: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    pooling: str = "max"
    attn_size: int = 64
    dropout: float = 0.4
    embed_dropout: float = 0.1
    max_tokens: int = 400
    batch_size: int = 32
    subword_buckets: int = 0
    subword_min_n: int = 2
    subword_max_n: int = 4

    def __post_init__(self) -> None:
        checks = (("task", TASKS), ("tokenizer", TOKENIZERS), ("pooling", POOLINGS))
        for name, options in checks:
            if getattr(self, name) not in options:
                raise ValueError(f"ClassifierConfig.{name}: expected one of {options}, got {getattr(self, name)!r}")
        for name in ("min_freq", "embed_dim", "hidden", "num_layers", "attn_size", "max_tokens", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"ClassifierConfig.{name}: expected an int >= 1, got {v!r}")
        if not isinstance(self.subword_buckets, int) or self.subword_buckets < 0:
            raise ValueError(f"ClassifierConfig.subword_buckets: expected an int >= 0, got {self.subword_buckets!r}")
        if not 1 <= self.subword_min_n <= self.subword_max_n:
            raise ValueError("ClassifierConfig.subword_min_n/max_n: expected 1 <= min_n <= max_n, got "
                             f"{self.subword_min_n}, {self.subword_max_n}")
        for name in ("dropout", "embed_dropout"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise ValueError(f"ClassifierConfig.{name}: expected a float in [0, 1), got {v!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class ClassifierNet(nn.Module):
    """tokens (B, T) + lengths (B,) -> logits (B, C) or scores (B,), and attention weights."""

    def __init__(self, cfg: ClassifierConfig, vocab_size: int, n_outputs: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(vocab_size, cfg.embed_dim, padding_idx=0)
        if cfg.subword_buckets:
            self.subword = nn.EmbeddingBag(cfg.subword_buckets, cfg.embed_dim, mode="mean")
        self.lstm = lstmkit.LSTM(cfg.embed_dim, cfg.hidden, num_layers=cfg.num_layers, batch_first=True,
                                 bidirectional=cfg.bidirectional,
                                 dropout=cfg.dropout if cfg.num_layers > 1 else 0.0)
        size = cfg.hidden * (2 if cfg.bidirectional else 1)
        if cfg.pooling == "attention":
            self.query = nn.Parameter(torch.randn(size) * 0.1)
            self.attention = lstmkit.AdditiveAttention(size, size, cfg.attn_size)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(size, n_outputs)

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor,
               subwords: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Pooled vector (B, D) and attention weights (B, T) (None unless attention pooling).

        ``subwords``: ``(form_index (B, T), ngram_ids, ngram_offsets)`` when
        the config has ``subword_buckets > 0``.
        """
        if self.training and self.cfg.embed_dropout > 0:
            drop = torch.rand(tokens.shape, device=tokens.device) < self.cfg.embed_dropout
            tokens = torch.where(drop & (tokens != 0), torch.ones_like(tokens), tokens)  # 1 = <unk>
        x = self.embed(tokens)  # (B, T, E)
        if self.cfg.subword_buckets:
            if subwords is None:
                raise ValueError("this model uses subword features: pass subwords=(form_index, ids, offsets)")
            form_index, ids, offsets = subwords
            forms = self.subword(ids, offsets)  # (U, E): one vector per distinct token string
            x = x + forms[form_index]  # (B, T, E)
        x = self.drop(x)
        out, (h, _) = self.lstm(x, lengths=lengths)  # out (B, T, D), zero past each length
        mask = lengths_to_mask(lengths, out.shape[1])  # (B, T)
        weights = None
        pool = self.cfg.pooling
        if pool == "last":
            if self.cfg.bidirectional:
                z = torch.cat([h[-2], h[-1]], dim=-1)  # forward final, backward final: (B, 2H)
            else:
                z = h[-1]
        elif pool == "max":
            z = out.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values
        elif pool == "mean":
            z = out.sum(1) / lengths.to(out.dtype).unsqueeze(1)
        else:
            q = self.query.unsqueeze(0).expand(out.shape[0], -1)  # (B, D)
            z, weights = self.attention(q, out, mask)
        return z, weights

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor,
                subwords: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        z, weights = self.encode(tokens, lengths, subwords)
        y = self.head(self.drop(z))  # (B, C)
        if self.cfg.task == "regression":
            y = y.squeeze(-1)  # (B,)
        return y, weights


def subword_inputs(batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """The subword part of a batch, or None when the batch has none."""
    if "ngram_ids" not in batch:
        return None
    return batch["form_index"], batch["ngram_ids"], batch["ngram_offsets"]


class ClassifierModule(TaskModule):
    """Lightning wrapper: cross-entropy or MSE; validation logs loss and accuracy / RMSE."""

    def __init__(self, net: ClassifierNet, train_config: TrainConfig | None = None) -> None:
        super().__init__(train_config)
        self.net = net

    def _loss(self, batch):
        y, _ = self.net(batch["tokens"], batch["lengths"], subword_inputs(batch))
        if self.net.cfg.task == "regression":
            return nn.functional.mse_loss(y, batch["target"]), y
        return nn.functional.cross_entropy(y, batch["target"]), y

    def training_step(self, batch, batch_idx):
        return self._loss(batch)[0]

    def validation_step(self, batch, batch_idx):
        loss, y = self._loss(batch)
        n = int(batch["lengths"].numel())
        self.log("val_loss", loss, prog_bar=True, batch_size=n)
        if self.net.cfg.task == "classes":
            self.log("val_acc", (y.argmax(-1) == batch["target"]).float().mean(), prog_bar=True, batch_size=n)
        else:
            self.log("val_rmse_std", loss.sqrt(), prog_bar=True, batch_size=n)
