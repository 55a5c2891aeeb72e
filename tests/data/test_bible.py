"""The Bible loaders: markup cleaning, whole-book splits and English-Spanish alignment."""

import pytest

from lstmkit.data import bible


def test_clean_osis_drops_notes_and_keeps_word_boundaries():
    raw = (
        '<w lemma="strong:H0430">In</w> <w>the</w> <w>beginning</w>, <w>God</w>'
        '<note placement="foot"><reference>1:1 </reference>The Hebrew word.</note><w>created</w> '
        '“<w>Let</w> <w>there</w>” <div eID="gen25" type="x-p"/>'
    )
    assert bible.clean_osis(raw) == "In the beginning, God created “Let there”"


def test_load_english_one_book():
    verses = bible.load_english(["Obad"])
    assert len(verses) == 21
    assert {v.book for v in verses} == {"Obad"}
    assert verses[0].chapter == 1 and verses[0].verse == 1
    assert verses[0].text.startswith("The vision of Obadiah")
    assert all("<" not in v.text for v in verses)


def test_parallel_pairs_are_aligned_by_reference():
    pairs = bible.load_parallel(["Obad", "Jude"])
    assert len(pairs) == 21 + 25
    for en, es in pairs:
        assert (en.book, en.chapter, en.verse) == (es.book, es.chapter, es.verse)
    assert pairs[0][1].text.startswith("VISIÓN de Abdías")


def test_split_books_holds_out_whole_books():
    pairs = bible.load_parallel(["Obad", "Jude"])
    train, test = bible.split_books(pairs, ["Jude"], key=lambda p: p[0].book)
    assert {p[0].book for p in train} == {"Obad"} and {p[0].book for p in test} == {"Jude"}
    assert len(train) + len(test) == len(pairs)


def test_unknown_book_is_named():
    with pytest.raises(ValueError, match="Revelation"):
        bible.load_english(["Revelation"])
    with pytest.raises(ValueError, match="max_chars"):
        bible.load_parallel(["Obad"], max_chars=0)
