"""Translation: decoding, metrics wiring, readers, truncation, unk replacement, save/load."""

import pytest
import sacrebleu
import torch

from lstmkit.tasks.translate import (
    DecodeConfig,
    Seq2Seq,
    Seq2SeqConfig,
    TranslationPipeline,
    beam_search,
    bleu,
    chrf,
    fit,
    greedy_decode,
    read_parallel,
    read_tsv_pairs,
    save_attention_heatmap,
)
from lstmkit.train import TrainConfig

EN = ["the house is red", "the dog is big", "a red dog", "the big house", "a dog and a house"] * 2
ES = ["la casa es roja", "el perro es grande", "un perro rojo", "la casa grande", "un perro y una casa"] * 2


def _model(attention="additive", input_feeding=True):
    torch.manual_seed(0)
    cfg = Seq2SeqConfig(embed_size=8, hidden_size=10, attention=attention, input_feeding=input_feeding, dropout=0.0)
    return Seq2Seq(13, 17, cfg).eval()


def _batch():
    torch.manual_seed(1)
    src = torch.randint(4, 13, (4, 6))
    src_len = torch.tensor([6, 3, 5, 1])
    for row, n in enumerate(src_len.tolist()):
        src[row, n:] = 0
    return src, src_len


@pytest.fixture(scope="module")
def pipeline():
    return fit(
        EN, ES,
        Seq2SeqConfig(embed_size=16, hidden_size=16, min_freq=1, dropout=0.0, max_source_len=6),
        TrainConfig(max_epochs=25, progress=False, lr=2e-2),
        batch_size=5,
    )


@pytest.mark.parametrize("attention", ["additive", "general", "concat", "none"])
def test_beam_one_equals_greedy(attention):
    model = _model(attention)
    src, src_len = _batch()
    greedy = greedy_decode(model, src, src_len, bos=2, eos=3, max_length=9)
    beam = beam_search(model, src, src_len, bos=2, eos=3, config=DecodeConfig(beam_size=1, max_length=9))
    assert beam.tokens == greedy.tokens
    assert beam.scores == pytest.approx(greedy.scores)
    if attention != "none":
        for a, b in zip(beam.attention, greedy.attention):
            assert torch.allclose(a, b)


def test_wider_beam_never_scores_worse_than_greedy_without_length_penalty():
    model = _model("general", input_feeding=False)
    src, src_len = _batch()
    greedy = greedy_decode(model, src, src_len, bos=2, eos=3, max_length=7)
    beam = beam_search(model, src, src_len, bos=2, eos=3, config=DecodeConfig(beam_size=4, max_length=7, length_penalty=0.0))
    for g, b, _tokens in zip(greedy.scores, beam.scores, greedy.tokens):
        assert b >= g - 1e-9
    # batched beam search equals decoding each source alone
    alone = [beam_search(model, src[i : i + 1, : int(src_len[i])], src_len[i : i + 1], 2, 3,
                         DecodeConfig(beam_size=4, max_length=7, length_penalty=0.0)).tokens[0] for i in range(4)]
    assert alone == beam.tokens


def test_attention_rows_are_distributions_over_real_source_tokens():
    model = _model("additive")
    src, src_len = _batch()
    hyps = beam_search(model, src, src_len, 2, 3, DecodeConfig(beam_size=3, max_length=5))
    for row, weights in enumerate(hyps.attention):
        n = int(src_len[row])
        assert torch.allclose(weights.sum(dim=1), torch.ones(weights.shape[0]), atol=1e-5)
        assert float(weights[:, n:].abs().sum()) == 0.0


def test_bleu_and_chrf_wiring_matches_sacrebleu():
    hyps = ["the cat sat on the mat", "a quick brown fox jumps", "hello there"]
    refs = ["the cat sat on a mat", "the quick brown fox jumped", "hello there"]
    assert bleu(hyps, refs) == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    assert chrf(hyps, refs) == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score)
    assert bleu(refs, refs) == pytest.approx(100.0)
    assert 0.0 < bleu(hyps, refs) < 100.0
    with pytest.raises(ValueError, match="same number of lines"):
        bleu(hyps, refs[:2])


