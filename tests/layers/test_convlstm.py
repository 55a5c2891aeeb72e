"""ConvLSTM / ConvGRU: fused == reference, parity with a hand-written loop, gradients, options, bad input."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import lstmkit
from lstmkit import ConvGRU, ConvGRUCell, ConvLSTM, ConvLSTMCell

D64 = torch.float64


def _randomise(module: torch.nn.Module, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=g, dtype=p.dtype) - 0.5)


def _norm(a: torch.Tensor, groups: int, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Group norm written out: mean and biased variance over each group's channels and pixels."""
    b, ch, hh, ww = a.shape
    g = a.reshape(b, groups, ch // groups * hh * ww)
    mean = g.mean(2, keepdim=True)
    var = ((g - mean) ** 2).mean(2, keepdim=True)
    out = ((g - mean) / torch.sqrt(var + 1e-5)).reshape(b, ch, hh, ww)
    return out * weight[None, :, None, None] + bias[None, :, None, None]


def _hand_lstm_cell(cell: ConvLSTMCell, x, h, c):
    """One ConvLSTM step, one convolution per gate and input, as Shi et al. write it."""
    ch, pad = cell.hidden_channels, cell.padding
    pre = []
    for k in range(4):
        rows = slice(k * ch, (k + 1) * ch)
        a = F.conv2d(x, cell.weight_ih[rows], padding=pad) + F.conv2d(h, cell.weight_hh[rows], padding=pad)
        if cell.bias:
            a = a + (cell.bias_ih[rows] + cell.bias_hh[rows])[None, :, None, None]
        pre.append(a)
    if cell.norm != "none":
        pre = torch.cat(pre, 1)
        pre = _norm(pre, 4 * cell.norm_groups, cell.norm_gate_weight, cell.norm_gate_bias).split(ch, 1)
    a_i, a_f, a_g, a_o = pre
    if cell.peephole:
        a_i = a_i + cell.weight_ch[0] * c
        a_f = a_f + cell.weight_ch[1] * c
    c_new = torch.sigmoid(a_f) * c + torch.sigmoid(a_i) * torch.tanh(a_g)
    if cell.peephole:
        a_o = a_o + cell.weight_ch[2] * c_new
    c_out = c_new if cell.norm == "none" else _norm(c_new, cell.norm_groups, cell.norm_cell_weight,
                                                     cell.norm_cell_bias)
    return torch.sigmoid(a_o) * torch.tanh(c_out), c_new


def _hand_gru_cell(cell: ConvGRUCell, x, h):
    ch, pad = cell.hidden_channels, cell.padding
    conv = lambda t, w, b: F.conv2d(t, w, b, padding=pad)  # noqa: E731
    blk = lambda k: slice(k * ch, (k + 1) * ch)  # noqa: E731
    r = torch.sigmoid(conv(x, cell.weight_ih[blk(0)], cell.bias_ih[blk(0)])
                      + conv(h, cell.weight_hh[blk(0)], cell.bias_hh[blk(0)]))
    z = torch.sigmoid(conv(x, cell.weight_ih[blk(1)], cell.bias_ih[blk(1)])
                      + conv(h, cell.weight_hh[blk(1)], cell.bias_hh[blk(1)]))
    n = torch.tanh(conv(x, cell.weight_ih[blk(2)], cell.bias_ih[blk(2)])
                   + r * conv(h, cell.weight_hh[blk(2)], cell.bias_hh[blk(2)]))
    return (1 - z) * n + z * h


def _hand_layer(layer, x, lengths):
    """Time-first clip (T, B, C, H, W) through the stacked, bidirectional layer, clip by clip."""
    steps, batch = x.shape[:2]
    lstm = isinstance(layer, ConvLSTM)
    outs, h_n, c_n = [], [], []
    for b in range(batch):
        seq = x[: lengths[b], b : b + 1]
        finals_h, finals_c = [], []
        for k in range(layer.num_layers):
            dirs = []
            for d in range(layer.num_directions):
                cell = layer.cells[k * layer.num_directions + d]
                h = seq.new_zeros(1, layer.hidden_channels, *seq.shape[-2:])
                c = torch.zeros_like(h)
                ys = [None] * len(seq)
                idx = range(len(seq) - 1, -1, -1) if d else range(len(seq))
                for t in idx:
                    if lstm:
                        h, c = _hand_lstm_cell(cell, seq[t], h, c)
                    else:
                        h = _hand_gru_cell(cell, seq[t], h)
                    ys[t] = h
                dirs.append(torch.stack(ys))
                finals_h.append(h)
                finals_c.append(c)
            seq = torch.cat(dirs, dim=2)
        pad = seq.new_zeros(steps - len(seq), *seq.shape[1:])
        outs.append(torch.cat([seq, pad]))
        h_n.append(torch.cat(finals_h))
        c_n.append(torch.cat(finals_c))
    return torch.cat(outs, 1), torch.stack(h_n, 1), torch.stack(c_n, 1)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("options", [{}, {"peephole": True, "frame_size": (6, 5)},
                                     {"peephole": True, "norm": "group", "norm_groups": 2},
                                     {"norm": "layer"}])
def test_convlstm_matches_hand_written_loop(fused, options):
    torch.manual_seed(0)
    layer = ConvLSTM(2, 4, kernel_size=3, num_layers=2, bidirectional=True, dtype=D64, fused=fused,
                     **options).eval()
    _randomise(layer)
    x = torch.randn(5, 3, 2, 6, 5, dtype=D64)
    lengths = [5, 2, 4]
    out, (h_n, c_n) = layer(x, lengths=lengths)
    ref_out, ref_h, ref_c = _hand_layer(layer, x, lengths)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(h_n, ref_h)
    torch.testing.assert_close(c_n, ref_c)


@pytest.mark.parametrize("fused", [True, False])
def test_convgru_matches_hand_written_loop(fused):
    layer = ConvGRU(2, 3, kernel_size=(3, 5), num_layers=2, bidirectional=True, dtype=D64, fused=fused)
    _randomise(layer, 1)
    x = torch.randn(4, 2, 2, 5, 7, dtype=D64)
    out, h_n = layer(x, lengths=torch.tensor([3, 4]))
    ref_out, ref_h, _ = _hand_layer(layer, x, [3, 4])
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(h_n, ref_h)


@pytest.mark.parametrize("cls,options", [(ConvLSTM, {"peephole": True, "norm": "group", "norm_groups": 2}),
                                         (ConvGRU, {})])
def test_fused_equals_reference_float32(cls, options):
    torch.manual_seed(3)
    fused = cls(3, 4, kernel_size=5, num_layers=2, batch_first=True, **options).eval()
    ref = cls(3, 4, kernel_size=5, num_layers=2, batch_first=True, fused=False, **options).eval()
    ref.load_state_dict(fused.state_dict())
    x = torch.randn(2, 6, 3, 12, 10)
    a, b = fused(x), ref(x)
    torch.testing.assert_close(a[0], b[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(a[1], b[1], atol=1e-5, rtol=1e-4)
    w, _ = fused.cells[0].fused_weight()
    assert w.is_contiguous(memory_format=torch.channels_last) and w.shape[1] == 3 + 4


@pytest.mark.parametrize("fused", [True, False])
def test_gradcheck_convlstm(fused):
    """Gradients of the output with respect to the input and every parameter (peephole, norm, 2 layers)."""
    torch.manual_seed(0)
    layer = ConvLSTM(1, 2, kernel_size=3, num_layers=2, batch_first=True, dtype=D64, peephole=True,
                     norm="layer", fused=fused)
    _randomise(layer)
    x = torch.randn(1, 3, 1, 4, 4, dtype=D64, requires_grad=True)
    names = [n for n, _ in layer.named_parameters()]
    values = [p.detach().clone().requires_grad_(True) for p in layer.parameters()]

    def run(x, *ps):
        out, (h, c) = torch.func.functional_call(layer, dict(zip(names, ps)), (x,))
        return out, c

    assert torch.autograd.gradcheck(run, (x, *values))


@pytest.mark.parametrize("fused", [True, False])
def test_gradcheck_convgru_with_state(fused):
    layer = ConvGRU(1, 2, kernel_size=3, dtype=D64, fused=fused)
    x = torch.randn(3, 2, 1, 3, 4, dtype=D64, requires_grad=True)
    h0 = torch.randn(1, 2, 2, 3, 4, dtype=D64, requires_grad=True)
    w = layer.cells[0].weight_ih.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda x, h0, w: torch.func.functional_call(layer, {"cells.0.weight_ih": w}, (x, h0))[0], (x, h0, w))


def test_batch_first_equals_time_first_and_initial_state_is_used():
    torch.manual_seed(0)
    tf = ConvLSTM(1, 3, kernel_size=3)
    bf = ConvLSTM(1, 3, kernel_size=3, batch_first=True)
    bf.load_state_dict(tf.state_dict())
    x = torch.randn(4, 2, 1, 6, 6)
    h0, c0 = torch.randn(1, 2, 3, 6, 6), torch.randn(1, 2, 3, 6, 6)
    a, (ha, ca) = tf(x, (h0, c0))
    b, (hb, cb) = bf(x.transpose(0, 1), (h0, c0))
    torch.testing.assert_close(a, b.transpose(0, 1))
    torch.testing.assert_close(ha, hb)
    zero, _ = tf(x)
    assert not torch.allclose(zero, a)  # h_0, c_0 changed the output
    # a clip in two halves, the second starting from the first's final state, is the whole clip
    first, state = tf(x[:2], (h0, c0))
    second, (h2, c2) = tf(x[2:], state)
    torch.testing.assert_close(torch.cat([first, second]), a)
    torch.testing.assert_close(c2, ca)


def test_lengths_zero_padding_and_final_state():
    torch.manual_seed(0)
    layer = ConvLSTM(1, 2, kernel_size=3, bidirectional=True, batch_first=True)
    x = torch.randn(2, 5, 1, 4, 4)
    out, (h_n, _) = layer(x, lengths=[5, 3])
    assert out[1, 3:].abs().max() == 0
    alone, (h_alone, _) = layer(x[1:, :3])
    torch.testing.assert_close(out[1:, :3], alone)
    torch.testing.assert_close(h_n[:, 1:], h_alone)


def test_return_gates_shapes_and_values():
    layer = ConvLSTM(1, 3, kernel_size=3, num_layers=2, batch_first=True)
    out, (h_n, c_n), gates = layer(torch.randn(2, 4, 1, 5, 6), return_gates=True)
    assert sorted(gates) == ["l0", "l1"]
    assert sorted(gates["l1"]) == ["c", "f", "g", "h", "i", "o"]
    for v in gates["l0"].values():
        assert v.shape == (2, 4, 3, 5, 6)
    torch.testing.assert_close(gates["l1"]["h"], out)
    torch.testing.assert_close(gates["l1"]["c"][:, -1], c_n[1])
    assert 0 < gates["l0"]["f"].min() and gates["l0"]["f"].max() < 1
    _, h, gru_gates = ConvGRU(1, 2, batch_first=True)(torch.randn(1, 3, 1, 4, 4), return_gates=True)
    assert sorted(gru_gates["l0"]) == ["h", "n", "r", "z"]


def test_cells_agree_with_layers_and_each_other():
    torch.manual_seed(0)
    cell = ConvLSTMCell(2, 3, kernel_size=3, peephole=True)
    _randomise(cell)
    x, h, c = torch.randn(2, 2, 5, 5), torch.randn(2, 3, 5, 5), torch.randn(2, 3, 5, 5)
    h1, c1 = cell(x, (h, c))
    with torch.no_grad():
        h2, c2 = _hand_lstm_cell(cell, x, h, c)
    torch.testing.assert_close(h1, h2, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(c1, c2, atol=1e-5, rtol=1e-4)
    h3, c3, gates = cell(x[0:1], (h[0:1], c[0:1]), return_gates=True)
    torch.testing.assert_close(h3, h1[0:1], atol=1e-5, rtol=1e-4)
    assert set(gates) == {"i", "f", "g", "o"}
    gru = ConvGRUCell(2, 3)
    torch.testing.assert_close(gru(x, h), _hand_gru_cell(gru, x, h), atol=1e-5, rtol=1e-4)


def test_forget_bias_zoneout_and_recurrent_dropout():
    cell = ConvLSTMCell(1, 2, forget_bias=1.5)
    assert torch.all(cell.bias_ih[2:4] == 1.5) and torch.all(cell.bias_hh[2:4] == 0)
    torch.manual_seed(0)
    plain = ConvLSTMCell(1, 2).eval()
    zoned = ConvLSTMCell(1, 2, zoneout=(0.3, 0.2)).eval()
    zoned.load_state_dict(plain.state_dict())
    x, h, c = torch.randn(1, 1, 4, 4), torch.randn(1, 2, 4, 4), torch.randn(1, 2, 4, 4)
    hp, cp = plain(x, (h, c))
    hz, cz = zoned(x, (h, c))
    torch.testing.assert_close(cz, 0.3 * c + 0.7 * cp)  # evaluation: the expectation z = p
    torch.testing.assert_close(hz, 0.2 * h + 0.8 * hp)
    zoned.train()
    hz_train, _ = zoned(x, (h, c))
    kept = (hz_train == h) | (hz_train == hp)
    assert kept.all() and (hz_train == h).any() and (hz_train == hp).any()
    layer = ConvLSTM(1, 2, recurrent_dropout=0.5)
    x5 = torch.randn(3, 1, 1, 4, 4)
    torch.manual_seed(1)
    a = layer(x5)[0]
    torch.manual_seed(2)
    b = layer(x5)[0]
    assert not torch.allclose(a, b)  # different masks in training
    layer.eval()
    torch.testing.assert_close(layer(x5)[0], layer(x5)[0])
    mask = layer.cells[0].recurrent_mask(torch.zeros(1, 2, 4, 4))
    assert mask is None  # no mask at evaluation


@pytest.mark.parametrize("call,message", [
    (lambda m: m(torch.randn(2, 1, 4, 4)), "expected a 5-D tensor"),
    (lambda m: m(torch.randn(2, 3, 2, 4, 4)), "expected 1 channels"),
    (lambda m: m(torch.randn(0, 2, 1, 4, 4)), "at least one frame"),
    (lambda m: m(torch.randn(3, 0, 1, 4, 4)), "at least one clip"),
    (lambda m: m(torch.randn(3, 2, 1, 4, 0)), "at least 1x1 pixels"),
    (lambda m: m(torch.randn(3, 2, 1, 4, 4), (torch.zeros(1, 2, 2, 5, 5),) * 2), "hx[0] (h_0): expected shape"),
    (lambda m: m(torch.randn(3, 2, 1, 4, 4), torch.zeros(1, 2, 2, 4, 4)), "expected a tuple (h_0, c_0)"),
    (lambda m: m(torch.randn(3, 2, 1, 4, 4).double()), "expected dtype"),
    (lambda m: m(torch.randn(3, 2, 1, 4, 4), lengths=[4, 1]), "lengths"),
])
def test_bad_input_is_one_line(call, message):
    layer = ConvLSTM(1, 2)
    with pytest.raises((ValueError, TypeError)) as err:
        call(layer)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_construction():
    with pytest.raises(ValueError, match="odd"):
        ConvLSTM(1, 2, kernel_size=4)
    with pytest.raises(TypeError, match="unexpected option"):
        ConvGRU(1, 2, peephole=True)
    with pytest.raises(ValueError, match="norm_groups"):
        ConvLSTMCell(1, 6, norm="group", norm_groups=4)
    with pytest.raises(ValueError, match="norm"):
        ConvLSTMCell(1, 2, norm="batch")
    peep = ConvLSTM(1, 2, peephole=True, frame_size=(8, 8))
    with pytest.raises(ValueError, match="frame_size"):
        peep(torch.randn(2, 1, 1, 6, 6))
    with pytest.raises(ValueError, match="hx\\[0\\] \\(h\\): expected shape"):
        ConvLSTMCell(1, 2)(torch.randn(1, 1, 4, 4), (torch.zeros(1, 2, 5, 4), torch.zeros(1, 2, 4, 4)))


def test_exports_and_training_step_reduces_loss():
    assert {"ConvLSTM", "ConvGRU", "ConvLSTMCell", "ConvGRUCell"} <= set(lstmkit.__all__)
    torch.manual_seed(0)
    layer = ConvLSTM(1, 4, batch_first=True)
    head = torch.nn.Conv2d(4, 1, 1)
    x = torch.rand(4, 5, 1, 8, 8)
    target = x.roll(1, dims=-1)
    opt = torch.optim.Adam([*layer.parameters(), *head.parameters()], lr=1e-2)
    losses = []
    for _ in range(30):
        out, _ = layer(x)
        loss = F.mse_loss(head(out.flatten(0, 1)).view_as(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("cls,options", [(ConvLSTM, {"peephole": True, "frame_size": (5, 6), "norm": "layer"}),
                                         (ConvGRU, {"zoneout": 0.2})])
def test_output_shapes_stacked_bidirectional(cls, options):
    layer = cls(2, 3, kernel_size=3, num_layers=2, bidirectional=True, batch_first=True, **options).eval()
    out, state = layer(torch.randn(4, 7, 2, 5, 6))
    assert out.shape == (4, 7, 6, 5, 6)  # both directions' channels side by side
    h_n = state[0] if cls is ConvLSTM else state
    assert h_n.shape == (4, 4, 3, 5, 6)  # (num_layers * directions, B, C_h, H, W)
    if cls is ConvLSTM:
        assert state[1].shape == h_n.shape
    time_first = cls(2, 3, kernel_size=3, **options).eval()
    assert time_first(torch.randn(7, 4, 2, 5, 6))[0].shape == (7, 4, 3, 5, 6)


@pytest.mark.parametrize("cls,options", [(ConvLSTM, {"peephole": True, "frame_size": (5, 5), "norm": "group",
                                                     "norm_groups": 1, "num_layers": 2}),
                                         (ConvGRU, {"bidirectional": True})])
def test_save_and_load_round_trip(cls, options, tmp_path):
    """A saved state dict, loaded into a freshly built layer (other random weights), gives the same outputs;
    so does the pickled module."""
    torch.manual_seed(0)
    layer = cls(1, 2, kernel_size=3, batch_first=True, **options).eval()
    _randomise(layer, seed=3)
    x = torch.randn(2, 4, 1, 5, 5)
    expected = layer(x)[0]
    torch.save(layer.state_dict(), tmp_path / "weights.pt")
    torch.manual_seed(1)
    fresh = cls(1, 2, kernel_size=3, batch_first=True, **options).eval()
    assert not torch.allclose(fresh(x)[0], expected)
    fresh.load_state_dict(torch.load(tmp_path / "weights.pt"))
    torch.testing.assert_close(fresh(x)[0], expected, rtol=0, atol=0)
    torch.save(layer, tmp_path / "module.pt")
    torch.testing.assert_close(torch.load(tmp_path / "module.pt", weights_only=False)(x)[0], expected,
                               rtol=0, atol=0)
