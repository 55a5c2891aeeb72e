"""English -> Spanish translation of Bible verses (WEB -> Reina-Valera 1909): BLEU and chrF.

Whole books are held out as the test set (Ruth, Jonah, Philippians, James).
Three encoder-decoders with the same budget (same steps, sizes, data): additive
attention (Bahdanau), multiplicative attention (Luong "general") and no
attention, all with input feeding; beside them, copying the source sentence
(names and numbers survive, so its BLEU is not zero). Decoding: greedy, and
beam search (beam 4, length penalty 0.6). Sacrebleu's corpus BLEU and chrF.

    .venv/bin/python benchmarks/translate.py            # ~12 min on 1 thread
    .venv/bin/python benchmarks/translate.py --quick    # a smoke run

Writes benchmarks/results/translate.json (and an attention heatmap PNG beside it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from _common import result_path
from _selection import SELECTION

from lstmkit.data import bible
from lstmkit.io import atomic_write_json
from lstmkit.tasks.translate import DecodeConfig, Seq2SeqConfig, bleu, chrf, fit
from lstmkit.train import TrainConfig

TEST_BOOKS = ["Ruth", "Jonah", "Phil", "Jas"]
MODELS = {"additive": "additive", "multiplicative (general)": "general", "no attention": "none"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--steps", type=int, default=None, help="training steps per model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default=",".join(MODELS.values()),
                        help="comma-separated attention kinds to train (additive, general, none); "
                             "separate processes can run one each")
    parser.add_argument("--out", default=None, help="JSON output (default results/translate.json; --quick: *.quick.json)")
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("translate", args.out, args.quick)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    pairs = bible.load_parallel(None if not args.quick else ["Ruth", "Jonah", "Mark"])
    train, test = bible.split_books(pairs, TEST_BOOKS, key=lambda p: p[0].book)
    # Verses of at most 25 words train faster per step; the test set keeps every held-out verse.
    train = [p for p in train if len(p[0].text.split()) <= 25 and len(p[1].text.split()) <= 25]
    src = [p[0].text for p in train]
    tgt = [p[1].text for p in train]
    test_src = [p[0].text for p in test]
    test_ref = [p[1].text for p in test]
    print(f"train pairs {len(src)}, test pairs {len(test_src)} from {TEST_BOOKS}", flush=True)

    steps = args.steps or (30 if args.quick else 500)
    config = {"tokenizer": "word", "embed_size": 64, "hidden_size": 64 if args.quick else 96, "num_layers": 1,
              "dropout": 0.1, "max_source_len": 80, "max_target_len": 80, "min_freq": 2, "max_vocab": 3000}
    decoders = {"greedy": DecodeConfig(beam_size=1, max_length=100),
                "beam 4": DecodeConfig(beam_size=4, max_length=100, length_penalty=0.6)}
    copy = {"bleu": bleu(test_src, test_ref), "chrf": chrf(test_src, test_ref)}
    rows = {"copy source": {f"{d} {m}": copy[m] for d in decoders for m in ("bleu", "chrf")}}
    details = {}
    wanted = args.models.split(",")
    unknown = sorted(set(wanted) - set(MODELS.values()))
    if unknown:
        parser.error(f"--models: unknown {unknown}; choose from {list(MODELS.values())}")
    for name, attention in MODELS.items():
        if attention not in wanted:
            continue
        train_config = TrainConfig(max_epochs=1000, max_steps=steps, lr=5e-3, gradient_clip_val=1.0,
                                   schedule="cosine", warmup_steps=min(50, steps // 10), seed=args.seed,
                                   progress=True)
        # the same model from the command line (the training pairs as one TSV)
        from lstmkit.tasks.translate import Translate, TranslateConfig

        print("reproduce: " + Translate(TranslateConfig.from_network(Seq2SeqConfig(attention=attention, **config)),
                                        train_config).command_line(data="train.tsv", out=f"mt-{name}/"),
              flush=True)
        started = time.perf_counter()
        pipeline = fit(src, tgt, Seq2SeqConfig(attention=attention, **config), train_config, batch_size=32)
        train_seconds = time.perf_counter() - started
        rows[name], outputs, decode_seconds = {}, {}, {}
        for dname, dcfg in decoders.items():
            started = time.perf_counter()
            outputs[dname] = pipeline.translate(test_src, dcfg, batch_size=32)
            decode_seconds[dname] = time.perf_counter() - started
            rows[name][f"{dname} bleu"] = bleu(outputs[dname], test_ref)
            rows[name][f"{dname} chrf"] = chrf(outputs[dname], test_ref)
        details[name] = {
            "train_seconds": train_seconds,
            "decode_seconds": decode_seconds,
            "final_train_loss": pipeline.fit_result.metrics.get("train_loss"),
            "mean_words": {d: sum(len(h.split()) for h in hs) / len(hs) for d, hs in outputs.items()},
            "examples": [{"source": s, "reference": r, "greedy": g, "beam 4": b}
                         for s, r, g, b in list(zip(test_src, test_ref, outputs["greedy"], outputs["beam 4"]))[:5]],
        }
        if attention == "additive":
            png = output_path(args).with_name("translate_attention" + (".quick" if args.quick else "") + ".png")
            pipeline.attention(test_src[1], png, decoders["greedy"])
            details[name]["heatmap"] = png.name
        print(f"{name}: {rows[name]} ({train_seconds:.0f} s train)", flush=True)

    results = {
        "test_books": TEST_BOOKS,
        "train_pairs": len(src),
        "test_pairs": len(test_src),
        "steps_per_model": steps,
        "batch_size": 32,
        "model": config,
        "decode": {d: vars(c) for d, c in decoders.items()},
        "torch_threads": torch.get_num_threads(),
        "rows": rows,
        "details": details,
    }
    print()
    columns = list(rows["copy source"])
    print(f"{'model':<26} " + " ".join(f"{c:>12}" for c in columns))
    for name, row in rows.items():
        print(f"{name:<26} " + " ".join(f"{row[c]:12.2f}" for c in columns))
    results["selection"] = SELECTION["translate"]
    out = atomic_write_json(output_path(args), results, ensure_ascii=False)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
