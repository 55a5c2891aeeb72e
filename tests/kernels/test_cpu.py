"""The fused "cpu" backend against the reference backend (the executable spec).

Every case builds the same layer twice (backend="reference" and backend="cpu")
with the same random weights, runs both in training mode from the same seed
(so recurrent dropout, zoneout and weight drop draw the same masks through
``run_stack``) and compares outputs, final states and the gradients of the
input, the initial state and every parameter under a random cotangent.
"""

from __future__ import annotations

import pytest
import torch

import lstmkit
from lstmkit.kernels import registry
from lstmkit.kernels.cpu import functions
from lstmkit.kernels.spec import CellSpec, DirParams, LayerSpec, StepMasks

# The one tolerance table: max |cpu - reference| per dtype (outputs and gradients).
TOLERANCE = {
    torch.float64: {"atol": 1e-10, "rtol": 0.0},
    torch.float32: {"atol": 2e-5, "rtol": 1e-4},
}

LAYERS = {"LSTM": lstmkit.LSTM, "GRU": lstmkit.GRU, "RNN": lstmkit.RNN}

# (family, constructor options); input_size 4, hidden_size 4 unless given.
CASES = [
    ("LSTM", {}),
    ("LSTM", {"bias": False}),
    ("LSTM", {"peephole": True}),
    ("LSTM", {"coupled_gates": True}),
    ("LSTM", {"layer_norm": True}),
    ("LSTM", {"proj_size": 3}),
    ("LSTM", {"zoneout": (0.3, 0.2)}),
    ("LSTM", {"recurrent_dropout": 0.3}),
    ("LSTM", {"weight_drop": 0.3}),
    ("LSTM", {"num_layers": 3, "residual": True}),
    ("LSTM", {"bidirectional": True, "num_layers": 2, "dropout": 0.2}),
    ("LSTM", {"peephole": True, "coupled_gates": True, "layer_norm": True, "proj_size": 3,
              "zoneout": 0.25, "recurrent_dropout": 0.2, "weight_drop": 0.2,
              "bidirectional": True, "num_layers": 2}),
    ("LSTM", {"peephole": True, "layer_norm": True, "zoneout": (0.2, 0.4), "residual": True,
              "num_layers": 2}),
    ("GRU", {}),
    ("GRU", {"reset_after": False}),
    ("GRU", {"reset_after": False, "bias": False, "bidirectional": True}),
    ("GRU", {"zoneout": 0.3, "recurrent_dropout": 0.2, "weight_drop": 0.2, "num_layers": 2}),
    ("GRU", {"reset_after": False, "zoneout": 0.3, "recurrent_dropout": 0.2, "bidirectional": True}),
    ("RNN", {"nonlinearity": "tanh"}),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True, "num_layers": 2}),
    ("RNN", {"nonlinearity": "relu", "zoneout": 0.3, "recurrent_dropout": 0.2}),
]


def _ids(case: tuple[str, dict]) -> str:
    family, opts = case
    return family + "-" + ("-".join(f"{k}={v}" for k, v in opts.items()) or "plain")


def build_pair(family: str, opts: dict, dtype: torch.dtype, seed: int = 0):
    """The same randomly initialised layer on the reference and the cpu backend."""
    torch.manual_seed(seed)
    ref = LAYERS[family](4, 4, backend="reference", dtype=dtype, **opts)
    with torch.no_grad():  # every parameter non-trivial (LN gains, peepholes, biases)
        for p in ref.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    cpu = LAYERS[family](4, 4, backend="cpu", dtype=dtype, **opts)
    cpu.load_state_dict(ref.state_dict())
    return ref, cpu


