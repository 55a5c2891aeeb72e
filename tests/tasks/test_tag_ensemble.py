"""Tagger ensembles: pooled Viterbi against brute force, softmax pooling, save/load, bad members."""

import itertools
import json

import pytest
import torch

from lstmkit.tasks.tag import (
    Tagger,
    TaggerConfig,
    TaggerEnsemble,
    fit_ensemble,
    fold_split,
    load_tagger,
)
from lstmkit.train import ModelLoadError, TrainConfig

SENTS = [
    (["Ali", "Ankara", "'ya", "gitti", "."], ["B-PER", "B-LOC", "I-LOC", "O", "O"]),
    (["Ayşe", "İzmir", "'de", "kaldı", "."], ["B-PER", "B-LOC", "I-LOC", "O", "O"]),
    (["bugün", "Ali", "geldi"], ["O", "B-PER", "O"]),
    (["Mehmet", "Yılmaz", "Bursa", "'ya", "döndü"], ["B-PER", "I-PER", "B-LOC", "I-LOC", "O"]),
    (["hava", "güzel", "."], ["O", "O", "O"]),
    (["Ayşe", "geldi", "."], ["B-PER", "O", "O"]),
]
NEW = [["Zeynep", "Van", "'a", "uçtu"], ["Ali"], ["hava", "Ankara", "'da", "güzel", "."]]


def member(seed: int, head: str = "crf", sents=SENTS, epochs: int = 2) -> Tagger:
    cfg = TaggerConfig(word_dim=8, char_dim=4, char_hidden=4, hidden=8, dropout=0.0, word_dropout=0.0,
                       batch_size=3, head=head, subword_buckets=64)
    tagger = Tagger(cfg, TrainConfig(max_epochs=epochs, lr=1e-2, progress=False, checkpoint=False, seed=seed))
    tagger.fit(sents)
    return tagger


@pytest.fixture(scope="module")
def crf_members():
    # different data per member (as with cross-validation folds), so vocabularies differ too
    return [member(0), member(1, sents=SENTS[1:]), member(2, sents=SENTS[:-1])]


def test_pooled_viterbi_is_the_best_mean_path_score(crf_members):
    """The ensemble's path maximises the mean of the members' CRF path scores, over every tag path."""
    ens = TaggerEnsemble(crf_members)
    pred = ens.predict(NEW)
    tags = ens.tags
    for sent, got in zip(NEW, pred):
        ems = [m.emissions([sent])[0].unsqueeze(0) for m in crf_members]  # (1, T, K) each
        mask = torch.ones(1, len(sent), dtype=torch.bool)
        with torch.no_grad():
            paths = list(itertools.product(range(len(tags)), repeat=len(sent)))
            y = torch.tensor(paths)  # every tag path, (P, T)
            total = sum(m.net.crf.path_score(e.expand(len(paths), -1, -1), y, mask.expand(len(paths), -1))
                        for m, e in zip(crf_members, ems))
        assert got == [tags[k] for k in paths[int(total.argmax())]]


def test_one_member_ensemble_equals_the_member(crf_members):
    m = crf_members[0]
    assert TaggerEnsemble([m]).predict(NEW) == m.predict(NEW)
    soft = member(0, head="softmax")
    assert TaggerEnsemble([soft]).predict(NEW) == soft.predict(NEW)


def test_softmax_pooling_averages_log_probabilities():
    members = [member(s, head="softmax") for s in (0, 1)]
    pred = TaggerEnsemble(members).predict(NEW)
    for sent, got in zip(NEW, pred):
        logp = sum(m.emissions([sent])[0].log_softmax(-1) for m in members)
        assert got == [members[0].encoder.tags[k] for k in logp.argmax(-1).tolist()]


def test_evaluate_and_save_load(crf_members, tmp_path):
    ens = TaggerEnsemble(crf_members)
    report = ens.evaluate(SENTS)
    assert 0.0 <= report["accuracy"] <= 1.0 and report["tokens"] == sum(len(t) for t, _ in SENTS)
    # "Ali" is in every member's vocabulary; "Zeynep" in none
    assert ens.evaluate([(["Ali", "Zeynep"], ["B-PER", "B-PER"])])["unseen_tokens"] == 1
    ens.save(tmp_path / "ens")
    assert json.loads((tmp_path / "ens" / "ensemble.json").read_text())["members"] == [
        "member-0", "member-1", "member-2"]
    again = load_tagger(tmp_path / "ens")
    assert isinstance(again, TaggerEnsemble)
    assert again.predict(NEW) == ens.predict(NEW)
    crf_members[0].save(tmp_path / "single")
    assert isinstance(load_tagger(tmp_path / "single"), Tagger)


