"""Every bad input raises ValueError or TypeError naming the argument, before computing."""

import pytest
import torch

import lstmkit


@pytest.mark.parametrize("kwargs,exc,pattern", [
    (dict(input_size=0, hidden_size=4), ValueError, r"input_size: expected an int >= 1, got 0"),
    (dict(input_size=3, hidden_size=-2), ValueError, r"hidden_size: expected an int >= 1, got -2"),
    (dict(input_size=3.0, hidden_size=4), TypeError, r"input_size: expected an int, got float"),
    (dict(input_size=3, hidden_size=4, num_layers=0), ValueError, r"num_layers"),
    (dict(input_size=3, hidden_size=4, proj_size=4), ValueError, r"proj_size: expected 0 <= proj_size < hidden_size \(4\), got 4"),
    (dict(input_size=3, hidden_size=4, dropout=1.0), ValueError, r"dropout: expected a probability in \[0, 1\), got 1.0"),
    (dict(input_size=3, hidden_size=4, recurrent_dropout=-0.1), ValueError, r"recurrent_dropout"),
    (dict(input_size=3, hidden_size=4, zoneout=(0.1, 1.5)), ValueError, r"zoneout\[1\] \(hidden\)"),
    (dict(input_size=3, hidden_size=4, zoneout=(0.1, 0.2, 0.3)), ValueError, r"zoneout: expected p or \(p_c, p_h\)"),
    (dict(input_size=3, hidden_size=4, weight_drop="0.5"), TypeError, r"weight_drop: expected a float"),
    (dict(input_size=3, hidden_size=4, backend="cuda-magic"), ValueError, r"backend: expected one of"),
    (dict(input_size=3, hidden_size=4, bias=False, forget_bias=1.0), ValueError, r"need bias=True"),
    (dict(input_size=3, hidden_size=4, peephol=True), TypeError, r"unexpected option\(s\) \['peephol'\]"),
])
def test_constructor_errors(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        lstmkit.LSTM(**kwargs)


def test_constructor_errors_gru_rnn():
    with pytest.raises(TypeError, match=r"unexpected option\(s\) \['peephole'\]"):
        lstmkit.GRU(3, 4, peephole=True)
    with pytest.raises(ValueError, match=r"nonlinearity: expected 'tanh' or 'relu', got 'sigmoid'"):
        lstmkit.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="score: expected one of"):
        lstmkit.MultiplicativeAttention(4, 4, score="cosine")
    with pytest.raises(ValueError, match="needs query_size == key_size"):
        lstmkit.MultiplicativeAttention(4, 5, score="dot")


@pytest.fixture
def lstm():
    return lstmkit.LSTM(3, 4, num_layers=2)


@pytest.mark.parametrize("make_input,exc,pattern", [
    (lambda: torch.randn(2, 2, 2, 3), ValueError, r"input: expected a 3-D \(batched\) or 2-D \(unbatched\) tensor, got 4-D"),
    (lambda: torch.randn(3), ValueError, r"got 1-D"),
    (lambda: torch.randn(5, 2, 7), ValueError, r"input: expected last dimension input_size=3, got 7"),
    (lambda: torch.randn(5, 2, 3, dtype=torch.float64), TypeError, r"input: expected dtype torch.float32 \(the module's\), got torch.float64"),
    (lambda: torch.ones(5, 2, 3, dtype=torch.long), TypeError, r"input: expected dtype"),
    (lambda: [[1.0, 2.0, 3.0]], TypeError, r"input: expected a Tensor, got list"),
    (lambda: torch.randn(0, 2, 3), ValueError, r"at least one step"),
])
def test_input_errors(lstm, make_input, exc, pattern):
    with pytest.raises(exc, match=pattern):
        lstm(make_input())


@pytest.mark.parametrize("make_hx,exc,pattern", [
    (lambda: torch.zeros(2, 2, 4), TypeError, r"hx: expected a tuple \(h_0, c_0\) for LSTM, got Tensor"),
    (lambda: (torch.zeros(2, 2, 4),), TypeError, r"got tuple of 1"),
    (lambda: (torch.zeros(1, 2, 4), torch.zeros(2, 2, 4)), ValueError, r"hx\[0\] \(h_0\): expected shape \(2, 2, 4\), got \(1, 2, 4\)"),
    (lambda: (torch.zeros(2, 2, 4), torch.zeros(2, 3, 4)), ValueError, r"hx\[1\] \(c_0\): expected shape \(2, 2, 4\), got \(2, 3, 4\)"),
    (lambda: (torch.zeros(2, 2, 4, dtype=torch.float64), torch.zeros(2, 2, 4)), TypeError, r"hx\[0\] \(h_0\): expected dtype"),
    (lambda: (torch.zeros(2, 4), torch.zeros(2, 4)), ValueError, r"expected shape \(2, 2, 4\), got \(2, 4\)"),
])
def test_state_errors(lstm, make_hx, exc, pattern):
    with pytest.raises(exc, match=pattern):
        lstm(torch.randn(5, 2, 3), make_hx())


def test_gru_state_and_unbatched_errors():
    gru = lstmkit.GRU(3, 4)
    with pytest.raises(TypeError, match=r"hx: expected a Tensor h_0 for GRU, got tuple"):
        gru(torch.randn(5, 2, 3), (torch.zeros(1, 2, 4),))
    with pytest.raises(ValueError, match=r"hx \(h_0\): expected shape \(1, 4\), got \(1, 2, 4\)"):
        gru(torch.randn(5, 3), torch.zeros(1, 2, 4))


