"""Tagger: CRF and softmax heads on toy data, save/load identity, CoNLL I/O and its errors."""

import pytest
import torch

from lstmkit.tasks.tag import (
    FeatureTagger,
    MostFrequentTagger,
    Tagger,
    TaggerConfig,
    read_conll,
    write_conll,
)
from lstmkit.train import ModelLoadError, TrainConfig

SENTS = [
    (["Ali", "Ankara", "'ya", "gitti", "."], ["B-PER", "B-LOC", "I-LOC", "O", "O"]),
    (["Ayşe", "İzmir", "'de", "kaldı", "."], ["B-PER", "B-LOC", "I-LOC", "O", "O"]),
    (["bugün", "Ali", "geldi"], ["O", "B-PER", "O"]),
    (["Mehmet", "Yılmaz", "Bursa", "'ya", "döndü"], ["B-PER", "I-PER", "B-LOC", "I-LOC", "O"]),
    (["hava", "güzel", "."], ["O", "O", "O"]),
    (["Ayşe", "geldi", "."], ["B-PER", "O", "O"]),
] * 3
FAST = TrainConfig(max_epochs=30, lr=1e-2, progress=False, checkpoint=False, seed=0)


def small(**kw):
    return TaggerConfig(word_dim=16, char_dim=8, char_hidden=8, hidden=16, dropout=0.0, word_dropout=0.0,
                        batch_size=6, **kw)


@pytest.mark.parametrize("head", ["crf", "softmax"])
def test_heads_learn_toy_entities(head):
    tagger = Tagger(small(head=head), FAST)
    tagger.fit(SENTS)
    report = tagger.evaluate(SENTS)
    assert report["accuracy"] > 0.9
    assert report["span_f1"] > 0.8
    assert report["decode_tokens_per_s"] > 0
    pred = tagger.predict([["Ali", "Bursa", "'ya", "gitti"], ["hava"]])
    assert [len(p) for p in pred] == [4, 1]


def test_crf_never_outputs_invalid_bio():
    tagger = Tagger(small(head="crf"), FAST.replace(max_epochs=2))
    tagger.fit(SENTS)
    for tags in tagger.predict([s for s, _ in SENTS] + [["'ya", "'de", "x"]]):
        assert not tags[0].startswith("I-")
        for a, b in zip(tags, tags[1:]):
            if b.startswith("I-"):
                assert a in ("B-" + b[2:], b)


@pytest.mark.parametrize("subword_buckets", [0, 256])
def test_save_load_identical_predictions(tmp_path, subword_buckets):
    tagger = Tagger(small(subword_buckets=subword_buckets), FAST.replace(max_epochs=3))
    tagger.fit(SENTS[:6], SENTS[6:8])
    tagger.save(tmp_path / "m")
    again = Tagger.load(tmp_path / "m")
    toks = [s for s, _ in SENTS] + [["Zeynep", "Van", "'a", "uçtu"]]
    assert again.predict(toks) == tagger.predict(toks)
    with pytest.raises(ValueError, match=r"sentence 0: tag 'B-ORG' was not seen in training"):
        again.evaluate([(["X"], ["B-ORG"])])


def test_baselines():
    mft = MostFrequentTagger().fit(SENTS)
    assert mft.predict([["Ali", "zzz"]]) == [["B-PER", "O"]]
    ft = FeatureTagger().fit(SENTS)
    assert ft.predict([["Ali", "geldi"]])[0][1] == "O"


class _FakeLexicon:
    """A dictionary that knows which invented word forms are nouns (id 7) and verbs (id 8)."""

    def __init__(self, nouns, verbs):
        self.nouns, self.verbs = set(nouns), set(verbs)

    def features(self, word):
        return [7] if word in self.nouns else [8] if word in self.verbs else [0]


