"""Transfer from a language model into a classifier-style encoder, and gradual unfreezing."""

import pytest
import torch
from torch import nn

import lstmkit
from lstmkit.tasks.generate import LanguageModelConfig, StreamConfig, fit
from lstmkit.tasks.generate.transfer import (
    GradualUnfreeze,
    apply_lm_encoder,
    init_from_lm,
    layer_groups,
    load_lm_encoder,
)
from lstmkit.text import Vocab
from lstmkit.train import ModelLoadError, TrainConfig

TEXTS = ["the light was good", "god saw the light", "the earth was empty"] * 4


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory):
    lm = fit(TEXTS, LanguageModelConfig(tokenizer="word", lowercase=True, embed_size=8, hidden_size=12, num_layers=2),
             StreamConfig(batch_size=2, bptt=6), TrainConfig(max_epochs=1, progress=False))
    return lm.save(tmp_path_factory.mktemp("lm") / "model")


def test_embedding_rows_and_lstm_weights_are_copied(lm_dir):
    pre = load_lm_encoder(lm_dir)
    vocab = Vocab.build([["light", "zebra", "the"]])  # a classifier's own vocabulary, no spacing
    embed = nn.Embedding(len(vocab), 8)
    lstm = lstmkit.LSTM(8, 12, num_layers=2, batch_first=True, bidirectional=True)
    before_reverse = lstm.weight_hh_l0_reverse.detach().clone()
    report = apply_lm_encoder(pre, embed, lstm, vocab)
    assert report.tokens_copied == 2 and report.tokens_total == 3  # zebra is new
    # all but layer 1's input weights, which read both directions (2H inputs) in a BiLSTM
    assert report.lstm_tensors_total == 8 and report.lstm_tensors_copied == 7
    lm_light = pre.vocab.stoi.get(" light", pre.vocab.stoi.get("light"))
    assert torch.equal(embed.weight[vocab.index("light")], pre.embedding[lm_light])
    assert torch.equal(lstm.weight_hh_l1, pre.lstm_state["weight_hh_l1"])
    assert torch.equal(lstm.weight_ih_l0, pre.lstm_state["weight_ih_l0"])
    assert torch.equal(lstm.weight_hh_l0_reverse, before_reverse)  # a LM has no reverse direction


def test_size_mismatch_and_wrong_directory_are_clear_errors(lm_dir, tmp_path):
    vocab = Vocab.build([["light"]])
    with pytest.raises(ValueError, match=r"expected \(embed, hidden, layers\) = \(8, 12, 2\)"):
        init_from_lm(lm_dir, nn.Embedding(len(vocab), 8), lstmkit.LSTM(8, 16, num_layers=2), vocab)
    with pytest.raises(ModelLoadError):
        load_lm_encoder(tmp_path / "missing")


def test_gradual_unfreeze_schedule_top_layer_first(lm_dir):
    vocab = Vocab.build([["light", "the"]])
    embed = nn.Embedding(len(vocab), 8)
    lstm = lstmkit.LSTM(8, 12, num_layers=2, batch_first=True)
    epoch = {"now": 0}
    _, unfreezer = init_from_lm(lm_dir, embed, lstm, vocab, freeze_epochs=1, unfreeze_every=1,
                                epoch=lambda: epoch["now"])
    groups = layer_groups(embed, lstm)
    assert [len(g) for g in groups] == [4, 4, 1]  # layer 1, layer 0, embedding

    def grads():
        for p in lstm.parameters():
            p.grad = None
        embed.weight.grad = None
        out, _ = lstm(embed(torch.tensor([[2, 4, 5]])))
        out.sum().backward()
        return [all(float(p.grad.abs().sum()) > 0 for p in g) for g in groups]

    expected = {0: [False, False, False], 1: [True, False, False], 2: [True, True, False], 3: [True, True, True]}
    for e, trains in expected.items():
        epoch["now"] = e
        assert grads() == trains, e
    unfreezer.remove()
    epoch["now"] = 0
    assert grads() == [True, True, True]
    with pytest.raises(ValueError, match="unfreeze_every"):
        GradualUnfreeze(groups, unfreeze_every=0)


def test_classifier_fit_with_encoder_starts_from_the_lm(lm_dir, tmp_path):
    """TextClassifier.fit(encoder=...) and `lstmkit classify fit --encoder` use the LM's encoder."""
    import subprocess
    import sys

    from lstmkit.tasks.classify import ClassifierConfig, TextClassifier

    texts = ["the light was good", "the earth was empty", "god saw the light", "the empty earth"] * 3
    labels = ["1", "0", "1", "0"] * 3
    cfg = ClassifierConfig(tokenizer="word", embed_dim=16, hidden=16, bidirectional=True, pooling="max",
                           batch_size=4)
    clf = TextClassifier(cfg, TrainConfig(max_epochs=1, progress=False))
    with pytest.warns(UserWarning, match="using the language model's sizes"):
        clf.fit(texts, labels, encoder=lm_dir, freeze_epochs=1)
    pre = load_lm_encoder(lm_dir)
    assert (clf.config.embed_dim, clf.config.hidden, clf.config.num_layers) == (8, 12, 2)
    assert clf.config.bidirectional is False
    # one epoch, frozen throughout: the encoder still holds exactly the language model's weights
    for name, value in pre.lstm_state.items():
        assert torch.equal(clf.net.lstm.state_dict()[name], value), name
    row = clf.net.embed.weight[clf.encoder.vocab.index("light")].detach()
    assert (pre.embedding == row).all(dim=1).any()  # the LM's row for "light" (or " light")
    assert clf.transfer_report is not None
    assert all(p.requires_grad for p in clf.net.parameters())  # unfreezer removed after training
    table = tmp_path / "train.csv"
    table.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(texts, labels)))
    out = subprocess.run([sys.executable, "-m", "lstmkit.cli", "classify", "fit", "--data", str(table),
                          "--out", str(tmp_path / "clf"), "--encoder", str(lm_dir), "--epochs", "1",
                          "--no-baseline"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "clf" / "config.json").exists()
