"""Encoder-decoder with attention and input feeding (Bahdanau et al. 2015; Luong et al. 2015).

Encoder: a bidirectional ``lstmkit.LSTM`` over the source embeddings, fed the
true lengths (pads are never read), giving keys K = [→h_s; ←h_s] (B, S, 2H).
The decoder starts from a bridge of the final states of both directions,
h_0^l = tanh(W_b [→h^l; ←h^l]) (and likewise c), per layer.

Decoder step t (``lstmkit.LSTMCell`` per layer), with h̃_0 = 0:

    x_t  = [E_y[y_{t-1}]; h̃_{t-1}]       input feeding (just E_y[y_{t-1}] without it)
    h_t  = LSTM(x_t, h_{t-1})             (top layer's output)
    c_t, α_t = Attention(h_t, K, mask)     additive or multiplicative (absent for "none")
    h̃_t  = tanh(W_c [c_t; h_t])            attentional hidden state (W_c h_t for "none")
    p(y_t | y_<t, x) = softmax(W_o h̃_t)

Training uses teacher forcing: y_{t-1} is the reference token.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

import lstmkit

from .config import ATTENTIONS  # noqa: E402  (declared once, beside the config)


@dataclass(frozen=True)
class Seq2SeqConfig:
    """Architecture and text handling of a translation model.

    tokenizer: "word" (words keep their leading spaces, so detokenizing is
        exact) or "bpe" (byte-level BPE per language, ``bpe_vocab_size``).
    lowercase: lowercase both sides (word tokenizer).
    embed_size: source and target embedding size.
    hidden_size: encoder size per direction and decoder size.
    num_layers: layers of encoder and decoder.
    dropout: on embeddings, between layers and on h̃.
    attention: "additive" (Bahdanau), "general" / "concat" (Luong) or "none". Luong's
        "dot" needs the query and key sizes equal, which a bidirectional encoder's
        2H keys and the H decoder do not have.
    input_feeding: feed h̃_{t-1} into the decoder input.
    max_source_len / max_target_len: longer inputs are truncated with a warning
        (sources at translate time, both sides in training).
    min_freq, max_vocab: vocabulary limits per language (word tokenizer).
    """

    tokenizer: str = "word"
    lowercase: bool = False
    embed_size: int = 128
    hidden_size: int = 256
    num_layers: int = 1
    dropout: float = 0.2
    attention: str = "additive"
    input_feeding: bool = True
    max_source_len: int = 100
    max_target_len: int = 120
    min_freq: int = 2
    max_vocab: int | None = 20000
    bpe_vocab_size: int = 4000

    def __post_init__(self) -> None:
        if self.tokenizer not in ("word", "bpe"):
            raise ValueError(f"tokenizer: expected 'word' or 'bpe', received {self.tokenizer!r}")
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention: expected one of {list(ATTENTIONS)}, received {self.attention!r}")
        for name in ("embed_size", "hidden_size", "num_layers", "max_source_len", "max_target_len", "min_freq"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, received {value!r}")
        if not (0.0 <= self.dropout < 1.0):
            raise ValueError(f"dropout: expected a probability in [0, 1), received {self.dropout!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EncoderOutput:
    keys: Tensor  # (B, S, 2H)
    mask: Tensor  # (B, S) bool, True = real token
    projected: Tensor | None  # (B, S, A) for additive attention, else None


class Seq2Seq(nn.Module):
    """``forward(src, src_len, tgt_in) -> logits (B, T, V_tgt)`` with teacher forcing."""

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = config
        H, D, L = config.hidden_size, config.embed_size, config.num_layers
        self.src_embedding = nn.Embedding(src_vocab_size, D, padding_idx=0)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, D, padding_idx=0)
        self.encoder = lstmkit.LSTM(D, H, num_layers=L, batch_first=True, bidirectional=True,
                                    dropout=config.dropout if L > 1 else 0.0)
        self.bridge_h = nn.Linear(2 * H, H)
        self.bridge_c = nn.Linear(2 * H, H)
        in_size = D + (H if config.input_feeding else 0)
        self.cells = nn.ModuleList(lstmkit.LSTMCell(in_size if l == 0 else H, H) for l in range(L))
        if config.attention == "additive":
            self.attention = lstmkit.AdditiveAttention(H, 2 * H, H)
        elif config.attention in ("general", "concat"):
            self.attention = lstmkit.MultiplicativeAttention(H, 2 * H, score=config.attention)
        else:
            self.attention = None
        combine_in = (2 * H + H) if self.attention is not None else H
        self.combine = nn.Linear(combine_in, H, bias=False)
        self.drop = nn.Dropout(config.dropout)
        self.output = nn.Linear(H, tgt_vocab_size)

    # ------------------------------------------------------------------ encoder
    def encode(self, src: Tensor, src_len: Tensor) -> tuple[EncoderOutput, list[tuple[Tensor, Tensor]]]:
        """src (B, S) ids, src_len (B,) -> keys and the decoder's initial state per layer."""
        emb = self.drop(self.src_embedding(src))  # (B, S, D)
        keys, (h_n, c_n) = self.encoder(emb, lengths=src_len.cpu())  # (B, S, 2H); (2L, B, H)
        S = keys.shape[1]
        mask = torch.arange(S, device=src.device)[None, :] < src_len.to(src.device)[:, None]
        B, H = src.shape[0], self.config.hidden_size
        h_n = h_n.view(self.config.num_layers, 2, B, H)  # (2L, B, H) -> (L, 2, B, H)
        c_n = c_n.view(self.config.num_layers, 2, B, H)
        state = [
            (torch.tanh(self.bridge_h(torch.cat([h_n[l, 0], h_n[l, 1]], dim=-1))),
             torch.tanh(self.bridge_c(torch.cat([c_n[l, 0], c_n[l, 1]], dim=-1))))
            for l in range(self.config.num_layers)
        ]
        projected = self.attention.precompute(keys) if self.config.attention == "additive" else None
        return EncoderOutput(keys, mask, projected), state

    # ------------------------------------------------------------------ decoder
    def init_feed(self, batch: int, device: torch.device) -> Tensor:
        return torch.zeros(batch, self.config.hidden_size, device=device)

    def step(
        self, prev: Tensor, state: list[tuple[Tensor, Tensor]], feed: Tensor, enc: EncoderOutput
    ) -> tuple[Tensor, list[tuple[Tensor, Tensor]], Tensor, Tensor | None]:
        """One decoder step: prev (B,) ids -> (logits (B, V), state, h̃ (B, H), α (B, S) or None)."""
        x = self.drop(self.tgt_embedding(prev))  # (B, D)
        if self.config.input_feeding:
            x = torch.cat([x, feed], dim=-1)  # (B, D + H)
        new_state = []
        for l, cell in enumerate(self.cells):
            h, c = cell(x, state[l])
            new_state.append((h, c))
            x = self.drop(h) if l + 1 < len(self.cells) else h
        weights = None
        if self.attention is None:
            combined = self.combine(x)
        else:
            if self.config.attention == "additive":
                context, weights = self.attention(x, enc.keys, enc.mask, projected_keys=enc.projected)
            else:
                context, weights = self.attention(x, enc.keys, enc.mask)
            combined = self.combine(torch.cat([context, x], dim=-1))  # (B, 3H) -> (B, H)
        feed = torch.tanh(combined)
        return self.output(self.drop(feed)), new_state, feed, weights

    def forward(self, src: Tensor, src_len: Tensor, tgt_in: Tensor) -> Tensor:
        """Teacher forcing: tgt_in (B, T) starts with <bos>; returns logits (B, T, V)."""
        enc, state = self.encode(src, src_len)
        feed = self.init_feed(src.shape[0], src.device)
        outputs = []
        for t in range(tgt_in.shape[1]):
            logits, state, feed, _ = self.step(tgt_in[:, t], state, feed, enc)
            outputs.append(logits)
        return torch.stack(outputs, dim=1)  # T x (B, V) -> (B, T, V)


def repeat_encoder(enc: EncoderOutput, k: int) -> EncoderOutput:
    """Repeat each source k times along the batch: (B, ...) -> (B*k, ...), rows b*k..b*k+k-1."""
    rep = lambda t: None if t is None else t.repeat_interleave(k, dim=0)
    return EncoderOutput(rep(enc.keys), rep(enc.mask), rep(enc.projected))
