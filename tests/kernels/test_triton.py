"""The "triton" backend against the reference backend (the executable spec).

On a machine without CUDA the kernels run in Triton's interpreter
(``TRITON_INTERPRET=1``, set here before the kernels are first imported) on
CPU tensors, on tiny shapes; with CUDA they run on the GPU. Each case builds
the same layer on both backends with the same random weights, runs both in
training mode from the same seed (so the random masks are the same draws) and
compares outputs, final states and every gradient under a random cotangent.
"""

from __future__ import annotations

import os

import pytest
import torch

CUDA = torch.cuda.is_available()
pytest.importorskip("triton", reason="Triton is not installed (the 'gpu' extra)")

import lstmkit  # noqa: E402
from lstmkit.kernels import registry  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _interpreter():
    """Without CUDA: let the backend take CPU tensors for this module's tests only
    (tests/conftest.py set TRITON_INTERPRET=1 before Triton was imported); elsewhere
    it declines them, so "auto" never picks the interpreter."""
    if CUDA:
        yield
        return
    if os.environ.get("TRITON_INTERPRET") != "1":
        pytest.skip("Triton's interpreter needs TRITON_INTERPRET=1 before Triton is imported "
                    "(tests/conftest.py sets it)")
    os.environ["LSTMKIT_TRITON_CPU"] = "1"
    yield
    del os.environ["LSTMKIT_TRITON_CPU"]


DEVICE = torch.device("cuda" if CUDA else "cpu")
LAYERS = {"LSTM": lstmkit.LSTM, "GRU": lstmkit.GRU, "RNN": lstmkit.RNN}
TOLERANCE = {
    torch.float64: {"atol": 1e-10, "rtol": 0.0},
    torch.float32: {"atol": 3e-5, "rtol": 1e-4},
}
CASES = [
    ("LSTM", {}),
    ("LSTM", {"bias": False, "peephole": True}),
    ("LSTM", {"coupled_gates": True, "peephole": True}),
    ("LSTM", {"layer_norm": True}),
    ("LSTM", {"proj_size": 3, "recurrent_dropout": 0.3}),
    ("LSTM", {"zoneout": (0.3, 0.2), "weight_drop": 0.3}),
    ("LSTM", {"bidirectional": True, "num_layers": 2, "dropout": 0.2, "residual": True}),
    ("LSTM", {"peephole": True, "coupled_gates": True, "layer_norm": True, "proj_size": 3,
              "zoneout": 0.25, "recurrent_dropout": 0.2, "bidirectional": True}),
    ("GRU", {}),
    ("GRU", {"reset_after": False, "zoneout": 0.3, "recurrent_dropout": 0.2}),
    ("GRU", {"reset_after": False, "bias": False, "bidirectional": True}),
    ("GRU", {"recurrent_dropout": 0.2, "weight_drop": 0.2, "num_layers": 2}),
    ("RNN", {"nonlinearity": "tanh", "zoneout": 0.3}),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True, "recurrent_dropout": 0.2}),
]


def _ids(case):
    family, opts = case
    return family + "-" + ("-".join(f"{k}={v}" for k, v in opts.items()) or "plain")


def build_pair(family, opts, dtype):
    torch.manual_seed(0)
    ref = LAYERS[family](3, 4, backend="reference", dtype=dtype, device=DEVICE, **opts)
    with torch.no_grad():  # every parameter non-trivial (LN gains, peepholes, biases)
        for p in ref.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    fused = LAYERS[family](3, 4, backend="triton", dtype=dtype, device=DEVICE, **opts)
    fused.load_state_dict(ref.state_dict())
    return ref, fused


def inputs_for(layer, dtype, steps=4, batch=3):
    gen = torch.Generator().manual_seed(1)
    rows = layer.num_layers * (2 if layer.bidirectional else 1)
    out = layer.proj_size if getattr(layer, "proj_size", 0) else layer.hidden_size
    rnd = lambda *s: torch.randn(*s, generator=gen, dtype=dtype).to(DEVICE)  # noqa: E731
    x, h0 = rnd(steps, batch, layer.input_size), rnd(rows, batch, out)
    return x, ((h0, rnd(rows, batch, layer.hidden_size)) if layer.mode == "LSTM" else h0)


