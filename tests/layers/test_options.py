"""The options beyond torch: gradcheck, independent re-derivations, regularisers, init."""

import math

import pytest
import torch

import lstmkit

D = torch.float64

OPTION_SETS = {
    "peephole": dict(peephole=True),
    "coupled": dict(coupled_gates=True),
    "layer_norm": dict(layer_norm=True),
    "proj": dict(proj_size=2),
    "zoneout": dict(zoneout=(0.3, 0.2)),
    "recurrent_dropout": dict(recurrent_dropout=0.3),
    "weight_drop": dict(weight_drop=0.3),
    "residual": dict(residual=True, num_layers=2, input_size=3),
    "combined": dict(peephole=True, layer_norm=True, coupled_gates=True, zoneout=0.2,
                     recurrent_dropout=0.2, bidirectional=True, num_layers=2, proj_size=2,
                     residual=True, dropout=0.2),
}


def _seeded(fn, seed=0):
    """Call fn under a fixed seed, so stochastic options draw the same masks each call."""
    def wrapped(*args):
        torch.manual_seed(seed)
        return fn(*args)
    return wrapped


@pytest.mark.parametrize("name", list(OPTION_SETS))
@pytest.mark.parametrize("training", [True, False])
def test_gradcheck_every_option(name, training):
    opts = dict(OPTION_SETS[name])
    input_size = opts.pop("input_size", 2)
    m = lstmkit.LSTM(input_size, 3, dtype=D, backend="reference", **opts)
    m.train(training)
    x = torch.randn(4, 2, input_size, dtype=D, requires_grad=True)
    names = [n for n, _ in m.named_parameters()]

    def f(x, *ps):
        out, (h, c) = torch.func.functional_call(m, dict(zip(names, ps)), (x,), {"lengths": [4, 3]})
        return out, h, c

    leaves = [p.detach().clone().requires_grad_() for p in m.parameters()]
    assert torch.autograd.gradcheck(_seeded(f), (x, *leaves))


