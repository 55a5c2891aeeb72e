"""Tokenizer round trips, vocabulary, batching and word vectors."""

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmkit.text import (
    BPETokenizer,
    BucketBatchSampler,
    CharTokenizer,
    Vocab,
    WordTokenizer,
    init_embedding,
    lengths_to_mask,
    load_word_vectors,
    pad_sequences,
    padding_ratio,
    read_text_lines,
    tokenizer_from_config,
)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_char_round_trip(s):
    tok = CharTokenizer(normalize=False)
    assert tok.detokenize(tok.tokenize(s)) == s


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_word_round_trips(s):
    tok = WordTokenizer(lowercase=False)
    toks = tok.tokenize(s)
    assert tok.tokenize(tok.detokenize(toks)) == toks
    spaced = WordTokenizer(lowercase=False, keep_spacing=True)
    import unicodedata

    assert spaced.detokenize(spaced.tokenize(s)) == unicodedata.normalize("NFC", s)


def test_word_tokenizer_splits_punctuation():
    assert WordTokenizer().tokenize("Hi, Bob!  OK?") == ["hi", ",", "bob", "!", "ok", "?"]


@pytest.fixture(scope="module")
def bpe():
    texts = ["the cat sat on the mat", "kedi paspasın üstünde oturdu", "naïve café"] * 30
    return BPETokenizer.train(texts, vocab_size=300, min_frequency=2)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=30))
def test_bpe_round_trip_any_text(bpe, s):
    assert bpe.detokenize(bpe.tokenize(s)) == s


def test_bpe_learns_merges_and_survives_config(bpe):
    toks = bpe.tokenize("the cat sat")
    assert len(toks) < len("the cat sat")  # merges happened
    again = tokenizer_from_config(json.dumps(bpe.to_config()))
    assert again.tokenize("the cat sat on kedi") == bpe.tokenize("the cat sat on kedi")


def test_tokenizer_config_round_trip_and_errors():
    for tok in (CharTokenizer(lowercase=True), WordTokenizer(lowercase=False, keep_spacing=True)):
        again = tokenizer_from_config(tok.to_config())
        assert again.to_config() == tok.to_config()
    with pytest.raises(ValueError, match="kind must be one of"):
        tokenizer_from_config({"kind": "sentencepiece"})
    with pytest.raises(TypeError, match="text must be str"):
        WordTokenizer().tokenize(3)


def test_vocab_build_order_min_freq_max_size(tmp_path):
    seqs = [["b", "a", "a", "c"], ["a", "b", "d"]]
    v = Vocab.build(seqs, min_freq=2)
    assert v.itos == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b"]
    assert v.encode(["a", "c"], add_bos=True, add_eos=True) == [2, 4, 1, 3]
    assert v.decode([2, 4, 1, 3, 0]) == ["a", "<unk>"]
    assert Vocab.build(seqs, max_size=1).itos[4:] == ["a"]
    v.save(tmp_path / "v.json")
    assert Vocab.load(tmp_path / "v.json") == v
    with pytest.raises(ValueError, match="min_freq must be >= 1"):
        Vocab.build(seqs, min_freq=0)
    with pytest.raises(ValueError, match="out of range"):
        v.decode([99])
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(ValueError, match="bad.json: not a vocabulary JSON"):
        Vocab.load(tmp_path / "bad.json")


def test_pad_sequences_and_mask():
    x, n = pad_sequences([[5, 6, 7], [8]], pad_id=0)
    assert x.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert n.tolist() == [3, 1]
    assert lengths_to_mask(n).tolist() == [[True, True, True], [True, False, False]]
    with pytest.raises(ValueError, match="sequence 1 of the batch is empty"):
        pad_sequences([[1], []])


def test_bucket_sampler_covers_all_and_reduces_padding():
    g = torch.Generator().manual_seed(0)
    lengths = (torch.rand(500, generator=g) ** 3 * 100 + 1).long().tolist()
    s = BucketBatchSampler(lengths, batch_size=16, shuffle=True, seed=3)
    batches = list(s)
    assert len(batches) == len(s)
    assert sorted(i for b in batches for i in b) == list(range(500))
    random_batches = [list(range(i, min(i + 16, 500))) for i in range(0, 500, 16)]
    assert padding_ratio(batches, lengths) < 0.5 * padding_ratio(random_batches, lengths)
    assert list(s) != batches  # a new epoch reshuffles
    fixed = BucketBatchSampler(lengths, batch_size=16, shuffle=False)
    assert list(fixed) == list(fixed)


def test_word_vectors(tmp_path):
    v = Vocab.build([["cat", "dog", "emu"]])
    f = tmp_path / "vec.txt"
    f.write_text("2 3\ncat 1 2 3\ndog 4 5 6\nzebra 0 0 0\n", encoding="utf-8")
    w, n = load_word_vectors(f, v)
    assert n == 2 and w.shape == (len(v), 3)
    assert w[v.index("dog")].tolist() == [4.0, 5.0, 6.0]
    assert w[v.pad_id].abs().sum() == 0
    f.write_text("cat 1 2 3\ndog 4 5\n")
    with pytest.raises(ValueError, match=r"vec.txt:2: expected 3 values, got 2"):
        load_word_vectors(f, v)


def test_init_embedding_copies_found_rows_and_checks_the_size(tmp_path):
    v = Vocab.build([["cat", "dog", "emu"]])
    f = tmp_path / "vec.txt"
    f.write_text("Cat 1 2 3\ndog 4 5 6\n", encoding="utf-8")
    emb = torch.nn.Embedding(len(v), 3, padding_idx=0)
    report = init_embedding(emb, f, v, lowercase=True)
    assert report == {"path": str(f), "found": 2, "vocab": len(v), "dim": 3}
    assert emb.weight[v.index("cat")].tolist() == [1.0, 2.0, 3.0]
    assert emb.weight[v.pad_id].abs().sum() == 0
    with pytest.raises(ValueError, match=r"vectors have 3 dimensions but the embedding has 4"):
        init_embedding(torch.nn.Embedding(len(v), 4), f, v)


def test_read_text_lines_names_bad_encoding_line(tmp_path):
    f = tmp_path / "latin.txt"
    f.write_bytes("ok\nçay\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.txt:2: text is not valid utf-8"):
        read_text_lines(f)


def test_hashed_ngrams_are_stable_and_bagged():
    from lstmkit.text import char_ngrams, hashed_ngram_ids, ngram_bags

    assert char_ngrams("ab", 1, 2) == ["<", "a", "b", ">", "<a", "ab", "b>"]
    assert hashed_ngram_ids("kitap", 1000) == hashed_ngram_ids("kitap", 1000)  # no per-process salt
    assert all(0 <= i < 7 for i in hashed_ngram_ids("kitaplar", 7))
    ids, offsets = ngram_bags(["ev", "a"], 100, 2, 3)
    assert offsets.tolist() == [0, 5] and len(ids) == 5 + 3
    with pytest.raises(ValueError, match="n_min <= n_max"):
        char_ngrams("x", 3, 2)
