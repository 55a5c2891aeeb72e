"""Truncated backpropagation through time with the recurrent state carried across windows.

A long sequence ``x`` of shape (B, T, ...) is cut into consecutive windows
``x[:, 0:k], x[:, k:2k], ...`` of ``k = window`` steps. Window ``j`` starts
from the final state of window ``j - 1``, *detached* from its graph:

.. math::

    (y_j, s_j) = f(x_j, \\operatorname{stopgrad}(s_{j-1})), \\qquad
    \\mathcal{L}_j = \\ell(y_j, t_j), \\qquad
    \\theta \\leftarrow \\operatorname{step}(\\theta, \\nabla_\\theta \\mathcal{L}_j)

so the forward pass computes exactly what one pass over the whole sequence
would (the same outputs, and the length-weighted mean of the
:math:`\\mathcal{L}_j` equals the full-sequence loss when :math:`\\theta` is
held fixed), while gradients flow back at most ``window`` steps and memory
stays O(``window``). One optimizer step is taken per window.

With ``carry_state_across_batches = True`` the state also flows from one
batch to the next (stateful training: batch ``b + 1`` continues the streams
of batch ``b``, as in language modelling on a corpus cut into B streams).

:func:`split_windows` and :func:`detach_state` are the plain utilities;
:class:`TBPTTModule` is a :class:`~lstmkit.train.TaskModule` that runs the
loop for a task that implements :meth:`TBPTTModule.tbptt_step`.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from lstmkit.train.module import TaskModule, WarmupDecay


def split_windows(x: torch.Tensor, window: int, dim: int = 1) -> list[torch.Tensor]:
    """Consecutive windows of ``window`` steps along ``dim`` (the last may be shorter).

    >>> [w.shape[1] for w in split_windows(torch.zeros(2, 10, 3), 4)]
    [4, 4, 2]
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a tensor, got {type(x).__name__}")
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"window: expected an int >= 1, got {window!r}")
    if x.dim() <= dim:
        raise ValueError(f"x: expected at least {dim + 1} dims to split along dim {dim}, got shape {tuple(x.shape)}")
    return list(torch.split(x, window, dim=dim))


