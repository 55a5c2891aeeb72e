"""Text classifier: pooling variants, regression, save/load identity, metrics, bad input."""

import math

import pytest
import torch

from lstmkit.tasks.classify import (
    ClassifierConfig,
    TextClassifier,
    TfidfBaseline,
    classification_report,
    read_table,
    regression_report,
)
from lstmkit.tasks.classify.model import ClassifierNet
from lstmkit.train import ModelLoadError, TrainConfig

POS = ["a great film", "great acting and a fine story", "fine and great", "what a great fine movie",
       "i loved it", "loved the great story"]
NEG = ["a bad film", "awful acting and a dull story", "dull and bad", "what a bad awful movie",
       "i hated it", "hated the dull story"]
TEXTS = POS + NEG
LABELS = ["pos"] * len(POS) + ["neg"] * len(NEG)
FAST = TrainConfig(max_epochs=25, lr=1e-2, progress=False, checkpoint=False, seed=0)


def small(**kw):
    return ClassifierConfig(embed_dim=16, hidden=16, attn_size=8, dropout=0.0, embed_dropout=0.0,
                            batch_size=4, **kw)


@pytest.mark.parametrize("pooling", ["last", "max", "mean", "attention"])
def test_each_pooling_learns_toy_sentiment(pooling):
    clf = TextClassifier(small(pooling=pooling), FAST)
    clf.fit(TEXTS, LABELS)
    report = clf.evaluate(TEXTS, LABELS)
    assert report["accuracy"] >= 0.9
    pred = clf.predict(["a great story", "a dull story"])
    assert pred.classes == ["neg", "pos"]
    for row in pred.probabilities:
        assert math.isclose(sum(row), 1.0, rel_tol=1e-5)
    if pooling == "attention":
        assert [len(w) for w in pred.attention] == [3, 3]
        assert all(math.isclose(sum(w), 1.0, rel_tol=1e-5) for w in pred.attention)
    else:
        assert pred.attention is None


def test_padding_does_not_change_outputs():
    torch.manual_seed(0)
    for pooling in ("last", "max", "mean", "attention"):
        net = ClassifierNet(small(pooling=pooling), vocab_size=20, n_outputs=3).eval()
        x = torch.tensor([[5, 6, 7]])
        padded = torch.tensor([[5, 6, 7, 0, 0, 0]])
        a, _ = net(x, torch.tensor([3]))
        b, _ = net(padded, torch.tensor([3]))
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_regression_save_load_identical(tmp_path):
    scores = [2.0, 2.5, 1.5, 3.0, 2.0, 2.2, -2.0, -2.5, -1.5, -3.0, -2.0, -2.2]
    clf = TextClassifier(small(task="regression", tokenizer="char"), FAST)
    clf.fit(TEXTS, scores)
    rep = clf.evaluate(TEXTS, scores)
    assert rep["pearson_r"] > 0.8
    clf.save(tmp_path / "m")
    again = TextClassifier.load(tmp_path / "m")
    assert again.predict(TEXTS).scores == clf.predict(TEXTS).scores


def test_bpe_classifier_save_load_identical(tmp_path):
    clf = TextClassifier(small(tokenizer="bpe", bpe_vocab_size=300, pooling="attention"),
                         FAST.replace(max_epochs=2))
    clf.fit(TEXTS, LABELS)
    clf.save(tmp_path / "m")
    again = TextClassifier.load(tmp_path / "m")
    a, b = clf.predict(TEXTS), again.predict(TEXTS)
    assert a.probabilities == b.probabilities and a.attention == b.attention and a.tokens == b.tokens
    with pytest.raises(ModelLoadError):
        TextClassifier.load(tmp_path / "nothing-here")


def test_subword_features_learn_and_survive_save_load(tmp_path):
    clf = TextClassifier(small(subword_buckets=512, subword_min_n=2, subword_max_n=3), FAST)
    clf.fit(TEXTS, LABELS)
    assert clf.evaluate(TEXTS, LABELS)["accuracy"] >= 0.9
    # an unseen word shares n-grams with a seen one: its embedding is not just <unk>
    x = clf.predict(["greatest"]).probabilities
    y = clf.predict(["zzzzzzzz"]).probabilities
    assert x != y
    clf.save(tmp_path / "m")
    assert TextClassifier.load(tmp_path / "m").predict(TEXTS + ["greatest"]).probabilities == \
        clf.predict(TEXTS + ["greatest"]).probabilities


