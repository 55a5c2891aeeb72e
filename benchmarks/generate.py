"""Language modelling on the World English Bible: held-out bits per character and word perplexity.

Whole books are held out (Ruth, Jonah, Philippians, James); the models train
on the other books (a subset with ``--train-books``, to fit the time budget).
Beside each LSTM: an add-one unigram and an interpolated Kneser-Ney n-gram on
the same training text and the same vocabulary, so every number is nats per
token of the same held-out stream.

    .venv/bin/python benchmarks/generate.py            # ~10 min on 1 thread
    .venv/bin/python benchmarks/generate.py --quick    # a smoke run

Writes benchmarks/results/generate.json and prints a table.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from _common import result_path
from _selection import SELECTION

from lstmkit.data import bible
from lstmkit.io import atomic_write_json
from lstmkit.tasks.generate import (
    KneserNeyLM,
    LanguageModelConfig,
    SamplingConfig,
    StreamConfig,
    UnigramLM,
    fit,
)
from lstmkit.train import TrainConfig

TEST_BOOKS = ["Ruth", "Jonah", "Phil", "Jas"]
# The New Testament minus the held-out book, plus a few narrative OT books: ~1.7 M characters.
TRAIN_BOOKS = ["Gen", "Exod", "Josh", "Judg", "1Sam", "2Sam", "Matt", "Mark", "Luke", "John", "Acts", "Rom",
               "1Cor", "2Cor", "Gal", "Eph", "Col", "1Thess", "2Thess", "1Tim", "2Tim", "Titus", "Phlm",
               "Heb", "1Pet", "2Pet", "1John", "2John", "3John", "Jude", "Rev"]


def _baselines(pipeline, train_texts, test_texts, order):
    train_ids = pipeline.encode_stream(train_texts)
    test_ids = pipeline.encode_stream(test_texts)
    V = len(pipeline.vocab)
    started = time.perf_counter()
    uni = UnigramLM(V).fit(train_ids).nll(test_ids)
    kn_model = KneserNeyLM(order, V).fit(train_ids)
    kn = kn_model.nll(test_ids)
    return {"unigram": uni, f"kneser_ney_{order}gram": kn}, time.perf_counter() - started


def _row(nll, char_level):
    row = {"nats_per_token": nll, "perplexity": math.exp(nll)}
    if char_level:
        row["bpc"] = nll / math.log(2)
    return row


def run_one(kind, train_texts, test_texts, model_cfg, stream_cfg, steps, order, seed):
    train_config = TrainConfig(max_epochs=1000, max_steps=steps, lr=3e-3, gradient_clip_val=0.5,
                               schedule="cosine", warmup_steps=min(50, steps // 10), seed=seed, progress=True)
    # the same model from the command line (the training verses one per line)
    from lstmkit.tasks.generate import Generate, GenerateConfig

    config = GenerateConfig.from_network(model_cfg, stream_cfg)
    config = replace(config, data=replace(config.data, ngram_order=order))
    print("reproduce: " + Generate(config, train_config).command_line(
        data="train.txt", val_data="test.txt", out=f"lm-{kind}/"), flush=True)
    started = time.perf_counter()
    pipeline = fit(train_texts, model_cfg, stream_cfg, train_config)
    train_seconds = time.perf_counter() - started
    metrics = pipeline.evaluate(test_texts)
    char_level = kind == "char"
    rows = {f"lstm_{kind}": _row(metrics["loss"], char_level)}
    baselines, base_seconds = _baselines(pipeline, train_texts, test_texts, order)
    for name, nll in baselines.items():
        rows[name] = _row(nll, char_level)
    sample = pipeline.sample("In the beginning", SamplingConfig(temperature=0.7, max_length=200, seed=seed,
                                                               stop=("\n",) if char_level else ()))
    return {
        "rows": rows,
        "vocab_size": len(pipeline.vocab),
        "test_tokens": metrics["tokens"],
        "unknown_test_tokens": metrics["unknown"],
        "train_seconds": train_seconds,
        "baseline_seconds": base_seconds,
        "steps": steps,
        "model": model_cfg.to_dict(),
        "stream": vars(stream_cfg),
        "sample": sample,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="JSON output (default results/generate.json; --quick: *.quick.json)")
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("generate", args.out, args.quick)


def main(argv=None):
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)

    train_books = TRAIN_BOOKS[:3] if args.quick else TRAIN_BOOKS
    test_books = TEST_BOOKS[:1] if args.quick else TEST_BOOKS
    train_texts = [v.text for v in bible.load_english(train_books)]
    test_texts = [v.text for v in bible.load_english(test_books)]
    print(f"train: {len(train_texts)} verses, {sum(map(len, train_texts))} chars from {len(train_books)} books; "
          f"test: {len(test_texts)} verses, {sum(map(len, test_texts))} chars from {test_books}", flush=True)

    char_cfg = LanguageModelConfig(tokenizer="char", embed_size=32, hidden_size=64 if args.quick else 384,
                                   num_layers=1, dropout=0.0)
    word_cfg = LanguageModelConfig(tokenizer="word", lowercase=True, embed_size=64 if args.quick else 256,
                                   hidden_size=64 if args.quick else 256, num_layers=1, dropout=0.1,
                                   tie_weights=True, min_freq=2)
    results = {
        "selection": SELECTION["generate"],
        "test_books": test_books,
        "train_books": train_books,
        "torch_threads": torch.get_num_threads(),
        "char": run_one("char", train_texts, test_texts, char_cfg, StreamConfig(batch_size=32, bptt=100),
                        20 if args.quick else 1100, 5, args.seed),
        "word": run_one("word", train_texts, test_texts, word_cfg, StreamConfig(batch_size=32, bptt=35),
                        20 if args.quick else 1300, 5, args.seed),
    }
    print()
    for kind, unit in (("char", "bpc"), ("word", "perplexity")):
        print(f"{kind}-level, held-out {unit} (lower is better); vocab {results[kind]['vocab_size']}, "
              f"{results[kind]['train_seconds']:.0f} s training")
        for name, row in results[kind]["rows"].items():
            print(f"  {name:<22} {row[unit]:10.3f}")
        print(f"  sample: {results[kind]['sample']!r}")
    out = atomic_write_json(output_path(args), results, ensure_ascii=False)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
