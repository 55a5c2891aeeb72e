"""What the interactive view embeds: samples -> one JSON-ready dict, and the statistics it shows.

The page (``assets/view.js``) recomputes the pattern search in the browser
when the user selects a span; :func:`find_units` here is the same rule in
Python (the specification, and what the tests check the page against).

Pattern search (after LSTMVis, Strobelt et al. 2018, "select a range, find
matching hidden states"). For a unit's activations :math:`v_1..v_T`, a
selected span :math:`S = [a, b]` (inclusive) and a threshold
:math:`\\theta`:

.. math::
    \\mathrm{match}(u) = \\frac{|\\{t \\in S: v_t > \\theta\\}|}{|S|}
                      - \\frac{|\\{t \\notin S: v_t > \\theta\\}|}{\\max(1, T - |S|)}

i.e. the unit is on over the span and off elsewhere; 1 is a perfect match.
Units are ranked by match, ties by the mean activation over the span
(higher first), then by unit index.

Saturation (Karpathy, Johnson & Fei-Fei 2016): per gate and unit, the
fraction of all shown steps (every sequence) with the gate below ``low``
(left-saturated) and above ``high`` (right-saturated); see
:func:`lstmkit.inspect.traces.saturation`.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from lstmkit.inspect.adapters import Sample
from lstmkit.inspect.traces import GateTrace, saturation

DIGITS = 4


def find_units(values: Tensor, start: int, end: int, threshold: float, top: int = 10) -> list[tuple[int, float]]:
    """``[(unit, match), ...]`` best first for activations ``values`` (T, H) and the span ``[start, end]``."""
    steps = values.shape[0]
    if not 0 <= start <= end < steps:
        raise ValueError(f"span: expected 0 <= start <= end < {steps}, got [{start}, {end}]")
    on = (values > threshold).double()                                   # (T, H)
    inside = on[start:end + 1].mean(0)
    n_out = steps - (end - start + 1)
    outside = (on[:start].sum(0) + on[end + 1:].sum(0)) / max(1, n_out)
    match = inside - outside
    mean_in = values[start:end + 1].double().mean(0)
    order = sorted(range(values.shape[1]), key=lambda u: (-round(float(match[u]), 12), -float(mean_in[u]), u))
    return [(u, float(match[u])) for u in order[:top]]


def pooled_saturation(traces: Sequence[GateTrace], low: float = 0.1, high: float = 0.9) -> dict[str, dict[str, Tensor]]:
    """:func:`~lstmkit.inspect.traces.saturation` over the steps of several traces of one layer."""
    first = traces[0]
    values = {name: torch.cat([tr.values[name] for tr in traces]) for name in first.values}
    total = sum(tr.length for tr in traces)
    return saturation(GateTrace(first.key, values, total), low, high)


def _rows(v: Tensor) -> list[list[float]]:
    return [[round(float(x), DIGITS) for x in row] for row in v.tolist()]


LEVELS = 65535


def pack_matrix(rows: list[list[float]]) -> dict[str, Any]:
    """A (T, H) matrix as the page stores it: 16-bit levels between its min and max, base64.

    ``v = lo + q * (hi - lo) / 65535`` with ``q`` little-endian uint16, row-major: at most
    ``(hi - lo) / 131070`` from the value (1e-5 for a gate), and about 2.7 bytes per value
    in the page instead of about 7 as decimal text.
    """
    a = np.asarray(rows, dtype=np.float64)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    span = hi - lo
    q = np.zeros(a.shape, dtype="<u2") if span == 0 else np.rint((a - lo) / span * LEVELS).astype("<u2")
    return {"lo": lo, "hi": hi, "shape": list(a.shape), "q": base64.b64encode(q.tobytes()).decode("ascii")}


def unpack_matrix(packed: dict[str, Any]) -> list[list[float]]:
    """The inverse of :func:`pack_matrix` (what the page decodes)."""
    q = np.frombuffer(base64.b64decode(packed["q"]), dtype="<u2").astype(np.float64)
    lo, hi = packed["lo"], packed["hi"]
    return (lo + q * (hi - lo) / LEVELS).reshape(packed["shape"]).tolist()


def packed(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with every trace matrix packed (:func:`pack_matrix`): what the page embeds."""
    sequences = [{**s, "traces": {key: {name: pack_matrix(rows) for name, rows in gates.items()}
                                  for key, gates in s["traces"].items()}} for s in payload["sequences"]]
    return {**payload, "sequences": sequences}


def build_payload(samples: Sequence[Sample], *, task: str, model: str, title: str | None = None,
                  low: float = 0.1, high: float = 0.9) -> dict[str, Any]:
    """The dict the page reads (see docs/inspect.md for its fields)."""
    if not samples:
        raise ValueError("inspect: no sequences to show")
    layers = list(samples[0].traces)
    gates = list(samples[0].traces[layers[0]].values)
    sequences = []
    for s in samples:
        sequences.append({
            "title": s.title, "tokens": list(s.tokens), "output": s.output, "notes": s.notes,
            "attention": s.attention, "series": s.series,
            "traces": {key: {name: _rows(v) for name, v in tr.values.items()} for key, tr in s.traces.items()},
        })
    sat = {}
    for key in layers:
        pooled = pooled_saturation([s.traces[key] for s in samples], low, high)
        sat[key] = {name: {"left": [round(float(x), DIGITS) for x in d["left"]],
                           "right": [round(float(x), DIGITS) for x in d["right"]]} for name, d in pooled.items()}
    units = {key: {name: int(v.shape[1]) for name, v in samples[0].traces[key].values.items()} for key in layers}
    return {
        "meta": {"task": task, "model": model, "title": title or f"{task} model {model}", "layers": layers,
                 "gates": gates, "units": units, "saturation_limits": [low, high]},
        "sequences": sequences,
        "saturation": sat,
    }
