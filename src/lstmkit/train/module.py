"""The base class of every task model: a LightningModule that knows its TrainConfig."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch

from lstmkit.train.config import TrainConfig


class WarmupDecay:
    """Learning-rate multiplier :math:`m(t)` for ``torch.optim.lr_scheduler.LambdaLR``.

    With ``w`` warm-up steps, ``T`` total steps, floor ``r`` and progress
    :math:`p = \\min(1, (t - w) / \\max(1, T - w))`:

    .. math::

        m(t) = \\begin{cases}
            (t + 1) / w & t < w \\\\
            r + (1 - r)\\,\\tfrac12\\,(1 + \\cos \\pi p) & \\text{cosine} \\\\
            r + (1 - r)\\,(1 - p) & \\text{linear} \\\\
            1 & \\text{constant}
        \\end{cases}

    A plain class (not a closure) so that it pickles for multi-process runs.

    >>> m = WarmupDecay("cosine", warmup_steps=2, total_steps=10, min_ratio=0.0)
    >>> [round(m(t), 3) for t in (0, 1, 2, 6, 10)]
    [0.5, 1.0, 1.0, 0.5, 0.0]
    """

    def __init__(self, kind: str, warmup_steps: int, total_steps: int, min_ratio: float) -> None:
        self.kind = kind
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.min_ratio = min_ratio

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        if self.kind == "constant":
            return 1.0
        span = max(1, self.total_steps - self.warmup_steps)
        p = min(1.0, (step - self.warmup_steps) / span)
        if self.kind == "cosine":
            shape = 0.5 * (1.0 + math.cos(math.pi * p))
        else:  # linear
            shape = 1.0 - p
        return self.min_ratio + (1.0 - self.min_ratio) * shape


class TaskModule(L.LightningModule):
    """Base class for task models trained by :func:`lstmkit.train.fit`.

    A task subclasses it and implements

    * ``training_step(batch, batch_idx) -> loss`` (a scalar tensor), and
    * ``validation_step(batch, batch_idx)``, which logs ``val_loss`` (the
      default monitored metric) and any task metrics with ``self.log``.

    ``configure_optimizers`` is provided: AdamW with ``lr`` and
    ``weight_decay`` and the schedule of :attr:`train_config`, which
    :func:`~lstmkit.train.fit` sets before training.

    Capability flags (class attributes):

    * ``log_train_loss = True``: the base class logs each step's training
      loss as ``train_loss`` (progress bar). Set it to ``False`` when
      the task logs ``train_loss`` itself.
    """

    log_train_loss: bool = True

    def __init__(self, train_config: TrainConfig | None = None) -> None:
        super().__init__()
        if train_config is not None and not isinstance(train_config, TrainConfig):
            raise TypeError(
                f"train_config: expected a TrainConfig or None, got {type(train_config).__name__}"
            )
        self.train_config = train_config if train_config is not None else TrainConfig()

    # ------------------------------------------------------------------ optimizer
    def _total_training_steps(self) -> int:
        """Optimizer steps this fit will take (for step-based schedules).

        A fit stops at ``max_epochs`` or ``max_steps``, whichever comes first, so the
        schedule is min(max_steps, max_epochs x batches per epoch) long (Lightning's
        ``estimated_stepping_batches``): when the epochs end first the rate still
        reaches its floor on the last step. ``max_steps`` alone when the loader has no length.
        """
        cfg = self.train_config
        try:
            total = self.trainer.estimated_stepping_batches
        except RuntimeError:
            total = float("inf")
        if not math.isfinite(total) and cfg.max_steps > 0:
            return cfg.max_steps
        if not math.isfinite(total):
            raise ValueError(
                f"schedule={cfg.schedule!r} needs a known number of steps: set max_steps "
                "or give a training loader with a length"
            )
        return int(total)

    def configure_optimizers(self) -> Any:
        """AdamW and the schedule of ``self.train_config`` (see :class:`TrainConfig`)."""
        cfg = self.train_config
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f"{type(self).__name__} has no trainable parameters to optimize")
        optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        if cfg.schedule == "plateau":
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer,
                mode=cfg.monitor_mode,
                factor=cfg.plateau_factor,
                patience=cfg.plateau_patience,
            )
            return {
                "optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "monitor": cfg.monitor, "interval": "epoch"},
            }
        if cfg.schedule == "constant" and cfg.warmup_steps == 0:
            return optimizer
        total = cfg.warmup_steps if cfg.schedule == "constant" else self._total_training_steps()
        multiplier = WarmupDecay(cfg.schedule, cfg.warmup_steps, total, cfg.min_lr_ratio)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, multiplier)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # ------------------------------------------------------------------ logging
    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if not self.log_train_loss:
            return
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor) and loss.numel() == 1:
            self.log(
                "train_loss",
                loss.detach().float(),
                on_step=True,
                on_epoch=False,
                prog_bar=True,
                batch_size=1,
            )
