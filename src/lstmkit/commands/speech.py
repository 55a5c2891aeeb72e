"""``lstmkit speech fit | transcribe | evaluate``: argument parsing for `lstmkit.tasks.speech`.

    lstmkit speech fit --data train.tsv --val-data dev.tsv --out asr/
    lstmkit speech transcribe --model asr/ audio.wav more/ [--decoder beam] [--stream] [--out text.csv]
    lstmkit speech evaluate --model asr/ --data test.tsv --out report/

Data: a manifest (CSV or TSV with a header ``path,transcript``; paths
relative to the manifest). ``--mode words`` trains an isolated-word classifier
(the transcript column holds the word). ``transcribe`` takes audio files,
folders of them or manifests; ``--stream`` feeds a unidirectional model the
audio in chunks (``--chunk-ms``) and prints the text as it grows. Every field
of the model, data, decode and train sections is a flag and a key of
``--config FILE.yaml``; ``--print-config`` shows the effective run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lstmkit.commands._common import print_summary
from lstmkit.commands._options import command


def register(subparsers: Any) -> None:
    from lstmkit.tasks.speech.config import (
        CTC_BASELINES,
        DECODERS,
        TRAIN_DEFAULTS,
        WORD_BASELINES,
        SpeechConfig,
    )

    parser = subparsers.add_parser("speech", help="speech recognition (BiLSTM-CTC) and isolated words: fit, "
                                                  "transcribe, evaluate", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="speech_command", metavar="SUBCOMMAND", required=True)

    fit = command(sub, "fit", help="train a recognizer and save it", func=run_fit,
                  config=SpeechConfig, train_defaults=TRAIN_DEFAULTS)
    fit.option("--data", required=True, help="training manifest (CSV/TSV: path, transcript)")
    fit.option("--out", required=True, help="directory to save the model in")
    fit.option("--val-data", help="validation manifest: validation loss per epoch, best epoch kept")

    tr = command(sub, "transcribe", help="transcribe (or classify) audio with a saved model", func=run_transcribe)
    tr.parser.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio files, folders or manifests")
    tr.option("--model", required=True, help="a directory written by 'speech fit'")
    tr.option("--decoder", choices=DECODERS, help="greedy or beam (default: the model's)", show_default=False)
    tr.option("--stream", type=bool, default=False,
              help="stream each file in chunks (unidirectional ctc model)")
    tr.option("--chunk-ms", type=float, help="streaming chunk (default: the model's)", show_default=False)
    tr.option("--out", help="CSV to write: id, prediction")

    ev = command(sub, "evaluate", help="score a saved model beside the baselines on labelled data",
                 func=run_evaluate)
    ev.option("--model", required=True, help="a directory written by 'speech fit'")
    ev.option("--data", required=True, help="labelled test manifest")
    ev.option("--out", help="directory for metrics.json")
    ev.option("--baselines", many=True, default=None, choices=CTC_BASELINES + WORD_BASELINES,
              help="baselines to report (default: prior pocketsphinx for ctc, hmm dtw for words)",
              show_default=False)


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.speech import Speech
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out)  # before any training: refuse unusable outputs
    task = Speech(args.config_obj, args.train_config).fit(args.data, val=args.val_data)
    task.save(args.out)
    size = len(task.train_texts)
    print_summary("speech fit", {task.model_name: {
        "utterances": size, "outputs": len(task.vocab) if task.ctc else len(task.classes),
        "fit_seconds": round(task.fit_seconds, 2)}}, files={"model": args.out}, notes=task.fit_summary())
    return 0


def run_transcribe(args: argparse.Namespace) -> int:
    import pandas as pd

    from lstmkit.tasks.forecast.io import write_csv_atomic
    from lstmkit.tasks.speech import Speech

    task = Speech.load(args.model)
    if args.decoder:
        import dataclasses

        task.config = dataclasses.replace(task.config, decode=dataclasses.replace(task.config.decode,
                                                                                  decoder=args.decoder))
    frames = []
    for item in args.inputs:
        if args.stream:
            text = ""
            for record in task.stream(item, args.chunk_ms):
                text = record["text"]
                print(f"{item}  {record['end_s']:7.2f}s  {text}", file=sys.stderr, flush=True)
            frames.append(pd.DataFrame({"id": [Path(item).name], "prediction": [text]}))
        else:
            frames.append(task.predict(item))
    frame = pd.concat(frames, ignore_index=True)
    for row in frame.itertuples():
        print(f"{row.id}\t{row.prediction}")
    files = {}
    if args.out:
        write_csv_atomic(frame, args.out)
        files = {"transcripts": args.out}
    if files:
        print_summary("speech transcribe", {task.model_name: {"utterances": len(frame)}}, files=files,
                      stream=sys.stderr)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.io import atomic_dir
    from lstmkit.tasks.speech import Speech

    task = Speech.load(args.model)
    report = task.evaluate(args.data, baselines=tuple(args.baselines) if args.baselines else None)
    files: dict[str, Path] = {}
    if args.out:
        out = Path(args.out)
        with atomic_dir(out) as tmp:
            record = {"data": str(args.data), "model": str(args.model), "report": report}
            (tmp / "metrics.json").write_text(json.dumps(record, indent=2, default=float))
        files = {"metrics": out / "metrics.json"}
    keys = ("wer", "cer", "sentence_error") if task.ctc else ("accuracy",)
    rows = {name: ({k: row[k] for k in keys} if "skipped" not in row else {"skipped": row["skipped"]})
            for name, row in report.items()}
    print_summary("speech evaluate", rows, files=files)
    return 0