def run_case(layer, x, hx, lengths):
    """Forward in training mode from a fixed seed, then gradients of a random projection."""
    layer.train()
    x = x.clone().requires_grad_()
    hx = tuple(h.clone().requires_grad_() for h in hx) if isinstance(hx, tuple) else hx.clone().requires_grad_()
    torch.manual_seed(7)
    out, state = layer(x, hx, lengths=lengths)
    states = list(state) if isinstance(state, tuple) else [state]
    gen = torch.Generator().manual_seed(3)
    loss = sum((t * torch.randn(t.shape, generator=gen, dtype=t.dtype).to(DEVICE)).sum() for t in [out, *states])
    inputs = [x, *(hx if isinstance(hx, tuple) else (hx,)), *layer.parameters()]
    grads = torch.autograd.grad(loss, inputs, allow_unused=True)
    return [out, *states], [torch.zeros_like(i) if g is None else g for i, g in zip(inputs, grads)]


def assert_close_all(a, b, **tol):
    assert len(a) == len(b)
    for i, (u, v) in enumerate(zip(a, b)):
        torch.testing.assert_close(u, v, **tol, msg=lambda m, i=i: f"tensor {i}: {m}")


@pytest.mark.parametrize("case", CASES, ids=_ids)
@pytest.mark.parametrize("lengths", [None, [4, 1, 3]], ids=["full", "lengths"])
def test_matches_reference_float64(case, lengths):
    ref, fused = build_pair(*case, torch.float64)
    x, hx = inputs_for(ref, torch.float64)
    lens = None if lengths is None else torch.tensor(lengths)
    t_ref, g_ref = run_case(ref, x, hx, lens)
    t_fused, g_fused = run_case(fused, x, hx, lens)
    assert_close_all(t_fused, t_ref, **TOLERANCE[torch.float64])
    assert_close_all(g_fused, g_ref, **TOLERANCE[torch.float64])


@pytest.mark.parametrize("case", CASES[::4], ids=_ids)
def test_matches_reference_float32(case):
    ref, fused = build_pair(*case, torch.float32)
    x, hx = inputs_for(ref, torch.float32)
    lens = torch.tensor([4, 2, 3])
    t_ref, g_ref = run_case(ref, x, hx, lens)
    t_fused, g_fused = run_case(fused, x, hx, lens)
    assert_close_all(t_fused, t_ref, **TOLERANCE[torch.float32])
    assert_close_all(g_fused, g_ref, **TOLERANCE[torch.float32])


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_accumulates_in_float32(dtype):
    """A half / bfloat16 layer: outputs and gradients within the storage format's
    rounding of the float32 reference (the state is carried in float32 inside).
    On a GPU the backend declines half precision (its input gradient disagreed on
    an H200), so there the test checks that it says so instead of running."""
    if CUDA:
        layer = lstmkit.LSTM(3, 4, peephole=True, layer_norm=True, dtype=dtype, device=DEVICE)
        reason = registry.get("triton").unsupported(layer.spec, torch.zeros(2, 1, 3, dtype=dtype, device=DEVICE),
                                                    False)
        assert reason is not None and "float32" in reason
        return
    ref, _ = build_pair("LSTM", {"peephole": True, "layer_norm": True}, torch.float32)
    half = lstmkit.LSTM(3, 4, backend="triton", peephole=True, layer_norm=True, dtype=dtype, device=DEVICE)
    half.load_state_dict({k: v.to(dtype) for k, v in ref.state_dict().items()})
    ref.load_state_dict({k: v.to(dtype).float() for k, v in ref.state_dict().items()})  # same rounded weights
    x, hx = inputs_for(ref, torch.float32)
    x, hx = x.to(dtype), tuple(h.to(dtype) for h in hx)
    t_ref, g_ref = run_case(ref, x.float(), tuple(h.float() for h in hx), None)
    t_half, g_half = run_case(half, x, hx, None)
    assert all(t.dtype == dtype for t in t_half)
    assert_close_all([t.float() for t in t_half], t_ref, atol=2e-2, rtol=2e-2)
    assert_close_all([g.float() for g in g_half], g_ref, atol=5e-2, rtol=5e-2)


