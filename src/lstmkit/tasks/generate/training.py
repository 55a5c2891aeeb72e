"""Text streams for truncated BPTT, and the LightningModule that trains on them.

A corpus becomes one token stream (documents joined by a newline for
character models, each followed by ``<eos>`` for word/BPE models). The
stream is cut into B equal rows (``batchify``), row b continuing the text of
row b in the previous window; window k holds columns [k·T, (k+1)·T) as input
and the same shifted by one as targets. The module keeps the LSTM state of
the previous window (detached) and starts the next window from it, exactly
as the classic PTB word_language_model does; it resets at every epoch start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from lstmkit.train import TaskModule, TrainConfig

from .model import LanguageModel, detach_state


@dataclass(frozen=True)
class StreamConfig:
    """How the training stream is cut.

    batch_size: number of parallel rows B of the stream.
    bptt: window length T (steps of backpropagation through time).
    eval_batch_size: rows used when scoring held-out text.
    """

    batch_size: int = 32
    bptt: int = 100
    eval_batch_size: int = 16

    def __post_init__(self) -> None:
        for name in ("batch_size", "bptt", "eval_batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, received {value!r}")


def batchify(ids: list[int] | Tensor, batch_size: int) -> Tensor:
    """(N,) ids -> (B, N // B): row b is the b-th contiguous slice; the remainder is dropped."""
    ids = torch.as_tensor(ids, dtype=torch.long)
    rows = min(batch_size, max(1, (ids.numel() - 1) // 2))
    width = ids.numel() // rows
    if width < 2:
        raise ValueError(
            f"text: expected at least 2 tokens per stream row, received {ids.numel()} tokens "
            f"for {rows} rows"
        )
    return ids[: rows * width].view(rows, width)  # (N,) -> (B, N/B)


class StreamWindows(Dataset):
    """Window k of a (B, N) stream: (inputs (B, T), targets (B, T)); use ``batch_size=None``."""

    def __init__(self, stream: Tensor, bptt: int) -> None:
        self.stream = stream
        self.bptt = bptt
        self.starts = list(range(0, stream.shape[1] - 1, bptt))

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        start = self.starts[index]
        end = min(start + self.bptt, self.stream.shape[1] - 1)
        return self.stream[:, start:end], self.stream[:, start + 1 : end + 1]


class LanguageModelModule(TaskModule):
    """Next-token cross-entropy with the state carried across windows (truncated BPTT).

    Logs ``val_loss`` (nats per token), ``val_ppl`` = exp(val_loss) and, for
    character models, ``val_bpc`` = val_loss / ln 2.
    """

    def __init__(self, model: LanguageModel, train_config: TrainConfig | None = None, char_level: bool = False):
        super().__init__(train_config)
        self.model = model
        self.char_level = char_level
        self._state: tuple[Tensor, Tensor] | None = None
        self._val_state: tuple[Tensor, Tensor] | None = None
        self._val_sum = 0.0
        self._val_count = 0

    def _loss(self, batch: tuple[Tensor, Tensor], state):
        inputs, targets = batch
        if state is not None and state[0].shape[1] != inputs.shape[0]:
            state = None
        logits, state = self.model(inputs, state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return loss, detach_state(state)

    def on_train_epoch_start(self) -> None:
        self._state = None

    def training_step(self, batch, batch_idx):
        loss, self._state = self._loss(batch, self._state)
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val_state = None
        self._val_sum = 0.0
        self._val_count = 0

    def validation_step(self, batch, batch_idx):
        loss, self._val_state = self._loss(batch, self._val_state)
        n = batch[1].numel()
        self._val_sum += float(loss) * n
        self._val_count += n

    def on_validation_epoch_end(self) -> None:
        if self._val_count == 0:
            return
        mean = self._val_sum / self._val_count
        self.log("val_loss", mean, prog_bar=True)
        self.log("val_ppl", math.exp(min(mean, 50.0)))
        if self.char_level:
            self.log("val_bpc", mean / math.log(2), prog_bar=True)
