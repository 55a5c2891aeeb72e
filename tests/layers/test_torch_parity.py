"""lstmkit.LSTM / GRU / RNN against torch.nn over the whole argument grid.

Same weights (loaded through state_dict) -> same outputs, final states and
every gradient (parameters and input), for the reference and native backends.
"""

import itertools

import pytest
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

import lstmkit
from lstmkit.testing import assert_close

T, B, I, H = 5, 3, 4, 6
FORMS = ("padded", "packed", "unbatched")


def _cases(mode):
    projs = (0, 2) if mode == "LSTM" else (0,)
    for layers, bidir, bf, bias, proj, form, init in itertools.product(
        (1, 2, 3), (False, True), (False, True), (True, False), projs, FORMS, (False, True)
    ):
        if form != "padded" and bf:
            continue  # batch_first only changes padded inputs
        yield layers, bidir, bf, bias, proj, form, init


def _make(mode, layers, bidir, bf, bias, proj, dtype, backend):
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=bf, bias=bias, dtype=dtype)
    if mode == "LSTM":
        theirs, ours = torch.nn.LSTM(I, H, proj_size=proj, **kw), lstmkit.LSTM(
            I, H, proj_size=proj, backend=backend, **kw)
    elif mode == "GRU":
        theirs, ours = torch.nn.GRU(I, H, **kw), lstmkit.GRU(I, H, backend=backend, **kw)
    else:
        nl = "relu" if mode == "RNN_RELU" else "tanh"
        theirs = torch.nn.RNN(I, H, nonlinearity=nl, **kw)
        ours = lstmkit.RNN(I, H, nonlinearity=nl, backend=backend, **kw)
    # state_dicts are interchangeable in both directions
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())
    return theirs, ours


def _inputs(mode, layers, bidir, bf, proj, form, init, dtype, gen):
    rows, out = layers * (2 if bidir else 1), proj or H
    x = torch.randn(B, T, I, dtype=dtype, generator=gen) if bf else torch.randn(
        T, B, I, dtype=dtype, generator=gen)
    lengths = torch.tensor([T, 2, 4])
    if form == "unbatched":
        x = x[:, 0]
    state = None
    if init:
        shape_h = (rows, out) if form == "unbatched" else (rows, B, out)
        shape_c = (rows, H) if form == "unbatched" else (rows, B, H)
        h0 = torch.randn(shape_h, dtype=dtype, generator=gen)
        state = (h0, torch.randn(shape_c, dtype=dtype, generator=gen)) if mode == "LSTM" else h0
    return x, lengths, state


def _run(module, x, lengths, state, form):
    leaves = [x] + (list(state) if isinstance(state, tuple) else [state] if state is not None else [])
    leaves = [t.detach().clone().requires_grad_(True) for t in leaves]
    x = leaves[0]
    st = None if state is None else (tuple(leaves[1:]) if isinstance(state, tuple) else leaves[1])
    inp = pack_padded_sequence(x, lengths, enforce_sorted=False) if form == "packed" else x
    out, hn = module(inp, st)
    data = out.data if isinstance(out, PackedSequence) else out
    states = list(hn) if isinstance(hn, tuple) else [hn]
    return leaves, data, states


@pytest.mark.parametrize("backend", ["reference", "native"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
def test_parity_grid(mode, dtype, backend):
    gen = torch.Generator().manual_seed(0)
    n = 0
    for layers, bidir, bf, bias, proj, form, init in _cases(mode):
        torch.manual_seed(n)
        theirs, ours = _make(mode, layers, bidir, bf, bias, proj, dtype, backend)
        x, lengths, state = _inputs(mode, layers, bidir, bf, proj, form, init, dtype, gen)
        lt, yt, st = _run(theirs, x, lengths, state, form)
        lo, yo, so = _run(ours, x, lengths, state, form)
        case = f"{mode} layers={layers} bidir={bidir} bf={bf} bias={bias} proj={proj} {form} init={init}"
        assert_close(yo, yt, case + " output")
        for a, b in zip(so, st):
            assert_close(a, b, case + " state")
        # random cotangents on the output and every final state
        cot = [torch.randn(t.shape, dtype=dtype, generator=gen) for t in [yt, *st]]
        gt = torch.autograd.grad([yt, *st], lt + list(theirs.parameters()), cot)
        go = torch.autograd.grad([yo, *so], lo + list(ours.parameters()), cot)
        names = ["input/state"] * len(lt) + [k for k, _ in theirs.named_parameters()]
        for a, b, name in zip(go, gt, names):
            assert_close(a, b, f"{case} grad {name}")
        n += 1
    assert n >= 48


def test_seeded_init_matches_torch():
    """With the same seed, lstmkit draws torch's initial weights, option extras after them."""
    torch.manual_seed(3)
    theirs = torch.nn.LSTM(4, 6, 2, bidirectional=True, proj_size=3)
    torch.manual_seed(3)
    ours = lstmkit.LSTM(4, 6, 2, bidirectional=True, proj_size=3, peephole=True)
    for name, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name
    assert ours.weight_ch_l1_reverse.shape == (3, 6)


def test_default_float32_backend_auto_matches_torch():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(10, 20, num_layers=2, batch_first=True)
    ours = lstmkit.LSTM(input_size=10, hidden_size=20, num_layers=2, batch_first=True)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(3, 7, 10)
    out, (h_n, c_n) = ours(x)
    ref, (h_t, c_t) = theirs(x)
    assert out.shape == (3, 7, 20) and h_n.shape == (2, 3, 20) and c_n.shape == (2, 3, 20)
    assert_close(out, ref)
    assert_close(h_n, h_t)
    assert_close(c_n, c_t)


def test_cells_match_torch_cells():
    gen = torch.Generator().manual_seed(1)
    for ours_cls, theirs_cls, kw in [
        (lstmkit.LSTMCell, torch.nn.LSTMCell, {}),
        (lstmkit.GRUCell, torch.nn.GRUCell, {}),
        (lstmkit.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    ]:
        for bias in (True, False):
            theirs = theirs_cls(I, H, bias=bias, dtype=torch.float64, **kw)
            ours = ours_cls(I, H, bias=bias, dtype=torch.float64, **kw)
            ours.load_state_dict(theirs.state_dict())
            x = torch.randn(B, I, dtype=torch.float64, generator=gen)
            h = torch.randn(B, H, dtype=torch.float64, generator=gen)
            state = (h, torch.randn(B, H, dtype=torch.float64, generator=gen)) if (
                ours_cls is lstmkit.LSTMCell) else h
            a, b = ours(x, state), theirs(x, state)
            for p, q in zip(a if isinstance(a, tuple) else [a], b if isinstance(b, tuple) else [b]):
                assert_close(p, q, ours_cls.__name__)
            # unbatched
            a1 = ours(x[0])
            b1 = theirs(x[0])
            assert_close(a1[0] if isinstance(a1, tuple) else a1, b1[0] if isinstance(b1, tuple) else b1)
