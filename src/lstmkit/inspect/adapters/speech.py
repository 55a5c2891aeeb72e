"""The view of a speech model: one step per LSTM step (``stack`` frames), the frame label chosen there.

For each utterance (a manifest, audio files, a folder, or ``(features, texts)``):
the step labels are the times the steps start (``0.00s``, ``0.02s``, ...);
the traces are those of the network's LSTM over the stacked frames; ``ctc``
models add, per step, the most probable CTC label (``_`` for blank) as a note
and the greedy transcript as the output; ``words`` models the predicted word
and its probability.
"""

from __future__ import annotations

from typing import Any

import torch

from lstmkit.inspect.adapters import Limits, Sample, capture
from lstmkit.inspect.adapters.text import WHAT, _first, clip, shown


def speech_samples(task: Any, data: Any, limits: Limits) -> list[Sample]:
    from lstmkit.tasks.speech.data import BLANK, normalise, pad, read_utterances
    from lstmkit.tasks.speech.decode import greedy
    from lstmkit.tasks.speech.model import stack_frames

    task._check_fitted("predict")
    dc, net = task.config.data, task.net
    utts = read_utterances(data, dc, WHAT)
    net.eval()
    step_s = task.config.model.stack * dc.hop_ms / 1000
    out = []
    for i, source in enumerate(_first(utts.sources, limits, WHAT)):
        x, lengths = pad([task.front(source)])
        with capture(net.lstm) as cap, torch.no_grad():
            y, _ = net(x, lengths)
        steps = int(stack_frames(x, lengths, net.stack)[1][0])
        n = min(steps, limits.steps)
        tokens = [f"{t * step_s:.2f}s" for t in range(n)]
        notes = None
        if task.ctc:
            best = y[0].argmax(dim=1).tolist()
            notes = ["_" if k == BLANK else f"'{shown(task.vocab.chars[k - 1])}'" for k in best[:n]]
            output = task.vocab.decode(greedy(y[0].double().numpy()))
        else:
            proba = torch.softmax(y[0], dim=0)
            k = int(proba.argmax())
            output = f"{task.classes[k]} ({float(proba[k]):.2f})"
        if utts.texts is not None:
            output += f"; reference {normalise(utts.texts[i], dc.lowercase)}"
        out.append(Sample(f"utterance {utts.ids[i]!r}", tokens, clip(cap.traces(net.lstm), n), output,
                          notes=notes))
    return out
