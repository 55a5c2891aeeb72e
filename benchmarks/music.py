"""JSB Chorales: negative log-likelihood per frame (nats) on the standard test split, and harmonisation.

Part 1, frames (Boulanger-Lewandowski et al. 2012's 229 / 76 / 77 split,
quarter-note frames, MIDI 43..96). For each model family a few settings are
trained on ``train``; the one with the lowest NLL on ``valid`` is selected and
only it is scored on ``test`` (early stopping on ``valid`` as well). The JSON
keeps every candidate's validation score, epochs and training seconds.

* note frequencies (independent notes, the same for every frame),
* a Witten-Bell n-gram over whole frames (chords), backing off to the note
  frequencies (order chosen on valid),
* LSTM + Bernoulli output (notes independent given the past),
* LSTM + NADE output (notes of a frame autoregressive: RNN-NADE).

Part 2, harmonisation (music21's four-part Bach chorales, split by chorale,
see ``lstmkit.tasks.music.data``): the voice model and a token n-gram each
write alto, tenor and bass under the held-out chorales' sopranos (greedy);
note accuracy = share of (sixteenth, voice) cells with the right sounding
pitch or rest. The n-gram's order is chosen on valid.

Training runs on one thread (``torch.set_num_threads(1)``).

    .venv/bin/python benchmarks/music.py           # ~30-40 min on one thread
    .venv/bin/python benchmarks/music.py --quick   # smoke run -> music.quick.json
    .venv/bin/python benchmarks/music.py --only bernoulli   # one part, into the existing JSON

Writes benchmarks/results/music.json (``--quick``: music.quick.json) and a
piano-roll PNG of a NADE sample, and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _common import result_path

from lstmkit.io import atomic_write_json
from lstmkit.tasks.music import (
    FrameNGram,
    Music,
    MusicConfig,
    MusicDataConfig,
    MusicModelConfig,
    NoteFrequency,
    VoiceNGram,
    bach_chorales,
    frames_to_roll,
    harmonization_accuracy,
    load_jsb,
)

RESULTS = Path(__file__).resolve().parent / "results"
ANCHORS = {  # nats per frame on this split, as published
    "RNN (Chung et al. 2014)": 8.71,
    "LSTM (Chung et al. 2014)": 8.67,
    "RNN-RBM (Boulanger-Lewandowski et al. 2012)": 7.27,
    "RNN-NADE (Boulanger-Lewandowski et al. 2012)": 5.56,
}
TARGETS = {"bernoulli": 8.3, "nade": 7.2}

# per candidate: MusicModelConfig fields, MusicDataConfig fields under "data" (batch_size 8
# unless given) and TrainConfig fields under "train" (beyond the task's defaults and
# EPOCHS / PATIENCE): small grids, chosen on valid
GRID = {
    # the previous run's selected setting, then the search's three best on valid (recurrent dropout)
    # (recurrent_dropout explicit: the task's default became 0.5 after these runs)
    "bernoulli": [{"hidden_size": 200, "dropout": 0.3, "recurrent_dropout": 0.0, "data": {"batch_size": 2}},
                  {"hidden_size": 300, "dropout": 0.3, "recurrent_dropout": 0.7, "data": {"batch_size": 2}},
                  {"hidden_size": 400, "dropout": 0.3, "recurrent_dropout": 0.6, "data": {"batch_size": 2}},
                  {"hidden_size": 300, "dropout": 0.3, "recurrent_dropout": 0.6, "data": {"batch_size": 2}}],
    # the first run's two candidates (recurrent dropout 0, as run then), then the same LSTM(200) with
    # recurrent dropout 0.5, the value the task's default takes from valid (see RERUN_CHOICES["nade"])
    "nade": [{"hidden_size": 200, "dropout": 0.3, "nade_size": 64, "recurrent_dropout": 0.0},
             {"hidden_size": 300, "dropout": 0.4, "nade_size": 100, "recurrent_dropout": 0.0},
             {"hidden_size": 200, "dropout": 0.3, "nade_size": 64, "recurrent_dropout": 0.5}],
}
EPOCHS = {"bernoulli": 100, "nade": 150}
#: the exploratory Bernoulli runs (benchmarks/music_search.py: valid only) behind GRID["bernoulli"]
SEARCH_LOG = RESULTS / "music_bernoulli_search.jsonl"
SEARCH_PROTOCOL = (
    "exploratory settings trained on train with early stopping on valid and scored on valid only "
    "(benchmarks/music_search.py, seed 0, one thread, the machine shared); the best of them and the "
    "earlier grid's best form GRID['bernoulli'], which this benchmark retrains; the one with the lowest "
    "valid NLL is the only one scored on test. Runs with a 'note' were stopped by hand or not run. "
    "The runs from 'bs2_zo01' on (those with a 'backend' field: the fused CPU kernels) were made after "
    "the previous run had scored test (8.306), see selection.choices.bernoulli.")
#: what was known when a rerun's grid was chosen (copied into the JSON's ``selection.choices``)
RERUN_CHOICES = {
    "bernoulli": (
        "second Bernoulli run (bernoulli_previous_run keeps the first: valid 8.230, test 8.306, target "
        "8.3 missed). The search was extended knowing that test figure: 22 more runs on valid only "
        "(zoneout 0.05-0.3, recurrent dropout 0.1-0.7, weight averaging, transposition by up to 3 "
        "semitones, output dropout 0.4, hidden 300/400, batch 4), all in selection.explored; recurrent dropout was the change "
        "that helped (valid 8.23 -> 7.91-7.97). GRID['bernoulli'] = the first run's selected setting plus "
        "the search's three best on valid; the lowest valid NLL of this rerun is the only one scored on "
        "test, once. The NADE, n-gram and harmonisation figures were not rerun."),
    "nade": (
        "second NADE run (nade_previous_run keeps the first: valid 5.683, test 5.65, target < 7.2 met). "
        "After the Bernoulli search, two valid-only runs of the first run's NADE setting with recurrent "
        "dropout (seed 0, 100 epochs, both still improving at the cap) gave valid 5.357 (p = 0.3) and "
        "5.231 (p = 0.5) against 5.683 at p = 0; the task's default became 0.5 and GRID['nade'] gained "
        "that candidate, with the epoch cap raised from 100 to 150. The first run's test figure was known. "
        "The lowest valid NLL of this rerun is the only one scored on test, once."),
}
PATIENCE = {"bernoulli": 10, "nade": 8}


def _nll(model, rolls):
    return float(-sum(model.log_prob(r).sum() for r in rolls) / sum(len(r) for r in rolls))


def baselines(jsb, quick):
    rolls = {s: [frames_to_roll(c) for c in jsb[s]] for s in jsb}
    out = {}
    notes = NoteFrequency().fit(rolls["train"])
    out["note_frequency"] = {"valid": _nll(notes, rolls["valid"]), "test": _nll(notes, rolls["test"])}
    candidates = []
    for order in (1, 2) if quick else (1, 2, 3):
        ngram = FrameNGram(order).fit(rolls["train"])
        candidates.append({"order": order, "valid": _nll(ngram, rolls["valid"]), "model": ngram})
    best = min(candidates, key=lambda c: c["valid"])
    out["ngram"] = {"selected_order": best["order"], "valid": best["valid"],
                    "test": _nll(best["model"], rolls["test"]),
                    "candidates": [{"order": c["order"], "valid": c["valid"]} for c in candidates]}
    return out


def frame_family(kind, quick, seed):
    candidates = []
    grid = GRID[kind][:1] if quick else GRID[kind]
    for fields in grid:
        model_fields = {k: v for k, v in fields.items() if k not in ("train", "data")}
        config = MusicConfig(MusicModelConfig(kind=kind, **model_fields),
                             MusicDataConfig(**{"batch_size": 8, **fields.get("data", {})}))
        train = Music.default_train(**{"max_epochs": 2 if quick else EPOCHS[kind],
                                       "early_stopping_patience": PATIENCE[kind], "progress": False,
                                       "seed": seed, **fields.get("train", {})})
        task = Music(config, train)
        started = time.perf_counter()
        task.fit("jsb")  # validates on jsb:valid, keeps the best epoch
        seconds = time.perf_counter() - started
        valid = task.nll("jsb:valid")["nll_per_frame"]
        result = task.fit_results[-1]
        shown = " ".join(f"{k} {v}" for k, v in fields.items())
        print(f"  {kind} {shown}: valid {valid:.3f} ({result.epochs} epochs, {seconds:.0f} s)", flush=True)
        candidates.append({**fields, "valid": valid, "epochs": result.epochs, "train_seconds": seconds,
                           "task": task})
    best = min(candidates, key=lambda c: c["valid"])
    test = best["task"].nll("jsb:test")["nll_per_frame"]
    record = {k: v for k, v in best.items() if k != "task"}
    out = {"selected": record, "test": test,
           "candidates": [{k: v for k, v in c.items() if k != "task"} for c in candidates]}
    if kind == "bernoulli" and SEARCH_LOG.exists():
        out["selection"] = {"protocol": SEARCH_PROTOCOL,
                            "explored": [json.loads(line) for line in SEARCH_LOG.read_text().splitlines()
                                         if line.strip()]}
    return out, best["task"]


def harmonisation(quick, seed):
    chorales = bach_chorales()
    if quick:
        chorales = {s: v[:4] for s, v in chorales.items()}
    pieces = {s: [v for _, v in chorales[s]] for s in chorales}
    streams = [np.asarray(v).T.reshape(-1) for v in pieces["train"]]  # (4, T) -> (4T,)
    candidates = []
    for order in (3, 5) if quick else (3, 5, 9):
        ngram = VoiceNGram(order).fit(streams)
        acc = harmonization_accuracy([ngram.harmonize(v[0]) for v in pieces["valid"]], pieces["valid"])
        candidates.append({"order": order, "valid_accuracy": acc, "model": ngram})
        print(f"  voice n-gram order {order}: valid accuracy {acc:.3f}", flush=True)
    best = min(candidates, key=lambda c: -c["valid_accuracy"])
    ngram_test = harmonization_accuracy([best["model"].harmonize(v[0]) for v in pieces["test"]],
                                        pieces["test"])
    config = MusicConfig(MusicModelConfig(kind="voices", hidden_size=192, num_layers=2, dropout=0.3),
                         MusicDataConfig(batch_size=8, max_sixteenths=128))
    train = Music.default_train(max_epochs=1 if quick else 40, early_stopping_patience=5,
                                progress=False, seed=seed)
    task = Music(config, train)
    started = time.perf_counter()
    task.fit(pieces["train"], val=pieces["valid"])
    seconds = time.perf_counter() - started
    valid_acc = harmonization_accuracy(task.harmonize([v[0] for v in pieces["valid"]]), pieces["valid"])
    test_acc = harmonization_accuracy(task.harmonize([v[0] for v in pieces["test"]]), pieces["test"])
    return {
        "chorales": {s: len(v) for s, v in pieces.items()},
        "metric": "note accuracy of alto, tenor and bass per sixteenth given the soprano",
        "decoding": "greedy: the most probable token at each step, the same for the LSTM and the n-gram",
        "lstm": {"hidden_size": 192, "num_layers": 2, "epochs": task.fit_results[-1].epochs,
                 "train_seconds": seconds, "valid_nll_per_token": task.nll(pieces["valid"])["nll_per_token"],
                 "valid_accuracy": valid_acc, "test_accuracy": test_acc},
        "ngram": {"selected_order": best["order"], "valid_accuracy": best["valid_accuracy"],
                  "test_accuracy": ngram_test,
                  "candidates": [{"order": c["order"], "valid_accuracy": c["valid_accuracy"]}
                                 for c in candidates]},
    }


def write_sample(task, seed):
    """A piano roll of a 32-frame sample of ``task`` (the NADE model) -> its path in the repository."""
    piece = task.sample(length=32, seed=seed)[0]
    task.write(piece, RESULTS / "music_sample.png")
    return "benchmarks/results/music_sample.png"


def rerun_one(part, out, quick, seed):
    """Rerun ``part`` (a frame family or the harmonisation) alone into the existing JSON ``out``.

    A frame family's earlier result moves to ``{part}_previous_run``; :data:`RERUN_CHOICES` says in
    ``selection.choices`` what was known when the rerun's grid was chosen.
    """
    if not out.exists():
        print(f"lstmkit: error: --only {part} updates {out}, which does not exist: "
              "run the whole benchmark first", file=sys.stderr)
        raise SystemExit(2)
    report = json.loads(out.read_text())
    print(part, flush=True)
    if part == "harmonisation":
        report["harmonisation"] = harmonisation(quick, seed)
        h = report["harmonisation"]
        summary = (f"harmonisation accuracy (test): LSTM {h['lstm']['test_accuracy']:.3f}  "
                   f"{h['ngram']['selected_order']}-gram {h['ngram']['test_accuracy']:.3f}")
    else:
        if part in report["models"]:  # the superseded run stays in the JSON beside the new one
            report[f"{part}_previous_run"] = report["models"][part]
        report["models"][part], task = frame_family(part, quick, seed)
        if part in RERUN_CHOICES:
            report["selection"]["choices"] = {**report["selection"].get("choices", {}),
                                              part: RERUN_CHOICES[part]}
        if part == "nade" and not quick:
            report["sample_png"] = write_sample(task, seed)
        summary = f"LSTM + {part}: test NLL {report['models'][part]['test']:.3f} nats/frame"
    atomic_write_json(out, report)
    print(f"{summary}\nwrote {out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets; writes music.quick.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-harmonisation", action="store_true")
    parser.add_argument("--only", choices=("bernoulli", "nade", "harmonisation"),
                        help="rerun one part alone and replace it in the existing JSON")
    parser.add_argument("--only-harmonisation", action="store_const", dest="only", const="harmonisation",
                        help="the same as --only harmonisation")
    parser.add_argument("--out", default=None, help="JSON output (default results/music.json; --quick: *.quick.json)")
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("music", args.out, args.quick)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)
    out = output_path(args)
    if args.only:
        rerun_one(args.only, out, args.quick, args.seed)
        return
    jsb = load_jsb()
    report = {
        "benchmark": "JSB Chorales NLL per frame (nats) + Bach chorale harmonisation",
        "quick": args.quick,
        "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "split": {s: len(v) for s, v in jsb.items()},
        "test_frames": sum(len(c) for c in jsb["test"]),
        "protocol": ("settings and the n-gram order chosen by NLL on valid only; early stopping on valid; "
                     "only the selected setting is scored on test; NLL = total over test frames / frames"),
        "published_anchors": ANCHORS,
        "targets": TARGETS,
    }
    print("baselines", flush=True)
    report["baselines"] = baselines(jsb, args.quick)
    report["models"] = {}
    for kind in ("bernoulli", "nade"):
        print(kind, flush=True)
        report["models"][kind], task = frame_family(kind, args.quick, args.seed)
    if not args.quick:
        report["sample_png"] = write_sample(task, args.seed)
    if not args.skip_harmonisation:
        print("harmonisation", flush=True)
        report["harmonisation"] = harmonisation(args.quick, args.seed)
    atomic_write_json(out, report)

    print(f"\nJSB Chorales test NLL (nats/frame), {report['test_frames']} frames")
    rows = [("note frequencies", report["baselines"]["note_frequency"]["test"]),
            (f"chord {report['baselines']['ngram']['selected_order']}-gram", report["baselines"]["ngram"]["test"])]
    rows += [(f"LSTM + {k}", report["models"][k]["test"]) for k in ("bernoulli", "nade")]
    for name, value in rows:
        print(f"  {name:<24} {value:7.3f}")
    if "harmonisation" in report:
        h = report["harmonisation"]
        print(f"harmonisation accuracy (test): LSTM {h['lstm']['test_accuracy']:.3f}  "
              f"{h['ngram']['selected_order']}-gram {h['ngram']['test_accuracy']:.3f}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