def run_case(layer, x, hx, lengths, cotangent_seed: int, seed: int = 7):
    """Forward (training mode, fixed seed) and backward; -> (tensors, gradients)."""
    layer.train()
    x = x.clone().requires_grad_()
    hx = tuple(h.clone().requires_grad_() for h in hx) if isinstance(hx, tuple) else (
        hx.clone().requires_grad_())  # fmt: skip
    torch.manual_seed(seed)
    out, state = layer(x, hx, lengths=lengths)
    states = list(state) if isinstance(state, tuple) else [state]
    gen = torch.Generator().manual_seed(cotangent_seed)
    loss = sum((t * torch.randn(t.shape, generator=gen, dtype=t.dtype)).sum() for t in [out, *states])
    inputs = [x, *(hx if isinstance(hx, tuple) else (hx,)), *layer.parameters()]
    grads = torch.autograd.grad(loss, inputs, allow_unused=True)
    grads = [torch.zeros_like(i) if g is None else g for i, g in zip(inputs, grads)]
    return [out, *states], grads


def inputs_for(layer, dtype: torch.dtype, steps: int = 5, batch: int = 3, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    rows = layer.num_layers * (2 if layer.bidirectional else 1)
    out = layer.proj_size if getattr(layer, "proj_size", 0) else layer.hidden_size
    x = torch.randn(steps, batch, layer.input_size, generator=gen, dtype=dtype)
    h0 = torch.randn(rows, batch, out, generator=gen, dtype=dtype)
    if layer.mode == "LSTM":
        return x, (h0, torch.randn(rows, batch, layer.hidden_size, generator=gen, dtype=dtype))
    return x, h0


def assert_close_all(a: list[torch.Tensor], b: list[torch.Tensor], dtype: torch.dtype) -> None:
    assert len(a) == len(b)
    for i, (u, v) in enumerate(zip(a, b)):
        torch.testing.assert_close(u, v, **TOLERANCE[dtype], msg=lambda m, i=i: f"tensor {i}: {m}")


@pytest.mark.parametrize("case", CASES, ids=_ids)
@pytest.mark.parametrize("lengths", [None, [5, 2, 4]], ids=["full", "lengths"])
def test_matches_reference_float64(case, lengths):
    family, opts = case
    ref, cpu = build_pair(family, opts, torch.float64)
    x, hx = inputs_for(ref, torch.float64)
    lens = None if lengths is None else torch.tensor(lengths)
    t_ref, g_ref = run_case(ref, x, hx, lens, cotangent_seed=3)
    t_cpu, g_cpu = run_case(cpu, x, hx, lens, cotangent_seed=3)
    assert_close_all(t_cpu, t_ref, torch.float64)
    assert_close_all(g_cpu, g_ref, torch.float64)


@pytest.mark.parametrize("case", CASES[::3], ids=_ids)
def test_matches_reference_float32(case):
    family, opts = case
    ref, cpu = build_pair(family, opts, torch.float32)
    x, hx = inputs_for(ref, torch.float32, steps=8, batch=4)
    lens = torch.tensor([8, 3, 6, 1])
    t_ref, g_ref = run_case(ref, x, hx, lens, cotangent_seed=5)
    t_cpu, g_cpu = run_case(cpu, x, hx, lens, cotangent_seed=5)
    assert_close_all(t_cpu, t_ref, torch.float32)
    assert_close_all(g_cpu, g_ref, torch.float32)


def test_eval_mode_zoneout_uses_expectation_like_reference():
    ref, cpu = build_pair("LSTM", {"zoneout": (0.3, 0.1), "recurrent_dropout": 0.4}, torch.float64)
    x, hx = inputs_for(ref, torch.float64)
    ref.eval()
    cpu.eval()
    with torch.no_grad():
        y_ref, (h_ref, c_ref) = ref(x, hx)
        y_cpu, (h_cpu, c_cpu) = cpu(x, hx)
    assert_close_all([y_cpu, h_cpu, c_cpu], [y_ref, h_ref, c_ref], torch.float64)


def test_stochastic_masks_follow_the_seed():
    """Same seed: the same masks as the reference; another seed: different results."""
    opts = {"zoneout": 0.3, "recurrent_dropout": 0.3, "weight_drop": 0.3, "num_layers": 2, "dropout": 0.3}
    ref, cpu = build_pair("LSTM", opts, torch.float64)
    x, hx = inputs_for(ref, torch.float64)
    t_ref, _ = run_case(ref, x, hx, None, cotangent_seed=0, seed=11)
    t_cpu, _ = run_case(cpu, x, hx, None, cotangent_seed=0, seed=11)
    t_other, _ = run_case(cpu, x, hx, None, cotangent_seed=0, seed=12)
    assert_close_all(t_cpu, t_ref, torch.float64)
    assert not torch.allclose(t_other[0], t_cpu[0])


@pytest.mark.parametrize("family,opts", [("LSTM", {"peephole": True, "layer_norm": True, "proj_size": 2}),
                                         ("GRU", {"reset_after": False}), ("RNN", {})])  # fmt: skip
def test_deterministic_bitwise(family, opts):
    _, cpu = build_pair(family, opts, torch.float32)
    x, hx = inputs_for(cpu, torch.float32, steps=12, batch=5)
    lens = torch.tensor([12, 7, 1, 12, 3])
    first_t, first_g = run_case(cpu, x, hx, lens, cotangent_seed=2)
    for _ in range(2):
        again_t, again_g = run_case(cpu, x, hx, lens, cotangent_seed=2)
        for u, v in zip(first_t + first_g, again_t + again_g):
            assert torch.equal(u, v)


def _direction_inputs(cell: CellSpec, steps: int, batch: int, inp: int):
    gen = torch.Generator().manual_seed(4)

    def rnd(*shape):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.5).requires_grad_()

    gh, hid, out = cell.num_gates * cell.hidden_size, cell.hidden_size, cell.out_size
    tensors = {"x": rnd(steps, batch, inp), "h0": rnd(batch, out), "w_ih": rnd(gh, inp),
               "w_hh": rnd(gh, out), "b_ih": rnd(gh), "b_hh": rnd(gh)}  # fmt: skip
    if cell.mode == "LSTM":
        tensors["c0"] = rnd(batch, hid)
    if cell.proj_size:
        tensors["w_hr"] = rnd(out, hid)
    if cell.peephole:
        tensors["w_ch"] = rnd(3, hid)
    if cell.layer_norm:
        tensors.update(ln_gates_weight=rnd(gh), ln_gates_bias=rnd(gh), ln_cell_weight=rnd(hid),
                       ln_cell_bias=rnd(hid))  # fmt: skip
    masks = StepMasks(
        recurrent=torch.bernoulli(torch.full((batch, out), 0.7, dtype=torch.float64), generator=gen) / 0.7,
        zoneout_c=torch.bernoulli(torch.full((steps, batch, hid), 0.3, dtype=torch.float64), generator=gen)
        if cell.mode == "LSTM" else None,
        zoneout_h=torch.bernoulli(torch.full((steps, batch, out), 0.3, dtype=torch.float64), generator=gen),
    )  # fmt: skip
    return tensors, masks


