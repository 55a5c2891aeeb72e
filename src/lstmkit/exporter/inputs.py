"""Examples, their dynamic dimensions, and the unseen check inputs.

An example is what the module is called with: one tensor, a tuple of
positional arguments or a dict of keyword arguments, nested tuples allowed
(an LSTM's ``hx=(h_0, c_0)``); ``None`` entries are passed as ``None``. It is
flattened into named tensors (``hx.0``, ``hx.1``) that become the exported
program's inputs.

Dynamic dimensions, per input name ``{dim: axis}``, where an axis is a name
shared by the inputs that have it (``"batch"``, ``"time"``, ...). Without
``dynamic=``: for a recurrent layer its input has batch and time where
``batch_first`` puts them, ``hx`` tensors have the batch at dim 1 (dim 0 is
layers × directions) and ``lengths`` is ``{0: batch}``; for any other module a
tensor of 2 or more dimensions is ``{0: batch, 1: time}``, a 1-D tensor
``{0: batch}``. Every dynamic size in the example must be at least 2
(``torch.export`` fixes sizes 0 and 1).

Check inputs (:func:`check_inputs`) have every axis at a size the example did
not have (batch + 3, time + 5, other axes + 2). Floating tensors are drawn
from N(0, 1); an integer 1-D tensor whose values lie in ``[1, T]`` of the
example is taken for ``lengths`` and drawn in ``[1, T']`` with the longest
equal to ``T'``; other integer tensors are drawn between the example's
minimum and maximum (token ids); booleans are drawn at random.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from lstmkit.exporter.errors import ExportError

GROW = {"batch": 3, "time": 5}


@dataclass
class Flat:
    """An example flattened: ``names[i]`` is ``tensors[i]``; ``rebuild`` undoes it."""

    names: list[str]
    tensors: list[Tensor]
    positional: list[Any]
    keywords: dict[str, Any]

    def rebuild(self, tensors: tuple[Tensor, ...]) -> tuple[list[Any], dict[str, Any]]:
        """Positional and keyword arguments with ``tensors`` in place of the example's."""
        it = iter(tensors)

        def fill(node: Any) -> Any:
            if isinstance(node, Tensor):
                return next(it)
            if isinstance(node, (tuple, list)):
                return type(node)(fill(n) for n in node)
            return node

        return [fill(a) for a in self.positional], {k: fill(v) for k, v in self.keywords.items()}


def _param_names(module: nn.Module, count: int) -> list[str]:
    try:
        params = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [names[i] if i < len(names) else f"input{i}" for i in range(count)]


def flatten(module: nn.Module, example: Any) -> Flat:
    """Name and flatten an example (see the module docstring)."""
    if isinstance(example, (Tensor, PackedSequence)):  # (a PackedSequence is a tuple: walk refuses it)
        positional, keywords = [example], {}
    elif isinstance(example, (tuple, list)):
        positional, keywords = list(example), {}
    elif isinstance(example, Mapping):
        positional, keywords = [], dict(example)
    else:
        raise ExportError(f"example: expected a tensor, a tuple or a dict of inputs, got {type(example).__name__}")
    names: list[str] = []
    tensors: list[Tensor] = []

    def walk(name: str, node: Any) -> None:
        if isinstance(node, PackedSequence):
            raise ExportError(f"example: input {name!r} is a PackedSequence, which cannot be exported; "
                              "pass the padded tensor and lengths= instead")
        if isinstance(node, Tensor):
            names.append(name)
            tensors.append(node)
        elif isinstance(node, (tuple, list)):
            for i, n in enumerate(node):
                walk(f"{name}.{i}", n)
        elif node is not None and not isinstance(node, (bool, int, float, str)):
            raise ExportError(f"example: input {name!r} is a {type(node).__name__}; only tensors (and "
                              "tuples of them) can be inputs of an exported program")

    for name, value in zip(_param_names(module, len(positional)), positional):
        walk(name, value)
    for name, value in keywords.items():
        walk(name, value)
    if not tensors:
        raise ExportError("example: no tensor inputs")
    return Flat(names, tensors, positional, keywords)


def default_dynamic(module: nn.Module, flat: Flat) -> dict[str, dict[int, str]]:
    """The dynamic dimensions when the caller gives none (see the module docstring)."""
    from lstmkit.exporter.modules import is_recurrent

    dims: dict[str, dict[int, str]] = {}
    layer = is_recurrent(module)
    for i, (name, t) in enumerate(zip(flat.names, flat.tensors)):
        if layer and i == 0:
            if t.dim() in (3, 5):  # batched (T, B, I) or a conv layer's (T, B, C, H, W)
                dims[name] = {0: "batch", 1: "time"} if module.batch_first else {0: "time", 1: "batch"}
            else:
                dims[name] = {0: "time"}
        elif layer and name.startswith("hx"):
            dims[name] = {1: "batch"} if t.dim() in (3, 5) else {}
        elif t.dim() >= 2:
            dims[name] = {0: "batch", 1: "time"}
        elif t.dim() == 1:
            dims[name] = {0: "batch"}
        else:
            dims[name] = {}
    return dims


def axis_sizes(flat: Flat, dynamic: Mapping[str, Mapping[int, str]]) -> dict[str, int]:
    """Axis name -> its size in the example; ExportError if inconsistent or below 2."""
    sizes: dict[str, int] = {}
    unknown = sorted(set(dynamic) - set(flat.names))
    if unknown:
        raise ExportError(f"dynamic: no input named {unknown[0]!r}; the inputs are {flat.names}")
    for name, t in zip(flat.names, flat.tensors):
        for dim, axis in dynamic.get(name, {}).items():
            if not -t.dim() <= dim < t.dim():
                raise ExportError(f"dynamic: input {name!r} has {t.dim()} dimensions, no dimension {dim}")
            size = t.shape[dim]
            if sizes.setdefault(axis, size) != size:
                raise ExportError(f"example: axis {axis!r} has size {sizes[axis]} and {size} in different inputs")
            if size < 2:
                raise ExportError(f"example: the {axis} size of input {name!r} is {size}; use at least 2 so "
                                  "that it stays dynamic in the exported program")
    return sizes


def check_inputs(flat: Flat, dynamic: Mapping[str, Mapping[int, str]], sizes: Mapping[str, int],
                 seed: int = 0) -> tuple[list[Tensor], dict[str, int]]:
    """Inputs at sizes the example did not have (see the module docstring)."""
    gen = torch.Generator().manual_seed(seed)
    new = {axis: size + GROW.get(axis, 2) for axis, size in sizes.items()}
    steps, new_steps = sizes.get("time"), new.get("time")
    out = []
    for name, t in zip(flat.names, flat.tensors):
        shape = list(t.shape)
        for dim, axis in dynamic.get(name, {}).items():
            shape[dim] = new[axis]
        if t.is_floating_point():
            v = torch.randn(shape, generator=gen, dtype=t.dtype)
        elif t.dtype == torch.bool:
            v = torch.rand(shape, generator=gen) < 0.5
        elif t.dim() == 1 and steps is not None and t.numel() and int(t.min()) >= 1 and int(t.max()) <= steps:
            v = torch.randint(1, new_steps + 1, shape, generator=gen)
            v[0] = new_steps  # the longest fills the padded time axis
            v = v.to(t.dtype)
        else:
            low = int(t.min()) if t.numel() else 0
            high = int(t.max()) if t.numel() else 1
            v = torch.randint(low, high + 1, shape, generator=gen).to(t.dtype)
        out.append(v.to(t.device))
    return out, new
