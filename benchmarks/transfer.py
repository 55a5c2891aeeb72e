"""Transfer learning: does a Bible language model help a sentiment classifier with 10% of the labels?

1. Train a word-level LSTM language model on the World English Bible
   (lowercased; the held-out books of benchmarks/generate.py are left out).
2. Movie-review sentences (Hutto & Gilbert 2014), binary sentiment (score > 0),
   stratified 80/20 split with seed 0 (as benchmarks/classify.py); keep a
   stratified 10% of the training labels.
3. Train the same classifier (lstmkit.tasks.classify's network: embedding,
   unidirectional lstmkit.LSTM, max pooling) from scratch and initialised from
   the language model (embedding rows of shared words + LSTM weights, frozen for
   one epoch, then unfrozen top layer first: lstmkit.tasks.generate.transfer),
   three seeds each, same epochs and learning rate; report macro-F1 on the test
   20% beside TF-IDF + logistic regression on the same 10%.

    .venv/bin/python benchmarks/transfer.py            # ~10 min on 1 thread
    .venv/bin/python benchmarks/transfer.py --quick

Writes benchmarks/results/transfer.json and prints a table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from _common import result_path
from _selection import SELECTION
from sklearn.model_selection import train_test_split

from lstmkit.data import bible
from lstmkit.data.text_corpora import load_movie_reviews
from lstmkit.io import atomic_write_json
from lstmkit.tasks.classify import (
    ClassifierConfig,
    TextClassifier,
    TfidfBaseline,
    classification_report,
)
from lstmkit.tasks.classify.data import TextEncoder, make_loader
from lstmkit.tasks.classify.model import ClassifierModule, ClassifierNet
from lstmkit.tasks.generate import LanguageModelConfig, LanguageModelPipeline, StreamConfig
from lstmkit.tasks.generate import fit as fit_lm
from lstmkit.tasks.generate.transfer import init_from_lm
from lstmkit.train import TrainConfig, fit

HELD_OUT_BOOKS = ["Ruth", "Jonah", "Phil", "Jas"]


def train_classifier(texts, labels, cfg, train_cfg, lm_dir=None):
    """lstmkit.tasks.classify's network trained as TextClassifier.fit does, optionally LM-initialised."""
    clf = TextClassifier(cfg, train_cfg)
    clf.encoder = TextEncoder.build(cfg, texts, labels)
    torch.manual_seed(train_cfg.seed)
    clf.net = ClassifierNet(cfg, len(clf.encoder.vocab), len(clf.encoder.labels))
    module = ClassifierModule(clf.net, train_cfg)
    report, unfreezer = None, None
    if lm_dir is not None:
        report, unfreezer = init_from_lm(lm_dir, clf.net.embed, clf.net.lstm, clf.encoder.vocab,
                                         freeze_epochs=1, unfreeze_every=1, epoch=lambda: module.current_epoch)
    loader = make_loader(clf.encoder, texts, labels, cfg.batch_size, shuffle=True, seed=train_cfg.seed)
    fit(module, loader, None, train_cfg)
    if unfreezer is not None:
        unfreezer.remove()
    clf.net.eval()
    return clf, report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--lm", default=None, help="reuse a language model saved by an earlier run (its directory)")
    parser.add_argument("--epochs", type=int, default=None, help="classifier epochs (default 8; 2 with --quick)")
    parser.add_argument("--out", default=None, help="JSON output (default results/transfer.json; --quick: *.quick.json)")
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("transfer", args.out, args.quick)


