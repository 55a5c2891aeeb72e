r"""The sequence classifiers: a (Bi)LSTM with pooling, and LSTM-FCN.

For a standardised series :math:`x_{1..T} \in \mathbb{R}^{T \times C}` (true
length :math:`T`; padding never enters the recurrence, the layer gets ``lengths``):

.. math::
    h_{1..T} = \mathrm{(Bi)LSTM}(x_{1..T}) \in \mathbb{R}^{T \times D},
    \quad D = H \cdot (2 \text{ if bidirectional else } 1)

pooled to :math:`z \in \mathbb{R}^D`:

* ``last``: :math:`z = [\overrightarrow{h}_T; \overleftarrow{h}_1]` (each direction's final state);
* ``mean``: :math:`z = \frac1T \sum_{t \le T} h_t`;
* ``attention``: :math:`s_t = v^\top \tanh(W h_t + b)`, :math:`a = \mathrm{softmax}_{t \le T}(s)`,
  :math:`z = \sum_t a_t h_t` (additive attention; the learned query is folded into :math:`b`).

LSTM-FCN (Karim, Majumdar, Darabi & Chen 2017) puts a fully convolutional
branch beside the LSTM branch: blocks :math:`u \leftarrow \mathrm{ReLU}(\mathrm{BN}(
\mathrm{Conv1d}_{k}(u)))` (128/256/128 filters, kernels 8/5/3), then the mean over the
valid steps, :math:`f \in \mathbb{R}^{F}`; the classifier reads :math:`[z; f]`.
Karim et al. feed the LSTM a "dimension-shuffled" input (the whole series as one
step); here the LSTM reads the series step by step, so that unequal lengths
and the inspection of gates over time work. Padded steps are zeroed after
every block, and batch normalisation is masked: in training, its mean and
variance are over the valid steps of the batch only,
:math:`\mu = \sum_{b,t} m_{bt} u_{bt} / \sum m`, :math:`\sigma^2 = \sum m (u - \mu)^2 / \sum m`
(the running statistics are updated from these), so a series' features do not
depend on how much padding its batch carries.

Head: :math:`p(y \mid x) = \mathrm{softmax}(W\,\mathrm{dropout}(z) + b)`, trained with cross-entropy.

Streaming (:meth:`SeqClassNet.step_logits`, unidirectional LSTM only): the
same pooling over the prefix :math:`x_{1..t}` for every :math:`t`, so the
logits at :math:`t = T` are those of the whole sequence.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

import lstmkit
from lstmkit.train import TaskModule, TrainConfig


def _mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """(B,) lengths -> (B, T) bool, True on valid steps."""
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


def masked_batch_norm(bn: nn.BatchNorm1d, u: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``bn`` applied to ``u (B, F, T)`` with statistics over the steps where ``mask (B, 1, T)`` is 1.

    Training: batch mean and biased variance over the valid steps normalise
    ``u``; the running mean and the unbiased variance are updated with ``bn``'s
    momentum (as ``nn.BatchNorm1d`` does). Evaluation: the running statistics.
    """
    if bn.training:
        count = mask.sum()                                               # valid steps in the batch
        mean = (u * mask).sum(dim=(0, 2)) / count                        # (F,)
        var = (((u - mean[None, :, None]) * mask) ** 2).sum(dim=(0, 2)) / count
        with torch.no_grad():
            bn.num_batches_tracked += 1
            m = bn.momentum
            bn.running_mean.mul_(1 - m).add_(m * mean)
            bn.running_var.mul_(1 - m).add_(m * var * count / (count - 1).clamp_min(1))
    else:
        mean, var = bn.running_mean, bn.running_var
    z = (u - mean[None, :, None]) / torch.sqrt(var[None, :, None] + bn.eps)
    return z * bn.weight[None, :, None] + bn.bias[None, :, None]


