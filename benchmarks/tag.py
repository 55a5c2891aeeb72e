"""Sequence-labelling benchmark on the Turkish Web Treebank: BiLSTM-CRF / softmax vs baselines.

Split: sentences in file order, the last 20% held out for testing. Baselines
(most frequent tag, logistic-regression feature tagger) train on the first
80%. The BiLSTM is an ensemble of ``--members`` taggers
(:class:`lstmkit.tasks.tag.TaggerEnsemble`: one CRF whose scores are the
members' mean): member k trains with seed ``seed + k`` on the 80% minus its
validation fold (the k-th tenth from the end, ``fold_split``; k = 0 is the last 10%) and keeps
the weights of its best epoch on that fold (validation accuracy). Together
the members see every training sentence; the test part is never looked at
until the end. Unseen words = test tokens whose lowercased form does not
occur in the 80% training part.

Each member reads word embeddings + hashed character 2-5-grams + a character
BiLSTM + Hunspell lexicon features (Debian ``hunspell-tr``,
:mod:`lstmkit.text.lexicon`), then a sentence BiLSTM (200 per direction).

Tasks: UPOS (14 tags) and proper-noun spans (BIO, from ``Proper=True``).
Reported: token accuracy (all / unseen words), span P / R / F1 (exact span
and type), training and decoding tokens per second (1 thread), and every
member's own scores.

    .venv/bin/python benchmarks/tag.py                # full run, writes benchmarks/results/tag.json
    .venv/bin/python benchmarks/tag.py --tasks upos   # rerun one task, the other kept from the JSON
    .venv/bin/python benchmarks/tag.py --quick        # a smoke run (1 epoch, 1 member), tag.quick.json
    .venv/bin/python benchmarks/tag.py --protocol --tasks upos   # the design chosen blind to test

``--protocol`` (:mod:`_tag_protocol`) re-runs the choice of design that the
committed run made with test scores visible (lexicon features, word dropout,
single tagger vs ensemble): candidates fixed in code are scored on a
selection tenth of the training part, and only the chosen model is scored on
test, once, beside the lexicon feature tagger with paired intervals over
test sentences. It is merged into the JSON under ``protocol_rerun``; the
earlier run's figures stay as they were. ``--protocol --quick`` uses 300
sentences, 1 epoch, 2 members; ``--protocol-intervals`` recomputes the
intervals from the saved per-sentence predictions.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch
from _common import result_path
from _tag_protocol import KNOWN_BEFORE, PROTOCOL, fit_member, run_protocol, test_intervals

from lstmkit.data.text_corpora import load_turkish_web_treebank, turkish_hunspell_path
from lstmkit.io import atomic_write_json
from lstmkit.tasks.tag import (
    FeatureTagger,
    MostFrequentTagger,
    Tagger,
    TaggerConfig,
    TaggerEnsemble,
    tag_scores,
)
from lstmkit.text.lexicon import Lexicon
from lstmkit.train import TrainConfig

TASKS = ("upos", "proper")
EPOCHS = 40
MEMBERS = 5
CFG = {"hidden": 200, "dropout": 0.5, "word_dropout": 0.25, "subword_buckets": 50000,
       "subword_min_n": 2, "subword_max_n": 5}  # + lexicon: the Turkish Hunspell dictionary


def scores(test, pred, unseen) -> dict:
    return tag_scores([t for _, t in test], pred, unseen)


def train_member(task: str, head: str, k: int, seed: int, epochs: int, cfg_kw: dict, out: str) -> dict:
    """Train ensemble member ``k`` (seed ``seed + k``, validation fold ``k`` of the training part, as
    :func:`lstmkit.tasks.tag.fit_ensemble` does) and save it to ``out``."""
    torch.set_num_threads(1)
    pairs = [(s.tokens, s.tags) for s in load_turkish_web_treebank(task)]
    return fit_member(pairs[: int(len(pairs) * 0.8)], k, seed, epochs, cfg_kw, head, out)


def split_task(task: str):
    """(train, test, unseen flags per test token) of a task: the last 20% of sentences held out."""
    pairs = [(s.tokens, s.tags) for s in load_turkish_web_treebank(task)]
    n = int(len(pairs) * 0.8)
    train, test = pairs[:n], pairs[n:]
    seen = {w.lower() for toks, _ in train for w in toks}
    unseen = [[w.lower() not in seen for w in toks] for toks, _ in test]
    return train, test, unseen


def baseline_rows(task: str, train, test, unseen, lexicon: str) -> dict[str, dict]:
    """The baselines on the same split: most frequent tag, the feature tagger, and the feature
    tagger with the same Hunspell lexicon features the BiLSTM reads (the fair comparison)."""
    test_tokens = [toks for toks, _ in test]
    n_test = sum(map(len, test_tokens))
    rows: dict[str, dict] = {}
    for name, model in (("most_frequent_tag", MostFrequentTagger()), ("feature_tagger", FeatureTagger()),
                        ("feature_tagger_lexicon", FeatureTagger(lexicon=lexicon))):
        start = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        pred = model.predict(test_tokens)
        rows[name] = {**scores(test, pred, unseen), "fit_seconds": fit_s,
                      "decode_tokens_per_s": n_test / (time.perf_counter() - start)}
        print(f"  {task} {name}: {rows[name]['accuracy']:.4f} span F1 {rows[name].get('span_f1', float('nan')):.3f}", flush=True)
    return rows


def run_task(task: str, heads: list[str], epochs: int, cfg_kw: dict, seed: int, n_members: int,
             pool: ProcessPoolExecutor, tmp: Path) -> dict:
    train, test, unseen = split_task(task)
    n = len(train)
    test_tokens = [toks for toks, _ in test]
    n_test = sum(map(len, test_tokens))
    jobs = {head: [pool.submit(train_member, task, head, k, seed, epochs, cfg_kw, str(tmp / f"{task}-{head}-{k}"))
                   for k in range(n_members)] for head in heads}
    rows = baseline_rows(task, train, test, unseen, cfg_kw["lexicon"])
    for head in heads:
        # the same ensemble from the command line (the first 80% of the treebank as CoNLL-U)
        from lstmkit.tasks.tag import Tag, TagConfig

        tc = TrainConfig(max_epochs=epochs, lr=2e-3, schedule="cosine", seed=seed, checkpoint=False,
                         monitor="val_acc", monitor_mode="max")
        command = Tag(TagConfig.from_network(TaggerConfig(head=head, **cfg_kw), members=n_members), tc) \
            .command_line(data=f"{task}-train.conllu", out=f"{task}-{head}/")
        print(f"  reproduce: {command}", flush=True)
        infos = [job.result() for job in jobs[head]]
        members = [Tagger.load(tmp / f"{task}-{head}-{k}") for k in range(n_members)]
        member_rows = []
        for info, tagger in zip(infos, members):
            pred = tagger.predict(test_tokens)
            member_rows.append({**info, **scores(test, pred, unseen),
                                "decode_tokens_per_s": n_test / tagger.last_decode_seconds})
        ensemble = TaggerEnsemble(members)
        pred = ensemble.predict(test_tokens)
        fit_s = sum(i["fit_seconds"] for i in infos)
        rows[f"bilstm_{head}"] = {
            **scores(test, pred, unseen),
            "members": member_rows,
            "member_accuracy_mean": statistics.fmean(r["accuracy"] for r in member_rows),
            "fit_seconds": fit_s,
            "train_tokens_per_s": sum(i["train_tokens"] for i in infos) / fit_s,
            "decode_tokens_per_s": n_test / ensemble.last_decode_seconds,
        }
        print(f"  {task} bilstm_{head} ({n_members} members): {rows[f'bilstm_{head}']['accuracy']:.4f} "
              f"span F1 {rows[f'bilstm_{head}'].get('span_f1', float('nan')):.3f} (members: "
              + ", ".join(f"{r['accuracy']:.4f}" for r in member_rows) + ")", flush=True)
    return {"sentences": {"train": n, "test": len(test)},
            "tokens": {"train": sum(len(t) for t, _ in train), "test": n_test,
                       "test_unseen": sum(map(sum, unseen))},
            "models": rows}


SELECTION = {
    "protocol": "each ensemble member keeps its epoch with the best accuracy on its own validation fold "
                "(a tenth of the training part, fold_split); the test part (last 20% of sentences) is "
                "scored once per run",
    "validation_scores": "tasks.*.models.bilstm_*.members[k].best_val_acc",
    "design_choices": "NOT made under this protocol: the tagger's design changed while four UPOS test "
                      "accuracies were committed (90.5 -> 91.5 -> 92.2 -> 93.5% against the >= 93% target: "
                      "char BiLSTM, subwords, CRF, lexicon features, 5-member ensemble), so the crossing of "
                      "93% rests on test-set selection; the last member alone scored 92.9%. The re-run blind "
                      "to test is `tag.py --protocol` (protocol_rerun in the JSON).",
    "baselines": "feature taggers: scikit-learn logistic regression, C = 5, not tuned; "
                 "feature_tagger_lexicon reads the same Hunspell features as the BiLSTM",
}


def intervals(results: dict) -> dict:
    """95% intervals of accuracy differences, BiLSTM-CRF minus the strongest baseline, from the
    counts (no per-token predictions are saved): the unpaired normal interval
    d ± 1.96 sqrt(p1 (1 - p1) / n + p2 (1 - p2) / n), conservative for paired predictions
    whose errors are positively correlated, optimistic in treating tokens of one sentence as
    independent."""
    out = {}
    for task, res in results["tasks"].items():
        models, n = res["models"], res["tokens"]["test"]
        base = max((k for k in models if not k.startswith("bilstm")), key=lambda k: models[k]["accuracy"])
        p1, p2 = models["bilstm_crf"]["accuracy"], models[base]["accuracy"]
        d, half = p1 - p2, 1.96 * (p1 * (1 - p1) / n + p2 * (1 - p2) / n) ** 0.5
        out[task] = {"compared": f"bilstm_crf - {base}", "metric": "accuracy", "diff": d, "lo": d - half,
                     "hi": d + half, "n_tokens": n, "verdict": "tie" if d - half <= 0 <= d + half else
                     ("bilstm_crf" if d > 0 else base)}
    return out


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


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--members", type=int, default=MEMBERS,
                    help="ensemble size: member k trains with seed+k and validates on fold k")
    ap.add_argument("--jobs", type=int, default=2, help="members trained at once (processes of 1 thread)")
    ap.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS),
                    help="tasks to (re)run; the others are kept from the existing JSON")
    ap.add_argument("--quick", action="store_true", help="1 epoch, 1 member, for a smoke run")
    ap.add_argument("--baselines-only", action="store_true",
                    help="recompute only the baseline rows of --tasks, merged into the existing JSON "
                         "(the BiLSTM rows kept: same split, same configuration)")
    ap.add_argument("--protocol", action="store_true",
                    help="re-run the design choice blind to test (benchmarks/_tag_protocol.py): candidates "
                         "scored on a selection tenth of the training part, only the chosen model scored "
                         "on test; merged into the JSON under protocol_rerun, the earlier run kept")
    ap.add_argument("--protocol-intervals", action="store_true",
                    help="recompute the protocol re-run's intervals from its saved test predictions (no training)")
    ap.add_argument("--out", default=None, help="JSON output (default results/tag.json; --quick: *.quick.json)")
    return ap


def output_path(args: argparse.Namespace) -> Path:
    return result_path("tag", args.out, args.quick)


def protocol_summary(rerun: dict) -> dict:
    """The ``selection`` entry of the protocol re-run: the S scores that chose, per task."""
    scores = {}
    for task, res in rerun["tasks"].items():
        sel = res["selection"]
        scores[task] = {"S_accuracy": {d: c["S"]["accuracy"] for d, c in sel["candidates"].items()},
                        f"S_accuracy_ensemble_of_{sel['best_single']}": sel["ensemble"]["S"]["accuracy"],
                        "best_single": sel["best_single"], "chosen": sel["chosen"],
                        "chosen_model": sel["chosen_model"]}
        if "span_f1" in sel["ensemble"]["S"]:
            scores[task]["S_span_f1"] = {d: c["S"]["span_f1"] for d, c in sel["candidates"].items()}
    return {"protocol": PROTOCOL, "known_before": KNOWN_BEFORE, "validation_scores": scores}


def protocol_main(args, out: Path, previous: dict, header: dict, cfg: dict) -> None:
    """``--protocol``: the blind re-run of :mod:`_tag_protocol` for ``--tasks``, merged into the JSON
    under ``protocol_rerun``; the earlier (test-selected) run's figures stay as they are."""
    results = previous if previous.get("tasks") else {k: v for k, v in header.items() if k != "tasks"}
    epochs, members = (1, 2) if args.quick else (args.epochs, args.members)
    config = {**header["config"], "epochs": epochs, "members": members}
    rerun = results.get("protocol_rerun", {})
    rerun = {"config": config, "tasks": rerun.get("tasks", {}) if rerun.get("config") == config else {}}
    started = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(args.jobs, mp_context=ctx) as pool:
        for task in args.tasks:
            pairs = [(s.tokens, s.tags) for s in load_turkish_web_treebank(task)]
            if args.quick:
                pairs = pairs[:300]
            rerun["tasks"][task] = run_protocol(task, pairs, pool, epochs, cfg, args.seed, Path(tmp),
                                                members=members, head="crf")
    rerun["seconds"] = time.perf_counter() - started
    rerun["selection"] = protocol_summary(rerun)
    if "upos" in rerun["tasks"]:
        rerun["checks"] = {"upos_accuracy_ge_0.93": rerun["tasks"]["upos"]["test"]["bilstm"]["accuracy"] >= 0.93}
    results["protocol_rerun"] = rerun
    results["selection"] = ({**results["selection"], "protocol_rerun": rerun["selection"]} if "selection" in results
                            else rerun["selection"])
    print(json.dumps(rerun["selection"], indent=1))
    print(json.dumps({t: r["intervals"] for t, r in rerun["tasks"].items()}, indent=1))
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out, results)
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)
    epochs, members = (1, 1) if args.quick else (args.epochs, args.members)
    out = output_path(args)
    previous = json.loads(out.read_text()) if out.exists() else {}
    cfg = {**CFG, "lexicon": str(turkish_hunspell_path())}
    started = time.perf_counter()
    results = {
        "benchmark": "tag",
        "data": "Turkish Web Treebank (turkish-treebanks web.conllu), last 20% of sentences held out",
        "config": {"epochs": epochs, "seed": args.seed, "members": members, **cfg, "lr": 2e-3,
                   "schedule": "cosine", "threads": 1, "lexicon_sha256": Lexicon.open(cfg["lexicon"]).sha256()},
        "machine": platform.machine(),
        "torch": torch.__version__,
        "tasks": {},
    }
    if args.protocol_intervals:
        if "protocol_rerun" not in previous:
            raise SystemExit(f"lstmkit: error: {out} has no protocol_rerun: run --protocol first")
        for res in previous["protocol_rerun"]["tasks"].values():
            res["intervals"] = test_intervals(res)
            print(json.dumps(res["intervals"], indent=1))
        atomic_write_json(out, previous)
        print(f"wrote {out}")
        return
    if args.protocol:
        protocol_main(args, out, previous, results, cfg)
        return
    if args.baselines_only:
        if previous.get("config") != results["config"]:
            raise SystemExit(f"--baselines-only merges into {out}, which must hold a run of this configuration")
        results = previous
        for task in args.tasks:
            train, test, unseen = split_task(task)
            results["tasks"][task]["models"].update(baseline_rows(task, train, test, unseen, cfg["lexicon"]))
        results["baselines_rerun_seconds"] = time.perf_counter() - started
    else:
        if previous.get("config") == results["config"]:  # keep the tasks not rerun, measured alike
            results["tasks"] = {t: v for t, v in previous["tasks"].items() if t not in args.tasks}
        ctx = multiprocessing.get_context("spawn")
        with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(args.jobs, mp_context=ctx) as pool:
            for task in args.tasks:
                heads = ["crf"] if task == "upos" else ["crf", "softmax"]
                results["tasks"][task] = run_task(task, heads, epochs, cfg, args.seed, members, pool, Path(tmp))
        results["seconds"] = time.perf_counter() - started
    missing = [t for t in TASKS if t not in results["tasks"]]
    if missing:
        raise SystemExit(f"no results for {missing} with this configuration: run with --tasks {' '.join(missing)}")
    up, pr = results["tasks"]["upos"]["models"], results["tasks"]["proper"]["models"]
    base = [k for k in up if not k.startswith("bilstm")]
    results["checks"] = {
        "upos_accuracy_ge_0.93": up["bilstm_crf"]["accuracy"] >= 0.93,
        "upos_beats_baselines": up["bilstm_crf"]["accuracy"] > max(up[k]["accuracy"] for k in base),
        "upos_unseen_beats_baselines": up["bilstm_crf"]["unseen_accuracy"] > max(
            up[k]["unseen_accuracy"] for k in base),
        "proper_span_f1_beats_feature_tagger": pr["bilstm_crf"]["span_f1"] > max(
            pr[k]["span_f1"] for k in pr if k.startswith("feature_tagger")),
        "crf_span_f1_beats_softmax": pr["bilstm_crf"]["span_f1"] > pr["bilstm_softmax"]["span_f1"],
    }
    results["selection"] = SELECTION
    results["intervals"] = intervals(results)
    print(table(results))
    print(json.dumps(results["checks"], indent=1))
    print(json.dumps(results["intervals"], indent=1))
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out, results)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