def main(argv=None):
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)

    # 1. the language model
    books = [b for b in bible.protestant_books() if b not in HELD_OUT_BOOKS]
    if args.quick:
        books = books[:2]
    lm_texts = [v.text for v in bible.load_english(books)]
    size = 32 if args.quick else 128
    lm_cfg = LanguageModelConfig(tokenizer="word", lowercase=True, embed_size=size, hidden_size=size, num_layers=1,
                                 dropout=0.1, tie_weights=True, min_freq=2)
    lm_steps = 20 if args.quick else 600
    started = time.perf_counter()
    if args.lm is not None:
        lm = LanguageModelPipeline.load(args.lm)
        lm_cfg, lm_dir = lm.config, Path(args.lm)
    else:
        lm = fit_lm(lm_texts, lm_cfg, StreamConfig(batch_size=32, bptt=35),
                    TrainConfig(max_epochs=1000, max_steps=lm_steps, lr=3e-3, gradient_clip_val=0.5,
                                schedule="cosine", warmup_steps=min(50, lm_steps // 10), progress=True))
        lm_dir = lm.save(Path(tempfile.mkdtemp(prefix="lstmkit-transfer-")) / "bible-lm")
    lm_seconds = time.perf_counter() - started
    size = lm_cfg.embed_size
    print(f"language model: {len(lm_texts)} verses, vocab {len(lm.vocab)}, {lm_seconds:.0f} s, saved in {lm_dir}",
          flush=True)

    # 2. the labelled data
    data = load_movie_reviews()
    labels = ["pos" if s > 0 else "neg" for s in data.labels]
    tr_x, te_x, tr_y, te_y = train_test_split(data.texts, labels, test_size=0.2, stratify=labels, random_state=0)
    few_x, _, few_y, _ = train_test_split(tr_x, tr_y, train_size=0.1, stratify=tr_y, random_state=0)
    if args.quick:
        te_x, te_y = te_x[:200], te_y[:200]
    print(f"movie reviews: {len(few_x)} labelled training sentences (10% of {len(tr_x)}), {len(te_x)} test",
          flush=True)

    # 3. classifiers
    cfg = ClassifierConfig(embed_dim=size, hidden=size, num_layers=1, bidirectional=False, pooling="max",
                           lowercase=True, dropout=0.4, embed_dropout=0.1, batch_size=32)
    epochs = args.epochs or (2 if args.quick else 8)
    seeds = [0] if args.quick else [0, 1, 2]
    runs = {"from scratch": [], "LM-initialised": []}
    coverage = None
    for seed in seeds:
        train_cfg = TrainConfig(max_epochs=epochs, lr=2e-3, seed=seed, progress=False)
        for name, source in (("from scratch", None), ("LM-initialised", lm_dir)):
            started = time.perf_counter()
            clf, report = train_classifier(few_x, few_y, cfg, train_cfg, source)
            metrics = clf.evaluate(te_x, te_y, positive="pos")
            runs[name].append({"seed": seed, "macro_f1": metrics["macro_f1"], "accuracy": metrics["accuracy"],
                               "seconds": time.perf_counter() - started})
            if report is not None:
                coverage = vars(report)
            print(f"seed {seed} {name}: macro-F1 {metrics['macro_f1']:.3f}", flush=True)
    tfidf = TfidfBaseline().fit(few_x, few_y)
    tfidf_report = classification_report(te_y, tfidf.predict(te_x), sorted(set(few_y)), positive="pos")

    rows = {name: {"macro_f1_median": statistics.median(r["macro_f1"] for r in rs),
                   "accuracy_median": statistics.median(r["accuracy"] for r in rs)} for name, rs in runs.items()}
    rows["tf-idf + logistic regression"] = {"macro_f1_median": tfidf_report["macro_f1"],
                                            "accuracy_median": tfidf_report["accuracy"]}
    winner = max(("from scratch", "LM-initialised"), key=lambda n: rows[n]["macro_f1_median"])
    results = {
        "labelled_train": len(few_x), "test": len(te_x), "epochs": epochs, "seeds": seeds,
        "lm": {"books": len(books), "verses": len(lm_texts), "vocab": len(lm.vocab), "steps": None if args.lm else lm_steps, "reused_from": args.lm,
               "seconds": lm_seconds, "config": lm_cfg.to_dict()},
        "classifier": cfg.to_dict(), "embedding_coverage": coverage,
        "rows": rows, "runs": runs, "lstm_winner": winner,
        "torch_threads": torch.get_num_threads(),
    }
    print()
    print(f"{'model':<30} {'macro-F1':>9} {'accuracy':>9}")
    for name, row in rows.items():
        print(f"{name:<30} {row['macro_f1_median']:9.3f} {row['accuracy_median']:9.3f}")
    print(f"LSTM winner: {winner}; embedding rows from the LM: {coverage}")
    results["selection"] = SELECTION["transfer"]
    out = atomic_write_json(output_path(args), results, ensure_ascii=False)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
