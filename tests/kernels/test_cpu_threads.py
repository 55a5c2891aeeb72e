"""Threads inside the time step of the fused LSTM kernels (issue 19).

One OpenMP team per layer call splits each step (``kernels/cpu/team.h``):
by whole batch rows when each thread keeps at least two (no barrier at all);
else, without layer norm, by hidden units (and rows when there are more
threads than unit blocks), and with layer norm the GEMMs by column groups and
row ranges and the gate passes by rows. Every
element is computed by the same instructions in the same order whichever
thread computes it, so forward outputs and every gradient must be bitwise the
1-thread results at any thread count, including counts that split the columns
and rows unevenly (3) and ones above the core count (3 on a 2-core machine).
"""

from __future__ import annotations

import pytest
import torch

import lstmkit
from lstmkit.kernels.cpu import functions

THREADS = (1, 2, 3)
# Shapes whose per-step GEMM is large enough for a team of several threads
# (>= 2^16 multiply-adds per thread): B = 12, H = 75 gives G·H = 300 columns, that
# is four 64-wide column groups plus a tail with narrower tiles and scalar edge columns.
BATCH, HIDDEN, INP, STEPS = 12, 75, 9, 11
# The split by units: 3 rows are too few for whole rows per thread at 2-4 threads, and
# H = 150 (ten float32 vectors, the last one partly used) gives each thread its units.
UNIT_BATCH, UNIT_HIDDEN, UNIT_THREADS = 3, 150, (1, 2, 3, 4)
LENGTHS = [11, 3, 7, 1, 11, 5, 2, 9, 11, 4, 6, 8]
CASES = [
    {},
    {"peephole": True},
    {"coupled_gates": True, "peephole": True},
    {"layer_norm": True, "peephole": True},
    {"proj_size": 40},
    {"zoneout": (0.3, 0.2), "recurrent_dropout": 0.25},
    {"bidirectional": True, "num_layers": 2, "proj_size": 40, "peephole": True, "zoneout": 0.1},
]


def _layer(opts: dict, dtype: torch.dtype, hidden: int = HIDDEN) -> lstmkit.LSTM:
    torch.manual_seed(0)
    layer = lstmkit.LSTM(INP, hidden, backend="cpu", dtype=dtype, **opts)
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    return layer


def _run(layer: lstmkit.LSTM, x: torch.Tensor, lens: torch.Tensor | None, grad: bool) -> list[torch.Tensor]:
    torch.manual_seed(7)  # the same masks at every thread count
    if not grad:
        with torch.no_grad():
            y, (h, c) = layer(x, lengths=lens)
        return [y, h, c]
    xx = x.clone().requires_grad_()
    y, (h, c) = layer(xx, lengths=lens)
    loss = (y * torch.cos(y)).sum() + (h * h).sum() + c.sum()
    return [y, h, c, *torch.autograd.grad(loss, [xx, *layer.parameters()])]


def _at_threads(fn, threads: int):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return fn()
    finally:
        torch.set_num_threads(before)


def test_these_shapes_use_a_team():
    """The cases below really run several threads per step (else they would test nothing)."""
    ext = functions.ext()
    work = BATCH * 4 * HIDDEN * HIDDEN
    assert _at_threads(lambda: ext.team_size(work, BATCH), 4) == 4
    assert _at_threads(lambda: ext.team_size(work, BATCH), 1) == 1
    assert _at_threads(lambda: ext.team_size(work, 3), 4) == 3  # at most one thread per batch row
    assert _at_threads(lambda: ext.team_size(1000, BATCH), 4) == 1  # too little work to split


def _team(batch, hidden, threads, layer_norm=False, backward=False, hidden_out=None):
    ext = functions.ext()
    out = hidden if hidden_out is None else hidden_out
    return _at_threads(lambda: ext.lstm_team(batch, hidden, out, False, layer_norm, backward, False), threads)


def test_these_shapes_take_each_split():
    """(threads, whole rows, steps projected at a time) of the cases below: whole rows
    at 2 and 3 threads for the main grid, units at 2-4 for the unit grid (3 rows),
    whole rows with layer norm. A thread projects its inputs for about 64 of its rows
    at a time (at most 16 steps), in the forward only; layer norm split by columns
    (more threads than half its rows) projects all steps before the loop."""
    for backward in (False, True):
        def steps(n, backward=backward):
            return 0 if backward else n
        assert _team(BATCH, HIDDEN, 1, backward=backward) == (1, False, steps(6))  # 12 rows: 6 steps
        assert _team(BATCH, HIDDEN, 2, backward=backward) == (2, True, steps(11))  # 6 rows each
        assert _team(BATCH, HIDDEN, 3, backward=backward) == (3, True, steps(16))  # 4 rows each
        for n in UNIT_THREADS[1:]:
            assert _team(UNIT_BATCH, UNIT_HIDDEN, n, backward=backward) == (n, False, steps(16))
        assert _team(BATCH, HIDDEN, 2, layer_norm=True, backward=backward) == (2, True, steps(11))
        # 3 rows: layer norm splits its GEMMs by columns (the unit grid's layer-norm case)
        assert _team(UNIT_BATCH, UNIT_HIDDEN, 2, layer_norm=True, backward=backward) == (2, False, 0)
    assert _team(16, 256, 1) == (1, False, 4)
    assert _team(16, 256, 2) == (2, False, 4)  # W_hh (1 MiB) overflows a core's share: split by units
    assert _team(32, 128, 2) == (2, True, 4)  # W_hh 256 KiB: whole rows
    assert _team(64, 512, 2) == (2, True, 2)  # 4 MiB: not even a slice fits, whole rows
    assert _team(64, 512, 2, layer_norm=True) == (2, True, 2)


