"""A tiny synthetic regression task for the training-engine tests (and their subprocess scripts)."""

from __future__ import annotations

import os
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

from lstmkit.train import TaskModule, seed_everything


class TinyRegression(TaskModule):
    """y = sum(x) through a 4-16-1 MLP with dropout (so RNG state matters for resume)."""

    def __init__(self, step_sleep: float = 0.0) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, 16), torch.nn.Dropout(0.2), torch.nn.Tanh(), torch.nn.Linear(16, 1)
        )
        self.step_sleep = step_sleep

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):
        if self.step_sleep:
            time.sleep(self.step_sleep)  # lets a test kill the process mid-run
        x, y = batch
        return torch.nn.functional.mse_loss(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self(x), y), sync_dist=True)


def make_data(n: int = 64, batch_size: int = 8, seed: int = 0, loader_seed: int | None = None):
    """Shuffled training loader and a validation loader over the same y = sum(x) data.

    The training loader shuffles with torch's global generator, or with a
    generator of its own seeded with ``loader_seed`` when given (as the
    forecast and detect tasks do).
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = x.sum(dim=1, keepdim=True)
    data = TensorDataset(x, y)
    own = None if loader_seed is None else torch.Generator().manual_seed(loader_seed)
    return DataLoader(data, batch_size=batch_size, shuffle=True, generator=own), DataLoader(data, batch_size=32)


def fresh_model(seed: int = 0, step_sleep: float = 0.0) -> TinyRegression:
    seed_everything(seed)
    return TinyRegression(step_sleep=step_sleep)


def one_thread() -> None:
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
