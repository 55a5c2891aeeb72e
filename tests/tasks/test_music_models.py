"""Music models and baselines: exact likelihoods checked against brute force over all frames."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from lstmkit.tasks.music.baselines import FrameNGram, NoteFrequency, VoiceNGram, WittenBell
from lstmkit.tasks.music.encoding import N_TOKENS, REST
from lstmkit.tasks.music.models import BernoulliHead, FrameModel, NADEHead

ALL_FRAMES = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3)))  # (8, 3): every frame


def _nade_brute_force(head: NADEHead, h: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """log p(v | h) computed note by note from the NADE definition (no cumsum trick)."""
    b, c = head.to_b(h), head.to_c(h)
    total = torch.zeros(())
    for d in range(v.shape[-1]):
        a = c + (v[:d, None] * head.W[:d]).sum(0)  # c + sum_{k<d} v_k W_k
        p = torch.sigmoid(b[d] + (torch.sigmoid(a) * head.V[d]).sum())
        total = total + (torch.log(p) if v[d] > 0 else torch.log1p(-p))
    return total


@pytest.mark.parametrize("head_cls", [NADEHead, BernoulliHead])
def test_frame_distribution_sums_to_one_over_all_frames(head_cls):
    torch.manual_seed(0)
    head = head_cls(5, 3, 4) if head_cls is NADEHead else head_cls(5, 3)
    with torch.no_grad():
        for p in head.parameters():
            p.normal_(0, 2.0)  # far from uniform, so the check has teeth
    h = torch.randn(5)
    logp = head.log_prob(h.expand(8, 5), ALL_FRAMES).double()  # (8,)
    assert torch.exp(logp).sum().item() == pytest.approx(1.0, abs=1e-6)
    assert logp.std() > 0.5


def test_nade_log_prob_matches_the_definition():
    torch.manual_seed(1)
    head = NADEHead(6, 3, 5)
    h = torch.randn(6)
    fast = head.log_prob(h.expand(8, 6), ALL_FRAMES)
    slow = torch.stack([_nade_brute_force(head, h, v) for v in ALL_FRAMES])
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)


def test_frame_model_nll_is_the_sum_over_frames_and_conditions_on_the_past():
    torch.manual_seed(2)
    model = FrameModel(3, "nade", hidden_size=8, dropout=0.0, nade_size=4).eval()
    roll = ALL_FRAMES[[1, 5, 7, 2]].unsqueeze(0)  # (1, 4, 3)
    lp = model.log_prob(roll)[0]  # (4,)
    # frame 3's distribution, brute force over its 8 values with the same past
    past = roll[:, :3]
    options = torch.cat([past.expand(8, 3, 3), ALL_FRAMES.unsqueeze(1)], dim=1)  # (8, 4, 3)
    last = model.log_prob(options)[:, 3].double()
    assert torch.exp(last).sum().item() == pytest.approx(1.0, abs=1e-6)
    assert lp[3].item() == pytest.approx(last[2].item(), abs=1e-5)  # ALL_FRAMES[2] is frame 3
    changed = roll.clone()
    changed[0, 0] = ALL_FRAMES[6]
    assert not torch.allclose(model.log_prob(changed)[0, 1:], lp[1:])  # the past matters
    later = roll.clone()
    later[0, 3] = ALL_FRAMES[0]
    torch.testing.assert_close(model.log_prob(later)[0, :3], lp[:3])  # causal: no peeking ahead


def test_samples_are_frames_of_the_range():
    torch.manual_seed(3)
    model = FrameModel(3, "nade", hidden_size=8, nade_size=4).eval()
    out = model.sample(2, 5, torch.Generator().manual_seed(0))
    assert out.shape == (2, 5, 3) and set(out.unique().tolist()) <= {0.0, 1.0}


def test_frame_baselines_are_normalised():
    rng = np.random.default_rng(0)
    rolls = [(rng.random((30, 3)) < 0.4).astype(np.float32) for _ in range(4)]
    chords = [tuple(i for i in range(3) if bits[i]) for bits in itertools.product([0, 1], repeat=3)]
    notes = NoteFrequency().fit(rolls)
    assert sum(math.exp(notes.frame_log_prob(c)) for c in chords) == pytest.approx(1.0)
    for order in (1, 2, 3):
        ngram = FrameNGram(order).fit(rolls)
        for ctx in [(), tuple(chords[:order - 1]), (("<s>",),) * (order - 1)]:
            assert sum(ngram.model.prob(ctx, c) for c in chords) == pytest.approx(1.0, abs=1e-8)
    # a chord never seen after a context still has the base's share
    ngram = FrameNGram(2).fit([np.array([[1, 0, 0], [1, 0, 0]], dtype=np.float32)])
    assert 0 < ngram.model.prob(((0,),), (1, 2)) < 0.1


def test_witten_bell_interpolates_counts_and_base():
    wb = WittenBell(2, lambda s: 0.5)  # two symbols, uniform base
    for ctx, s in [(("a",), "a"), (("a",), "a"), (("a",), "b")]:
        wb.add(ctx, s)
    # unigram: c(a)=2, c(b)=1, N=3, T=2 -> p(a) = (2 + 2*.5)/5 = .6; bigram after a: same counts
    assert wb.prob((), "a") == pytest.approx(0.6)
    assert wb.prob(("a",), "a") == pytest.approx((2 + 2 * 0.6) / 5)
    assert wb.prob(("zzz",), "a") == pytest.approx(0.6)  # unseen context backs off
    assert wb.distribution(("a",), ["a", "b"]).sum() == pytest.approx(1.0)


def test_voice_ngram_keeps_the_soprano_and_learns_a_pattern():
    piece = np.array([[10, 1, 12, 1], [7, 1, 9, 1], [5, 1, 5, 1], [3, 1, 2, 1]])  # (4, T=4): a re-attack
    ngram = VoiceNGram(order=5).fit([piece.T.reshape(-1)] * 3)
    out = ngram.harmonize(piece[0])
    assert out[0].tolist() == piece[0].tolist()
    assert np.array_equal(out, piece)  # it was trained on exactly this
    assert ngram.distribution([REST] * 3, 3).shape == (N_TOKENS,)


@pytest.mark.parametrize("head", ["nade", "bernoulli"])
def test_masked_nll_skips_padding_exactly(head):
    torch.manual_seed(4)
    model = FrameModel(3, head, hidden_size=8, dropout=0.0, nade_size=4).eval()
    roll = ALL_FRAMES[torch.randint(0, 8, (2, 5))]  # (2, 5, 3)
    mask = torch.tensor([[1.0] * 5, [1.0] * 3 + [0.0] * 2])
    roll[1, 3:] = 1.0  # padding content must not matter
    expected = -(model.log_prob(roll) * mask).sum()
    torch.testing.assert_close(model.nll(roll, mask), expected)
    short = -model.log_prob(roll[1:, :3]).sum()
    torch.testing.assert_close(-model.log_prob(roll[:1]).sum() + short, expected)



def test_input_dropout_corrupts_the_context_in_training_only():
    torch.manual_seed(5)
    plain = FrameModel(3, "bernoulli", hidden_size=8, dropout=0.0)
    noisy = FrameModel(3, "bernoulli", hidden_size=8, dropout=0.0, input_dropout=0.5)
    noisy.load_state_dict(plain.state_dict())  # input dropout adds no parameters
    roll = ALL_FRAMES[torch.randint(1, 8, (4, 6))]  # (4, 6, 3), every frame has a note
    reference = plain.eval().log_prob(roll)
    torch.testing.assert_close(noisy.eval().log_prob(roll), reference)  # evaluation: the same model
    noisy.train()
    draws = [noisy.log_prob(roll) for _ in range(4)]
    assert all(not torch.allclose(d, reference) for d in draws)  # training: the past is corrupted
    torch.testing.assert_close(draws[0][:, 0], reference[:, 0])  # frame 0 reads zeros either way


def test_zoneout_reaches_the_lstm_and_evaluation_is_deterministic():
    torch.manual_seed(6)
    model = FrameModel(3, "bernoulli", hidden_size=8, dropout=0.0, zoneout=0.2)
    assert (model.lstm.spec.zoneout_c, model.lstm.spec.zoneout_h) == (0.2, 0.2)
    assert FrameModel(3, "bernoulli", hidden_size=8).lstm.spec.zoneout_c == 0.0
    roll = ALL_FRAMES[torch.randint(0, 8, (2, 6))]
    model.eval()
    torch.testing.assert_close(model.log_prob(roll), model.log_prob(roll))
    model.train()
    assert not torch.allclose(model.log_prob(roll), model.log_prob(roll))


def test_recurrent_dropout_reaches_the_lstm_and_is_off_in_evaluation():
    torch.manual_seed(7)
    plain = FrameModel(3, "bernoulli", hidden_size=8, dropout=0.0)
    model = FrameModel(3, "bernoulli", hidden_size=8, dropout=0.0, recurrent_dropout=0.3)
    model.load_state_dict(plain.state_dict())  # recurrent dropout adds no parameters
    assert model.lstm.spec.recurrent_dropout == 0.3 and plain.lstm.spec.recurrent_dropout == 0.0
    roll = ALL_FRAMES[torch.randint(1, 8, (2, 6))]
    reference = plain.eval().log_prob(roll)
    torch.testing.assert_close(model.eval().log_prob(roll), reference)  # evaluation: the same model
    model.train()
    noisy = model.log_prob(roll)
    assert not torch.allclose(noisy, reference)  # training: h_{t-1} is masked ...
    torch.testing.assert_close(noisy[:, 0], reference[:, 0])  # ... but h_0 = 0 is unaffected at t = 0


def test_weight_average_follows_the_debiased_ema_and_is_what_validation_scores():
    from lstmkit.tasks.music.training import MusicModule

    torch.manual_seed(8)
    model = FrameModel(3, "bernoulli", hidden_size=4, dropout=0.0)
    module = MusicModule(model, ema_decay=0.9)
    start = [p.detach().clone() for p in model.parameters()]
    expected = start
    for t in (1, 2, 30):  # beta_t = min(0.9, (1 + t) / (10 + t)): 2/11, 3/12, then 0.9
        module.ema_updates = t - 1
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))  # an optimizer step
        beta = min(0.9, (1 + t) / (10 + t))
        expected = [beta * e + (1 - beta) * p.detach() for e, p in zip(expected, model.parameters())]
        module.update_average()
        for avg, want in zip(module.average.parameters(), expected):
            torch.testing.assert_close(avg, want)
    assert not any(p.requires_grad for p in module.average.parameters())
    kept = module.averaged()
    assert all(torch.equal(kept[k], v) for k, v in module.average.state_dict().items())
    assert MusicModule(model).average is None and MusicModule(model).averaged().keys() == kept.keys()
    with pytest.raises(ValueError, match=r"ema_decay: expected a float in \[0, 1\)"):
        MusicModule(model, ema_decay=1.0)
