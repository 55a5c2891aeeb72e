"""Additive and multiplicative attention: equations, masking, gradients."""

import pytest
import torch

import lstmkit

D = torch.float64


def _mask():
    return torch.tensor([[True, True, True, False, False], [True] * 5])


@pytest.mark.parametrize("make", [
    lambda: lstmkit.AdditiveAttention(4, 6, 5),
    lambda: lstmkit.MultiplicativeAttention(4, 6, score="general"),
    lambda: lstmkit.MultiplicativeAttention(4, 6, score="concat", attn_size=3),
    lambda: lstmkit.MultiplicativeAttention(6, 6, score="dot"),
])
def test_masked_positions_get_exactly_zero_weight(make):
    torch.manual_seed(0)
    attn = make().double()
    q = torch.randn(2, attn.query_size, dtype=D, requires_grad=True)
    k = torch.randn(2, 5, 6, dtype=D, requires_grad=True)
    ctx, w = attn(q, k, _mask())
    assert torch.equal(w[0, 3:], torch.zeros(2, dtype=D))
    torch.testing.assert_close(w.sum(1), torch.ones(2, dtype=D))
    torch.testing.assert_close(ctx, (w.unsqueeze(2) * k).sum(1))
    # padding never influences the result, even when it holds huge values
    k2 = k.detach().clone()
    k2[0, 3:] = 1e6
    ctx2, w2 = attn(q, k2, _mask())
    torch.testing.assert_close(ctx2[0], ctx[0])
    # and receives no gradient
    ctx.sum().backward()
    assert torch.count_nonzero(k.grad[0, 3:]) == 0
    assert torch.autograd.gradcheck(lambda q, k: attn(q, k, _mask()), (q.detach().requires_grad_(),
                                                                        k.detach().requires_grad_()))


def test_scores_match_the_papers():
    torch.manual_seed(1)
    q, k = torch.randn(2, 4, dtype=D), torch.randn(2, 5, 4, dtype=D)
    add = lstmkit.AdditiveAttention(4, 4, 3).double()
    e = torch.tanh(k @ add.key_proj.weight.T + (q @ add.query_proj.weight.T + add.query_proj.bias)
                   .unsqueeze(1)) @ add.v.weight.squeeze(0)
    torch.testing.assert_close(add(q, k)[1], torch.softmax(e, 1))
    gen = lstmkit.MultiplicativeAttention(4, 4, score="general").double()
    e = torch.einsum("bh,hk,bsk->bs", q, gen.weight.weight, k)
    torch.testing.assert_close(gen(q, k)[1], torch.softmax(e, 1))
    dot = lstmkit.MultiplicativeAttention(4, 4, score="dot")
    torch.testing.assert_close(dot(q, k)[1], torch.softmax(torch.einsum("bh,bsh->bs", q, k), 1))
    cat = lstmkit.MultiplicativeAttention(4, 4, score="concat", attn_size=3).double()
    qs = q.unsqueeze(1).expand(-1, 5, -1)
    e = torch.tanh(torch.cat([qs, k], 2) @ cat.weight.weight.T) @ cat.v.weight.squeeze(0)
    torch.testing.assert_close(cat(q, k)[1], torch.softmax(e, 1))


def test_additive_precomputed_keys_give_the_same_result():
    torch.manual_seed(2)
    attn = lstmkit.AdditiveAttention(4, 6)
    q, k = torch.randn(3, 4), torch.randn(3, 7, 6)
    pk = attn.precompute(k)
    a = attn(q, k, projected_keys=pk)
    b = attn(q, k)
    torch.testing.assert_close(a[0], b[0])
