"""Hunspell lexicon features on a tiny dictionary: analyses, case, unknown words, digest, errors."""

import pytest

from lstmkit.text.lexicon import BARE_STEM, FOUND, NOT_FOUND, OTHER_CASE, Lexicon

AFF = """SET UTF-8
FLAG num

SFX 1 N 1
SFX 1 0 ler .

SFX 2 N 1
SFX 2 0 di .

SFX 3 N 1
SFX 3 0 de .
"""
DIC = """4
ev/1,3
gel/2
Ankara/3
kalem/1,3
"""


def write_lexicon(folder, dic=DIC, aff=AFF):
    (folder / "tiny.aff").write_text(aff, encoding="utf-8")
    (folder / "tiny.dic").write_text(dic, encoding="utf-8")
    return folder / "tiny.dic"


@pytest.fixture()
def lex(tmp_path):
    return Lexicon(write_lexicon(tmp_path))


def test_features_of_stems_affixed_forms_and_unknown_words(lex):
    stem = lex._stem_flag
    affix = lex._affix_flag
    assert lex.features("ev") == sorted({FOUND, BARE_STEM, stem["1"], stem["3"]})
    assert lex.features("evler") == sorted({FOUND, affix["1"], stem["1"], stem["3"]})
    assert lex.features("geldi") == sorted({FOUND, affix["2"], stem["2"]})
    assert lex.features("xyz") == [NOT_FOUND]
    assert lex.features("evdi") == [NOT_FOUND]  # "ev" does not take flag 2
    # nouns sharing flags share features: an unseen noun looks like a known one
    assert lex.features("kalemler") == lex.features("evler")
    assert all(0 <= i < lex.size for w in ("ev", "evler", "geldi", "Ankara") for i in lex.features(w))


def test_case_variants(lex):
    assert FOUND in lex.features("Ankara") and FOUND in lex.features("Ankarade")
    assert OTHER_CASE in lex.features("ankara") and FOUND not in lex.features("ankara")
    assert lex.features("Ev")[0] == FOUND  # sentence-initial capital: hunspell accepts it as written


def test_open_caches_and_digest_tracks_the_bytes(tmp_path):
    path = write_lexicon(tmp_path)
    assert Lexicon.open(path) is Lexicon.open(tmp_path / "tiny.aff") is Lexicon.open(tmp_path / "tiny")
    before = Lexicon(path).sha256()
    write_lexicon(tmp_path, dic=DIC.replace("4\n", "5\n") + "okul/1\n")
    assert Lexicon(path).sha256() != before


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="tiny.aff"):
        (tmp_path / "tiny.dic").write_text(DIC)
        Lexicon(tmp_path / "tiny.dic")
    with pytest.raises(FileNotFoundError, match="apt-get install hunspell"):
        Lexicon(tmp_path / "none.dic")
