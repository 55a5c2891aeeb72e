"""The layer contracts every newer family member keeps (MinGRU, MinLSTM, SLSTM, MLSTM).

Padded batches equal one-by-one runs, chunked streaming with the state passed
back equals one call, the one-step cell equals the layer, gradients match
finite differences, and bad inputs get one-line errors naming the argument.
"""

from __future__ import annotations

import functools

import pytest
import torch

import lstmkit

D = torch.float64


def _factories():
    out = {
        "mingru-scan": lambda **kw: lstmkit.MinGRU(3, 4, mode="scan", dtype=D, **kw),
        "mingru-loop": lambda **kw: lstmkit.MinGRU(3, 4, mode="loop", dtype=D, **kw),
        "minlstm-scan": lambda **kw: lstmkit.MinLSTM(3, 4, mode="scan", dtype=D, **kw),
        "minlstm-loop": lambda **kw: lstmkit.MinLSTM(3, 4, mode="loop", dtype=D, **kw),
    }
    if hasattr(lstmkit, "SLSTM"):
        out["slstm-sig"] = lambda **kw: lstmkit.SLSTM(3, 4, num_heads=2, dtype=D, **kw)
        out["slstm-exp"] = lambda **kw: lstmkit.SLSTM(3, 4, num_heads=2, forget_gate="exp",
                                                      dtype=D, **kw)
    if hasattr(lstmkit, "MLSTM"):
        for mode in ("parallel", "chunkwise", "recurrent"):
            out[f"mlstm-{mode}"] = functools.partial(lstmkit.MLSTM, 3, 4, num_heads=2, mode=mode,
                                                     chunk_size=3, dtype=D)
    return out


FACTORIES = _factories()
NAMES = sorted(FACTORIES)


def _states(state):
    return state if isinstance(state, tuple) else (state,)


