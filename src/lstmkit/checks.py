"""Argument and input checks shared by the recurrent layers and cells.

Every check runs before any computation and raises ValueError or TypeError
naming the argument, what was expected and what was received. This module sits
below the cells, the layers and the kernels (it imports only torch), so that
each of them can use it without an import running against the layering
(see docs/architecture.md).

Under ``torch.compile`` / ``torch.export`` the checks that would read tensor
values (the range of ``lengths``) are skipped: a value-dependent branch would
break the graph. Shapes and types are still checked.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def positive_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    return value


def probability(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a float in [0, 1), got {type(value).__name__} {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name}: expected a probability in [0, 1), got {value}")
    return float(value)


def zoneout_rates(value: object) -> tuple[float, float]:
    """``zoneout=p`` (both states) or ``(p_c, p_h)`` -> (p_c, p_h)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"zoneout: expected p or (p_c, p_h), got {len(value)} values")
        return probability("zoneout[0] (cell)", value[0]), probability("zoneout[1] (hidden)", value[1])
    p = probability("zoneout", value)
    return p, p


def check_tensor(name: str, t: object, dtype: torch.dtype, device: torch.device) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(t).__name__}")
    if t.dtype != dtype:
        raise TypeError(f"{name}: expected dtype {dtype} (the module's), got {t.dtype}")
    if t.device != device:
        raise ValueError(f"{name}: expected device {device} (the module's), got {t.device}")
    return t


def check_shape(name: str, t: Tensor, expected: tuple[int, ...]) -> None:
    if tuple(t.shape) != expected:
        raise ValueError(f"{name}: expected shape {expected}, got {tuple(t.shape)}")


def check_lengths(lengths: object, batch: int, steps: int) -> Tensor:
    """lengths: one int per sequence, each in [1, T] -> an int64 CPU tensor (B,)."""
    if isinstance(lengths, Tensor):
        if lengths.dtype.is_floating_point or lengths.dtype == torch.bool or lengths.dim() != 1:
            raise TypeError(
                f"lengths: expected a 1-D integer tensor, got {lengths.dim()}-D {lengths.dtype}"
            )
        values = lengths.detach().to("cpu", torch.long)
    elif isinstance(lengths, Sequence) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in lengths
    ):
        values = torch.tensor(list(lengths), dtype=torch.long)
    else:
        raise TypeError(f"lengths: expected a 1-D integer tensor or list of ints, got {lengths!r}")
    if values.numel() != batch:
        raise ValueError(f"lengths: expected {batch} values (one per sequence), got {values.numel()}")
    if torch.compiler.is_compiling():  # value checks would break the traced graph
        return values
    if values.numel() and (values.min() < 1 or values.max() > steps):
        raise ValueError(
            f"lengths: expected every length in [1, {steps}] (the sequence length), "
            f"got min {int(values.min())}, max {int(values.max())}"
        )
    return values


def time_major(input: object, dtype: torch.dtype, device: torch.device,
               batch_first: bool) -> tuple[Tensor, bool]:
    """A layer's 2-D (unbatched) or 3-D input -> (x (T, B, I), batched)."""
    x = check_tensor("input", input, dtype, device)
    if x.dim() not in (2, 3):
        raise ValueError("input: expected a 3-D (batched) or 2-D (unbatched) tensor, "
                         f"got {x.dim()}-D with shape {tuple(x.shape)}")
    batched = x.dim() == 3
    if not batched:
        x = x.unsqueeze(1)  # (T, I) -> (T, 1, I)
    elif batch_first:
        x = x.transpose(0, 1)  # (B, T, I) -> (T, B, I)
    return x, batched


def check_sequence(x: Tensor, input_size: int, lengths: object, shape: tuple[int, ...]) -> Tensor | None:
    """The width and length of a time-major x (T, B, I) (``shape``: the input as given, for
    the message) -> the checked lengths on x's device, or None."""
    steps, batch, width = x.shape
    if width != input_size:
        raise ValueError(f"input: expected last dimension input_size={input_size}, got {width}")
    if steps < 1:
        raise ValueError(f"input: expected at least one step, got {shape}")
    return None if lengths is None else check_lengths(lengths, batch, steps).to(x.device)