def test_unseen_label_at_evaluate_is_named():
    clf = TextClassifier(small(), FAST.replace(max_epochs=1))
    clf.fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match=r"item 1: label 'meh' was not seen in training"):
        clf.evaluate(["fine", "ok"], ["pos", "meh"])
    with pytest.raises(RuntimeError, match="not trained"):
        TextClassifier().predict(["x"])
    with pytest.raises(ValueError, match="at least 2 classes"):
        TextClassifier(small(), FAST).fit(["a", "b"], ["x", "x"])


def test_metrics_by_hand():
    r = classification_report(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"], positive="b")
    assert r["accuracy"] == 0.75
    assert r["confusion_matrix"] == [[1, 1], [0, 2]]
    assert r["f1_per_class"]["a"] == pytest.approx(2 / 3)
    assert r["positive_f1"] == pytest.approx(0.8)
    assert r["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    g = regression_report([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    assert g["rmse"] == pytest.approx(math.sqrt(4 / 3))
    assert g["pearson_r"] == pytest.approx(0.9607689, rel=1e-6)


def test_tfidf_baselines_run():
    assert TfidfBaseline().fit(TEXTS, LABELS).predict(["a great film"]) == ["pos"]
    out = TfidfBaseline("regression").fit(TEXTS, [1.0] * 6 + [-1.0] * 6).predict(["a great film"])
    assert out[0] > 0


def test_read_table_tsv_and_errors(tmp_path):
    f = tmp_path / "d.tsv"
    f.write_text("id\tsentence\tscore\n1\tgood film\t2.5\n\n2\tbad one\t-1\n", encoding="utf-8")
    texts, labels, lines = read_table(f, "sentence", "score", regression=True)
    assert texts == ["good film", "bad one"] and labels == [2.5, -1.0] and lines == [2, 4]
    with pytest.raises(ValueError, match=r"d.tsv:1: no column 'text' in the header"):
        read_table(f, "text", "score")
    bad = tmp_path / "b.csv"
    bad.write_text("text,label\nok,1\n,0\n")
    with pytest.raises(ValueError, match=r"b.csv:3: empty text in column 'text'"):
        read_table(bad)
    bad.write_text("text,label\nok,1\nfine,high\n")
    with pytest.raises(ValueError, match=r"b.csv:3: label 'high' is not a number"):
        read_table(bad, regression=True)
    bad.write_text("\n\n")
    with pytest.raises(ValueError, match=r"b.csv: file is empty"):
        read_table(bad)
    bad.write_bytes("text,label\ncafé,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"b.csv:2: text is not valid utf-8"):
        read_table(bad)
    bad.write_text("text,label\n")
    with pytest.raises(ValueError, match=r"b.csv: no data rows"):
        read_table(bad)


def test_config_validation():
    with pytest.raises(ValueError, match=r"ClassifierConfig.pooling: expected one of"):
        ClassifierConfig(pooling="sum")
    with pytest.raises(ValueError, match=r"ClassifierConfig.hidden: expected an int >= 1, got 0"):
        ClassifierConfig(hidden=0)


def test_pretrained_vectors_start_the_embedding(tmp_path):
    f = tmp_path / "vec.txt"
    f.write_text("great " + " ".join(["0.5"] * 16) + "\n", encoding="utf-8")
    clf = TextClassifier(small(), FAST.replace(max_epochs=1, lr=1e-12))
    clf.fit(TEXTS, LABELS, vectors=f)
    assert clf.vectors_report["found"] == 1
    row = clf.net.embed.weight[clf.encoder.vocab.index("great")]
    assert torch.allclose(row, torch.full((16,), 0.5), atol=1e-6)
    with pytest.raises(ValueError, match="give vectors or encoder, not both"):
        clf.fit(TEXTS, LABELS, vectors=f, encoder=tmp_path)