def _random_state(m, batch):
    """A nonzero state: run the layer on random inputs."""
    _, state = m(torch.randn(5, batch, 3, dtype=D))
    return state


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("layers", [1, 2])
def test_lengths_equal_one_by_one(name, layers):
    torch.manual_seed(0)
    m = FACTORIES[name](num_layers=layers, batch_first=True).eval()
    lengths = [7, 3, 1, 5]
    x = torch.randn(4, 7, 3, dtype=D)
    m.batch_first = False
    s0 = _random_state(m, 4)
    m.batch_first = True
    out, state = m(x, s0, lengths=lengths)
    for b, n in enumerate(lengths):
        s0_b = tuple(s[:, b : b + 1] for s in _states(s0))
        alone, s_alone = m(x[b : b + 1, :n], s0_b if len(s0_b) > 1 else s0_b[0])
        torch.testing.assert_close(out[b, :n], alone[0], atol=1e-12, rtol=0)
        assert torch.count_nonzero(out[b, n:]) == 0
        for s, s1 in zip(_states(state), _states(s_alone)):
            torch.testing.assert_close(s[:, b], s1[:, 0], atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_padding_never_changes_the_state(name):
    """Garbage in the padded steps changes neither the outputs nor the final state."""
    torch.manual_seed(1)
    m = FACTORIES[name](num_layers=2).eval()
    x = torch.randn(6, 3, 3, dtype=D)
    y1, s1 = m(x, lengths=[2, 6, 4])
    x2 = x.clone()
    x2[2:, 0] = 1e3 * torch.randn(4, 3, dtype=D)
    x2[4:, 2] = -7.0
    y2, s2 = m(x2, lengths=[2, 6, 4])
    torch.testing.assert_close(y1, y2, atol=0, rtol=0)
    for a, b in zip(_states(s1), _states(s2)):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("cuts", [(1, 1, 1, 1, 1, 1, 1), (3, 4), (2, 5), (7,)])
def test_chunked_streaming_equals_whole(name, cuts):
    torch.manual_seed(2)
    m = FACTORIES[name](num_layers=2).eval()
    x = torch.randn(sum(cuts), 2, 3, dtype=D)
    whole, s_whole = m(x)
    state, parts = None, []
    for chunk in x.split(list(cuts)):
        y, state = m(chunk, state)
        parts.append(y)
    torch.testing.assert_close(torch.cat(parts), whole, atol=1e-12, rtol=0)
    for a, b in zip(_states(state), _states(s_whole)):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_cell_steps_equal_the_layer(name):
    """The one-step ``forward`` of each layer's cell, fed step by step, equals the layer."""
    torch.manual_seed(3)
    m = FACTORIES[name](num_layers=1).eval()
    x = torch.randn(6, 2, 3, dtype=D)
    whole, s_whole = m(x)
    cell, state, outs = m.cells[0], None, []
    for t in range(6):
        h, state = cell(x[t], state)
        outs.append(h)
    torch.testing.assert_close(torch.stack(outs), whole, atol=1e-12, rtol=0)
    for a, b in zip(_states(state), _states(s_whole)):
        torch.testing.assert_close(a, b[0], atol=1e-12, rtol=0)
    h1, s1 = cell(x[0, 0])  # unbatched
    torch.testing.assert_close(h1, outs[0][0], atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_unbatched_and_batch_first_agree(name):
    torch.manual_seed(4)
    m = FACTORIES[name](num_layers=2).eval()
    x = torch.randn(5, 1, 3, dtype=D)
    y, s = m(x)
    y1, s1 = m(x[:, 0])
    torch.testing.assert_close(y1, y[:, 0], atol=1e-12, rtol=0)
    for a, b in zip(_states(s1), _states(s)):
        torch.testing.assert_close(a, b[:, 0], atol=1e-12, rtol=0)
    m.batch_first = True
    y2, _ = m(x.transpose(0, 1))
    torch.testing.assert_close(y2[0], y[:, 0], atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck(name):
    torch.manual_seed(5)
    m = FACTORIES[name](num_layers=2)
    x = torch.randn(4, 2, 3, dtype=D, requires_grad=True)
    s0 = tuple(s.detach().requires_grad_() for s in _states(_random_state(m, 2)))
    params = list(m.parameters())

    def run(x, *args):
        state = args[: len(s0)]
        out, st = m(x, state if len(state) > 1 else state[0], lengths=[4, 2])
        return (out, *_states(st))

    assert torch.autograd.gradcheck(run, (x, *s0), eps=1e-6, atol=1e-7)

    # parameters: analytic gradients against central differences, directly
    out, st = m(x.detach(), lengths=[4, 2])
    w = torch.randn_like(out)
    loss = (out * w).sum()
    grads = torch.autograd.grad(loss, params)
    for p, gp in zip(params, grads):
        flat = p.data.view(-1)
        for j in range(0, flat.numel(), max(1, flat.numel() // 5)):
            old = flat[j].item()
            flat[j] = old + 1e-6
            up = (m(x.detach(), lengths=[4, 2])[0] * w).sum().item()
            flat[j] = old - 1e-6
            down = (m(x.detach(), lengths=[4, 2])[0] * w).sum().item()
            flat[j] = old
            assert abs((up - down) / 2e-6 - gp.reshape(-1)[j].item()) < 1e-6


@pytest.mark.parametrize("name", NAMES)
def test_return_gates_laid_out_like_output(name):
    torch.manual_seed(6)
    m = FACTORIES[name](num_layers=2, batch_first=True).eval()
    x = torch.randn(2, 5, 3, dtype=D)
    y, _, gates = m(x, lengths=[5, 3], return_gates=True)
    y_plain, _ = m(x, lengths=[5, 3])
    torch.testing.assert_close(y, y_plain, atol=1e-12, rtol=0)
    assert set(gates) == {"l0", "l1"}
    for per_layer in gates.values():
        assert per_layer, "no gates traced"
        for v in per_layer.values():
            assert v.shape[:2] == (2, 5)
            assert torch.count_nonzero(v[1, 3:]) == 0


@pytest.mark.parametrize("name", NAMES)
def test_bad_inputs_name_the_argument(name):
    m = FACTORIES[name]()
    with pytest.raises(ValueError, match="input: expected last dimension"):
        m(torch.randn(3, 2, 5, dtype=D))
    with pytest.raises(TypeError, match="input: expected dtype"):
        m(torch.randn(3, 2, 3))
    with pytest.raises(ValueError, match="lengths"):
        m(torch.randn(3, 2, 3, dtype=D), lengths=[4, 1])
    with pytest.raises((TypeError, ValueError), match="state"):
        m(torch.randn(3, 2, 3, dtype=D), torch.zeros(2, 2, 4, dtype=D) if "min" not in name
          else torch.zeros(1, 3, 4, dtype=D))


def test_dropout_between_layers_only_in_training():
    torch.manual_seed(7)
    m = lstmkit.MinGRU(3, 4, num_layers=2, dropout=0.5, dtype=D)
    x = torch.randn(5, 2, 3, dtype=D)
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    torch.testing.assert_close(a, b, atol=0, rtol=0)
    m.train()
    c, _ = m(x)
    assert not torch.allclose(a, c)