@pytest.mark.parametrize("family,opts", [("LSTM", {"coupled_gates": True}), ("GRU", {}), ("RNN", {})])
def test_gate_traces_match_reference(family, opts):
    ref, fused = build_pair(family, {**opts, "bidirectional": True}, torch.float64)
    x, hx = inputs_for(ref, torch.float64)
    with torch.no_grad():
        _, _, g_ref = ref(x, hx, return_gates=True)
        _, _, g_fused = fused(x, hx, return_gates=True)
    assert g_ref.keys() == g_fused.keys()
    for layer in g_ref:
        assert g_ref[layer].keys() == g_fused[layer].keys()
        for name in g_ref[layer]:
            torch.testing.assert_close(g_fused[layer][name], g_ref[layer][name], **TOLERANCE[torch.float64])


def test_eval_mode_uses_the_expected_zoneout_like_reference():
    ref, fused = build_pair("LSTM", {"zoneout": (0.3, 0.1), "recurrent_dropout": 0.4}, torch.float64)
    ref.eval()
    fused.eval()
    x, hx = inputs_for(ref, torch.float64)
    with torch.no_grad():
        assert_close_all(list(fused(x, hx)[0:1]), list(ref(x, hx)[0:1]), **TOLERANCE[torch.float64])


def test_a_batch_of_zero_sequences():
    layer = lstmkit.LSTM(3, 4, backend="triton", bidirectional=True, device=DEVICE)
    x = torch.randn(5, 0, 3, device=DEVICE, requires_grad=True)
    out, (h, c) = layer(x)
    assert out.shape == (5, 0, 8) and h.shape == c.shape == (2, 0, 4)
    out.sum().backward()
    assert x.grad.shape == x.shape


def test_reasons_it_declines(monkeypatch):
    m = lstmkit.LSTM(3, 4, peephole=True)
    backend = registry.get("triton")
    if not CUDA:
        monkeypatch.setenv("LSTMKIT_TRITON_CPU", "0")
        assert "CUDA tensors" in backend.unsupported(m.spec, torch.randn(2, 1, 3), False)
        monkeypatch.setenv("LSTMKIT_TRITON_CPU", "1")
    x = torch.randn(2, 1, 3, device=DEVICE)
    assert backend.unsupported(m.spec, x, False) is None
    assert "int64" in backend.unsupported(m.spec, x.long(), False)
    assert "T = 0" in backend.unsupported(m.spec, x[:0], False)
    assert "return_gates under autograd" in backend.unsupported(m.spec, x, True)
    with torch.no_grad():
        assert backend.unsupported(m.spec, x, True) is None


def test_packed_input_matches_reference():
    ref, fused = build_pair("LSTM", {"peephole": True, "bidirectional": True}, torch.float64)
    x, _ = inputs_for(ref, torch.float64)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor([4, 3, 1]), enforce_sorted=False)
    with torch.no_grad():
        out_ref, (h_ref, c_ref) = ref(packed)
        out_fused, (h_fused, c_fused) = fused(packed)
    assert isinstance(out_fused, torch.nn.utils.rnn.PackedSequence)
    assert_close_all([out_fused.data, h_fused, c_fused], [out_ref.data, h_ref, c_ref], **TOLERANCE[torch.float64])


def test_deterministic_given_the_seed():
    """Two training-mode runs from one seed agree bitwise (no atomics: per-step launches
    write disjoint elements, the weight gradients are single GEMMs)."""
    _, fused = build_pair("GRU", {"reset_after": False, "recurrent_dropout": 0.3, "zoneout": 0.2}, torch.float32)
    x, hx = inputs_for(fused, torch.float32)
    first, second = run_case(fused, x, hx, None), run_case(fused, x, hx, None)
    for a, b in zip(first[0] + first[1], second[0] + second[1]):
        assert torch.equal(a, b)


def test_half_precision_on_a_gpu_is_declined_with_its_reason():
    """float16 / bfloat16 CUDA inputs are declined (so "auto" runs them elsewhere and an explicit
    request fails with the reason); float32 / float64 CUDA inputs are taken. A stand-in for a CUDA
    tensor: the checks read only its device, dtype and shape."""
    from types import SimpleNamespace

    backend = registry.get("triton")
    spec = lstmkit.LSTM(3, 4, layer_norm=True).spec
    cuda = lambda dtype: SimpleNamespace(device=torch.device("cuda"), dtype=dtype, shape=(2, 1, 3))  # noqa: E731
    for dtype in (torch.float16, torch.bfloat16):
        assert "cast the layer to float32" in backend.unsupported(spec, cuda(dtype), False)
    for dtype in (torch.float32, torch.float64):
        assert backend.unsupported(spec, cuda(dtype), False) is None