def detach_state(state: Any) -> Any:
    """The same nested structure (tuples, lists, dicts, None) with every tensor detached."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # a NamedTuple
        return type(state)(*(detach_state(s) for s in state))
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    if isinstance(state, dict):
        return {k: detach_state(v) for k, v in state.items()}
    raise TypeError(f"state: expected tensors in tuples/lists/dicts, got {type(state).__name__}")


def split_batch(batch: Any, window: int) -> list[Any]:
    """Cut every time-major tensor of ``batch`` (dim 1 = time, all the same length T) into windows.

    ``batch``: a tensor, or a tuple/list/dict of tensors. Tensors with fewer
    than 2 dims (e.g. per-sequence ids) are repeated in every window.
    """
    leaves: list[torch.Tensor] = []

    def collect(item: Any) -> None:
        if isinstance(item, torch.Tensor):
            if item.dim() >= 2:
                leaves.append(item)
        elif isinstance(item, (tuple, list)):
            for sub in item:
                collect(sub)
        elif isinstance(item, dict):
            for sub in item.values():
                collect(sub)

    collect(batch)
    if not leaves:
        raise ValueError("batch: expected at least one tensor of shape (B, T, ...) to split")
    lengths = {leaf.shape[1] for leaf in leaves}
    if len(lengths) != 1:
        raise ValueError(f"batch: every (B, T, ...) tensor must share T, got lengths {sorted(lengths)}")
    steps = lengths.pop()
    count = -(-steps // window)

    def take(item: Any, j: int) -> Any:
        if isinstance(item, torch.Tensor):
            return item[:, j * window:(j + 1) * window] if item.dim() >= 2 else item
        if isinstance(item, tuple) and hasattr(item, "_fields"):
            return type(item)(*(take(sub, j) for sub in item))
        if isinstance(item, (tuple, list)):
            return type(item)(take(sub, j) for sub in item)
        if isinstance(item, dict):
            return {k: take(v, j) for k, v in item.items()}
        return item

    return [take(batch, j) for j in range(count)]


def _batch_size(batch: Any) -> int | None:
    if isinstance(batch, torch.Tensor):
        return batch.shape[0]
    items = batch.values() if isinstance(batch, dict) else batch if isinstance(batch, (tuple, list)) else ()
    for item in items:
        size = _batch_size(item)
        if size is not None:
            return size
    return None


class TBPTTModule(TaskModule):
    """A :class:`TaskModule` trained by truncated BPTT (manual optimization).

    Subclasses set ``tbptt_window`` (steps per window) and implement
    :meth:`tbptt_step`. Each training batch is cut by :meth:`split_batch`
    (default: :func:`split_batch` along dim 1); for each window the loss is
    back-propagated, the gradient norm clipped to
    ``train_config.gradient_clip_val``, one AdamW step taken and the step
    schedule advanced; the state is detached before the next window.

    ``carry_state_across_batches``: keep the last state for the next batch
    (reset at each epoch start and whenever the batch size changes).

    ``training_step`` returns the length-weighted mean window loss (detached),
    which is what the history reports as ``train_loss``. Gradient accumulation
    does not apply here (one step per window).
    """

    tbptt_window: int = 32
    carry_state_across_batches: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.automatic_optimization = False
        self._carried_state: Any = None
        self._total_scaled = False
        self._carried_size: int | None = None

    def tbptt_step(self, batch: Any, state: Any, window_index: int) -> tuple[torch.Tensor, Any]:
        """Loss of one window and the state it ends in: ``(loss, new_state)``.

        ``state`` is ``None`` at the start of a sequence (or the detached state
        carried from the previous window/batch). Override this.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement tbptt_step(batch, state, window_index)")

    def split_batch(self, batch: Any) -> list[Any]:
        """The windows of one batch, in time order."""
        return split_batch(batch, self.tbptt_window)

    def on_train_epoch_start(self) -> None:
        self._carried_state = None

    def _scale_schedule(self, windows: int) -> None:
        """Step schedules count optimizer steps: ``windows`` per batch, not one, and never
        more than ``max_steps`` (the optimizer steps at which the fit stops)."""
        if self._total_scaled:
            return
        self._total_scaled = True
        cap = self.train_config.max_steps if self.train_config.max_steps > 0 else math.inf
        scheduler = self.lr_schedulers()
        if isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR):
            for multiplier in scheduler.lr_lambdas:
                if isinstance(multiplier, WarmupDecay) and multiplier.kind != "constant":
                    multiplier.total_steps = int(min(cap, multiplier.total_steps * windows))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        optimizer = self.optimizers()
        scheduler = self.lr_schedulers()
        windows = self.split_batch(batch)
        self._scale_schedule(len(windows))
        size = _batch_size(batch)
        state = self._carried_state if self.carry_state_across_batches else None
        if state is not None and self._carried_size != size:
            state = None
        total, weight = torch.zeros(()), 0
        for j, window in enumerate(windows):
            loss, state = self.tbptt_step(window, state, j)
            optimizer.zero_grad()
            self.manual_backward(loss)
            if self.train_config.gradient_clip_val is not None:
                self.clip_gradients(
                    optimizer,
                    gradient_clip_val=self.train_config.gradient_clip_val,
                    gradient_clip_algorithm="norm",
                )
            optimizer.step()
            if scheduler is not None and not isinstance(
                scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau
            ):
                scheduler.step()
            state = detach_state(state)
            steps = _window_steps(window)
            total = total + loss.detach().float().cpu() * steps
            weight += steps
        self._carried_state = state if self.carry_state_across_batches else None
        self._carried_size = size
        return total / max(weight, 1)

    def on_validation_epoch_end(self) -> None:
        scheduler = self.lr_schedulers()
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau) and not self.trainer.sanity_checking:
            value = self.trainer.callback_metrics.get(self.train_config.monitor)
            if value is not None:
                scheduler.step(float(value))


def _window_steps(window: Any) -> int:
    if isinstance(window, torch.Tensor):
        return window.shape[1] if window.dim() >= 2 else 0
    items = window.values() if isinstance(window, dict) else window if isinstance(window, (tuple, list)) else ()
    for item in items:
        steps = _window_steps(item)
        if steps:
            return steps
    return 0
