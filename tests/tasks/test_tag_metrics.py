"""Span scores for BIO, IOBES and BILOU against hand-counted spans."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("seqeval")

from lstmkit.tasks.tag.metrics import bio_spans, span_prf, span_report, span_scores, tag_scores  # noqa: E402

# gold spans PER(0,2) LOC(3,4) | ORG(0,1); predicted PER(0,2) PER(3,4) | ORG(0,2): 1 of 3 right
BIO_GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
BIO_PRED = [["B-PER", "I-PER", "O", "B-PER"], ["B-ORG", "I-ORG"]]
# gold PER(0,1) LOC(2,4) | ORG(0,3); predicted PER(0,1) LOC(2,4) | ORG(0,2) ORG(2,3): 2 of 4
# predicted, 2 of 3 gold right -> P 1/2, R 2/3, F1 4/7
IOBES_GOLD = [["S-PER", "O", "B-LOC", "E-LOC"], ["B-ORG", "I-ORG", "E-ORG"]]
IOBES_PRED = [["S-PER", "O", "B-LOC", "I-LOC"], ["B-ORG", "E-ORG", "S-ORG"]]


def _bilou(sentences):
    return [[{"S": "U", "E": "L"}.get(t[0], t[0]) + t[1:] for t in s] for s in sentences]


def test_bio_by_hand_with_per_type_report():
    r = span_prf(BIO_GOLD, BIO_PRED)
    assert (r["gold_spans"], r["pred_spans"], r["correct_spans"]) == (3, 3, 1)
    assert r["precision"] == pytest.approx(1 / 3) and r["recall"] == pytest.approx(1 / 3)
    assert r["f1"] == pytest.approx(1 / 3)
    per = span_report(BIO_GOLD, BIO_PRED)
    assert list(per) == ["LOC", "ORG", "PER"]
    assert per["PER"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1}
    assert per["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert per["ORG"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


@pytest.mark.parametrize("scheme", ["IOBES", "BILOU"])
def test_iobes_and_bilou_by_hand(scheme):
    gold, pred = IOBES_GOLD, IOBES_PRED
    if scheme == "BILOU":
        gold, pred = _bilou(gold), _bilou(pred)
        assert gold[0][0] == "U-PER" and gold[1][2] == "L-ORG"
    r = span_prf(gold, pred)
    assert (r["gold_spans"], r["pred_spans"], r["correct_spans"]) == (3, 4, 2)
    assert r["precision"] == pytest.approx(1 / 2) and r["recall"] == pytest.approx(2 / 3)
    assert r["f1"] == pytest.approx(4 / 7)
    per = span_report(gold, pred)
    assert per["PER"]["f1"] == 1.0 and per["LOC"]["f1"] == 1.0
    assert per["ORG"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert bio_spans(gold[0]) == {(0, 1, "PER"), (2, 4, "LOC")}


@pytest.mark.parametrize("single", ["S", "U"])
def test_gold_with_only_single_token_entities_is_scored(single):
    # gold PER(0) LOC(2) | PER(1); predicted PER(0) | LOC(1): 1 right of 2 predicted, 3 gold
    gold = [[f"{single}-PER", "O", f"{single}-LOC"], ["O", f"{single}-PER"]]
    pred = [[f"{single}-PER", "O", "O"], ["O", f"{single}-LOC"]]
    s = span_scores(gold, pred)
    assert s["span_precision"] == pytest.approx(1 / 2)
    assert s["span_recall"] == pytest.approx(1 / 3)
    assert s["span_f1"] == pytest.approx(0.4)
    assert bio_spans(gold[0]) == {(0, 1, "PER"), (2, 3, "LOC")}


def test_tag_scores_is_the_one_entry_point():
    unseen = [[True, False, False, False], [False, True]]
    r = tag_scores(BIO_GOLD, BIO_PRED, unseen, per_type=True)
    assert r["accuracy"] == pytest.approx(4 / 6) and r["unseen_accuracy"] == pytest.approx(1 / 2)
    assert r["span_f1"] == pytest.approx(1 / 3)
    assert r["span_per_type"]["PER"]["support"] == 1
    assert "span_per_type" not in tag_scores(BIO_GOLD, BIO_PRED, unseen)
    # POS tags: no span scores at all, not zeros
    pos = tag_scores([["NOUN", "VERB"]], [["NOUN", "NOUN"]], [[False, False]], per_type=True)
    assert pos == {"accuracy": 0.5, "unseen_accuracy": pytest.approx(float("nan"), nan_ok=True)}


def test_no_spans_anywhere_and_length_errors():
    assert span_prf([["O", "O"]], [["O", "O"]])["f1"] == 0.0
    assert span_report([["O"]], [["O"]]) == {}
    with pytest.raises(ValueError, match="sentence 0: gold has 2 tags, pred has 1"):
        span_prf([["O", "O"]], [["O"]])
    with pytest.raises(ValueError, match="same number of sentences"):
        span_prf([["O"]], [])


def _conlleval_bio_spans(tags):
    """The lenient conlleval reading of BIO, written out independently of seqeval."""
    spans, start, kind = set(), None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, label = tag.partition("-")
        if prefix == "I" and label and kind == label:
            continue
        if start is not None:
            spans.add((start, i, kind))
            start, kind = None, None
        if prefix in ("B", "I") and label:
            start, kind = i, label
    return spans


def test_bio_reading_matches_conlleval_on_random_sequences():
    rng = random.Random(0)
    alphabet = ["O", "B-A", "I-A", "B-B", "I-B", "NOUN"]
    for _ in range(500):
        tags = [rng.choice(alphabet) for _ in range(rng.randint(1, 8))]
        assert bio_spans(tags) == _conlleval_bio_spans(tags), tags


def test_validation_span_f1_is_a_checkpoint_monitor():
    from lstmkit.tasks.tag import Tagger, TaggerConfig
    from lstmkit.train import TrainConfig

    sents = [
        (["Ali", "Ankara", "'ya", "gitti", "."], ["S-PER", "S-LOC", "O", "O", "O"]),
        (["Mehmet", "Yılmaz", "Bursa", "'ya", "döndü"], ["B-PER", "E-PER", "S-LOC", "O", "O"]),
        (["hava", "güzel", "."], ["O", "O", "O"]),
        (["Ayşe", "geldi", "."], ["S-PER", "O", "O"]),
    ] * 3
    config = TaggerConfig(word_dim=8, char_dim=4, char_hidden=4, hidden=8, dropout=0.0, word_dropout=0.0,
                          batch_size=4, bio=False)
    train = TrainConfig(max_epochs=4, lr=3e-2, progress=False, checkpoint=False, seed=0,
                        monitor="val_span_f1", monitor_mode="max")
    tagger = Tagger(config, train)
    result = tagger.fit(sents, val=sents[:4])
    logged = [r["val_span_f1"] for r in result.history if "val_span_f1" in r]
    assert len(logged) == 4 and max(logged) > 0
    assert result.best_score == max(logged)
    # the weights kept are the best epoch's: their span F1 on the same sentences is the logged one
    assert tagger.evaluate(sents[:4])["span_f1"] == pytest.approx(result.best_score, abs=1e-6)
