"""``lstmkit tag fit | predict | evaluate``: argument parsing for :mod:`lstmkit.tasks.tag`.

    lstmkit tag fit --data train.conllu --column upos --out model/
    lstmkit tag fit --data train.conllu --members 5 --out ensemble/   # 5 seeds decoding as one
    lstmkit tag predict --model model/ --data new.conllu --out tagged.conllu
    lstmkit tag evaluate --model model/ --data test.conll --train-data train.conll

Input: CoNLL-U (choose the tag column) or two-column CoNLL (token, tag),
detected from the suffix / first line or given with ``--format``; output in
the same format. ``fit`` reports the tagger beside the most-frequent-tag and
logistic-regression feature baselines on the validation sentences
(``--val-data``, else the last 10% of the training sentences). With
``--members K`` it trains K taggers (seeds seed..seed+K-1, each keeping its
best epoch on the validation sentences) and saves them as one ensemble
(:class:`lstmkit.tasks.tag.TaggerEnsemble`), which ``predict`` and
``evaluate`` load like a single tagger.
Every option can also come from ``--config FILE.yaml``.
"""

from __future__ import annotations

import argparse
from typing import Any

from lstmkit.commands._common import (
    add_parser,
    add_train_arguments,
    print_summary,
    train_config_from_args,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("tag", help="BiLSTM-CRF sequence labelling: fit, predict, evaluate",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="tag_command", metavar="SUBCOMMAND", required=True)

    fit = add_parser(sub, "fit", help="train a tagger on CoNLL(-U) and save it", func=run_fit)
    fit.add_argument("--data", required=True, help="training file (CoNLL-U or two-column CoNLL)")
    fit.add_argument("--out", required=True, help="directory to save the model in")
    fit.add_argument("--val-data", default=None, help="validation file (default: last 10%% of --data)")
    _add_format_arguments(fit)
    model = fit.add_argument_group("model")
    model.add_argument("--head", choices=("crf", "softmax"), default="crf", help="output layer")
    model.add_argument("--bio", action=argparse.BooleanOptionalAction, default=True,
                       help="forbid invalid BIO transitions in the CRF")
    model.add_argument("--word-dim", type=int, default=100, help="word embedding size")
    model.add_argument("--char-dim", type=int, default=32, help="character embedding size")
    model.add_argument("--char-hidden", type=int, default=50,
                       help="character BiLSTM size per direction (0 = no character encoder)")
    model.add_argument("--hidden", type=int, default=128, help="sentence BiLSTM size per direction")
    model.add_argument("--num-layers", type=int, default=1, help="sentence BiLSTM layers")
    model.add_argument("--dropout", type=float, default=0.33, help="dropout")
    model.add_argument("--batch-size", type=int, default=32, help="sentences per batch")
    model.add_argument("--subword-buckets", type=int, default=0,
                       help="hashed character n-gram features added to each word embedding (0 = off)")
    model.add_argument("--vectors", default=None, metavar="FILE",
                       help="pretrained word vectors (GloVe / word2vec text) to start the word embedding from; "
                            "their size must equal --word-dim")
    model.add_argument("--lexicon", default=None,
                       help="Hunspell dictionary (NAME.dic, NAME.aff beside it) whose word-class features "
                            "are added to each word, e.g. /usr/share/hunspell/tr_TR.dic")
    model.add_argument("--lexicon-dim", type=int, default=50, help="lexicon feature embedding size")
    fit.add_argument("--members", type=int, default=1,
                     help="train this many taggers (seeds seed, seed+1, ...) and save them as one ensemble")
    fit.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True,
                     help="report the most-frequent-tag and feature-tagger baselines")
    fit.add_argument("--metrics-out", default=None, help="JSON file for the metrics")
    add_train_arguments(fit, max_epochs=30, lr=2e-3)

    pred = add_parser(sub, "predict", help="tag a file, writing the same format", func=run_predict)
    pred.add_argument("--model", required=True, help="a directory written by 'tag fit'")
    pred.add_argument("--data", required=True, help="file to tag (tags may be absent)")
    pred.add_argument("--out", required=True, help="file to write (same format, predicted column)")
    _add_format_arguments(pred)

    ev = add_parser(sub, "evaluate", help="token accuracy and span P/R/F1 of a saved model", func=run_evaluate)
    ev.add_argument("--model", required=True, help="a directory written by 'tag fit'")
    ev.add_argument("--data", required=True, help="tagged file")
    ev.add_argument("--train-data", default=None, help="training file: fits the baselines for the report")
    ev.add_argument("--metrics-out", default=None, help="JSON file for the metrics")
    _add_format_arguments(ev)


def _add_format_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("format")
    g.add_argument("--format", dest="fmt", choices=("auto", "conllu", "conll"), default="auto",
                   help="file format (auto: .conllu suffix or 10 tab-separated columns = CoNLL-U)")
    g.add_argument("--column", default="upos", help="CoNLL-U tag column: name (upos, xpos, ...) or 1..10")


def _pairs(sentences):
    return [(s.tokens, s.tags) for s in sentences]


def _baseline_rows(train, sentences, seen: set[str]) -> dict:
    from lstmkit.tasks.tag import FeatureTagger, MostFrequentTagger

    out = {}
    for name, model in (("most_frequent_tag", MostFrequentTagger()), ("feature_tagger", FeatureTagger())):
        pred = model.fit(_pairs(train)).predict([s.tokens for s in sentences])
        out[name] = _scores(sentences, pred, seen)
    return out


def _scores(sentences, pred, seen: set[str]) -> dict:
    from lstmkit.tasks.tag import tag_scores

    return tag_scores([s.tags for s in sentences], pred,
                      [[w.lower() not in seen for w in s.tokens] for s in sentences])