class FCN(nn.Module):
    """The convolutional branch of LSTM-FCN: (B, T, C) -> (B, filters[-1])."""

    def __init__(self, input_size: int, filters: tuple[int, ...], kernels: tuple[int, ...]) -> None:
        super().__init__()
        blocks, width = [], input_size
        for f, k in zip(filters, kernels):
            blocks.append(nn.ModuleDict({"conv": nn.Conv1d(width, f, k), "bn": nn.BatchNorm1d(f)}))
            width = f
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = _mask(lengths, x.shape[1]).unsqueeze(1).to(x.dtype)      # (B, 1, T)
        u = x.transpose(1, 2) * mask                                     # (B, T, C) -> (B, C, T)
        for block in self.blocks:
            k = block["conv"].kernel_size[0]
            u = F.pad(u, ((k - 1) // 2, k // 2))                         # "same" length: (B, C, T + k - 1)
            u = F.relu(masked_batch_norm(block["bn"], block["conv"](u), mask)) * mask   # (B, F_k, T)
        return u.sum(dim=2) / lengths[:, None].to(x.dtype)               # (B, F)


class SeqClassNet(nn.Module):
    """(B, T, C) padded series and (B,) lengths -> (B, K) class logits (see the module docstring)."""

    def __init__(self, input_size: int, n_classes: int, model: str = "lstm", hidden_size: int = 64,
                 num_layers: int = 1, bidirectional: bool = True, pooling: str = "last",
                 dropout: float = 0.2, filters: tuple[int, ...] = (128, 256, 128),
                 kernels: tuple[int, ...] = (8, 5, 3)) -> None:
        super().__init__()
        self.pooling, self.bidirectional = pooling, bidirectional
        self.lstm = lstmkit.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                                 bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        width = hidden_size * (2 if bidirectional else 1)
        if pooling == "attention":
            self.score = nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1, bias=False))
        self.fcn = FCN(input_size, tuple(filters), tuple(kernels)) if model == "lstm_fcn" else None
        features = width + (filters[-1] if self.fcn is not None else 0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(features, n_classes)

    @classmethod
    def from_config(cls, input_size: int, n_classes: int, mc) -> SeqClassNet:
        return cls(input_size, n_classes, mc.model, mc.hidden_size, mc.num_layers, mc.bidirectional,
                   mc.pooling, mc.dropout, mc.filters, mc.kernels)

    def _pool(self, out: torch.Tensor, h_n: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.pooling == "last":
            if self.bidirectional:
                return torch.cat([h_n[-2], h_n[-1]], dim=1)              # (B, 2H)
            return h_n[-1]                                               # (B, H)
        mask = _mask(lengths, out.shape[1])                              # (B, T)
        if self.pooling == "mean":
            return out.sum(dim=1) / lengths[:, None].to(out.dtype)       # outputs past T are zero
        scores = self.score(out).squeeze(-1).masked_fill(~mask, float("-inf"))   # (B, T)
        weights = torch.softmax(scores, dim=1)
        return torch.einsum("bt,btd->bd", weights, out)                  # (B, D)

    def features(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, (h_n, _) = self.lstm(x, lengths=lengths)                    # (B, T, D), (layers*dirs, B, H)
        z = self._pool(out, h_n, lengths)
        if self.fcn is not None:
            z = torch.cat([z, self.fcn(x, lengths)], dim=1)              # (B, D + F)
        return z

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.features(x, lengths)))

    def step_logits(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits after every step ``(B, T, K)`` from the prefix pooled so far (unidirectional LSTM)."""
        if self.bidirectional or self.fcn is not None:
            raise ValueError("streaming needs a unidirectional LSTM model (model='lstm', "
                             "bidirectional=False): a backward pass or convolution sees the future")
        out, _ = self.lstm(x, lengths=lengths)                           # (B, T, H)
        t = torch.arange(1, out.shape[1] + 1, device=x.device, dtype=out.dtype)
        if self.pooling == "last":
            pooled = out
        elif self.pooling == "mean":
            pooled = out.cumsum(dim=1) / t[None, :, None]                # running mean
        else:
            s = self.score(out).squeeze(-1).double()                     # (B, T)
            s = s.masked_fill(~_mask(lengths, out.shape[1]), float("-inf"))
            top = s.max(dim=1, keepdim=True).values                      # stabiliser, (B, 1)
            e = torch.exp(s - top)                                       # 0 on padding
            num = (e.unsqueeze(-1) * out.double()).cumsum(dim=1)         # (B, T, H)
            pooled = (num / e.cumsum(dim=1).clamp_min(1e-300).unsqueeze(-1)).to(out.dtype)
        return self.head(self.drop(pooled))                              # (B, T, K)


class SeqClassModule(TaskModule):
    """Batches ``(x (B, T, C), lengths (B,), y (B,))``; loss: cross-entropy; logs val_loss and val_acc."""

    def __init__(self, net: SeqClassNet, train_config: TrainConfig) -> None:
        super().__init__(train_config)
        self.net = net

    def training_step(self, batch, batch_idx):
        x, lengths, y = batch
        return F.cross_entropy(self.net(x, lengths), y)

    def validation_step(self, batch, batch_idx):
        x, lengths, y = batch
        logits = self.net(x, lengths)
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True, batch_size=len(y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean(), prog_bar=True, batch_size=len(y))