@pytest.mark.parametrize("cell", [
    CellSpec("LSTM", 3, proj_size=2, peephole=True, layer_norm=True),
    CellSpec("LSTM", 3, coupled_gates=True, peephole=True),
    CellSpec("GRU", 3, reset_after=True),
    CellSpec("GRU", 3, reset_after=False),
    CellSpec("RNN_TANH", 3),
], ids=lambda c: f"{c.mode}-proj{c.proj_size}-peep{int(c.peephole)}-cifg{int(c.coupled_gates)}-ra{int(c.reset_after)}")  # fmt: skip
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck(cell, reverse):
    tensors, masks = _direction_inputs(cell, steps=3, batch=2, inp=2)
    names = list(tensors)
    lengths = torch.tensor([3, 2])

    def fn(*values):
        t = dict(zip(names, values))
        params = DirParams(**{k: v for k, v in t.items() if k not in ("x", "h0", "c0")})
        res = functions.run_direction(t["x"], t["h0"], t.get("c0"), params, cell, lengths, reverse, masks, False)
        return (res.y, res.h_n) if res.c_n is None else (res.y, res.h_n, res.c_n)

    assert torch.autograd.gradcheck(fn, tuple(tensors.values()), eps=1e-6, atol=1e-7)


def test_auto_prefers_cpu_for_options_torch_lacks():
    spec = LayerSpec(CellSpec("LSTM", 8, peephole=True), input_size=4)
    x = torch.zeros(3, 2, 4)
    assert registry.resolve("auto", spec, x, False).name == "cpu"
    assert registry.resolve("auto", spec, x, True).name == "reference"  # gates are traced there