def _members(tagger) -> list:
    """The single taggers behind ``tagger`` (itself, or an ensemble's members)."""
    return getattr(tagger, "members", [tagger])


def _check_tags(tagger, sentences, path) -> None:
    for s in sentences:
        _members(tagger)[0].encoder.tag_ids(s.tags, where=f"{path}:{s.start_line}: sentence ")


def _write_json(path: str, data: dict) -> None:
    from lstmkit.io import atomic_write_json

    atomic_write_json(path, data)


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.tag import Tagger, TaggerConfig, fit_ensemble, read_conll
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out, args.metrics_out)  # before any training: refuse unusable outputs
    if args.members < 1:
        raise ValueError(f"--members: expected an int >= 1, got {args.members}")
    train = read_conll(args.data, args.fmt, args.column)
    if args.val_data:
        val = read_conll(args.val_data, args.fmt, args.column)
        val_name = args.val_data
    else:
        if len(train) < 2:
            raise ValueError(f"{args.data}: need at least 2 sentences to hold out validation sentences")
        cut = len(train) - max(1, len(train) // 10)
        train, val = train[:cut], train[cut:]
        val_name = f"last 10% of {args.data}"
    cfg = TaggerConfig(head=args.head, bio=args.bio, word_dim=args.word_dim, char_dim=args.char_dim,
                       char_hidden=args.char_hidden, hidden=args.hidden, num_layers=args.num_layers,
                       dropout=args.dropout, batch_size=args.batch_size,
                       subword_buckets=args.subword_buckets, lexicon=args.lexicon, lexicon_dim=args.lexicon_dim)
    known = {t for s in train for t in s.tags}
    for s in val:
        bad = [t for t in s.tags if t not in known]
        if bad:
            raise ValueError(f"{args.val_data or args.data}:{s.start_line}: tag {bad[0]!r} does not occur "
                             f"in the training sentences")
    if args.members == 1:
        tagger = Tagger(cfg, train_config_from_args(args))
        results = [tagger.fit(_pairs(train), _pairs(val), vectors=args.vectors)]
        seconds, name = tagger.train_seconds, f"bilstm_{args.head}"
    else:
        tagger, results = fit_ensemble(_pairs(train), cfg, train_config_from_args(args), args.members,
                                       val=_pairs(val), vectors=args.vectors)
        seconds = sum(m.train_seconds for m in tagger.members)
        name = f"bilstm_{args.head}_x{args.members}"
    seen = {w.lower() for s in train for w in s.tokens}
    pred = tagger.predict([s.tokens for s in val])
    rows = {name: _scores(val, pred, seen)}
    if args.members > 1:
        for k, member in enumerate(tagger.members):
            rows[f"member {k} (seed {member.train_config.seed})"] = _scores(
                val, member.predict([s.tokens for s in val]), seen)
    if args.baselines:
        rows.update(_baseline_rows(train, val, seen))
    tagger.save(args.out)
    files = {"model": args.out}
    notes = []
    vectors = _members(tagger)[0].vectors_report
    if vectors:
        notes.append(f"vectors: {vectors['found']} of {vectors['vocab']} vocabulary words found in {vectors['path']}")
    epochs = sum(r.epochs for r in results)
    n_tok = sum(len(s.tokens) for s in train) * epochs
    metrics = {"validation": val_name, "models": rows, "epochs": epochs,
               "train_tokens_per_s": n_tok / max(seconds, 1e-9), "vectors": vectors}
    if args.metrics_out:
        _write_json(args.metrics_out, metrics)
        files["metrics"] = args.metrics_out
    print_summary(f"tag fit (validation: {val_name})", rows, files=files,
                  notes=[*notes, f"training: {metrics['train_tokens_per_s']:.0f} tokens/s over {epochs} epochs"])
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from lstmkit.tasks.tag import load_tagger, read_conll, write_conll
    from lstmkit.tasks.tag.conll import detect_format

    tagger = load_tagger(args.model)
    sentences = read_conll(args.data, args.fmt, args.column, require_tags=False)
    fmt = detect_format(args.data) if args.fmt == "auto" else args.fmt
    pred = tagger.predict([s.tokens for s in sentences])
    write_conll(args.out, sentences, pred, fmt=fmt, column=args.column)
    n = sum(len(s.tokens) for s in sentences)
    print_summary("tag predict", {"tagger": {"sentences": len(sentences), "tokens": n,
                                             "decode_tokens_per_s": n / max(tagger.last_decode_seconds, 1e-9)}},
                  files={"tagged": args.out})
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.tag import load_tagger, read_conll

    tagger = load_tagger(args.model)
    members = _members(tagger)
    sentences = read_conll(args.data, args.fmt, args.column)
    _check_tags(tagger, sentences, args.data)
    pred = tagger.predict([s.tokens for s in sentences])
    seen = {w.lower() for m in members for w in m.encoder.words.itos}
    name = f"bilstm_{members[0].config.head}" + (f"_x{len(members)}" if len(members) > 1 else "")
    rows = {name: _scores(sentences, pred, seen)}
    n = sum(len(s.tokens) for s in sentences)
    rows[name]["decode_tokens_per_s"] = n / max(tagger.last_decode_seconds, 1e-9)
    notes = []
    if args.train_data:
        train = read_conll(args.train_data, args.fmt, args.column)
        rows.update(_baseline_rows(train, sentences, {w.lower() for s in train for w in s.tokens}))
    else:
        notes.append("give --train-data to report the most-frequent-tag and feature-tagger baselines")
    files = {}
    if args.metrics_out:
        _write_json(args.metrics_out, rows)
        files["metrics"] = args.metrics_out
    print_summary(f"tag evaluate ({args.data})", rows, files=files, notes=notes)
    return 0
