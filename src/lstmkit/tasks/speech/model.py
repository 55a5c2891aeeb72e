r"""The speech networks: a stacked (Bi)LSTM over (stacked) frames with a CTC or a class head.

Frame stacking by :math:`k` (``stack``): features :math:`x_{1..T} \in
\mathbb{R}^{T \times F}` are zero-padded to a multiple of :math:`k` and
reshaped to :math:`u_{1..T'} \in \mathbb{R}^{T' \times kF}`,
:math:`T' = \lceil T/k \rceil`, :math:`u_j = [x_{(j-1)k+1}; \dots; x_{jk}]`.
Then :math:`h_{1..T'} = \mathrm{(Bi)LSTM}(u_{1..T'})` (lstmkit's layer with
``lengths``: padding never enters the recurrence; ``proj_size`` > 0 projects
each layer's output, LSTMP).

* ``ctc``: :math:`\log p_t(\cdot) = \log\mathrm{softmax}(W \,\mathrm{dropout}(h_t) + b)`
  over blank + characters; loss ``torch.nn.CTCLoss`` (blank 0, mean over the
  batch of the per-utterance loss divided by its target length, infinite
  losses of impossible alignments zeroed).
* ``words``: :math:`z` = the mean of :math:`h_{1..T'}` or each direction's final
  state, :math:`p(y \mid x) = \mathrm{softmax}(W\,\mathrm{dropout}(z) + b)`, cross-entropy.

Streaming (:meth:`SpeechNet.stream_step`, unidirectional only): the same
stacking and LSTM on a chunk of frames with the LSTM state carried from the
previous chunk, so the chunked log-probabilities equal the whole-utterance ones.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

import lstmkit
from lstmkit.train import TaskModule, TrainConfig


def stack_frames(x: torch.Tensor, lengths: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, T, F)`` -> ``(B, ceil(T/k), k F)`` and the stacked lengths ``ceil(lengths / k)``."""
    if k == 1:
        return x, lengths
    b, t, f = x.shape
    extra = (-t) % k
    if extra:
        x = F.pad(x, (0, 0, 0, extra))
    return x.reshape(b, (t + extra) // k, k * f), (lengths + k - 1) // k


class SpeechNet(nn.Module):
    """(B, T, F) features and (B,) lengths -> CTC log-probs (B, T', V) or class logits (B, K)."""

    def __init__(self, input_size: int, n_out: int, mode: str = "ctc", hidden_size: int = 128,
                 num_layers: int = 2, bidirectional: bool = True, proj_size: int = 0, stack: int = 1,
                 pooling: str = "mean", dropout: float = 0.1) -> None:
        super().__init__()
        self.mode, self.stack, self.pooling, self.bidirectional = mode, stack, pooling, bidirectional
        self.lstm = lstmkit.LSTM(input_size * stack, hidden_size, num_layers=num_layers, batch_first=True,
                                 bidirectional=bidirectional, proj_size=proj_size,
                                 dropout=dropout if num_layers > 1 else 0.0)
        width = (proj_size or hidden_size) * (2 if bidirectional else 1)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_out)

    @classmethod
    def from_config(cls, input_size: int, n_out: int, mc) -> SpeechNet:
        return cls(input_size, n_out, mc.mode, mc.hidden_size, mc.num_layers, mc.bidirectional, mc.proj_size,
                   mc.stack, mc.pooling, mc.dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``ctc``: ``(log_probs (B, T', V), lengths (B,))``; ``words``: ``(logits (B, K), lengths)``."""
        u, lengths = stack_frames(x, lengths, self.stack)
        out, (h_n, _) = self.lstm(u, lengths=lengths)                         # (B, T', D)
        if self.mode == "ctc":
            return F.log_softmax(self.head(self.drop(out)), dim=-1), lengths
        if self.pooling == "last":
            z = torch.cat([h_n[-2], h_n[-1]], dim=1) if self.bidirectional else h_n[-1]
        else:
            z = out.sum(dim=1) / lengths[:, None].to(out.dtype)               # outputs past T' are zero
        return self.head(self.drop(z)), lengths

    def stream_step(self, frames: torch.Tensor, state: tuple | None) -> tuple[torch.Tensor, tuple]:
        """``frames`` ``(n k, F)`` of one utterance (a multiple of ``stack``) -> ``(log_probs (n, V), state)``."""
        if self.bidirectional or self.mode != "ctc":
            raise ValueError("streaming needs a unidirectional ctc model (mode='ctc', bidirectional=False)")
        u = frames.reshape(1, -1, frames.shape[1] * self.stack)
        out, state = self.lstm(u, state)
        return F.log_softmax(self.head(out[0]), dim=-1), state


class SpeechModule(TaskModule):
    """``ctc`` batches ``(x, lengths, targets, target_lengths)``; ``words`` batches ``(x, lengths, y)``."""

    def __init__(self, net: SpeechNet, train_config: TrainConfig) -> None:
        super().__init__(train_config)
        self.net = net
        self.ctc = nn.CTCLoss(blank=0, zero_infinity=True)

    def _loss(self, batch) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.net.mode == "ctc":
            x, lengths, targets, target_lengths = batch
            log_probs, out_lengths = self.net(x, lengths)
            return self.ctc(log_probs.transpose(0, 1), targets, out_lengths, target_lengths), None
        x, lengths, y = batch
        logits, _ = self.net(x, lengths)
        return F.cross_entropy(logits, y), (logits.argmax(1) == y).float().mean()

    def training_step(self, batch, batch_idx):
        return self._loss(batch)[0]

    def validation_step(self, batch, batch_idx):
        loss, acc = self._loss(batch)
        n = len(batch[1])
        self.log("val_loss", loss, prog_bar=True, batch_size=n)
        if acc is not None:
            self.log("val_acc", acc, prog_bar=True, batch_size=n)