def test_unsupported_reasons():
    backend = registry.get("cpu")
    spec = LayerSpec(CellSpec("LSTM", 8), input_size=4)
    assert "return_gates" in backend.unsupported(spec, torch.zeros(3, 2, 4), True)
    assert "float" in backend.unsupported(spec, torch.zeros(3, 2, 4, dtype=torch.bfloat16), False)
    layer = lstmkit.LSTM(4, 8, backend="cpu")
    with pytest.raises(ValueError, match="return_gates"):
        layer(torch.zeros(3, 2, 4), return_gates=True)


@pytest.mark.parametrize("family,opts", [
    ("LSTM", {"num_layers": 2, "peephole": True, "layer_norm": True, "zoneout": (0.2, 0.3), "proj_size": 3}),
    ("LSTM", {"num_layers": 3, "residual": True, "coupled_gates": True}),
    ("GRU", {"reset_after": False, "zoneout": 0.2}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
])  # fmt: skip
def test_stream_steps_and_chunks_equal_the_whole_sequence(family, opts):
    from lstmkit.kernels.cpu.stream import Stream

    _, cpu = build_pair(family, opts, torch.float64)
    cpu.eval()
    x, hx = inputs_for(cpu, torch.float64, steps=7, batch=2)
    with torch.no_grad():
        y_ref, state_ref = cpu(x, hx)
    stream = Stream(cpu)
    state, ys = hx, []
    for t in range(4):  # single steps (B, I) ...
        y, state = stream(x[t], state)
        ys.append(y.unsqueeze(0))
    y, state = stream(x[4:], state)  # ... then a chunk (T, B, I)
    ys.append(y)
    flat = lambda s: list(s) if isinstance(s, tuple) else [s]
    assert_close_all([torch.cat(ys, 0), *flat(state)], [y_ref, *flat(state_ref)], torch.float64)


def test_stream_rejects_what_it_cannot_step():
    from lstmkit.kernels.cpu.stream import Stream

    with pytest.raises(ValueError, match="bidirectional"):
        Stream(lstmkit.LSTM(3, 4, bidirectional=True))
    with pytest.raises(TypeError, match="lstmkit LSTM"):
        Stream(torch.nn.LSTM(3, 4))
    with pytest.raises(ValueError, match=r"x: expected \(B, 3\)"):
        Stream(lstmkit.GRU(3, 4))(torch.zeros(2, 5))


@pytest.mark.parametrize("cls,kw", [(lstmkit.LSTM, {"peephole": True}), (lstmkit.LSTM, {}),
                                    (lstmkit.GRU, {"reset_after": False}), (lstmkit.RNN, {})])
def test_fused_ops_on_an_empty_batch(cls, kw):
    """The fused ops themselves (not only the layer) take a batch of zero sequences: empty
    outputs, zero gradients (the backward once read saved activations that were not there)."""
    m = cls(4, 5, num_layers=2, bidirectional=True, backend="cpu", **kw)
    x = torch.randn(3, 0, 4, requires_grad=True)
    h0 = torch.zeros(4, 0, 5)
    params = [m.dir_params(k, d == 1) for k in range(2) for d in range(2)]
    res = registry.get("cpu").run(m.spec, x, h0, h0.clone() if cls is lstmkit.LSTM else None,
                                  params, None, True, False)
    assert res.output.shape == (3, 0, 10) and res.h_n.shape == (4, 0, 5)
    res.output.sum().backward()
    assert x.grad.shape == x.shape
    assert all(p.grad is None or not p.grad.any() for p in m.parameters())
