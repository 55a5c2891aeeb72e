"""Language models: truncated BPTT, sampling, n-gram baselines, save/load, bad input."""

import math

import pytest
import torch

from lstmkit.tasks.generate import (
    KneserNeyLM,
    LanguageModel,
    LanguageModelConfig,
    LanguageModelModule,
    LanguageModelPipeline,
    SamplingConfig,
    StreamConfig,
    StreamWindows,
    UnigramLM,
    batchify,
    filter_probs,
    fit,
    next_token,
    tbptt_loss,
)
from lstmkit.train import TrainConfig

TEXTS = [
    "In the beginning, God created the heavens and the earth.",
    "The earth was formless and empty.",
    "God said, let there be light, and there was light.",
    "God saw the light, and saw that it was good.",
] * 3


def _model(vocab=11, **kw):
    torch.manual_seed(0)
    cfg = LanguageModelConfig(embed_size=8, hidden_size=12, num_layers=2, dropout=0.0, **kw)
    return LanguageModel(vocab, cfg).eval()


@pytest.fixture(scope="module")
def char_lm():
    return fit(
        TEXTS,
        LanguageModelConfig(embed_size=16, hidden_size=32, num_layers=1, dropout=0.0),
        StreamConfig(batch_size=4, bptt=16, eval_batch_size=2),
        TrainConfig(max_epochs=2, progress=False, lr=1e-2),
        val_texts=TEXTS[:2],
    )


# ----------------------------------------------------------------------------- truncated BPTT
def test_tbptt_windows_give_the_loss_of_one_long_sequence():
    model = _model()
    stream = torch.randint(0, 11, (3, 41))
    windowed, _ = tbptt_loss(model, stream, bptt=7)
    whole, _ = tbptt_loss(model, stream, bptt=1000)
    assert windowed.item() == pytest.approx(whole.item(), rel=1e-6)
    # and without carrying the state the loss differs: the carry matters
    restarted = []
    for start in range(0, 40, 7):
        logits, _ = model(stream[:, start : start + 7][:, : stream[:, start + 1 : start + 8].shape[1]])
        target = stream[:, start + 1 : start + 8]
        restarted.append(torch.nn.functional.cross_entropy(logits.reshape(-1, 11), target.reshape(-1), reduction="sum"))
    assert abs(float(sum(restarted).detach()) / (3 * 40) - windowed.item()) > 1e-4


def test_module_carries_detached_state_across_training_batches():
    model = _model()
    module = LanguageModelModule(model)
    stream = torch.randint(0, 11, (2, 31))
    windows = StreamWindows(stream, bptt=10)
    assert len(windows) == 3
    module.on_train_epoch_start()
    losses = [module.training_step(windows[i], i) for i in range(len(windows))]
    assert module._state is not None and not module._state[0].requires_grad
    logits, _ = model(stream[:, :-1])  # one pass over the whole rows
    full = torch.nn.functional.cross_entropy(logits.reshape(-1, 11), stream[:, 1:].reshape(-1), reduction="none")
    full = full.view(2, 30)
    for i, loss in enumerate(losses):
        assert loss.item() == pytest.approx(full[:, 10 * i : 10 * i + 10].mean().item(), rel=1e-5)
    # backward window by window as training does: without the detach the second
    # backward would run through the first window's freed graph and raise
    module.on_train_epoch_start()
    for i in range(len(windows)):
        module.training_step(windows[i], i).backward()
    module.on_train_epoch_start()
    assert module._state is None


def test_batchify_rows_are_contiguous_slices():
    stream = batchify(list(range(23)), 4)
    assert stream.shape == (4, 5)
    assert stream[1].tolist() == [5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="at least 2 tokens"):
        batchify([1], 4)


# ----------------------------------------------------------------------------- sampling
def test_top_k_and_top_p_never_sample_outside_their_set():
    torch.manual_seed(1)
    probs = torch.softmax(torch.randn(4, 30) * 2, dim=-1).double()
    g = torch.Generator().manual_seed(0)
    for k in (1, 3, 7):
        allowed = probs.topk(k, dim=-1).indices
        draws = torch.multinomial(filter_probs(probs, top_k=k), 300, replacement=True, generator=g)
        for row in range(4):
            assert set(draws[row].tolist()) <= set(allowed[row].tolist())
    for p in (0.1, 0.5, 0.9):
        sorted_p, order = probs.sort(dim=-1, descending=True)
        before = torch.cumsum(sorted_p, dim=-1) - sorted_p
        draws = torch.multinomial(filter_probs(probs, top_p=p), 300, replacement=True, generator=g)
        for row in range(4):
            nucleus = set(order[row][before[row] < p].tolist())
            assert set(draws[row].tolist()) <= nucleus
            assert probs[row, sorted(nucleus)].sum() >= p - 1e-12


def test_filtered_probabilities_are_renormalised():
    probs = torch.tensor([[0.5, 0.3, 0.2]], dtype=torch.float64)
    assert filter_probs(probs, top_k=2)[0].tolist() == pytest.approx([0.625, 0.375, 0.0])
    assert filter_probs(probs, top_p=0.6)[0].tolist() == pytest.approx([0.625, 0.375, 0.0])
    assert filter_probs(probs, top_p=0.4)[0].tolist() == pytest.approx([1.0, 0.0, 0.0])


