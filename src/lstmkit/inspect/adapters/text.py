"""Adapters of the text tasks: classify, tag, generate, translate (see :mod:`lstmkit.inspect.adapters`).

Each runs the task's own prediction path on one sequence at a time (batch
of one) with :func:`~lstmkit.inspect.adapters.capture` on the task's main
recurrent layer, so the traces are the states behind what ``predict``
returns. Ensembles show member 1's traces beside the ensemble's output.
"""

from __future__ import annotations

from typing import Any

import torch

from lstmkit.inspect.adapters import Limits, Sample, capture
from lstmkit.inspect.traces import GateTrace

WHAT = "inspect data"


def shown(token: str) -> str:
    """A token as a label: spaces and line breaks made visible."""
    return token.replace("\n", "\u23ce").replace(" ", "\u2423") if token.strip() == "" else token


def clip(traces: dict[str, GateTrace], steps: int) -> dict[str, GateTrace]:
    """The first ``steps`` steps of every trace."""
    out = {}
    for key, tr in traces.items():
        n = min(tr.length, steps)
        out[key] = GateTrace(key=tr.key, values={k: v[:n] for k, v in tr.values.items()}, length=n)
    return out


def _first(items: list, limits: Limits, what: str) -> list:
    if not items:
        raise ValueError(f"{what}: no sequences to show")
    return list(items[: limits.sequences])


def classify_samples(task: Any, data: Any, limits: Limits) -> list[Sample]:
    """Texts of a CSV/TSV (the model's text column): tokens, prediction, attention-pooling weights."""
    rows = task.rows(data, WHAT, labels=False)
    out = []
    for i, text in enumerate(_first(list(rows.texts), limits, WHAT)):
        with capture(task.net.lstm) as cap:
            pred = task.predict_texts([text])
        tokens = pred.tokens[0][: limits.steps]
        traces = clip(cap.traces(task.net.lstm), len(tokens))
        if pred.labels is not None:
            p = pred.probabilities[0]
            output = f"{pred.labels[0]} (" + ", ".join(f"{c} {v:.2f}" for c, v in zip(pred.classes, p)) + ")"
        else:
            output = f"score {pred.scores[0]:.4g}"
        attention = None
        if pred.attention is not None and pred.attention[0] is not None:
            attention = {"source": [shown(t) for t in tokens], "target": ["pooled"],
                         "weights": [list(pred.attention[0][: len(tokens)])]}
        where = rows.where[i] if getattr(rows, "where", None) else f"row {i + 1}"
        out.append(Sample(f"{where}", [shown(t) for t in tokens], traces, output, attention=attention))
    return out


def tag_samples(task: Any, data: Any, limits: Limits) -> list[Sample]:
    """Sentences of a CoNLL(-U) file (tags optional): tokens, predicted tag per token on hover."""
    task._check_fitted("predict")
    sentences = _first(task.sentences(data, WHAT, require_tags=False), limits, WHAT)
    layer = task.taggers[0].net.lstm
    out = []
    for tokens, gold, where in sentences:
        tokens = list(tokens)[: limits.steps]
        with capture(layer) as cap:
            tags = task.predict_tags([tokens])[0]
        notes = [f"tag {t}" + (f" (gold {g})" if gold is not None else "")
                 for t, g in zip(tags, gold if gold is not None else [None] * len(tags))]
        out.append(Sample(where, [shown(t) for t in tokens], clip(cap.traces(layer, call=0), len(tokens)),
                          " ".join(tags), notes=notes))
    return out


def generate_samples(task: Any, data: Any, limits: Limits) -> list[Sample]:
    """Documents of a text file (one per line): tokens and the model's next-token guess on hover."""
    from lstmkit.tasks.generate.task import read_documents

    task._check_fitted("predict")
    pipe = task.pipeline
    docs = _first(read_documents(data, WHAT), limits, WHAT)
    model = pipe.model
    model.eval()
    out = []
    for i, doc in enumerate(docs):
        tokens = pipe.tokenizer.tokenize(doc)[: limits.steps]
        if not tokens:
            raise ValueError(f"{WHAT}: document {i + 1} has no tokens")
        ids = torch.tensor([pipe.vocab.encode(tokens)])
        with capture(model.lstm) as cap, torch.no_grad():
            logits, _ = model(ids)
        guess = pipe.vocab.decode(logits[0].argmax(-1).tolist(), strip_specials=False)
        notes = [f"next: {shown(g)}" for g in guess]
        out.append(Sample(f"document {i + 1}", [shown(t) for t in tokens], cap.traces(model.lstm), "",
                          notes=notes))
    return out


def translate_samples(task: Any, data: Any, limits: Limits) -> list[Sample]:
    """Source sentences (one per line): encoder traces, translation, attention (target x source)."""
    from lstmkit.tasks.translate.task import read_sources

    task._check_fitted("predict")
    pipe = task.pipeline
    sentences = _first(read_sources(data), limits, WHAT)
    encoder = pipe.model.encoder
    out = []
    for i, sentence in enumerate(sentences):
        with capture(encoder) as cap:
            text, pieces, src_tokens, weights = pipe._decode_batches([sentence], task.config.decoding(), 1)[0]
        traces = cap.traces(encoder, call=0)
        n = min(len(src_tokens), limits.steps)
        attention = None
        if weights is not None and pieces:
            m = min(len(pieces), limits.steps)
            rows = weights[:m, :n].tolist()
            attention = {"source": [shown(t) for t in src_tokens[:n]], "target": [shown(p) for p in pieces[:m]],
                         "weights": rows}
        out.append(Sample(f"sentence {i + 1}", [shown(t) for t in src_tokens[:n]], clip(traces, n), text,
                          attention=attention))
    return out
