r"""Batches and the Lightning modules that :func:`lstmkit.train.fit` trains.

* Frames: chorales padded to the longest in the batch, ``roll (B, T, P)`` and
  ``mask (B, T)``; the loss is the mean negative log-likelihood per real frame
  (nats), so ``val_loss`` is the literature's nats/frame on the validation set.
* Voices: random crops of ``max_sixteenths`` (starting on a multiple of 16
  sixteenths, so the metre embedding keeps its meaning), padded; the loss is
  the mean cross-entropy per token.

Transposition augmentation (``MusicDataConfig.transpose``) draws from torch's
global generator, which :func:`lstmkit.train.fit` seeds.

Weight averaging (``MusicModelConfig.ema_decay`` = :math:`\beta > 0`): after
optimizer step :math:`t = 1, 2, \dots` the module updates a copy of the
network, :math:`\bar\theta_t = \beta_t \bar\theta_{t-1} + (1 - \beta_t)\theta_t`
with :math:`\beta_t = \min(\beta, (1 + t) / (10 + t))` (so the random
initial weights are forgotten within the first steps, :math:`\bar\theta_0 = \theta_0`).
Validation scores the average, so early stopping and the kept epoch are
chosen by it; the copy is part of the module's ``state_dict``, so the best
epoch restores both, and :meth:`MusicModule.averaged` hands back the
average's weights for the task to keep.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from lstmkit.train import TaskModule, TrainConfig

from .encoding import TOKEN_HIGH, TOKEN_LOW
from .models import FrameModel, VoiceModel


def _shift_range(low_used: int, high_used: int, low: int, high: int, limit: int) -> tuple[int, int]:
    return max(-limit, low - low_used), min(limit, high - high_used)


def pad_rolls(rolls: Sequence[np.ndarray]) -> tuple[Tensor, Tensor]:
    """Rolls ``(T_i, P)`` -> ``roll (B, T, P)`` zero-padded and ``mask (B, T)``."""
    longest = max(len(r) for r in rolls)
    roll = torch.zeros(len(rolls), longest, rolls[0].shape[1])
    mask = torch.zeros(len(rolls), longest)
    for i, r in enumerate(rolls):
        roll[i, : len(r)] = torch.as_tensor(r)
        mask[i, : len(r)] = 1.0
    return roll, mask


class FrameCollate:
    """Pad a list of rolls; with ``transpose > 0`` shift each along the pitch axis first."""

    def __init__(self, transpose: int = 0) -> None:
        self.transpose = transpose

    def __call__(self, rolls: list[np.ndarray]) -> tuple[Tensor, Tensor]:
        if self.transpose:
            shifted = []
            for r in rolls:
                used = np.flatnonzero(r.any(0))
                if used.size == 0:
                    shifted.append(r)
                    continue
                lo, hi = _shift_range(used[0], used[-1], 0, r.shape[1] - 1, self.transpose)
                k = int(torch.randint(lo, hi + 1, ()))
                shifted.append(np.roll(r, k, axis=1))  # no wrap-around: k keeps the notes in range
            rolls = shifted
        return pad_rolls(rolls)


class VoiceCollate:
    """Crop (training) and pad interleaved voice streams -> ``tokens (B, N)``, ``mask (B, N)``."""

    def __init__(self, max_sixteenths: int | None, transpose: int = 0) -> None:
        self.max_sixteenths = max_sixteenths
        self.transpose = transpose

    def __call__(self, voices: list[np.ndarray]) -> tuple[Tensor, Tensor]:
        streams = []
        for v in voices:  # v: (4, T)
            if self.max_sixteenths is not None and v.shape[1] > self.max_sixteenths:
                bars = (v.shape[1] - self.max_sixteenths) // 16
                start = 16 * int(torch.randint(0, bars + 1, ()))
                v = v[:, start : start + self.max_sixteenths]
            if self.transpose:
                pitched = v[v >= 2]
                if pitched.size:
                    lo, hi = _shift_range(int(pitched.min()), int(pitched.max()), 2,
                                          2 + TOKEN_HIGH - TOKEN_LOW, self.transpose)
                    k = int(torch.randint(lo, hi + 1, ()))
                    v = np.where(v >= 2, v + k, v)
            streams.append(torch.as_tensor(np.ascontiguousarray(v.T).reshape(-1)))  # (4T,)
        longest = max(len(s) for s in streams)
        tokens = torch.zeros(len(streams), longest, dtype=torch.long)
        mask = torch.zeros(len(streams), longest)
        for i, s in enumerate(streams):
            tokens[i, : len(s)] = s
            mask[i, : len(s)] = 1.0
        return tokens, mask


def frame_nll(model: FrameModel, roll: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """(summed NLL over real frames in nats, number of real frames)."""
    return model.nll(roll, mask), mask.sum()


def voice_nll(model: VoiceModel, tokens: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """(summed token cross-entropy over real tokens in nats, number of real tokens)."""
    logits = model(tokens)  # (B, N, V)
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens.reshape(-1), reduction="none")
    return (ce * mask.reshape(-1)).sum(), mask.sum()


class MusicModule(TaskModule):
    """Trains a :class:`FrameModel` or :class:`VoiceModel`; logs ``val_loss`` (nats per frame / token).

    ``ema_decay > 0`` keeps ``self.average``, an exponential moving average of
    ``model``'s weights (see the module docstring), which validation scores.
    """

    def __init__(self, model: FrameModel | VoiceModel, train_config: TrainConfig | None = None,
                 ema_decay: float = 0.0) -> None:
        super().__init__(train_config)
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay: expected a float in [0, 1), got {ema_decay!r}")
        self.model = model
        self.nll = frame_nll if isinstance(model, FrameModel) else voice_nll
        self.ema_decay = ema_decay
        self.average: FrameModel | VoiceModel | None = None
        if ema_decay:
            self.average = copy.deepcopy(model).requires_grad_(False)
        self.ema_updates = 0

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        total, count = self.nll(self.model, *batch)
        return total / count

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        super().on_train_batch_end(outputs, batch, batch_idx)
        if self.average is not None:
            self.update_average()

    @torch.no_grad()
    def update_average(self) -> None:
        """One step of the moving average: ``avg = b_t avg + (1 - b_t) weights``."""
        self.ema_updates += 1
        t = self.ema_updates
        beta = min(self.ema_decay, (1 + t) / (10 + t))
        for avg, weight in zip(self.average.parameters(), self.model.parameters(), strict=True):
            avg.lerp_(weight.detach(), 1.0 - beta)
        for avg, buf in zip(self.average.buffers(), self.model.buffers(), strict=True):
            avg.copy_(buf)

    def averaged(self) -> dict[str, Tensor]:
        """The weights to keep: the average's when averaging, else the model's (a ``state_dict``)."""
        return (self.average if self.average is not None else self.model).state_dict()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["ema_updates"] = self.ema_updates

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.ema_updates = int(checkpoint.get("ema_updates", 0))

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        scored = self.average if self.average is not None else self.model
        total, count = self.nll(scored, *batch)
        # weighted by the count: the epoch value is the NLL per frame (token) of the whole set
        self.log("val_loss", total / count, batch_size=int(count), prog_bar=True)