def test_feature_tagger_reads_the_lexicon_like_the_bilstm():
    """Unseen words whose spelling says nothing: only the lexicon features tell the classes apart."""
    nouns, verbs = ["kxq", "zpl", "tqw", "yhg"], ["mrt", "wvb", "jsx", "fdc"]
    train = [([n], ["NOUN"]) for n in nouns[:3]] * 3 + [([v], ["VERB"]) for v in verbs[:3]] * 3
    test = [[nouns[3]], [verbs[3]]]
    with_lex = FeatureTagger(lexicon=_FakeLexicon(nouns, verbs)).fit(train)
    assert with_lex.predict(test) == [["NOUN"], ["VERB"]]
    without = FeatureTagger().fit(train).predict(test)
    assert without[0] == without[1]  # no signal without the lexicon


CONLLU = """# sent_id = 1
# text = Ali geldi.
1\tAli\tali\tNOUN\tNNP\tProper=True\t2\tnsubj\t_\t_
2\tgeldi\tgel\tVERB\tVB\t_\t0\troot\t_\tSpaceAfter=No
3\t.\t.\tPUNCT\t.\t_\t2\tp\t_\t_

1-2\tgitmiş\t_\t_\t_\t_\t_\t_\t_\t_
1\tgit\tgit\tVERB\tVB\t_\t0\troot\t_\t_
2\tmiş\t_\tAUX\tVB\t_\t1\tig\t_\t_
"""


def test_conllu_round_trip_with_chosen_column(tmp_path):
    f = tmp_path / "a.conllu"
    f.write_text(CONLLU, encoding="utf-8")
    sents = read_conll(f, column="upos")
    assert [s.tokens for s in sents] == [["Ali", "geldi", "."], ["git", "miş"]]
    assert sents[1].tags == ["VERB", "AUX"]
    assert read_conll(f, column="xpos")[0].tags == ["NNP", "VB", "."]
    assert read_conll(f, column=5)[0].tags == ["NNP", "VB", "."]
    out = tmp_path / "out.conllu"
    write_conll(out, sents, [["X", "Y", "Z"], ["P", "Q"]], fmt="conllu", column="upos")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# sent_id = 1"
    assert lines[3].split("\t")[3] == "Y" and lines[3].split("\t")[9] == "SpaceAfter=No"
    assert lines[6].startswith("1-2\tgitmiş")
    assert [s.tags for s in read_conll(out)] == [["X", "Y", "Z"], ["P", "Q"]]


def test_two_column_round_trip(tmp_path):
    f = tmp_path / "a.conll"
    f.write_text("Ali B-PER\ngeldi O\n\n\n\nhava O\n", encoding="utf-8")
    sents = read_conll(f)
    assert [(s.tokens, s.tags) for s in sents] == [(["Ali", "geldi"], ["B-PER", "O"]), (["hava"], ["O"])]
    out = tmp_path / "o.conll"
    write_conll(out, sents, [["O", "O"], ["B-X"]], fmt="conll")
    assert out.read_text() == "Ali\tO\ngeldi\tO\n\nhava\tB-X\n\n"  # blank line ends each sentence
    f.write_text("Ali\ngeldi\n")
    assert read_conll(f, require_tags=False)[0].tags is None


@pytest.mark.parametrize("content,fmt,message", [
    ("", "auto", r"x.conll: file is empty"),
    ("\n  \n", "auto", r"x.conll: file is empty"),
    ("Ali B-PER extra\n", "conll", r"x.conll:1: expected 2 columns \(token, tag\).*got 3"),
    ("Ali B-PER\ngeldi\n", "conll", r"x.conll:2: expected 2 columns \(token, tag\).*got 1"),
    ("1\tAli\tali\tNOUN\n", "conllu", r"x.conll:1: expected 10 tab-separated CoNLL-U columns, got 4"),
    ("# only a comment\n\n1\tAli\t_\tNOUN\t_\t_\t0\troot\t_\t_\n", "conllu",
     r"x.conll:1: sentence has no tokens"),
    ("1\tAli\t_\t_\t_\t_\t0\troot\t_\t_\n", "conllu", r"x.conll:1: token has no upos"),
])
def test_malformed_conll_errors_name_file_and_line(tmp_path, content, fmt, message):
    f = tmp_path / "x.conll"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_conll(f, fmt=fmt)


