"""CTC decoding against a brute-force sum over every path, LM fusion, the lexicon, WER/CER."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from lstmkit.tasks.speech.decode import CharLM, Lexicon, collapse, greedy, prefix_beam_search


def _labellings(log_probs: np.ndarray) -> tuple[dict[tuple, float], tuple]:
    """Brute force: p(l) summed over all V^T paths, and the collapse of the single best path."""
    steps, vocab = log_probs.shape
    total: dict[tuple, float] = {}
    best_path, best = None, -math.inf
    for path in itertools.product(range(vocab), repeat=steps):
        score = sum(log_probs[t, k] for t, k in enumerate(path))
        label = tuple(collapse(path))
        total[label] = total.get(label, 0.0) + math.exp(score)
        if score > best:
            best, best_path = score, path
    return total, tuple(collapse(best_path))


def _random_log_probs(rng, steps, vocab):
    return np.log(rng.dirichlet(np.full(vocab, 0.6), size=steps))


def test_collapse_merges_repeats_then_drops_blanks():
    assert collapse([1, 1, 0, 1, 2, 2, 0, 0, 2]) == [1, 1, 2, 2]
    assert collapse([0, 0]) == []


@pytest.mark.parametrize("steps, vocab", [(4, 3), (5, 3), (4, 4), (6, 2)])
def test_greedy_and_beam_match_brute_force(steps, vocab):
    rng = np.random.default_rng(steps * 10 + vocab)
    for _ in range(15):
        lp = _random_log_probs(rng, steps, vocab)
        total, best_path_label = _labellings(lp)
        assert tuple(greedy(lp)) == best_path_label
        kept = prefix_beam_search(lp, beam_size=10_000, prune=-math.inf)
        assert tuple(kept[0][0]) == max(total, key=total.get)
        assert len(kept) == len(total)                    # every labelling with p > 0 is a prefix kept
        for ids, score in kept:
            assert math.exp(score) == pytest.approx(total[tuple(ids)], rel=1e-9)


def test_beam_finds_the_labelling_greedy_misses():
    # the best single path is all blank, but "1" collects more probability over its paths
    lp = np.log(np.array([[0.55, 0.45 - 1e-9, 1e-9]] * 2))    # p("1") = .45^2 + 2 * .55 * .45 > .55^2
    total, _ = _labellings(lp)
    assert greedy(lp) == []
    assert max(total, key=total.get) == (1,)
    assert prefix_beam_search(lp, beam_size=4)[0][0] == [1]


def test_a_narrow_beam_keeps_only_beam_size_prefixes():
    rng = np.random.default_rng(3)
    kept = prefix_beam_search(_random_log_probs(rng, 8, 4), beam_size=3)
    assert len(kept) <= 3
    scores = [s for _, s in kept]
    assert scores == sorted(scores, reverse=True)


def test_lm_fusion_breaks_an_acoustic_tie():
    # ids: 1 = 'a', 2 = 'b'; the last frame leans to 'b'; the LM has only seen "aa"
    lm = CharLM([[1, 1]] * 5, vocab_size=3, order=2)
    lp = np.log(np.array([[0.02, 0.96, 0.02], [0.98, 0.01, 0.01], [0.02, 0.47, 0.51]]))
    plain = prefix_beam_search(lp, beam_size=8)
    fused = prefix_beam_search(lp, beam_size=8, lm=lm, lm_weight=1.0)
    assert plain[0][0] == [1, 2]
    assert fused[0][0] == [1, 1]
    assert lm.logp((1,), 1) > lm.logp((1,), 2)


def test_lexicon_keeps_only_known_words():
    # ids: 1 = 'a', 2 = 'b', 3 = ' '; lexicon {"ab"}; the acoustics prefer "aa"
    lex = Lexicon([[1, 2]], space=3)
    assert lex.allows((), 1) and not lex.allows((), 2) and lex.allows((1,), 2) and not lex.allows((1,), 3)
    assert lex.allows((1, 2), 3) and lex.complete((1, 2)) and not lex.complete((1,))
    lp = np.log(np.array([[0.1, 0.8, 0.05, 0.05], [0.5, 0.05, 0.05, 0.4], [0.1, 0.6, 0.25, 0.05]]))
    assert prefix_beam_search(lp, beam_size=8)[0][0] != [1, 2]
    assert prefix_beam_search(lp, beam_size=8, lexicon=lex)[0][0] == [1, 2]


def test_error_rates():
    from lstmkit.tasks.speech.metrics import error_rates

    rates = error_rates(["a b c", "x y"], ["a z c d", "x y"])
    assert rates["wer"] == pytest.approx(2 / 5)            # one substitution, one insertion, 5 words
    assert rates["cer"] == pytest.approx(3 / 8)            # 'b'->'z', ' d' inserted, 8 reference chars
    assert rates["sentence_error"] == 0.5 and rates["n"] == 2
    with pytest.raises(ValueError, match="transcript 2 is empty"):
        error_rates(["a", " "], ["a", "b"])
