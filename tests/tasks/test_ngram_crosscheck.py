"""The Kneser-Ney baseline against nltk.lm's KneserNeyInterpolated and a case worked by hand.

Two definitional differences separate the models (both are interpolated KN, not modified KN;
neither uses three discounts per order):

* nltk uses one fixed discount ``d`` for every order; ours estimates one per order,
  D_k = n_1 / (n_1 + 2 n_2) from the counts of counts of that order (Ney et al. 1994).
* nltk's lowest order is the undiscounted continuation unigram C_1(w) / T_1 (0 for a word
  never seen after another); ours discounts it too and interpolates with the uniform 1 / V,
  so every token has a positive probability.

With our discounts set to nltk's (D_1 = 0, D_k = d for k > 1) the two definitions are the same
recursion, so the probabilities must agree to rounding. nltk counts every k-gram of the text,
ours takes the lower-order continuation counts from the k-grams that have a predecessor: they
agree when the text's first bigram occurs again later, which the corpus below ensures.
"""

from __future__ import annotations

import itertools
import math

import pytest

from lstmkit.tasks.generate.ngram import KneserNeyLM

nltk_lm = pytest.importorskip("nltk.lm")
from nltk.util import everygrams  # noqa: E402

TEXT = (
    "the cat sat on the mat . the dog sat on the log . a cat saw the dog . "
    "the dog saw a cat on the mat . the cat sat . a dog sat on a log . the cat"
).split()


def _pair(order: int, d: float):
    vocab = sorted(set(TEXT))
    index = {w: i for i, w in enumerate(vocab)}
    ids = [index[w] for w in TEXT]
    ours = KneserNeyLM(order, len(vocab)).fit(ids)
    ours.discounts = [0.0] + [d] * (order - 1)
    theirs = nltk_lm.KneserNeyInterpolated(order, discount=d)
    theirs.fit([list(everygrams(TEXT, max_len=order))], vocabulary_text=TEXT)
    return vocab, ids, ours, theirs


@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize("d", [0.1, 0.75])
def test_same_probabilities_as_nltk_with_nltks_discounts(order, d):
    assert TEXT[:2] == TEXT[-2:]  # the first bigram recurs (see the module docstring)
    vocab, ids, ours, theirs = _pair(order, d)
    checked = 0
    # every position of the training text, and every word after every seen context
    contexts = {tuple(TEXT[max(0, i - order + 1): i]) for i in range(1, len(TEXT))}
    for context, word in itertools.product(sorted(contexts), vocab):
        want = theirs.score(word, list(context))
        if want == 0.0:  # nltk's unigram floor is 0 for a word never seen after another
            continue
        got = ours.prob(tuple(vocab.index(w) for w in context), vocab.index(word))
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (context, word)
        checked += 1
    assert checked >= 100
    # a distribution over the vocabulary for every context, in both
    for context in sorted(contexts)[:10]:
        ctx = tuple(vocab.index(w) for w in context)
        assert sum(ours.prob(ctx, v) for v in range(len(vocab))) == pytest.approx(1.0)


def test_perplexity_matches_nltk_on_the_training_text():
    _, ids, ours, theirs = _pair(3, 0.75)
    nll_nltk = -sum(math.log(theirs.score(TEXT[i], TEXT[max(0, i - 2): i])) for i in range(1, len(TEXT)))
    assert ours.nll(ids) == pytest.approx(nll_nltk / (len(TEXT) - 1), rel=1e-9)


def test_estimated_discounts_by_hand():
    # "a b a b c", V = 3. Bigrams ab:2 ba:1 bc:1 -> n1 = 2, n2 = 1, D_2 = 2 / 4 = 1/2.
    # Continuation unigrams a:1 b:1 c:1 -> n1 = 3, n2 = 0, D_1 = 1: P_1(w) = 1 * 3/3 * 1/3 = 1/3.
    a, b, c = 0, 1, 2
    lm = KneserNeyLM(2, 3).fit([a, b, a, b, c])
    assert lm.discounts == [1.0, 0.5]
    # P(b|a) = (2 - 1/2)/2 + (1/2 * 1/2) * 1/3 = 3/4 + 1/12; P(a|a) = P(c|a) = 1/12
    assert lm.prob((a,), b) == pytest.approx(5 / 6)
    assert lm.prob((a,), c) == pytest.approx(1 / 12)
    # P(a|b) = (1 - 1/2)/2 + (1/2 * 2/2) * 1/3 = 1/4 + 1/6; P(b|b) = 1/6
    assert lm.prob((b,), a) == pytest.approx(5 / 12)
    assert lm.prob((b,), b) == pytest.approx(1 / 6)
    # c never starts a bigram: back off to P_1 = 1/3
    assert lm.prob((c,), a) == pytest.approx(1 / 3)
    # nll of "a b a b c": -(2 log 5/6 + 2 log 5/12) / 4
    assert lm.nll([a, b, a, b, c]) == pytest.approx(-(2 * math.log(5 / 6) + 2 * math.log(5 / 12)) / 4)


def test_a_short_context_is_used_whole():
    # order 4 at the second token of a stream has a 2-token context; it was cut to its last token
    _, ids, ours, _ = _pair(4, 0.75)
    short = tuple(ids[:2])
    assert ours.prob(short, ids[2]) != pytest.approx(ours.prob(short[1:], ids[2]))
