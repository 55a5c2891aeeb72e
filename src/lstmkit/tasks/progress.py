"""Training progress that reads well in a terminal and in a log file.

On a terminal Lightning's progress bar redraws in place; in a log (stderr not
a TTY) or with ``progress=False`` that bar is off and :class:`EpochLines`
prints one line per epoch instead::

    member 2/3  epoch 4/30  train_loss 0.1532  val_loss 0.1711  (0.8 s)

:func:`kept_epoch` says which epoch's weights a fit kept: the best by the
monitored metric when validation ran and ``restore_best`` is on, else the last.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

import lightning as L


def _number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3e}"
    return f"{value:.4f}"


class EpochLines(L.Callback):
    """Print one line per finished epoch: ``label``, epoch k/N, the epoch's metrics, time."""

    def __init__(self, label: str, max_epochs: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.max_epochs = max_epochs
        self.stream = stream
        self._started = 0.0
        self._loss_sum, self._loss_count = 0.0, 0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._started = time.perf_counter()
        self._loss_sum, self._loss_count = 0.0, 0

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if getattr(loss, "numel", lambda: 0)() == 1:
            self._loss_sum += float(loss.detach())
            self._loss_count += 1

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        parts = [f"epoch {trainer.current_epoch + 1}/{self.max_epochs}"]
        if self.label:
            parts.insert(0, self.label)
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()
                   if getattr(v, "numel", lambda: 0)() == 1}
        if self._loss_count:
            metrics["train_loss"] = self._loss_sum / self._loss_count  # the epoch's mean, not its last step
        for name in sorted(metrics, key=lambda n: (not n.startswith("train"), n)):
            parts.append(f"{name} {_number(metrics[name])}")
        parts.append(f"({time.perf_counter() - self._started:.1f} s)")
        stream = self.stream if self.stream is not None else sys.stderr
        print("  ".join(parts), file=stream, flush=True)


def kept_epoch(result: Any) -> tuple[int, dict[str, float]]:
    """(1-based epoch, its record) whose weights a :class:`~lstmkit.train.FitResult` kept."""
    records = list(result.history)
    if not records:
        return result.epochs, {}
    config = result.config
    scored = [r for r in records if config.monitor in r]
    if scored and config.restore_best:
        pick = min if config.monitor_mode == "min" else max
        best = pick(scored, key=lambda r: r[config.monitor])
        return int(best["epoch"]) + 1, best
    return int(records[-1]["epoch"]) + 1, records[-1]


def use_bar(progress: bool, stream: Any = None) -> bool:
    """Whether to draw a redrawing progress bar: asked for, and stderr is a terminal."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(progress and isatty is not None and isatty())
