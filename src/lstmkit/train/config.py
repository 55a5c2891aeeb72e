"""Training knobs: one frozen dataclass, validated on construction.

A :class:`TrainConfig` says *how* to train (how long, how fast, on what,
what to save); it says nothing about the task. Tasks keep their own model
and data configs beside it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SCHEDULES = ("constant", "cosine", "linear", "plateau")
PRECISIONS = ("32", "64", "bf16-mixed", "16-mixed", "auto")
STRATEGIES = ("auto", "ddp")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda")
MODES = ("min", "max")


def _fail(name: str, expected: str, got: Any) -> None:
    raise ValueError(f"TrainConfig.{name}: expected {expected}, got {got!r}")


@dataclass(frozen=True)
class TrainConfig:
    """How to train a :class:`~lstmkit.train.TaskModule`.

    Length
        ``max_epochs``: passes over the training data (default 10).
        ``max_steps``: optimizer steps; ``-1`` means no step limit. Training
        stops at whichever limit comes first.

    Optimizer (AdamW) and schedule
        ``lr`` (peak learning rate), ``weight_decay`` (decoupled, AdamW's
        :math:`\\theta \\leftarrow \\theta - \\eta\\lambda\\theta`), ``schedule``:

        * ``"constant"``: :math:`\\eta_t = \\eta`;
        * ``"cosine"``: :math:`\\eta_t = \\eta\\,[r + (1-r)\\tfrac12(1+\\cos(\\pi p))]`;
        * ``"linear"``: :math:`\\eta_t = \\eta\\,[r + (1-r)(1-p)]`;
        * ``"plateau"``: multiply by ``plateau_factor`` after
          ``plateau_patience`` epochs without improvement of ``monitor``;

        with progress :math:`p = (t - w)/(T - w)` over the ``T`` training steps
        after ``warmup_steps`` = :math:`w` steps of linear warm-up
        (:math:`\\eta_t = \\eta\\,(t+1)/w`), and floor ``min_lr_ratio`` = :math:`r`.

    Every float knob must be a finite number (NaN and infinities are refused
    on construction with a one-line ``ValueError``).

    Gradients
        ``gradient_clip_val``: clip the global gradient 2-norm to this value
        (``None`` = no clipping). ``accumulate_grad_batches``: sum gradients
        over this many batches per optimizer step.

    Reproducibility
        ``seed``: seeds Python, NumPy and torch (and data-loader workers) at the
        start of :func:`~lstmkit.train.fit`. ``deterministic``: ask torch for
        deterministic algorithms (slower on GPU).

    Hardware
        ``accelerator`` (``"auto"``, ``"cpu"``, ``"gpu"``), ``devices`` (number
        of processes/devices), ``strategy`` (``"auto"`` or ``"ddp"``: data
        parallel, gloo on CPU, NCCL on GPU), ``precision`` (``"32"``,
        ``"64"``, ``"bf16-mixed"``, ``"16-mixed"`` (GPU only) or ``"auto"`` =
        bf16-mixed where the GPU supports it, else 32).

    Validation and early stopping
        ``monitor`` / ``monitor_mode``: the logged metric that decides the best
        checkpoint, early stopping and the plateau schedule.
        ``early_stopping_patience``: stop after this many validation epochs
        without an improvement larger than ``early_stopping_min_delta``
        (``None`` = never stop early). ``restore_best``: at the end, load the
        weights of the best checkpoint into the module.

    Files
        ``run_dir``: where checkpoints and ``metrics.csv`` go. ``None`` = a
        temporary directory removed at the end of :func:`fit` (nothing is left
        in the working directory). ``checkpoint``: write a checkpoint at the
        end of every epoch (atomically) to ``run_dir/checkpoints``.
        ``resume``: ``None``, ``"last"`` (continue from
        ``run_dir/checkpoints/last.ckpt`` if it exists, else start afresh) or
        the path of a ``.ckpt`` file.

    Display
        ``progress``: show a progress bar. ``log_every_n_steps``: how often
        step metrics are logged.
    """

    max_epochs: int = 10
    max_steps: int = -1
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "constant"
    warmup_steps: int = 0
    min_lr_ratio: float = 0.0
    plateau_factor: float = 0.5
    plateau_patience: int = 2
    gradient_clip_val: float | None = 1.0
    accumulate_grad_batches: int = 1
    seed: int = 0
    deterministic: bool = False
    accelerator: str = "auto"
    devices: int = 1
    strategy: str = "auto"
    precision: str = "32"
    monitor: str = "val_loss"
    monitor_mode: str = "min"
    early_stopping_patience: int | None = None
    early_stopping_min_delta: float = 0.0
    restore_best: bool = True
    run_dir: str | None = None
    checkpoint: bool = True
    resume: str | None = None
    progress: bool = True
    log_every_n_steps: int = 10

    def __post_init__(self) -> None:
        for name in ("lr", "weight_decay", "min_lr_ratio", "plateau_factor", "gradient_clip_val",
                     "early_stopping_min_delta"):
            value = getattr(self, name)
            if value is None and name == "gradient_clip_val":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                _fail(name, "a finite number", value)
        if not isinstance(self.max_epochs, int) or self.max_epochs < 1:
            _fail("max_epochs", "an int >= 1", self.max_epochs)
        if not isinstance(self.max_steps, int) or (self.max_steps < 1 and self.max_steps != -1):
            _fail("max_steps", "an int >= 1 or -1 (no limit)", self.max_steps)
        if not isinstance(self.lr, (int, float)) or not self.lr > 0:
            _fail("lr", "a float > 0", self.lr)
        if not isinstance(self.weight_decay, (int, float)) or self.weight_decay < 0:
            _fail("weight_decay", "a float >= 0", self.weight_decay)
        if self.schedule not in SCHEDULES:
            _fail("schedule", f"one of {SCHEDULES}", self.schedule)
        if not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
            _fail("warmup_steps", "an int >= 0", self.warmup_steps)
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            _fail("min_lr_ratio", "a float in [0, 1]", self.min_lr_ratio)
        if not 0.0 < self.plateau_factor < 1.0:
            _fail("plateau_factor", "a float in (0, 1)", self.plateau_factor)
        if not isinstance(self.plateau_patience, int) or self.plateau_patience < 0:
            _fail("plateau_patience", "an int >= 0", self.plateau_patience)
        if self.gradient_clip_val is not None and not self.gradient_clip_val > 0:
            _fail("gradient_clip_val", "a float > 0 or None", self.gradient_clip_val)
        if not isinstance(self.accumulate_grad_batches, int) or self.accumulate_grad_batches < 1:
            _fail("accumulate_grad_batches", "an int >= 1", self.accumulate_grad_batches)
        if not isinstance(self.seed, int) or self.seed < 0:
            _fail("seed", "an int >= 0", self.seed)
        if self.accelerator not in ACCELERATORS:
            _fail("accelerator", f"one of {ACCELERATORS}", self.accelerator)
        if not isinstance(self.devices, int) or self.devices < 1:
            _fail("devices", "an int >= 1", self.devices)
        if self.strategy not in STRATEGIES:
            _fail("strategy", f"one of {STRATEGIES}", self.strategy)
        if self.precision not in PRECISIONS:
            _fail("precision", f"one of {PRECISIONS}", self.precision)
        if self.monitor_mode not in MODES:
            _fail("monitor_mode", f"one of {MODES}", self.monitor_mode)
        if self.early_stopping_patience is not None and (
            not isinstance(self.early_stopping_patience, int) or self.early_stopping_patience < 0
        ):
            _fail("early_stopping_patience", "an int >= 0 or None", self.early_stopping_patience)
        if not isinstance(self.log_every_n_steps, int) or self.log_every_n_steps < 1:
            _fail("log_every_n_steps", "an int >= 1", self.log_every_n_steps)
        if self.resume is not None and self.resume != "last" and not str(self.resume).endswith(".ckpt"):
            _fail("resume", "None, 'last' or a path ending in .ckpt", self.resume)
        if self.resume == "last" and self.run_dir is None:
            _fail("resume", "a run_dir to resume 'last' from (run_dir is None)", self.resume)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainConfig:
        """Build from a mapping; unknown keys raise a ValueError naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(
                f"TrainConfig: unknown field(s) {unknown}; valid fields are {sorted(names)}"
            )
        return cls(**dict(values))
