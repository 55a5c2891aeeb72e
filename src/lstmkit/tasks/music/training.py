"""Batches and the Lightning modules that :func:`lstmkit.train.fit` trains.

* Frames: chorales padded to the longest in the batch, ``roll (B, T, P)`` and
  ``mask (B, T)``; the loss is the mean negative log-likelihood per real frame
  (nats), so ``val_loss`` is the literature's nats/frame on the validation set.
* Voices: random crops of ``max_sixteenths`` (starting on a multiple of 16
  sixteenths, so the metre embedding keeps its meaning), padded; the loss is
  the mean cross-entropy per token.

Transposition augmentation (``MusicDataConfig.transpose``) draws from torch's
global generator, which :func:`lstmkit.train.fit` seeds.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    """Trains a :class:`FrameModel` or :class:`VoiceModel`; logs ``val_loss`` (nats per frame / token)."""

    def __init__(self, model: FrameModel | VoiceModel, train_config: TrainConfig | None = None) -> None:
        super().__init__(train_config)
        self.model = model
        self.nll = frame_nll if isinstance(model, FrameModel) else voice_nll

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        total, count = self.nll(self.model, *batch)
        return total / count

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        total, count = self.nll(self.model, *batch)
        # weighted by the count: the epoch value is the NLL per frame (token) of the whole set
        self.log("val_loss", total / count, batch_size=int(count), prog_bar=True)