def test_bad_encoding_and_bad_column(tmp_path):
    f = tmp_path / "x.conll"
    f.write_bytes("Ali O\nşeker O\n".encode("iso-8859-9"))
    with pytest.raises(ValueError, match=r"x.conll:2: text is not valid utf-8"):
        read_conll(f)
    f.write_text("Ali O\n")
    with pytest.raises(ValueError, match=r"column must be one of"):
        read_conll(f, fmt="conllu", column="tags")


LEX_AFF = "SET UTF-8\nFLAG num\n\nSFX 1 N 1\nSFX 1 0 ya .\n\nSFX 2 N 1\nSFX 2 0 di .\n"
LEX_DIC = "5\nAnkara/1\nBursa/1\ngit/2\ngel/2\nkal/2\n"


def test_lexicon_features_train_save_load_and_move(tmp_path):
    (tmp_path / "tr.aff").write_text(LEX_AFF, encoding="utf-8")
    (tmp_path / "tr.dic").write_text(LEX_DIC, encoding="utf-8")
    tagger = Tagger(small(lexicon=str(tmp_path / "tr.dic"), lexicon_dim=4), FAST.replace(max_epochs=3))
    tagger.fit(SENTS)
    assert tagger.net.lexicon.num_embeddings == tagger.encoder.lexicon_features.size
    toks = [s for s, _ in SENTS] + [["Zeynep", "Bursa", "'ya", "geldi"]]
    tagger.save(tmp_path / "m")
    assert Tagger.load(tmp_path / "m").predict(toks) == tagger.predict(toks)
    # the lexicon moves: the saved path is gone, a clear error; the new place can be given
    (tmp_path / "moved").mkdir()
    for ext in (".dic", ".aff"):
        (tmp_path / f"tr{ext}").rename(tmp_path / "moved" / f"tr{ext}")
    with pytest.raises(ModelLoadError, match="trained with a lexicon that is missing here"):
        Tagger.load(tmp_path / "m")
    moved = Tagger.load(tmp_path / "m", lexicon=tmp_path / "moved" / "tr.dic")
    assert moved.predict(toks) == tagger.predict(toks)
    (tmp_path / "moved" / "tr.dic").write_text(LEX_DIC.replace("5\n", "6\n") + "uç/2\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="differs from the one the model was trained with"):
        Tagger.load(tmp_path / "m", lexicon=tmp_path / "moved" / "tr.dic")


def test_pretrained_vectors_start_the_word_embedding(tmp_path):
    f = tmp_path / "vec.txt"
    f.write_text("ali " + " ".join(["0.5"] * 16) + "\ngeldi " + " ".join(["-0.25"] * 16) + "\n", encoding="utf-8")
    tagger = Tagger(small(), FAST.replace(max_epochs=1, lr=1e-12))  # the weights barely move
    tagger.fit(SENTS, vectors=f)
    assert tagger.vectors_report["found"] == 2
    row = tagger.net.word_emb.weight[tagger.encoder.words.index("ali")]
    assert torch.allclose(row, torch.full((16,), 0.5), atol=1e-6)
    with pytest.raises(ValueError, match="vectors have 16 dimensions but the embedding has 8"):
        Tagger(TaggerConfig(word_dim=8), FAST.replace(max_epochs=1)).fit(SENTS, vectors=f)


def test_span_scores_only_for_bio_tags():
    from lstmkit.tasks.tag import span_scores

    assert span_scores([["NOUN", "VERB"]], [["NOUN", "NOUN"]]) == {}
    assert span_scores([["B-PER", "O"]], [["B-PER", "O"]]) == {"span_precision": 1.0, "span_recall": 1.0,
                                                                "span_f1": 1.0}
    pos = [(toks, ["X" if t == "O" else "N" for t in tags]) for toks, tags in SENTS[:6]]
    tagger = Tagger(small(), FAST.replace(max_epochs=1))
    tagger.fit(pos)
    report = tagger.evaluate(pos)
    assert "span_f1" not in report and 0 <= report["accuracy"] <= 1
