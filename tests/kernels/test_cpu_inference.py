"""The inference path of the fused "cpu" kernels.

Without gradients the LSTM forward stores nothing for backward (scratch rows,
two alternating state buffers); its outputs must be bitwise those of the
training path. Evaluation-mode zoneout passes one (1, B, n) step of the
constant rate instead of a (T, B, n) tensor. Layer norm sums in a fixed,
vectorised order; it must still match the reference to 1e-10 in float64 at
widths that exercise both the 16-lane body and the tail.
"""

from __future__ import annotations

import pytest
import torch

import lstmkit
from lstmkit.kernels.cpu import functions, ops
from lstmkit.kernels.stack import draw_masks

CASES = [
    {},
    {"peephole": True},
    {"coupled_gates": True},
    {"layer_norm": True},
    {"proj_size": 5},
    {"zoneout": (0.3, 0.2)},
    {"recurrent_dropout": 0.3},
    {"bidirectional": True, "num_layers": 2, "layer_norm": True, "peephole": True, "proj_size": 7},
]


def _layer(opts: dict, backend: str, hidden: int = 21, dtype: torch.dtype = torch.float32,
           inp: int = 6) -> lstmkit.LSTM:  # fmt: skip
    torch.manual_seed(0)
    layer = lstmkit.LSTM(inp, hidden, backend=backend, dtype=dtype, **opts)
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    return layer


@pytest.mark.parametrize("opts", CASES, ids=lambda o: "-".join(map(str, o)) or "plain")
@pytest.mark.parametrize("lengths", [None, [9, 3, 6, 1]], ids=["full", "lengths"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_no_grad_forward_is_bitwise_the_grad_forward(opts, lengths, training):
    layer = _layer(opts, "cpu").train(training)
    x = torch.randn(9, 4, 6, generator=torch.Generator().manual_seed(1))
    lens = None if lengths is None else torch.tensor(lengths)
    torch.manual_seed(5)
    y_grad, (h_grad, c_grad) = layer(x, lengths=lens)
    assert y_grad.requires_grad  # the autograd path with saved buffers ran
    torch.manual_seed(5)
    with torch.no_grad():
        y, (h, c) = layer(x, lengths=lens)
    for got, want in ((y, y_grad), (h, h_grad), (c, c_grad)):
        assert torch.equal(got, want.detach())


def test_constant_zoneout_step_equals_the_full_mask():
    """A (1, B, n) zoneout mask gives bitwise the (T, B, n) constant mask's results, forward and backward."""
    layer = _layer({"zoneout": (0.3, 0.2), "proj_size": 5}, "cpu", dtype=torch.float64)
    params = functions.param_list(layer.dir_params(0, False))
    x = torch.randn(7, 3, 6, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(3, 5, dtype=torch.float64)
    c0 = torch.randn(3, 21, dtype=torch.float64)
    results = []
    for steps in (7, 1):
        zc = torch.full((steps, 3, 21), 0.3, dtype=torch.float64)
        zh = torch.full((steps, 3, 5), 0.2, dtype=torch.float64)
        y, h, c = ops.lstm_forward(x, h0, c0, *params, None, zc, zh, None, False, False, True)[:3]
        (gx,) = torch.autograd.grad((y * torch.cos(y)).sum() + h.sum() + c.sum(), [x])
        results.append([y, h, c, gx])
    for got, want in zip(results[1], results[0]):
        assert torch.equal(got, want)


def test_eval_zoneout_mask_is_one_step():
    spec = _layer({"zoneout": 0.25}, "cpu").spec
    masks = functions.mask_list(draw_masks(spec, steps=50, batch=2, training=False, like=torch.zeros(1)))
    assert masks[1].shape == (1, 2, 21) and masks[2].shape == (1, 2, 21)
    assert torch.all(masks[1] == 0.25)


@pytest.mark.parametrize("hidden", [16, 37, 70])
def test_layer_norm_fixed_order_sums_match_reference_float64(hidden):
    ref = _layer({"layer_norm": True, "peephole": True}, "reference", hidden=hidden, dtype=torch.float64)
    cpu = _layer({"layer_norm": True, "peephole": True}, "cpu", hidden=hidden, dtype=torch.float64)
    x = torch.randn(6, 3, 6, dtype=torch.float64) * 3 + 1
    outs = []
    for layer in (ref, cpu):
        xx = x.clone().requires_grad_()
        y, (h, c) = layer(xx)
        loss = (y * torch.sin(y)).sum() + (h * c).sum()
        grads = torch.autograd.grad(loss, [xx, *layer.parameters()])
        outs.append([y, h, c, *grads])
    for got, want in zip(outs[1], outs[0]):
        torch.testing.assert_close(got, want, atol=1e-10, rtol=0.0)


def test_bitwise_independent_of_thread_count():
    """GEMMs large enough to split across threads (>= 2M multiply-adds) give bitwise the 1-thread results."""
    layer = _layer({"layer_norm": True}, "cpu", hidden=128, inp=64)
    x = torch.randn(20, 16, 64, generator=torch.Generator().manual_seed(2))
    before = torch.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            xx = x.clone().requires_grad_()
            y, (h, c) = layer(xx)
            grads = torch.autograd.grad((y * torch.cos(y)).sum() + h.sum(), [xx, *layer.parameters()])
            results.append([y, h, c, *grads])
    finally:
        torch.set_num_threads(before)
    for got, want in zip(results[1], results[0]):
        assert torch.equal(got, want)
