"""The comparison baselines of benchmarks/kin.py: causal Transformer and diagonal SSM."""

from __future__ import annotations

import pytest
import torch

from lstmkit.layers.neighbours import CausalTransformer, DiagonalSSM, sinusoidal_positions


def _transformer(**kw):
    torch.manual_seed(0)
    return CausalTransformer(3, 16, num_layers=2, batch_first=True, nhead=4, **kw).eval()


def test_transformer_is_causal_changing_a_future_input_leaves_the_past_unchanged():
    model = _transformer()
    x = torch.randn(2, 12, 3)
    y = x.clone()
    y[:, 7] += 5.0  # change step 7 only
    out_x, _ = model(x)
    out_y, _ = model(y)
    assert torch.allclose(out_x[:, :7], out_y[:, :7], atol=1e-6)
    assert not torch.allclose(out_x[:, 7:], out_y[:, 7:], atol=1e-3)


def test_transformer_without_the_mask_would_fail_the_causality_check():
    """The check above can fail: the same blocks without the causal mask see the future."""
    model = _transformer()
    x = torch.randn(2, 12, 3)
    y = x.clone()
    y[:, 7] += 5.0
    h = lambda z: model.encoder(model.proj(z) + sinusoidal_positions(0, 12, 16))  # noqa: E731
    assert not torch.allclose(h(x)[:, :7], h(y)[:, :7], atol=1e-3)


def test_transformer_streaming_with_the_cache_equals_the_parallel_pass():
    model = _transformer()
    x = torch.randn(3, 10, 3)
    full, (k, v) = model(x)
    assert k.shape == (2, 3, 4, 10, 4) and v.shape == k.shape
    state, steps = None, []
    for t in range(10):
        out, state = model(x[:, t:t + 1], state)
        steps.append(out)
    assert torch.allclose(torch.cat(steps, 1), full, atol=1e-5)
    head, state = model(x[:, :4])
    tail, _ = model(x[:, 4:], state)
    assert torch.allclose(torch.cat([head, tail], 1), full, atol=1e-5)
    assert torch.allclose(state[0], k[:, :, :, :4], atol=1e-5)


def test_transformer_time_major_and_user_errors():
    model = _transformer()
    model.batch_first = False
    x = torch.randn(5, 2, 3)
    out, _ = model(x)
    assert out.shape == (5, 2, 16)
    with pytest.raises(ValueError, match="unequal lengths"):
        model(x, lengths=torch.tensor([5, 3]))
    assert model(x, lengths=torch.tensor([5, 3]), need_state=False)[1] is None
    with pytest.raises(ValueError, match="divisible by nhead"):
        CausalTransformer(3, 18, nhead=4)


def _ssm(dtype=torch.float32):
    torch.manual_seed(0)
    return DiagonalSSM(3, 8, num_layers=2, batch_first=True, state_size=6).to(dtype)


def test_ssm_parallel_form_equals_recurrent_form():
    model = _ssm()
    x = torch.randn(2, 50, 3)
    par, s_par = model(x, mode="parallel")
    rec, s_rec = model(x, mode="recurrent")
    assert torch.allclose(par, rec, atol=1e-4)
    assert torch.allclose(s_par, s_rec, atol=1e-4)
    assert s_par.shape == (2, 2, 6) and s_par.is_complex()


def test_ssm_state_carries_across_chunks_and_lengths_pick_the_last_valid_state():
    model = _ssm()
    x = torch.randn(2, 30, 3)
    full, s_full = model(x)
    head, s = model(x[:, :13])
    tail, s2 = model(x[:, 13:], s)
    assert torch.allclose(torch.cat([head, tail], 1), full, atol=1e-4)
    assert torch.allclose(s2, s_full, atol=1e-4)
    _, s_len = model(x, lengths=torch.tensor([30, 13]))
    assert torch.allclose(s_len[:, 1], s[:, 1], atol=1e-4)
    assert torch.allclose(s_len[:, 0], s_full[:, 0], atol=1e-4)


def test_ssm_decays_memory_at_the_initialised_rates():
    """|λ| starts in the ring [r_min, r_max] and the recurrence is stable (|λ| < 1)."""
    model = DiagonalSSM(2, 8, r_min=0.5, r_max=0.9)
    mag = model.ssms[0].lam().abs()
    assert bool(((mag >= 0.5 - 1e-6) & (mag <= 0.9 + 1e-6)).all())


def test_ssm_parallel_form_gradcheck():
    model = _ssm(torch.float64)
    model.num_layers = 1  # one block keeps gradcheck small
    x = torch.randn(1, 6, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: model(z)[0], (x,), atol=1e-6)


def test_ssm_bad_mode_is_a_user_error():
    with pytest.raises(ValueError, match="mode"):
        _ssm()(torch.randn(1, 3, 3), mode="fast")
