"""The forecasting network: an `lstmkit.LSTM` encoder and a direct multi-quantile head.

Given a window (see `windowing`), with encoder inputs x_1..x_L (B, L, D_in) and the
horizon's known features k_1..k_H (B, H, Fk):

    h_L          = LSTM(x_1..x_L)                                  (B, Hd)
    u            = ReLU(W_1 [h_L ; vec(k_1..k_H)] + b_1)          (B, Dh)
    q_hat        = W_2 u + b_2  reshaped to (H, Q)                 (B, H, Q)
    q_hat       += A z'_{1..L} + a   (linear skip, broadcast over Q; optional)

The quantile outputs are trained with the pinball loss, averaged over the Q levels and
H steps:

    rho_q(y, q_hat) = max( q (y - q_hat), (q - 1)(y - q_hat) )

At prediction time the Q outputs are sorted per step, so quantiles never cross.

Left-padded windows (a series shorter than L, see `windowing`) come with ``lengths``
c (B,): the encoder rows are rotated so the c real rows come first and the LSTM gets
``lengths``, so h_L is its state after the last *real* step.  Target steps that were
never observed carry ``mask`` = 0 and drop out of the loss:

    loss = sum_{b,h,q} mask_{b,h} rho_q / (Q sum_{b,h} mask_{b,h})
"""

from __future__ import annotations

import torch
from torch import nn

import lstmkit
from lstmkit.tasks.forecast.config import ModelConfig
from lstmkit.train import TaskModule, TrainConfig


def pinball_loss(pred: torch.Tensor, target: torch.Tensor, quantiles: torch.Tensor,
                 mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean pinball loss of `pred` (..., Q) against `target` (...) at levels `quantiles` (Q,),
    over the steps where `mask` (...) is 1 (all when None)."""
    diff = target.unsqueeze(-1) - pred                                  # (..., Q)
    loss = torch.maximum(quantiles * diff, (quantiles - 1.0) * diff)
    if mask is None:
        return loss.mean()
    return (loss * mask.unsqueeze(-1)).sum() / (mask.sum() * len(quantiles)).clamp_min(1.0)


def _real_rows_first(enc: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Rotate each left-padded window (B, L, D) so its `lengths` real rows come first."""
    steps = enc.shape[1]
    idx = (torch.arange(steps, device=enc.device)[None, :] + (steps - lengths)[:, None]) % steps
    return enc.gather(1, idx[:, :, None].expand(-1, -1, enc.shape[2]))


class ForecastNet(nn.Module):
    """LSTM encoder + MLP head predicting H steps x Q quantiles at once."""

    def __init__(self, config: ModelConfig, n_known: int, n_past: int) -> None:
        super().__init__()
        self.config = config
        self.n_known = n_known
        self.n_past = n_past
        horizon, n_q = config.horizon, len(config.quantiles)
        self.encoder = lstmkit.LSTM(
            1 + n_known + n_past, config.hidden_size, num_layers=config.num_layers,
            batch_first=True, dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.head = nn.Sequential(
            nn.Linear(config.hidden_size + horizon * n_known, config.head_hidden),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.head_hidden, horizon * n_q),
        )
        self.skip = nn.Linear(config.lookback, horizon) if config.linear_skip else None

    def forward(self, enc: torch.Tensor, dec: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """enc (B, L, 1+Fk+Fp), dec (B, H, Fk) [, lengths (B,)] -> quantiles (B, H, Q), window-scaled."""
        batch = enc.shape[0]
        if lengths is not None and bool((lengths < enc.shape[1]).any()):
            lengths = lengths.long()
            _, (h_n, _) = self.encoder(_real_rows_first(enc, lengths), lengths=lengths.cpu())
        else:
            _, (h_n, _) = self.encoder(enc)                              # h_n: (layers, B, Hd)
        state = h_n[-1]                                                  # (B, Hd)
        features = torch.cat([state, dec.reshape(batch, -1)], dim=1)     # (B, Hd + H*Fk)
        out = self.head(features).view(batch, self.config.horizon, -1)   # (B, H*Q) -> (B, H, Q)
        if self.skip is not None:
            out = out + self.skip(enc[:, :, 0]).unsqueeze(-1)            # (B, L) -> (B, H, 1)
        return out


class ForecastModule(TaskModule):
    """Training wrapper: batches are (enc, dec, target) tensors; loss is the pinball loss."""

    def __init__(self, net: ForecastNet, train_config: TrainConfig, progress=None) -> None:
        super().__init__(train_config)
        self.net = net
        self._progress = progress  # an optional tqdm bar advanced once per epoch
        self.register_buffer("quantiles", torch.tensor(net.config.quantiles, dtype=torch.float32))

    def forward(self, enc: torch.Tensor, dec: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(enc, dec, lengths)

    def training_step(self, batch, batch_idx):
        enc, dec, target, mask, lengths = batch
        return pinball_loss(self.net(enc, dec, lengths), target, self.quantiles, mask)

    def on_train_epoch_end(self) -> None:
        if self._progress is not None:
            self._progress.update(1)

    def validation_step(self, batch, batch_idx):
        enc, dec, target, mask, lengths = batch
        loss = pinball_loss(self.net(enc, dec, lengths), target, self.quantiles, mask)
        self.log("val_loss", loss, prog_bar=True, on_epoch=True, batch_size=len(enc))
        return loss


@torch.no_grad()
def predict_quantiles(net: ForecastNet, enc, dec, lengths=None, batch_size: int = 4096) -> torch.Tensor:
    """Batched inference: (N, L, D), (N, H, Fk) [, lengths (N,)] -> sorted quantiles (N, H, Q)."""
    net.eval()
    enc_t = torch.as_tensor(enc, dtype=torch.float32)
    dec_t = torch.as_tensor(dec, dtype=torch.float32)
    len_t = None if lengths is None else torch.as_tensor(lengths, dtype=torch.long)
    outs = [net(enc_t[i:i + batch_size], dec_t[i:i + batch_size],
                None if len_t is None else len_t[i:i + batch_size])
            for i in range(0, len(enc_t), batch_size)]
    out = torch.cat(outs) if outs else torch.zeros(0, net.config.horizon, len(net.config.quantiles))
    return out.sort(dim=-1).values