def test_parallel_readers_report_bad_files(tmp_path):
    src, tgt, empty = tmp_path / "a.en", tmp_path / "a.es", tmp_path / "empty.txt"
    src.write_text("one\ntwo\nthree\n", encoding="utf-8")
    tgt.write_text("uno\ndos\n", encoding="utf-8")
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match=r"same number of lines, received 3 in .*a.en and 2 in .*a.es"):
        read_parallel(src, tgt)
    with pytest.raises(ValueError, match="empty.txt: the file is empty"):
        read_parallel(empty, tgt)
    tgt.write_text("uno\n\ntres\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"a.es:2: empty line"):
        read_parallel(src, tgt)
    tsv = tmp_path / "p.tsv"
    tsv.write_text("one\tuno\ntwo dos\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"p.tsv:2: expected 2 tab-separated fields"):
        read_tsv_pairs(tsv)
    tsv.write_text("one\tuno\n", encoding="utf-8")
    assert read_tsv_pairs(tsv) == (["one"], ["uno"])


def test_fit_rejects_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="same number of sentences"):
        fit(EN, ES[:3])
    with pytest.raises(ValueError, match=r"sources\[1\]: empty sentence"):
        fit(["a", " "], ["b", "c"])


def test_too_long_source_is_truncated_with_a_warning(pipeline):
    long = " ".join(["the red dog"] * 10)
    with pytest.warns(UserWarning, match="max_source_len=6"):
        out = pipeline.translate([long], DecodeConfig(beam_size=2, max_length=8))
    assert len(out) == 1
    with pytest.raises(ValueError, match=r"sentences\[0\]: empty sentence"):
        pipeline.translate([""])


def test_unknown_target_word_is_replaced_by_the_attended_source_word(pipeline):
    src_tokens = [" the", " zebra", " is", " red"]
    attention = torch.tensor([[0.9, 0.05, 0.03, 0.02], [0.1, 0.8, 0.05, 0.05]])
    assert "la" in pipeline.tgt_vocab
    ids = [pipeline.tgt_vocab.index("la"), pipeline.tgt_vocab.unk_id]
    text, _ = pipeline._detokenize(ids, src_tokens, attention)
    assert text == "la zebra"
    text, _ = pipeline._detokenize(ids, src_tokens, None)
    assert text == "la"


def test_save_load_gives_identical_translations(pipeline, tmp_path):
    cfg = DecodeConfig(beam_size=3, max_length=8)
    loaded = TranslationPipeline.load(pipeline.save(tmp_path / "tr"))
    assert loaded.translate(EN[:5], cfg) == pipeline.translate(EN[:5], cfg)
    metrics = loaded.evaluate(EN[:5], ES[:5], cfg)
    assert set(metrics) == {"bleu", "chrf", "sentences"} and metrics["sentences"] == 5


def test_attention_heatmap_png(pipeline, tmp_path):
    path = pipeline.attention("the red dog", tmp_path / "att.png", DecodeConfig(beam_size=2, max_length=6))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=r"weights: expected shape \(2, 3\)"):
        save_attention_heatmap([[1.0, 0.0]], ["a", "b", "c"], ["x", "y"], tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_config_errors_name_the_argument():
    with pytest.raises(ValueError, match="attention"):
        Seq2SeqConfig(attention="dot")
    with pytest.raises(ValueError, match="beam_size"):
        DecodeConfig(beam_size=0)


def test_bpe_translation_model_round_trips(tmp_path):
    tr = fit(EN, ES, Seq2SeqConfig(tokenizer="bpe", bpe_vocab_size=300, embed_size=8, hidden_size=8,
                                   attention="concat", dropout=0.0),
             TrainConfig(max_epochs=1, progress=False), batch_size=5)
    cfg = DecodeConfig(beam_size=2, max_length=6)
    loaded = TranslationPipeline.load(tr.save(tmp_path / "bpe"))
    assert loaded.translate(EN[:3], cfg) == tr.translate(EN[:3], cfg)
