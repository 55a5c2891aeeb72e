"""One exploratory LSTM + Bernoulli candidate on JSB Chorales, scored on ``valid`` only.

The search behind ``benchmarks/music.py``'s Bernoulli grid: each call trains one
setting on ``jsb:train`` with early stopping on ``jsb:valid`` (the task's
training defaults: AdamW 2e-3, the rate halved after 3 epochs without a better
``val_loss``, gradient norm clipped to 1, the best epoch kept) and appends its
validation NLL per frame, epochs, seconds and the backend the LSTM trained on
(``cpu``: the fused kernels; ``reference``: the step loop) to
``benchmarks/results/music_bernoulli_search.jsonl``.
Model fields left out take the task's defaults: ``recurrent_dropout`` is 0.5
since 2026-11-30; the log's records without it ran with 0.
It never reads the test split: the benchmark scores only the setting that its
grid selects on ``valid``, and copies this log into ``music.json``'s
``models.bernoulli.selection.explored``.

    .venv/bin/python benchmarks/music_search.py NAME MODEL_JSON [TRAIN_JSON [DATA_JSON]]
    .venv/bin/python benchmarks/music_search.py bs4 '{"hidden_size": 200, "dropout": 0.3}' '{}' '{"batch_size": 4}'
    .venv/bin/python benchmarks/music_search.py bs2_h300_rd0.7 \
        '{"hidden_size": 300, "dropout": 0.3, "recurrent_dropout": 0.7}' '{}' '{"batch_size": 2}'
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

from lstmkit.kernels import registry
from lstmkit.tasks.music import Music, MusicConfig, MusicDataConfig, MusicModelConfig

LOG = Path(__file__).resolve().parent / "results" / "music_bernoulli_search.jsonl"


def training_backend(task: Music) -> str:
    """The backend ``auto`` picks for the trained LSTM in training mode (``cpu`` = the fused kernels)."""
    lstm = task.model.lstm
    x = torch.zeros(5, 2, lstm.input_size)  # (T, B, P), time-major as the layer resolves it
    return registry.resolve(lstm.backend, lstm.spec, x, False, True).name


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit("usage: music_search.py NAME MODEL_JSON [TRAIN_JSON [DATA_JSON]]")
    name = sys.argv[1]
    model, train, data = (json.loads(a) for a in (*sys.argv[2:5], "{}", "{}")[:3])
    torch.set_num_threads(1)
    config = MusicConfig(MusicModelConfig(kind="bernoulli", **model),
                         MusicDataConfig(**{"batch_size": 8, **data}))
    task = Music(config, Music.default_train(**{"max_epochs": 100, "early_stopping_patience": 10,
                                                "progress": False, "seed": 0, **train}))
    started = time.perf_counter()
    task.fit("jsb")  # validates on jsb:valid, keeps the best epoch
    record = {"name": name, "model": model, "train": train, "data": data,
              "valid": task.nll("jsb:valid")["nll_per_frame"], "epochs": task.fit_results[-1].epochs,
              "seconds": time.perf_counter() - started, "backend": training_backend(task)}
    print(json.dumps(record), flush=True)
    with LOG.open("a") as f:
        f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
