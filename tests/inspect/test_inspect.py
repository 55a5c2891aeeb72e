"""Gate traces and their plots."""

import pytest
import torch

import lstmkit
from lstmkit.inspect import plot_gates, plot_saturation, saturation, trace


def test_trace_cuts_padding_and_matches_the_layer():
    torch.manual_seed(0)
    m = lstmkit.LSTM(3, 5, bidirectional=True, batch_first=True).train()
    x = torch.randn(2, 6, 3)
    tr = trace(m, x, lengths=[6, 4], index=1)
    assert m.training  # restored
    assert set(tr) == {"l0", "l0_reverse"}
    fwd = tr["l0"]
    assert fwd.length == 4 and fwd.values["f"].shape == (4, 5)
    assert fwd.gate_names == ["i", "f", "g", "o"]
    m.eval()
    out, _ = m(x[1:, :4])
    torch.testing.assert_close(fwd.values["h"], out[0, :, :5])
    torch.testing.assert_close(tr["l0_reverse"].values["h"], out[0, :, 5:])


def test_saturation_fractions():
    tr = trace(lstmkit.GRU(2, 3), torch.randn(8, 2))
    values = tr["l0"].values
    values["z"] = torch.tensor([[0.05, 0.5, 0.95]] * 4 + [[0.95, 0.5, 0.95]] * 4)
    s = saturation(tr["l0"])
    assert set(s) == {"r", "z"}
    assert s["z"]["left"].tolist() == [0.5, 0.0, 0.0]
    assert s["z"]["right"].tolist() == [0.5, 0.0, 1.0]
    with pytest.raises(ValueError, match="low, high"):
        saturation(tr["l0"], low=0.9, high=0.1)


def test_plots_write_png(tmp_path):
    torch.manual_seed(0)
    tr = trace(lstmkit.LSTM(3, 4, peephole=True), torch.randn(5, 3))["l0"]
    import matplotlib

    backend = matplotlib.get_backend()
    p, q, r = tmp_path / "g.png", tmp_path / "s.png", tmp_path / "w.png"
    fig = plot_gates(tr, p, tokens=list("abcde"))
    assert len(fig.axes) >= len(tr.values)  # the Figure comes back, e.g. for a notebook
    plot_saturation(tr, q)
    wide = trace(lstmkit.GRU(3, 12), torch.randn(5, 3))["l0"]  # many units: heat maps
    plot_gates(wide, r, units=range(10))
    assert matplotlib.get_backend() == backend  # the user's backend is left alone
    for f in (p, q, r):
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["g.png", "s.png", "w.png"]  # no temp files left
    with pytest.raises(ValueError, match="tokens: expected 5"):
        plot_gates(tr, tmp_path / "bad.png", tokens=["a"])