RUNS = [(None, "train"), (LENGTHS, "train"), (LENGTHS, "train-no-grad"), (None, "eval")]
RUN_IDS = ["train", "lengths-train", "lengths-no-grad", "eval"]
# every case in every run, except the stacked case (the slowest), which runs once
GRID = [pytest.param(o, lens, mode, id=f"{'-'.join(map(str, o)) or 'plain'}-{rid}")
        for o in CASES for (lens, mode), rid in zip(RUNS, RUN_IDS)
        if not (o.get("bidirectional") and rid != "train")]


def _check_bitwise(opts, lengths, mode, batch, hidden, threads):
    layer = _layer(opts, torch.float32, hidden).train(mode != "eval")
    x = torch.randn(STEPS, batch, INP, generator=torch.Generator().manual_seed(3))
    lens = None if lengths is None else torch.tensor(lengths[:batch])
    grad = mode == "train"
    results = [_at_threads(lambda: _run(layer, x, lens, grad), n) for n in threads]
    for n, result in zip(threads[1:], results[1:]):
        for got, want in zip(result, results[0]):
            assert torch.equal(got, want), f"{n} threads differ from 1 thread"


@pytest.mark.parametrize("opts,lengths,mode", GRID)
def test_bitwise_independent_of_thread_count(opts, lengths, mode):
    _check_bitwise(opts, lengths, mode, BATCH, HIDDEN, THREADS)


@pytest.mark.parametrize("opts,lengths,mode", GRID)
def test_bitwise_split_by_units(opts, lengths, mode):
    """The same with 3 rows, which the team splits by hidden units."""
    _check_bitwise(opts, lengths, mode, UNIT_BATCH, UNIT_HIDDEN, UNIT_THREADS)


@pytest.mark.parametrize("opts", [{"peephole": True, "proj_size": 40}, {"layer_norm": True, "zoneout": 0.2}],
                         ids=["peephole-proj", "ln-zoneout"])
def test_float64_team_matches_reference(opts):
    """The threaded float64 path agrees with the reference backend (forward and every gradient)."""
    cpu = _layer(opts, torch.float64)
    ref = _layer(opts, torch.float64)
    ref.backend = "reference"
    x = torch.randn(STEPS, BATCH, INP, dtype=torch.float64)
    want = _run(ref, x, None, True)
    got = _at_threads(lambda: _run(cpu, x, None, True), 3)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, atol=1e-10, rtol=0.0)


def test_rows_and_units_split_together():
    """More threads than unit blocks and fewer than two rows each: the team splits units
    (H = 96: six float32 vectors) and rows (B = 23) at once (12 threads: 6 x 2), so the
    peephole sums move after the loop; results stay bitwise the 1-thread ones."""
    batch, hidden, threads = 23, 96, 12
    for backward in (False, True):
        assert _team(batch, hidden, threads, backward=backward)[:2] == (threads, False)
    torch.manual_seed(0)
    layer = lstmkit.LSTM(INP, hidden, backend="cpu", peephole=True, zoneout=0.2, recurrent_dropout=0.1)
    x = torch.randn(6, batch, INP, generator=torch.Generator().manual_seed(5))
    lens = torch.randint(1, 7, (batch,), generator=torch.Generator().manual_seed(6))
    want = _run(layer, x, lens, True)
    got = _at_threads(lambda: _run(layer, x, lens, True), threads)
    for g, w in zip(got, want):
        assert torch.equal(g, w), f"{threads} threads (6 unit blocks x 2 row blocks) differ from 1 thread"


@pytest.mark.parametrize("opts", [{"peephole": True, "zoneout": 0.1}, {"layer_norm": True}], ids=["peephole", "ln"])
def test_forced_splits_agree(opts, monkeypatch):
    """LSTMKIT_CPU_SPLIT forces whole rows or units (columns with layer norm), as
    benchmarks/kernels_split.py does: both give bitwise the automatic results."""
    layer = _layer(opts, torch.float32)
    x = torch.randn(STEPS, BATCH, INP, generator=torch.Generator().manual_seed(3))
    lens = torch.tensor(LENGTHS)
    want = _at_threads(lambda: _run(layer, x, lens, True), 3)
    for split in ("rows", "units"):
        monkeypatch.setenv("LSTMKIT_CPU_SPLIT", split)
        got = _at_threads(lambda: _run(layer, x, lens, True), 3)
        for g, w in zip(got, want):
            assert torch.equal(g, w), f"forced split {split} differs"
    monkeypatch.setenv("LSTMKIT_CPU_SPLIT", "units")
    assert _team(BATCH, HIDDEN, 3) == (3, False, 6)  # the override reaches the kernels' rule
    monkeypatch.setenv("LSTMKIT_CPU_SPLIT", "rows")
    assert _team(BATCH, HIDDEN, 3) == (3, True, 16)
