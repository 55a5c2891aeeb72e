"""Cost of each model of benchmarks/kin.py: training throughput and per-step inference vs context.

- **Training throughput**: characters (positions) per second of one forward +
  backward pass over a batch of 8 sequences of length ``T``.
- **Streaming inference**: the model has read ``t`` steps (its state, or for the
  Transformer its key/value cache, built by one pass over the prefix); we time
  single further steps ``layer(x_t, state)`` and count the floats the state
  holds. A recurrent model's step cost and state are constant in ``t``; the
  Transformer's grow linearly. Where a layer takes no state back, each step
  re-reads the whole prefix, and the row says ``recompute``.
"""

from __future__ import annotations

import time

import torch


def state_floats(state) -> int:
    """Real numbers held by a (nested) state; a complex number counts 2."""
    if state is None:
        return 0
    if isinstance(state, torch.Tensor):
        return state.numel() * (2 if state.is_complex() else 1)
    if isinstance(state, (tuple, list)):
        return sum(state_floats(s) for s in state)
    if isinstance(state, dict):
        return sum(state_floats(s) for s in state.values())
    return 0


def _median_time(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def training_throughput(layer, d_in: int, lengths, batch: int = 8, reps: int = 3) -> dict:
    """Positions per second of forward + backward at each length ``T``."""
    layer.train()
    out = {}
    for T in lengths:
        x = torch.randn(batch, T, d_in)

        def step():
            layer.zero_grad(set_to_none=True)
            layer(x)[0].sum().backward()  # noqa: B023 (called within this iteration)

        step()  # warm-up (kernel builds, allocator)
        out[T] = round(batch * T / _median_time(step, reps), 1)
    return out


def streaming_cost(layer, d_in: int, contexts, reps: int = 20) -> dict:
    """Seconds per streamed step and state floats after ``t`` steps, for each ``t``."""
    layer.eval()
    rows, mode = {}, "state"
    with torch.no_grad():
        for t in contexts:
            x = torch.randn(1, t + 1, d_in)
            _, state = layer(x[:, :t])
            try:
                layer(x[:, t:t + 1], state)
                seconds = _median_time(lambda: layer(x[:, t:t + 1], state), reps)  # noqa: B023 (called within this iteration)
            except (TypeError, ValueError, RuntimeError):
                mode = "recompute"
                seconds = _median_time(lambda: layer(x[:, :t + 1]), max(3, reps // 5))  # noqa: B023 (called within this iteration)
            rows[t] = {"ms_per_step": round(1000 * seconds, 4), "state_floats": state_floats(state)}
    return {"mode": mode, "by_context": rows}