def test_bad_members_and_bad_directories(crf_members, tmp_path):
    with pytest.raises(ValueError, match="at least one"):
        TaggerEnsemble([])
    with pytest.raises(TypeError, match="member 1: expected a Tagger"):
        TaggerEnsemble([crf_members[0], "model"])
    with pytest.raises(RuntimeError, match="not trained"):
        TaggerEnsemble([Tagger()])
    other = member(0, sents=[(t, ["X" if g == "O" else g for g in tags]) for t, tags in SENTS])
    with pytest.raises(ValueError, match="member 1 has tags"):
        TaggerEnsemble([crf_members[0], other])
    with pytest.raises(ValueError, match="'softmax' head"):
        TaggerEnsemble([crf_members[0], member(0, head="softmax")])
    with pytest.raises(ModelLoadError, match="no ensemble.json"):
        TaggerEnsemble.load(tmp_path)
    (tmp_path / "ensemble.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="not a valid ensemble manifest"):
        load_tagger(tmp_path)
    (tmp_path / "ensemble.json").write_text(json.dumps({"format_version": 1, "members": []}))
    with pytest.raises(ModelLoadError, match="lists no members"):
        load_tagger(tmp_path)
    (tmp_path / "ensemble.json").write_text(json.dumps({"format_version": 1, "members": ["gone"]}))
    with pytest.raises(ModelLoadError):
        load_tagger(tmp_path)


def test_fold_split_rotates_disjoint_validation_folds():
    data = list(range(23))
    vals = []
    for k in range(10):
        train, val = fold_split(data, k)
        assert sorted(train + val) == data and val
        vals.extend(val)
    assert sorted(vals) == data  # each sentence validates exactly once
    assert fold_split(data, 0)[1] == data[-2:] and fold_split(data, 10) == fold_split(data, 0)
    with pytest.raises(ValueError, match="at least 10 sentences"):
        fold_split(data[:9], 0)


def test_fit_ensemble_on_folds_shares_the_tag_set():
    # "B-ORG" occurs in one sentence only: the member validating on it never trains on it
    sents = SENTS * 2 + [(["TÜBİTAK", "açıkladı"], ["B-ORG", "O"])]
    cfg = TaggerConfig(word_dim=8, char_dim=4, char_hidden=4, hidden=8, batch_size=4)
    tc = TrainConfig(max_epochs=1, lr=1e-2, progress=False, checkpoint=False, seed=3)
    ens, results = fit_ensemble(sents, cfg, tc, members=2)
    assert len(ens.members) == len(results) == 2
    assert [m.train_config.seed for m in ens.members] == [3, 4]
    assert all("B-ORG" in m.encoder.tags for m in ens.members)
    assert [len(p) for p in ens.predict(NEW)] == [4, 1, 5]
    same, _ = fit_ensemble(SENTS, cfg, tc, members=1, val=SENTS[:2])
    assert len(same.members) == 1
    with pytest.raises(ValueError, match="members: expected an int >= 1"):
        fit_ensemble(SENTS, cfg, tc, members=0)


def test_tag_members_hold_out_their_own_fold_without_validation_data():
    """Tag(members=K).fit(train) without val: member k never sees fold k (the CLI gave all one split)."""
    from lstmkit.tasks.tag import Tag, TagConfig

    sentences = [([f"w{i}", "runs"], ["NOUN", "VERB"]) for i in range(8)]
    config = TagConfig.from_dict({"model": {"embed_size": 4, "char_embed_size": 2, "char_hidden_size": 2,
                                            "hidden_size": 4, "members": 2},
                                  "data": {"batch_size": 4, "folds": 4}})
    task = Tag(config, Tag.default_train(max_epochs=1, progress=False)).fit(sentences)
    vocab = [set(m.encoder.words.itos) for m in task.taggers]
    # fold 0 = the last 2 sentences, fold 1 = the 2 before
    assert {"w6", "w7"}.isdisjoint(vocab[0]) and {"w4", "w5"} <= vocab[0]
    assert {"w4", "w5"}.isdisjoint(vocab[1]) and {"w6", "w7"} <= vocab[1]
    assert [r.config.seed for r in task.fit_results] == [0, 1]
    assert all(r.history and "val_loss" in r.history[-1] for r in task.fit_results)
