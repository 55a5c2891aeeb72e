"""Sequence-labelling benchmark on the Turkish Web Treebank: BiLSTM-CRF / softmax vs baselines.

Split: sentences in file order, the last 20% held out for testing. Baselines
(most frequent tag, logistic-regression feature tagger) train on the first
80%; the BiLSTM trains on the first 90% of that and keeps the weights of its
best epoch on the remaining 10% (validation accuracy). Unseen words = test
tokens whose lowercased form does not occur in the 80% training part.

Tasks: UPOS (14 tags) and proper-noun spans (BIO, from ``Proper=True``).
Reported: token accuracy (all / unseen words), span P / R / F1 (exact span
and type), training and decoding tokens per second (1 thread).

    .venv/bin/python benchmarks/tag.py            # full run, writes benchmarks/results/tag.json
    .venv/bin/python benchmarks/tag.py --quick    # a smoke run (1 epoch), writes tag.quick.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from lstmkit.data.text_corpora import load_turkish_web_treebank
from lstmkit.tasks.tag import (
    FeatureTagger,
    MostFrequentTagger,
    Tagger,
    TaggerConfig,
    span_prf,
    token_accuracy,
)
from lstmkit.text import atomic_write_text
from lstmkit.train import TrainConfig

RESULTS = Path(__file__).resolve().parent / "results"


def scores(test, pred, unseen) -> dict:
    gold = [t for _, t in test]
    spans = span_prf(gold, pred)
    return {"accuracy": token_accuracy(gold, pred), "unseen_accuracy": token_accuracy(gold, pred, unseen),
            "span_precision": spans["precision"], "span_recall": spans["recall"], "span_f1": spans["f1"]}


def run_task(task: str, heads: list[str], epochs: int, cfg_kw: dict, seed: int) -> dict:
    sents = load_turkish_web_treebank(task)
    pairs = [(s.tokens, s.tags) for s in sents]
    n = int(len(pairs) * 0.8)
    train, test = pairs[:n], pairs[n:]
    nv = int(n * 0.9)
    seen = {w.lower() for toks, _ in train for w in toks}
    unseen = [[w.lower() not in seen for w in toks] for toks, _ in test]
    test_tokens = [toks for toks, _ in test]
    rows: dict[str, dict] = {}
    for name, model in (("most_frequent_tag", MostFrequentTagger()), ("feature_tagger", FeatureTagger())):
        start = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        pred = model.predict(test_tokens)
        rows[name] = {**scores(test, pred, unseen), "fit_seconds": fit_s,
                      "decode_tokens_per_s": sum(map(len, test_tokens)) / (time.perf_counter() - start)}
        print(f"  {task} {name}: {rows[name]['accuracy']:.4f} span F1 {rows[name]['span_f1']:.3f}", flush=True)
    for head in heads:
        tc = TrainConfig(max_epochs=epochs, lr=2e-3, schedule="cosine", seed=seed, progress=True,
                         checkpoint=False, monitor="val_acc", monitor_mode="max")
        tagger = Tagger(TaggerConfig(head=head, **cfg_kw), tc)
        result = tagger.fit(train[:nv], train[nv:])
        pred = tagger.predict(test_tokens)
        rows[f"bilstm_{head}"] = {
            **scores(test, pred, unseen),
            "fit_seconds": tagger.train_seconds,
            "epochs": result.epochs,
            "train_tokens_per_s": tagger.train_tokens / tagger.train_seconds,
            "decode_tokens_per_s": sum(map(len, test_tokens)) / tagger.last_decode_seconds,
        }
        print(f"  {task} bilstm_{head}: {rows[f'bilstm_{head}']['accuracy']:.4f} "
              f"span F1 {rows[f'bilstm_{head}']['span_f1']:.3f}", flush=True)
    return {"sentences": {"train": n, "test": len(test)},
            "tokens": {"train": sum(len(t) for t, _ in train), "test": sum(map(len, test_tokens)),
                       "test_unseen": sum(map(sum, unseen))},
            "models": rows}


def table(results: dict) -> str:
    cols = ("accuracy", "unseen_accuracy", "span_precision", "span_recall", "span_f1",
            "train_tokens_per_s", "decode_tokens_per_s")
    lines = [f"{'task':7} {'model':18} " + " ".join(f"{c:>19}" for c in cols)]
    for task, res in results["tasks"].items():
        for name, row in res["models"].items():
            cells = []
            for c in cols:
                v = row.get(c)
                cells.append(f"{'-':>19}" if v is None else f"{v:19.0f}" if c.endswith("per_s") else f"{v:19.4f}")
            lines.append(f"{task:7} {name:18} " + " ".join(cells))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="1 epoch, for a smoke run")
    args = ap.parse_args()
    torch.set_num_threads(1)
    epochs = 1 if args.quick else args.epochs
    cfg_kw = {"hidden": 200, "dropout": 0.5, "word_dropout": 0.1, "subword_buckets": 50000,
              "subword_min_n": 2, "subword_max_n": 5}
    started = time.perf_counter()
    results = {
        "benchmark": "tag",
        "data": "Turkish Web Treebank (turkish-treebanks web.conllu), last 20% of sentences held out",
        "config": {"epochs": epochs, "seed": args.seed, **cfg_kw, "lr": 2e-3, "schedule": "cosine",
                   "threads": 1},
        "machine": platform.machine(),
        "torch": torch.__version__,
        "tasks": {
            "upos": run_task("upos", ["crf"], epochs, cfg_kw, args.seed),
            "proper": run_task("proper", ["crf", "softmax"], epochs, cfg_kw, args.seed),
        },
    }
    results["seconds"] = time.perf_counter() - started
    up, pr = results["tasks"]["upos"]["models"], results["tasks"]["proper"]["models"]
    results["checks"] = {
        "upos_accuracy_ge_0.93": up["bilstm_crf"]["accuracy"] >= 0.93,
        "upos_beats_baselines": up["bilstm_crf"]["accuracy"] > max(up["most_frequent_tag"]["accuracy"],
                                                                  up["feature_tagger"]["accuracy"]),
        "upos_unseen_beats_baselines": up["bilstm_crf"]["unseen_accuracy"] > max(
            up["most_frequent_tag"]["unseen_accuracy"], up["feature_tagger"]["unseen_accuracy"]),
        "proper_span_f1_beats_feature_tagger": pr["bilstm_crf"]["span_f1"] > pr["feature_tagger"]["span_f1"],
        "crf_span_f1_beats_softmax": pr["bilstm_crf"]["span_f1"] > pr["bilstm_softmax"]["span_f1"],
    }
    print(table(results))
    print(json.dumps(results["checks"], indent=1))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("tag.quick.json" if args.quick else "tag.json")
    atomic_write_text(out, json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
