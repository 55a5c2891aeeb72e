"""Per-task adapters: a saved task and its input data -> the sequences the view shows.

An adapter is a function ``adapter(task, data, limits) -> list[Sample]``. It
reads ``data`` the way the task's own ``predict`` does (so a file that does
not fit the task fails with the task's one-line ``ValueError``), runs the
task's network on each sequence (at most ``limits.sequences`` of them, each
cut to ``limits.steps`` steps) and records, per sequence, the labels of the
steps (tokens, time stamps, frames), the gate traces of the task's recurrent
layer (:class:`~lstmkit.inspect.traces.GateTrace` per layer and direction,
one row per step) and what the task made of it (a prediction, an attention
matrix, a forecast or anomaly score).

Registry: :data:`ADAPTERS` maps the task name (:attr:`Task.NAME`, the CLI
command) to ``"module:function"``, imported on first use. A new task (speech,
video, ...) adds its adapter with::

    from lstmkit.inspect.adapters import register_adapter
    register_adapter("speech", "lstmkit.inspect.adapters.speech:speech_samples")

or by adding the line to :data:`ADAPTERS`; the function uses
:func:`capture` to record the layer's input inside an ordinary forward pass
and returns :class:`Sample` objects (see docs/inspect.md, "Adding a task").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from lstmkit.inspect.traces import GateTrace, trace

__all__ = ["ADAPTERS", "NAMED_DATA", "Limits", "Sample", "adapter_for", "capture", "register_adapter"]

ADAPTERS: dict[str, str] = {
    "classify": "lstmkit.inspect.adapters.text:classify_samples",
    "tag": "lstmkit.inspect.adapters.text:tag_samples",
    "generate": "lstmkit.inspect.adapters.text:generate_samples",
    "translate": "lstmkit.inspect.adapters.text:translate_samples",
    "forecast": "lstmkit.inspect.adapters.series:forecast_samples",
    "detect": "lstmkit.inspect.adapters.series:detect_samples",
    "seqclass": "lstmkit.inspect.adapters.series:seqclass_samples",
    "music": "lstmkit.inspect.adapters.series:music_samples",
    "video": "lstmkit.inspect.adapters.video:video_samples",
    "speech": "lstmkit.inspect.adapters.speech:speech_samples",
}

#: task -> data names that are not paths (music's bundled corpora, video's generators)
NAMED_DATA: dict[str, tuple[str, ...]] = {"music": ("jsb", "bach"), "video": ("moving", "actions")}


@dataclass(frozen=True)
class Limits:
    """How much of the data the view keeps: ``sequences`` first sequences, ``steps`` steps each."""

    sequences: int = 8
    steps: int = 400

    def __post_init__(self) -> None:
        for name in ("sequences", "steps"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name.replace('sequences', 'max_sequences').replace('steps', 'max_steps')}: "
                                 f"expected an integer >= 1, got {v!r}")


@dataclass
class Sample:
    """One input sequence as the view shows it.

    title: what it is ("row 3", "series 'a'"); tokens: one label per traced step;
    traces: per layer and direction ("l0", "l0_reverse", ...), a GateTrace whose
    ``length == len(tokens)``; output: what the task predicted (text);
    notes: optional per-step text shown on hover (a predicted tag, ...);
    attention: ``{"source": [...], "target": [...], "weights": rows (target) x columns (source)}``;
    series: for numeric tasks ``{"x": labels, "channels": {name: values}, "trace_start": index of
    the first traced step in x, "lines": {name: values aligned with x (None where absent)},
    "band": [low, high] lists or absent}``.
    """

    title: str
    tokens: list[str]
    traces: dict[str, GateTrace]
    output: str = ""
    notes: list[str] | None = None
    attention: dict[str, Any] | None = None
    series: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, tr in self.traces.items():
            if tr.length != len(self.tokens):
                raise AssertionError(f"{self.title}: trace {key} has {tr.length} steps for {len(self.tokens)} tokens")


def register_adapter(task: str, adapter: str | Callable[..., list[Sample]]) -> None:
    """Register ``adapter`` (a function or ``"module:function"``) for the task named ``task``."""
    if isinstance(adapter, str):
        if ":" not in adapter:
            raise ValueError(f"adapter: expected 'module:function', got {adapter!r}")
        ADAPTERS[task] = adapter
    else:
        _LOADED[task] = adapter
        ADAPTERS[task] = f"{adapter.__module__}:{adapter.__qualname__}"


_LOADED: dict[str, Callable[..., list[Sample]]] = {}


def adapter_for(task: str) -> Callable[..., list[Sample]]:
    """The adapter of ``task``; a task without one is a one-line ``ValueError``."""
    if task in _LOADED:
        return _LOADED[task]
    if task not in ADAPTERS:
        raise ValueError(f"inspect: no view for task {task!r}; tasks with a view: {', '.join(sorted(ADAPTERS))}")
    module, _, name = ADAPTERS[task].partition(":")
    func = getattr(importlib.import_module(module), name)
    _LOADED[task] = func
    return func


class Captured:
    """The inputs of the last call of a recurrent layer: ``x``, ``hx``, ``lengths``."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any, Any]] = []

    def traces(self, layer: nn.Module, index: int = 0, call: int = -1) -> dict[str, GateTrace]:
        """The gate traces of sequence ``index`` of call ``call`` (the last by default)."""
        if not self.calls:
            raise AssertionError(f"inspect: the {type(layer).__name__} layer was never called")
        x, hx, lengths = self.calls[call]
        return trace(layer, x, lengths=lengths, index=index, hx=hx)


@contextmanager
def capture(layer: nn.Module) -> Iterator[Captured]:
    """Record the inputs of every call of ``layer`` while the block runs.

    The task's network runs as usual; afterwards ``captured.traces(layer)``
    re-runs the layer on the recorded input with ``return_gates=True`` (the
    reference backend, evaluation mode), so the traces are exactly the
    states behind the prediction.
    """
    captured = Captured()

    def hook(module, args, kwargs):
        x = args[0] if args else kwargs["input"]
        hx = args[1] if len(args) > 1 else kwargs.get("hx")
        lengths = args[2] if len(args) > 2 else kwargs.get("lengths")
        captured.calls.append((x.detach(), _detach(hx), lengths))

    handle = layer.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield captured
    finally:
        handle.remove()


def _detach(hx: Any) -> Any:
    if hx is None:
        return None
    if isinstance(hx, tuple):
        return tuple(h.detach() for h in hx)
    return hx.detach()


def cut(items: list, limit: int) -> list:
    """The first ``limit`` items."""
    return list(items[:limit])
