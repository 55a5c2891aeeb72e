"""Text classification benchmark: LSTM classifier vs TF-IDF baselines on real data.

Data (``lstmkit.data.text_corpora``): SMS spam (spam = positive class) and
movie-review sentences with mean human sentiment scores, as binary sentiment
(score > 0) and as the score itself (regression).

Split: stratified 80/20 (scikit-learn, seed 0) into train / test; for the
regression the same split as the binary task. The LSTM keeps 10% of its
training part (stratified, seed 0) for choosing its best epoch; the
baselines (TF-IDF word 1-2 grams + char 2-5 grams, logistic regression or
ridge) train on the whole training part.

    .venv/bin/python benchmarks/classify.py           # writes benchmarks/results/classify.json
    .venv/bin/python benchmarks/classify.py --quick   # 1 epoch smoke run, classify.quick.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
from sklearn.model_selection import train_test_split

from lstmkit.data.text_corpora import load_movie_reviews, load_sms_spam
from lstmkit.tasks.classify import (
    ClassifierConfig,
    TextClassifier,
    TfidfBaseline,
    classification_report,
    regression_report,
)
from lstmkit.text import atomic_write_text
from lstmkit.train import TrainConfig

RESULTS = Path(__file__).resolve().parent / "results"
MR_DROPOUT = 0.3


def split(n: int, strata: list[int]):
    idx = list(range(n))
    train, test = train_test_split(idx, test_size=0.2, stratify=strata, random_state=0)
    fit, val = train_test_split(train, test_size=0.1, stratify=[strata[i] for i in train], random_state=0)
    return train, test, fit, val


def run(name, texts, labels, strata, task, cfg_kw, epochs, seed, positive=None) -> dict:
    train, test, fit_idx, val_idx = split(len(texts), strata)
    T = lambda ix: [texts[i] for i in ix]  # noqa: E731
    L = lambda ix: [labels[i] for i in ix]  # noqa: E731
    out = {"n_train": len(train), "n_test": len(test)}
    start = time.perf_counter()
    base = TfidfBaseline(task).fit(T(train), L(train))
    pred = base.predict(T(test))
    if task == "regression":
        out["tfidf_ridge"] = regression_report(L(test), [float(v) for v in pred])
    else:
        classes = sorted({str(v) for v in labels})
        out["tfidf_logreg"] = classification_report([str(v) for v in L(test)], [str(v) for v in pred], classes,
                                                    positive=positive)
    out["baseline_seconds"] = time.perf_counter() - start
    monitor = ("val_loss", "min") if task == "regression" else ("val_acc", "max")
    tc = TrainConfig(max_epochs=epochs, lr=2e-3, schedule="cosine", seed=seed, progress=True, checkpoint=False,
                     monitor=monitor[0], monitor_mode=monitor[1])
    clf = TextClassifier(ClassifierConfig(task=task, **cfg_kw), tc)
    result = clf.fit(T(fit_idx), L(fit_idx), T(val_idx), L(val_idx))
    report = clf.evaluate(T(test), L(test), positive=positive)
    out["lstm"] = {**report, "epochs": result.epochs, "fit_seconds": clf.train_seconds}
    key = "tfidf_ridge" if task == "regression" else "tfidf_logreg"
    main_metric = ("rmse", "pearson_r") if task == "regression" else ("accuracy", "macro_f1")
    print(f"  {name}: lstm " + " ".join(f"{m}={out['lstm'][m]:.4f}" for m in main_metric)
          + f" | {key} " + " ".join(f"{m}={out[key][m]:.4f}" for m in main_metric), flush=True)
    return out


def table(results: dict) -> str:
    cols = ("accuracy", "macro_f1", "positive_f1", "rmse", "pearson_r")
    lines = [f"{'data set':26} {'model':13} " + " ".join(f"{c:>11}" for c in cols)]
    for name, res in results["tasks"].items():
        for model in ("lstm", "tfidf_logreg", "tfidf_ridge"):
            if model in res:
                row = res[model]
                lines.append(f"{name:26} {model:13} " + " ".join(
                    f"{row[c]:11.4f}" if c in row else f"{'-':>11}" for c in cols))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=6, help="epochs for SMS spam")
    ap.add_argument("--mr-epochs", type=int, default=10, help="epochs for the movie reviews")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="1 epoch, for a smoke run")
    args = ap.parse_args()
    torch.set_num_threads(1)
    epochs = 1 if args.quick else args.epochs
    cfg_kw = {"pooling": "max", "embed_dim": 128, "hidden": 128, "dropout": 0.5, "embed_dropout": 0.1,
              "max_tokens": 100}
    # movie reviews: words are rare (8.5k sentences), so add hashed char n-grams and train longer
    mr_kw = {**cfg_kw, "dropout": MR_DROPOUT, "subword_buckets": 50000}
    mr_epochs = 1 if args.quick else args.mr_epochs
    started = time.perf_counter()
    sms = load_sms_spam()
    mr = load_movie_reviews()
    mr_binary = [int(s > 0) for s in mr.labels]
    tasks = {
        "sms_spam": run("sms_spam", sms.texts, sms.labels, sms.labels, "classes", cfg_kw, epochs, args.seed,
                        positive="1"),
        "movie_reviews_binary": run("movie_reviews_binary", mr.texts, mr_binary, mr_binary, "classes", mr_kw,
                                    mr_epochs, args.seed),
        "movie_reviews_score": run("movie_reviews_score", mr.texts, mr.labels, mr_binary, "regression", mr_kw,
                                   mr_epochs, args.seed),
    }
    results = {
        "benchmark": "classify",
        "split": "stratified 80/20, seed 0 (LSTM: 10% of train for epoch selection)",
        "config": {"sms_spam": {**cfg_kw, "epochs": epochs}, "movie_reviews": {**mr_kw, "epochs": mr_epochs},
                   "lr": 2e-3, "schedule": "cosine", "seed": args.seed, "tokenizer": "word", "threads": 1},
        "machine": platform.machine(),
        "torch": torch.__version__,
        "tasks": tasks,
        "seconds": time.perf_counter() - started,
    }
    s, m = tasks["sms_spam"], tasks["movie_reviews_binary"]
    results["checks"] = {
        "sms_spam_f1_gt_0.96": s["lstm"]["positive_f1"] > 0.96,
        "sms_spam_beats_baseline": s["lstm"]["positive_f1"] > s["tfidf_logreg"]["positive_f1"],
        "movie_reviews_macro_f1_gt_0.80": m["lstm"]["macro_f1"] > 0.80,
        "movie_reviews_beats_baseline": m["lstm"]["macro_f1"] > m["tfidf_logreg"]["macro_f1"],
    }
    print(table(results))
    print(json.dumps(results["checks"], indent=1))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("classify.quick.json" if args.quick else "classify.json")
    atomic_write_text(out, json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