@pytest.mark.parametrize("cls,kw", [
    (lstmkit.GRU, dict(reset_after=False)), (lstmkit.GRU, dict(zoneout=0.3)),
    (lstmkit.GRU, dict(recurrent_dropout=0.3, bidirectional=True)),
    (lstmkit.RNN, dict(nonlinearity="relu", weight_drop=0.2)), (lstmkit.RNN, dict(zoneout=0.2)),
])
def test_gradcheck_gru_rnn_options(cls, kw):
    m = cls(2, 3, dtype=D, backend="reference", **kw)
    x = torch.randn(4, 2, 2, dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(_seeded(lambda x: m(x, lengths=[4, 2])[0]), (x,))


def test_peephole_equations_rederived():
    """Gers et al. (2002) by hand: i, f see c_{t-1}; o sees c_t."""
    torch.manual_seed(0)
    m = lstmkit.LSTM(3, 4, dtype=D, peephole=True, backend="reference")
    x = torch.randn(5, 2, 3, dtype=D)
    out, (h_n, c_n) = m(x)
    W, U = m.weight_ih_l0, m.weight_hh_l0
    b = m.bias_ih_l0 + m.bias_hh_l0
    wci, wcf, wco = m.weight_ch_l0
    h = torch.zeros(2, 4, dtype=D)
    c = torch.zeros(2, 4, dtype=D)
    sig = torch.sigmoid
    for t in range(5):
        z = x[t] @ W.T + h @ U.T + b
        zi, zf, zg, zo = z[:, :4], z[:, 4:8], z[:, 8:12], z[:, 12:]
        i = sig(zi + wci * c)
        f = sig(zf + wcf * c)
        c = f * c + i * torch.tanh(zg)
        o = sig(zo + wco * c)
        h = o * torch.tanh(c)
        torch.testing.assert_close(out[t], h, atol=1e-12, rtol=0)
    torch.testing.assert_close(c_n[0], c, atol=1e-12, rtol=0)


def test_gru_reset_before_rederived():
    """Cho et al. (2014): the reset gate multiplies h_{t-1} before W_hn."""
    torch.manual_seed(1)
    m = lstmkit.GRU(3, 4, dtype=D, reset_after=False, backend="reference")
    x = torch.randn(6, 2, 3, dtype=D)
    out, h_n = m(x)
    Wr, Wz, Wn = m.weight_ih_l0.chunk(3)
    Ur, Uz, Un = m.weight_hh_l0.chunk(3)
    bir, biz, bin_ = m.bias_ih_l0.chunk(3)
    bhr, bhz, bhn = m.bias_hh_l0.chunk(3)
    h = torch.zeros(2, 4, dtype=D)
    for t in range(6):
        r = torch.sigmoid(x[t] @ Wr.T + bir + h @ Ur.T + bhr)
        z = torch.sigmoid(x[t] @ Wz.T + biz + h @ Uz.T + bhz)
        n = torch.tanh(x[t] @ Wn.T + bin_ + (r * h) @ Un.T + bhn)
        h = (1 - z) * n + z * h
        torch.testing.assert_close(out[t], h, atol=1e-12, rtol=0)
    # and it differs from the torch convention with the same weights
    m2 = lstmkit.GRU(3, 4, dtype=D)
    m2.load_state_dict(m.state_dict())
    assert (m2(x)[0] - out).abs().max() > 1e-4


def test_coupled_gates_and_layer_norm_rederived():
    torch.manual_seed(2)
    m = lstmkit.LSTM(3, 4, dtype=D, coupled_gates=True, layer_norm=True, backend="reference")
    with torch.no_grad():
        m.ln_gate_weight_l0.uniform_(0.5, 1.5)
        m.ln_cell_bias_l0.uniform_(-0.5, 0.5)
    assert m.weight_ih_l0.shape == (12, 3)  # gates f|g|o
    x = torch.randn(4, 1, 3, dtype=D)
    out, _ = m(x)

    def ln(v, g, b):
        mu, var = v.mean(-1, keepdim=True), v.var(-1, unbiased=False, keepdim=True)
        return (v - mu) / torch.sqrt(var + 1e-5) * g + b

    h = torch.zeros(1, 4, dtype=D)
    c = torch.zeros(1, 4, dtype=D)
    gw, gb = m.ln_gate_weight_l0.chunk(3), m.ln_gate_bias_l0.chunk(3)
    for t in range(4):
        a = (x[t] @ m.weight_ih_l0.T + m.bias_ih_l0 + h @ m.weight_hh_l0.T + m.bias_hh_l0).chunk(3, 1)
        f = torch.sigmoid(ln(a[0], gw[0], gb[0]))
        g = torch.tanh(ln(a[1], gw[1], gb[1]))
        o = torch.sigmoid(ln(a[2], gw[2], gb[2]))
        c = f * c + (1 - f) * g
        h = o * torch.tanh(ln(c, m.ln_cell_weight_l0, m.ln_cell_bias_l0))
        torch.testing.assert_close(out[t], h, atol=1e-12, rtol=0)


def test_zoneout_eval_is_expectation_and_train_mixes_states():
    torch.manual_seed(0)
    m = lstmkit.LSTM(3, 5, dtype=D, zoneout=0.4)
    plain = lstmkit.LSTM(3, 5, dtype=D)
    plain.load_state_dict(m.state_dict())
    x = torch.randn(6, 2, 3, dtype=D)
    m.eval()
    out, (h, c) = m(x)
    # one step by hand from zero state: c_1 = 0.4 * 0 + 0.6 * c̃_1
    _, (h1, c1) = plain(x[:1])
    torch.testing.assert_close(m(x[:1])[1][1], 0.6 * c1)
    torch.testing.assert_close(m(x[:1])[1][0], 0.6 * h1)
    m.train()
    torch.manual_seed(5)
    a = m(x)[0]
    torch.manual_seed(5)
    b = m(x)[0]
    torch.manual_seed(6)
    c_ = m(x)[0]
    assert torch.equal(a, b) and not torch.equal(a, c_)


def test_recurrent_dropout_one_mask_per_sequence():
    """With W_ih = 0 and b = 0, a dropped unit of h_{t-1} never reaches any gate, at any t."""
    torch.manual_seed(0)
    m = lstmkit.RNN(2, 64, dtype=D, recurrent_dropout=0.5, backend="reference", bias=False)
    with torch.no_grad():
        m.weight_hh_l0.copy_(torch.eye(64))
        m.weight_ih_l0.fill_(1.0)
    x = torch.ones(5, 1, 2, dtype=D)
    out, _ = m(x)
    h1 = out[0]
    # h_2 = tanh(2 + m * h_1 / (1-p)): the same units are dropped at every step
    dropped = torch.isclose(out[1], torch.tanh(torch.tensor(2.0, dtype=D)).expand_as(out[1]))
    assert 0 < dropped.sum() < 64
    for t in range(2, 5):
        same = torch.isclose(out[t], torch.tanh(torch.tensor(2.0, dtype=D)).expand_as(out[t]))
        assert torch.equal(same, dropped)
    assert h1.shape == (1, 64)
    m.eval()
    out_eval, _ = m(x)
    torch.testing.assert_close(out_eval[1], torch.tanh(2 + out_eval[0]))


def test_weight_drop_changes_training_only_and_keeps_parameter():
    torch.manual_seed(0)
    m = lstmkit.LSTM(3, 8, dtype=D, weight_drop=0.5)
    x = torch.randn(4, 2, 3, dtype=D)
    before = m.weight_hh_l0.detach().clone()
    m.train()
    out_train = m(x)[0]
    m.eval()
    out_eval = m(x)[0]
    ref = lstmkit.LSTM(3, 8, dtype=D)
    ref.load_state_dict(m.state_dict())
    torch.testing.assert_close(out_eval, ref(x)[0])
    assert not torch.allclose(out_train, out_eval)
    assert torch.equal(m.weight_hh_l0, before)  # DropConnect never edits the parameter


def test_residual_adds_layer_input():
    torch.manual_seed(0)
    m = lstmkit.LSTM(4, 4, num_layers=2, dtype=D, residual=True)
    plain = lstmkit.LSTM(4, 4, num_layers=2, dtype=D)
    plain.load_state_dict(m.state_dict())
    x = torch.randn(5, 2, 4, dtype=D)
    first = lstmkit.LSTM(4, 4, dtype=D)
    first.load_state_dict({k.replace("_l0", "_l0"): v for k, v in m.state_dict().items() if "_l0" in k})
    second = lstmkit.LSTM(4, 4, dtype=D)
    second.load_state_dict({k.replace("_l1", "_l0"): v for k, v in m.state_dict().items() if "_l1" in k})
    y1 = first(x)[0]
    expected = second(y1)[0] + y1
    torch.testing.assert_close(m(x)[0], expected)


def test_forget_bias_and_chrono_init():
    m = lstmkit.LSTM(3, 5, forget_bias=1.0)
    total = m.bias_ih_l0 + m.bias_hh_l0
    assert torch.equal(total[5:10], torch.ones(5))
    torch.manual_seed(0)
    c = lstmkit.LSTM(3, 50, chrono_init=100)
    total = (c.bias_ih_l0 + c.bias_hh_l0).detach()
    b_i, b_f = total[:50], total[50:100]
    assert torch.equal(b_i, -b_f)
    assert b_f.min() >= 0 and b_f.max() <= math.log(99)
    cifg = lstmkit.LSTM(3, 5, coupled_gates=True, forget_bias=2.0)
    assert torch.equal((cifg.bias_ih_l0 + cifg.bias_hh_l0)[:5], torch.full((5,), 2.0))
    with pytest.raises(ValueError, match="chrono_init"):
        lstmkit.LSTM(3, 5, chrono_init=1.5)
    gru = lstmkit.GRU(3, 50, chrono_init=100)  # z keeps the state: b_z = log u
    b_z = (gru.bias_ih_l0 + gru.bias_hh_l0).detach()[50:100]
    assert b_z.min() >= 0 and b_z.max() <= math.log(99) and b_z.std() > 0.5
    assert torch.equal(gru.bias_hh_l0.detach()[50:100], torch.zeros(50))
    with pytest.raises(TypeError, match="unexpected option"):
        lstmkit.RNN(3, 5, chrono_init=10)


def test_return_gates_are_the_states():
    torch.manual_seed(0)
    m = lstmkit.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=D)
    x = torch.randn(2, 6, 3, dtype=D)
    out, (h, c), gates = m(x, return_gates=True)
    assert set(gates) == {"l0", "l0_reverse", "l1", "l1_reverse"}
    g = gates["l1"]
    assert set(g) == {"i", "f", "g", "o", "c", "h"}
    torch.testing.assert_close(g["h"], out[..., :4])  # (B, T, H), like output
    torch.testing.assert_close(g["c"][:, -1], c[2])
    torch.testing.assert_close(gates["l1_reverse"]["h"][:, 0], h[3])
    torch.testing.assert_close(g["o"] * torch.tanh(g["c"]), g["h"])
    assert (g["i"] > 0).all() and (g["i"] < 1).all()


def test_named_backend_never_replaced():
    m = lstmkit.LSTM(3, 4, peephole=True, backend="native")
    with pytest.raises(ValueError, match="native.*peephole"):
        m(torch.randn(2, 1, 3))
    gru = lstmkit.GRU(3, 4, reset_after=False, backend="native")
    with pytest.raises(ValueError, match="reset_after=False"):
        gru(torch.randn(2, 1, 3))
    with pytest.raises(ValueError, match="return_gates"):
        lstmkit.LSTM(3, 4, backend="native")(torch.randn(2, 1, 3), return_gates=True)