def test_next_token_at_tiny_temperature_is_argmax():
    torch.manual_seed(2)
    logits = torch.randn(64, 50)
    cold = next_token(logits, SamplingConfig(temperature=1e-6), torch.Generator().manual_seed(0))
    assert torch.equal(cold, logits.argmax(dim=-1))


def test_sampling_at_temperature_to_zero_equals_greedy(char_lm):
    greedy = char_lm.sample("God ", SamplingConfig(greedy=True, max_length=30))
    cold = char_lm.sample("God ", SamplingConfig(temperature=1e-5, max_length=30, seed=3))
    assert cold == greedy and len(greedy) == 30


def test_stop_strings_and_streaming(char_lm):
    pieces = list(char_lm.stream("The ", SamplingConfig(max_length=200, seed=0, stop=("e",))))
    text = "".join(pieces)
    assert text.endswith("e") and text.count("e") == 1
    seen = []
    out = char_lm.sample("The ", SamplingConfig(max_length=12, seed=0), on_text=seen.append)
    assert "".join(seen) == out and len(seen) == 12


def test_sampling_config_rejects_bad_values():
    with pytest.raises(ValueError, match="temperature"):
        SamplingConfig(temperature=0)
    with pytest.raises(ValueError, match="top_p"):
        SamplingConfig(top_p=1.5)
    with pytest.raises(ValueError, match="top_k"):
        SamplingConfig(top_k=0)
    with pytest.raises(TypeError, match="stop"):
        SamplingConfig(stop="\n")


# ----------------------------------------------------------------------------- pipeline
def test_evaluate_reports_bpc_and_perplexity(char_lm):
    metrics = char_lm.evaluate(TEXTS[:2])
    assert metrics["bpc"] == pytest.approx(metrics["loss"] / math.log(2))
    assert metrics["perplexity"] == pytest.approx(math.exp(metrics["loss"]))
    assert metrics["bpc"] < math.log2(len(char_lm.vocab))  # it learned something
    assert char_lm.fit_result.metrics["val_bpc"] > 0


def test_save_load_gives_identical_generations(char_lm, tmp_path):
    path = char_lm.save(tmp_path / "lm")
    loaded = LanguageModelPipeline.load(path)
    cfg = SamplingConfig(temperature=0.9, top_k=10, max_length=40, seed=7)
    assert loaded.sample("light", cfg) == char_lm.sample("light", cfg)
    assert loaded.evaluate(TEXTS[:1])["loss"] == pytest.approx(char_lm.evaluate(TEXTS[:1])["loss"])


def test_bad_prime_messages(char_lm):
    with pytest.raises(ValueError, match="prime: expected non-empty"):
        char_lm.sample("", SamplingConfig(max_length=5))
    with pytest.raises(ValueError, match="not in the model's vocabulary.*Ж"):
        char_lm.sample("Жx", SamplingConfig(max_length=5))
    with pytest.warns(UserWarning, match="not seen in training"):
        char_lm.evaluate(["Жизнь"])


def test_word_model_with_tied_weights_warns_on_unknown_words():
    lm = fit(
        TEXTS,
        LanguageModelConfig(tokenizer="word", embed_size=16, hidden_size=24, num_layers=1, tie_weights=True),
        StreamConfig(batch_size=2, bptt=8),
        TrainConfig(max_epochs=1, progress=False),
    )
    assert lm.model.decoder.weight is lm.model.embedding.weight
    with pytest.warns(UserWarning, match="<unk>"):
        out = lm.sample("zebra God", SamplingConfig(max_length=5, seed=0))
    assert isinstance(out, str)
    assert "perplexity" in lm.evaluate(TEXTS[:1]) and "bpc" not in lm.evaluate(TEXTS[:1])


def test_fit_rejects_empty_text():
    with pytest.raises(ValueError, match="texts: expected non-empty text"):
        fit(["", "  "], LanguageModelConfig())
    with pytest.raises(TypeError, match="single str"):
        fit("abc", LanguageModelConfig())


# ----------------------------------------------------------------------------- baselines
def test_kneser_ney_is_a_distribution_and_beats_unigram_on_repetitive_text():
    ids = [0, 1, 2, 3, 1, 2, 0, 3, 2, 1] * 30
    kn = KneserNeyLM(3, 5).fit(ids)
    for context in [(), (1,), (1, 2), (4, 4), (3, 2)]:
        assert sum(kn.prob(context, w) for w in range(5)) == pytest.approx(1.0)
    uni = UnigramLM(5).fit(ids)
    assert sum(uni.prob(w) for w in range(5)) == pytest.approx(1.0)
    assert kn.nll(ids[:50]) < uni.nll(ids[:50])
    with pytest.raises(ValueError, match="order"):
        KneserNeyLM(0, 5)


def test_bpe_model_round_trips_through_save_and_load(tmp_path):
    lm = fit(TEXTS, LanguageModelConfig(tokenizer="bpe", bpe_vocab_size=300, embed_size=8, hidden_size=16,
                                        num_layers=1), StreamConfig(batch_size=2, bptt=8),
             TrainConfig(max_epochs=1, progress=False))
    cfg = SamplingConfig(max_length=12, seed=0, top_p=0.95)
    loaded = LanguageModelPipeline.load(lm.save(tmp_path / "bpe"))
    assert loaded.sample("In the", cfg) == lm.sample("In the", cfg)
    assert "bpc" not in loaded.evaluate(TEXTS[:1])
