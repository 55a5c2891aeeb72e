"""CRF against brute-force enumeration of every tag path, Viterbi included, and span F1 by hand."""

import itertools

import pytest
import torch

from lstmkit.tasks.tag.crf import CRF, bio_constraints
from lstmkit.tasks.tag.metrics import bio_spans, span_prf, token_accuracy


@torch.no_grad()
def brute_force(crf, emissions, length):
    """All K^L paths of one sequence: (log Z, best path, best score)."""
    trans, start, end = crf._scores()
    K = crf.num_tags
    scores = {}
    for path in itertools.product(range(K), repeat=length):
        s = start[path[0]] + end[path[-1]] + sum(emissions[t, path[t]] for t in range(length))
        s = s + sum(trans[path[t - 1], path[t]] for t in range(1, length))
        scores[path] = s
    stacked = torch.stack(list(scores.values()))
    best = max(scores, key=lambda p: float(scores[p]))
    return torch.logsumexp(stacked, 0), list(best), scores[best], scores


def random_crf(K, constrained, seed):
    g = torch.Generator().manual_seed(seed)
    if constrained:
        tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"][:K]
        crf = CRF(K, *bio_constraints(tags))
    else:
        crf = CRF(K)
    with torch.no_grad():
        crf.transitions.copy_(torch.randn(K, K, generator=g))
        crf.start.copy_(torch.randn(K, generator=g))
        crf.end.copy_(torch.randn(K, generator=g))
    return crf.double()


@pytest.mark.parametrize("K,constrained,seed", [(3, False, 0), (4, False, 1), (5, True, 2), (3, True, 3)])
def test_log_likelihood_and_viterbi_match_brute_force(K, constrained, seed):
    crf = random_crf(K, constrained, seed)
    g = torch.Generator().manual_seed(100 + seed)
    lengths = torch.tensor([4, 1, 3, 2])
    B, T = len(lengths), int(lengths.max())
    emissions = torch.randn(B, T, K, generator=g, dtype=torch.float64)
    mask = torch.arange(T)[None] < lengths[:, None]
    tags = torch.randint(0, K, (B, T), generator=g)
    logz = crf.log_partition(emissions, mask)
    ll = crf.log_likelihood(emissions, tags, mask)
    paths, best_scores = crf.decode(emissions, mask)
    for b in range(B):
        L = int(lengths[b])
        ref_logz, ref_best, ref_score, all_scores = brute_force(crf, emissions[b], L)
        torch.testing.assert_close(logz[b], ref_logz, rtol=1e-10, atol=1e-10)
        path = tuple(tags[b, :L].tolist())
        torch.testing.assert_close(ll[b], all_scores[path] - ref_logz, rtol=1e-10, atol=1e-10)
        assert paths[b, :L].tolist() == ref_best
        torch.testing.assert_close(best_scores[b], ref_score, rtol=1e-10, atol=1e-10)
    # probabilities of all paths sum to one
    b = 0
    _, _, _, all_scores = brute_force(crf, emissions[b], int(lengths[b]))
    total = torch.logsumexp(torch.stack(list(all_scores.values())) - logz[b], 0)
    torch.testing.assert_close(total, torch.zeros((), dtype=torch.float64), atol=1e-10, rtol=0)


def test_bio_constraints_are_obeyed_by_viterbi():
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    crf = CRF(5, *bio_constraints(tags))
    emissions = torch.zeros(3, 6, 5)
    emissions[..., 2] = 5.0  # I-PER looks best everywhere; it may not start a sentence
    emissions[1, :, 4] = 6.0  # I-LOC even better for row 1
    mask = torch.ones(3, 6, dtype=torch.bool)
    paths, _ = crf.decode(emissions, mask)
    for row in paths.tolist():
        seq = [tags[i] for i in row]
        assert not seq[0].startswith("I-")
        for a, b in zip(seq, seq[1:]):
            if b.startswith("I-"):
                assert a in ("B-" + b[2:], b)


def test_crf_gradients_flow_and_loss_decreases():
    torch.manual_seed(0)
    crf = CRF(3)
    emissions = torch.randn(2, 4, 3, requires_grad=True)
    tags = torch.tensor([[0, 1, 2, 1], [2, 2, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]], dtype=torch.bool)
    opt = torch.optim.SGD([emissions, *crf.parameters()], lr=0.5)
    first = float(crf(emissions, tags, mask).detach())
    for _ in range(30):
        opt.zero_grad()
        loss = crf(emissions, tags, mask)
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.2 * first


def test_crf_input_errors():
    crf = CRF(3)
    with pytest.raises(ValueError, match=r"emissions must have shape \(B, T, 3\)"):
        crf.decode(torch.zeros(2, 4, 5), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask\\[:, 0\\] must be True"):
        crf.decode(torch.zeros(2, 4, 3), torch.zeros(2, 4, dtype=torch.bool))


def test_bio_spans_by_hand():
    assert bio_spans(["B-PER", "I-PER", "O", "B-LOC"]) == {(0, 2, "PER"), (3, 4, "LOC")}
    # stray I- opens a span; a type change splits
    assert bio_spans(["O", "I-PER", "I-LOC", "B-LOC", "I-LOC"]) == {
        (1, 2, "PER"), (2, 3, "LOC"), (3, 5, "LOC")}
    assert bio_spans(["NOUN", "VERB"]) == set()


def test_span_prf_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"]]
    pred = [["B-PER", "O", "O", "B-LOC"], ["O", "B-ORG"]]
    # gold spans: PER(0,2), LOC(3,4), ORG(1,2); predicted: PER(0,1) wrong end, LOC ok, ORG ok
    r = span_prf(gold, pred)
    assert (r["correct_spans"], r["pred_spans"], r["gold_spans"]) == (2, 3, 3)
    assert r["precision"] == pytest.approx(2 / 3) and r["recall"] == pytest.approx(2 / 3)
    assert r["f1"] == pytest.approx(2 / 3)
    r = span_prf([["B-PER", "I-PER"]], [["B-LOC", "I-LOC"]])  # right span, wrong type
    assert r["f1"] == 0.0
    r = span_prf([["O", "O"]], [["O", "O"]])
    assert r["f1"] == 0.0 and r["gold_spans"] == 0
    assert token_accuracy(gold, pred) == pytest.approx(5 / 6)
    sel = [[True, True, False, False], [False, False]]
    assert token_accuracy(gold, pred, sel) == pytest.approx(1 / 2)
