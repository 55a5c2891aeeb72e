"""Variable lengths equal one-by-one runs; chunked streaming equals the whole sequence."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lstmkit

D = torch.float64

CONFIGS = [
    (lstmkit.LSTM, dict(peephole=True, layer_norm=True, zoneout=0.2, proj_size=2)),
    (lstmkit.LSTM, dict(coupled_gates=True, residual=True)),
    (lstmkit.LSTM, {}),
    (lstmkit.GRU, dict(reset_after=False, zoneout=0.1)),
    (lstmkit.GRU, {}),
    (lstmkit.RNN, dict(nonlinearity="relu")),
]


@settings(max_examples=25, deadline=None)
@given(
    config=st.sampled_from(range(len(CONFIGS))),
    lengths=st.lists(st.integers(1, 7), min_size=1, max_size=4),
    layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    backend=st.sampled_from(["reference", "auto"]),
    seed=st.integers(0, 1000),
)
def test_lengths_equal_one_by_one(config, lengths, layers, bidirectional, backend, seed):
    cls, opts = CONFIGS[config]
    torch.manual_seed(seed)
    m = cls(3, 4, num_layers=layers, bidirectional=bidirectional, dtype=D, backend=backend,
            **opts).eval()
    steps = max(lengths)
    x = torch.randn(len(lengths), steps, 3, dtype=D)
    m.batch_first = True
    out, state = m(x, lengths=lengths)
    states = state if isinstance(state, tuple) else (state,)
    for b, n in enumerate(lengths):
        alone, s_alone = m(x[b : b + 1, :n])
        s_alone = s_alone if isinstance(s_alone, tuple) else (s_alone,)
        torch.testing.assert_close(out[b, :n], alone[0], atol=1e-12, rtol=0)
        assert torch.count_nonzero(out[b, n:]) == 0
        for s, s1 in zip(states, s_alone):
            torch.testing.assert_close(s[:, b], s1[:, 0], atol=1e-12, rtol=0)


@settings(max_examples=25, deadline=None)
@given(
    config=st.sampled_from(range(len(CONFIGS))),
    cuts=st.lists(st.integers(1, 4), min_size=1, max_size=5),
    layers=st.integers(1, 3),
    seed=st.integers(0, 1000),
)
def test_chunked_streaming_equals_whole(config, cuts, layers, seed):
    cls, opts = CONFIGS[config]
    torch.manual_seed(seed)
    m = cls(3, 5, num_layers=layers, dtype=D, **opts).eval()
    steps = sum(cuts)
    x = torch.randn(steps, 2, 3, dtype=D)
    whole, final = m(x)
    outs, state, t = [], None, 0
    for n in cuts:
        y, state = m(x[t : t + n], state)
        outs.append(y)
        t += n
    torch.testing.assert_close(torch.cat(outs), whole, atol=1e-12, rtol=0)
    for a, b in zip(state if isinstance(state, tuple) else (state,),
                    final if isinstance(final, tuple) else (final,)):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_cell_steps_equal_layer():
    """Stepping a cell with the state passed back is the one-layer loop: the cell's h and c
    equal the layer's traced h_t and c_t at every step, and its final state h_n, c_n."""
    torch.manual_seed(0)
    layer = lstmkit.LSTM(3, 4, dtype=D, peephole=True, layer_norm=True, proj_size=2).eval()
    cell = lstmkit.LSTMCell(3, 4, dtype=D, peephole=True, layer_norm=True, proj_size=2).eval()
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})
    x = torch.randn(6, 2, 3, dtype=D)
    h0, c0 = torch.randn(1, 2, 2, dtype=D), torch.randn(1, 2, 4, dtype=D)
    out, (h_n, c_n), gates = layer(x, (h0, c0), return_gates=True)
    trace = gates["l0"]
    state = (h0[0], c0[0])
    for t in range(6):
        state = cell(x[t], state)
        torch.testing.assert_close(state[0], out[t], atol=1e-12, rtol=0)
        torch.testing.assert_close(state[0], trace["h"][t], atol=1e-12, rtol=0)
        torch.testing.assert_close(state[1], trace["c"][t], atol=1e-12, rtol=0)
    torch.testing.assert_close(state[0], h_n[0], atol=1e-12, rtol=0)
    torch.testing.assert_close(state[1], c_n[0], atol=1e-12, rtol=0)
    gru_layer = lstmkit.GRU(3, 4, dtype=D, reset_after=False)
    gru_cell = lstmkit.GRUCell(3, 4, dtype=D, reset_after=False)
    gru_cell.load_state_dict({k.removesuffix("_l0"): v for k, v in gru_layer.state_dict().items()})
    h = torch.randn(2, 4, dtype=D)
    out, h_n = gru_layer(x, h.unsqueeze(0))
    for t in range(6):
        h = gru_cell(x[t], h)
        torch.testing.assert_close(h, out[t], atol=1e-12, rtol=0)
    torch.testing.assert_close(h, h_n[0], atol=1e-12, rtol=0)


def test_cell_recurrent_mask_and_zoneout():
    """The recurrent mask multiplies h_{t-1} in the recurrent product only: a masked step from
    (h, c) is the unmasked step from (h * m, c) (without zoneout, which would mix in h)."""
    torch.manual_seed(0)
    cell = lstmkit.LSTMCell(3, 4, recurrent_dropout=0.5, zoneout=0.5, dtype=D)
    mask = cell.recurrent_mask(2)
    assert mask.shape == (2, 4) and set(mask.unique().tolist()) <= {0.0, 2.0}
    plain = lstmkit.LSTMCell(3, 4, dtype=D)
    plain.load_state_dict(cell.state_dict())
    x, h, c = torch.randn(2, 3, dtype=D), torch.randn(2, 4, dtype=D), torch.randn(2, 4, dtype=D)
    cell.zoneout_c = cell.zoneout_h = 0.0
    got = cell(x, (h, c), recurrent_mask=mask)
    want = plain(x, (h * mask, c))
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    cell.eval()
    assert cell.recurrent_mask(2) is None
