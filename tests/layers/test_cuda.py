"""On a GPU: the reference and native (cuDNN) backends agree with torch.nn on CUDA."""

import pytest
import torch

import lstmkit
from lstmkit.testing import assert_close

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@cuda
@pytest.mark.parametrize("backend", ["reference", "native"])
def test_lstm_on_cuda_matches_torch(backend):
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(8, 16, 2, bidirectional=True, dtype=torch.float64, device="cuda")
    ours = lstmkit.LSTM(8, 16, 2, bidirectional=True, dtype=torch.float64, device="cuda",
                        backend=backend)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(12, 4, 8, dtype=torch.float64, device="cuda")
    a, (h, c) = ours(x, lengths=torch.tensor([12, 5, 7, 1]))
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, [12, 5, 7, 1], enforce_sorted=False)
    b, (h2, c2) = theirs(packed)
    b, _ = torch.nn.utils.rnn.pad_packed_sequence(b)
    assert_close(a, b)
    assert_close(h, h2)
    assert_close(c, c2)


@cuda
def test_options_run_on_cuda():
    m = lstmkit.LSTM(4, 8, peephole=True, layer_norm=True, zoneout=0.1, device="cuda")
    out, (h, c), gates = m(torch.randn(5, 2, 4, device="cuda"), lengths=[5, 3], return_gates=True)
    assert out.is_cuda and gates["l0"]["f"].is_cuda