@pytest.mark.parametrize("lengths,exc,pattern", [
    ([5, 2, 1], ValueError, r"lengths: expected 2 values \(one per sequence\), got 3"),
    ([6, 2], ValueError, r"lengths: expected every length in \[1, 5\] \(the sequence length\), got min 2, max 6"),
    ([0, 2], ValueError, r"got min 0"),
    (torch.tensor([2.0, 3.0]), TypeError, r"lengths: expected a 1-D integer tensor, got 1-D torch.float32"),
    (torch.tensor([[2, 3]]), TypeError, r"got 2-D"),
    ("23", TypeError, r"lengths: expected a 1-D integer tensor or list of ints"),
])
def test_lengths_errors(lstm, lengths, exc, pattern):
    with pytest.raises(exc, match=pattern):
        lstm(torch.randn(5, 2, 3), lengths=lengths)


def test_lengths_with_packed_is_an_error(lstm):
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.randn(5, 2, 3), [5, 3])
    with pytest.raises(ValueError, match="lengths: must be None when input is a PackedSequence"):
        lstm(packed, lengths=[5, 3])


def test_cell_errors():
    cell = lstmkit.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"input: expected last dimension input_size=3, got 2"):
        cell(torch.randn(2, 2))
    with pytest.raises(ValueError, match=r"hx\[1\] \(c\): expected shape \(2, 4\), got \(2, 5\)"):
        cell(torch.randn(2, 3), (torch.zeros(2, 4), torch.zeros(2, 5)))
    with pytest.raises(ValueError, match=r"recurrent_mask: expected shape \(2, 4\)"):
        cell(torch.randn(2, 3), None, recurrent_mask=torch.ones(1, 4))


def test_attention_errors():
    attn = lstmkit.AdditiveAttention(4, 6, 5)
    q, k = torch.randn(2, 4), torch.randn(2, 3, 6)
    with pytest.raises(ValueError, match=r"query: expected shape \(B, 4\), got \(2, 5\)"):
        attn(torch.randn(2, 5), k)
    with pytest.raises(ValueError, match=r"keys: expected shape \(2, S, 6\), got \(2, 3, 4\)"):
        attn(q, torch.randn(2, 3, 4))
    with pytest.raises(TypeError, match="mask: expected a bool tensor"):
        attn(q, k, torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"mask: expected shape \(2, 3\), got \(2, 4\)"):
        attn(q, k, torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="every row needs at least one real"):
        attn(q, k, torch.tensor([[True, False, False], [False, False, False]]))


# ----------------------------------------------------------------------------- issue 10: batch 0, non-finite options
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_forget_bias_must_be_finite(value):
    with pytest.raises(ValueError, match=r"forget_bias: expected a finite float"):
        lstmkit.LSTM(3, 4, forget_bias=value)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_chrono_init_must_be_finite(value):
    with pytest.raises(ValueError, match=r"chrono_init: expected a finite T_max > 2"):
        lstmkit.LSTM(3, 4, chrono_init=value)


def _backends():
    from lstmkit.kernels import registry

    # "triton" runs CUDA tensors (CPU ones only in Triton's interpreter): its own
    # tests (tests/kernels/test_triton.py) cover the batch of zero sequences
    return [name for name in registry.names() if name != "triton"]


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_batch_of_zero_sequences_matches_torch(backend, mode, batch_first):
    """A (T, 0, I) input gives empty outputs of torch.nn's shapes, in inference and with gradients."""
    torch.manual_seed(0)
    kwargs = dict(num_layers=2, bidirectional=True, batch_first=batch_first)
    ours = getattr(lstmkit, mode)(3, 4, backend=backend, **kwargs)
    theirs = getattr(torch.nn, mode)(3, 4, **kwargs)
    x = torch.randn((0, 5, 3) if batch_first else (5, 0, 3), requires_grad=True)
    out, state = ours(x)
    ref_out, ref_state = theirs(x)
    assert out.shape == ref_out.shape == ((0, 5, 8) if batch_first else (5, 0, 8))
    states = state if isinstance(state, tuple) else (state,)
    ref_states = ref_state if isinstance(ref_state, tuple) else (ref_state,)
    assert [s.shape for s in states] == [s.shape for s in ref_states]
    out.sum().backward()  # differentiable like torch's (an empty gradient)
    assert x.grad is not None and x.grad.shape == x.shape
    with torch.no_grad():
        out, _ = ours(x)
    assert out.shape == ref_out.shape


def test_batch_of_zero_sequences_with_state_and_lengths():
    lstm = lstmkit.LSTM(3, 4, proj_size=2)
    h0, c0 = torch.zeros(1, 0, 2), torch.zeros(1, 0, 4)
    out, (h, c) = lstm(torch.randn(5, 0, 3), (h0, c0), lengths=torch.zeros(0, dtype=torch.long))
    ref_out, (ref_h, ref_c) = torch.nn.LSTM(3, 4, proj_size=2)(torch.randn(5, 0, 3), (h0, c0))
    assert (out.shape, h.shape, c.shape) == (ref_out.shape, ref_h.shape, ref_c.shape)
