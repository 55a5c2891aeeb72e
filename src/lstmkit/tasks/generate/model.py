"""The LSTM language model: embedding -> lstmkit.LSTM stack -> linear over the vocabulary.

For tokens x_1..x_T (ids) and the state s_0 carried in from the previous window,

    e_t = E[x_t]                              E (V, D)
    h_t, s_t = LSTM(dropout(e_t), s_{t-1})    (L layers, dropout between them)
    z_t = W dropout(h_t) + b                  W (V, D) ; W = E when tied
    p(x_{t+1} | x_≤t) = softmax(z_t)

With ``tie_weights`` (Press & Wolf 2017, Inan et al. 2017) the output layer
shares E, which needs the LSTM's output size equal to D: the last layer
projects to D (``proj_size``) when ``hidden_size != embed_size``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

import lstmkit

from .config import TOKENIZERS  # noqa: E402  (declared once, beside the config)


@dataclass(frozen=True)
class LanguageModelConfig:
    """Architecture of a language model.

    tokenizer: "char", "word" or "bpe" (byte-level BPE, ``bpe_vocab_size`` merges target).
    lowercase: lowercase the text before tokenizing (word/char only).
    embed_size, hidden_size, num_layers: sizes of the embedding and the LSTM stack.
    dropout: on the embeddings, between LSTM layers and before the output layer.
    recurrent_dropout: variational dropout on h inside the LSTM (one mask per sequence).
    weight_drop: DropConnect on the hidden-to-hidden weights (Merity et al. 2018).
    tie_weights: share the input embedding with the output layer.
    min_freq, max_vocab: vocabulary limits (word/bpe; char keeps every character seen).
    """

    tokenizer: str = "char"
    lowercase: bool = False
    embed_size: int = 64
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.1
    recurrent_dropout: float = 0.0
    weight_drop: float = 0.0
    tie_weights: bool = False
    min_freq: int = 1
    max_vocab: int | None = None
    bpe_vocab_size: int = 4000

    def __post_init__(self) -> None:
        if self.tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer: expected one of {list(TOKENIZERS)}, received {self.tokenizer!r}")
        for name in ("embed_size", "hidden_size", "num_layers", "min_freq", "bpe_vocab_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, received {value!r}")
        for name in ("dropout", "recurrent_dropout", "weight_drop"):
            value = getattr(self, name)
            if not (0.0 <= value < 1.0):
                raise ValueError(f"{name}: expected a probability in [0, 1), received {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class LanguageModel(nn.Module):
    """``forward(ids (B, T), state=None) -> (logits (B, T, V), state)``; state = (h, c) of the LSTM."""

    def __init__(self, vocab_size: int, config: LanguageModelConfig) -> None:
        super().__init__()
        self.config = config
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, config.embed_size)
        tie_needs_proj = config.tie_weights and config.hidden_size != config.embed_size
        self.lstm = lstmkit.LSTM(
            config.embed_size,
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            proj_size=config.embed_size if tie_needs_proj else 0,
            recurrent_dropout=config.recurrent_dropout,
            weight_drop=config.weight_drop,
        )
        self.drop = nn.Dropout(config.dropout)
        out_size = config.embed_size if tie_needs_proj else config.hidden_size
        self.decoder = nn.Linear(out_size, vocab_size)
        if config.tie_weights:
            if out_size != config.embed_size:
                raise ValueError("tie_weights: the LSTM output size must equal embed_size")
            self.decoder.weight = self.embedding.weight

    def forward(
        self, ids: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        emb = self.drop(self.embedding(ids))  # (B, T) -> (B, T, D)
        out, state = self.lstm(emb, state)  # (B, T, H)
        return self.decoder(self.drop(out)), state  # (B, T, V)


def detach_state(state: tuple[Tensor, Tensor] | None) -> tuple[Tensor, Tensor] | None:
    """Cut the graph at a window boundary (truncated BPTT) but keep the values."""
    if state is None:
        return None
    return tuple(s.detach() for s in state)  # type: ignore[return-value]


def tbptt_loss(
    model: LanguageModel, stream: Tensor, bptt: int, state: tuple[Tensor, Tensor] | None = None
) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
    """Mean next-token cross-entropy over a batched stream, window by window.

    stream: (B, N) ids, row b a contiguous piece of text. Windows of ``bptt``
    steps are run in order with the final state of one window passed
    (detached) as the initial state of the next, so the forward values equal
    those of one pass over the whole row; only the gradient is truncated.
    Returns (mean loss as a graph-less tensor, final state).
    """
    total = torch.zeros((), dtype=torch.float64)
    count = 0
    starts = range(0, stream.shape[1] - 1, bptt)
    for start in tqdm(starts, desc="score", unit="window", disable=None, leave=False):
        inputs = stream[:, start : start + bptt]
        targets = stream[:, start + 1 : start + 1 + bptt]
        inputs = inputs[:, : targets.shape[1]]
        logits, state = model(inputs, state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum")
        total += loss.detach().double()
        count += targets.numel()
        state = detach_state(state)
    return total / max(count, 1), state
