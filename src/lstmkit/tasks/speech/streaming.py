"""Streaming transcription: audio in chunks, the LSTM state carried, text out as it is recognised.

Per chunk of ``chunk_ms`` of audio: the samples join a buffer; every whole
analysis window in it becomes a log-mel frame (the frames are those of the
whole file, since :func:`~lstmkit.tasks.speech.audio.log_mel` does not pad
or centre), normalised with the training statistics; frames wait until
``stack`` of them make one LSTM step; the unidirectional LSTM runs those steps
from the state the previous chunk left; the greedy decoder appends each
non-blank label that differs from the previous frame's. At the end, leftover
frames are zero-padded to a whole step, as in the offline batch. So the final
text equals offline greedy decoding, and the latency of a label is the chunk
length plus the compute time of its chunk.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstmkit.tasks.speech.audio import frame_sizes, log_mel, n_frames, read_audio
from lstmkit.tasks.speech.data import BLANK


class Streamer:
    """Chunked greedy transcription with a :class:`~lstmkit.tasks.speech.Speech` model (module docstring)."""

    def __init__(self, task: Any, chunk_ms: float | None = None) -> None:
        mc, dc = task.config.model, task.config.data
        if not task.ctc or mc.bidirectional:
            raise ValueError("streaming needs a unidirectional ctc model (--mode ctc --no-bidirectional)")
        if task.front.kind != "audio":
            raise ValueError("streaming needs a model trained on audio")
        if dc.cmvn == "utterance":
            raise ValueError("streaming needs --cmvn global or none (per-utterance CMVN sees the whole file)")
        self.task, self.dc = task, dc
        self.chunk = max(1, int(round(dc.sample_rate * (chunk_ms or task.config.decode.chunk_ms) / 1000)))
        self.win, self.hop, _ = frame_sizes(dc.sample_rate, dc.win_ms, dc.hop_ms)
        self.reset()

    def reset(self) -> None:
        self.buffer = np.zeros(0, dtype=np.float32)
        self.pending: list[np.ndarray] = []
        self.state: Any = None
        self.prev = BLANK
        self.ids: list[int] = []
        self.log_probs: list[np.ndarray] = []   # per LSTM step, as decoded (for inspection and tests)

    @torch.no_grad()
    def _steps(self, frames: list[np.ndarray]) -> None:
        x = torch.from_numpy(np.stack(frames))
        log_probs, self.state = self.task.net.stream_step(x, self.state)
        self.log_probs.append(log_probs.double().numpy())
        for k in log_probs.argmax(dim=1).tolist():
            if k != BLANK and k != self.prev:
                self.ids.append(k)
            self.prev = k

    def feed(self, samples: np.ndarray) -> str:
        """Add samples; returns the text so far."""
        self.buffer = np.concatenate([self.buffer, np.asarray(samples, dtype=np.float32)])
        count = n_frames(len(self.buffer), self.win, self.hop)
        if count:
            used = (count - 1) * self.hop + self.win
            dc = self.dc
            feats = self.task.front.normalise(log_mel(self.buffer[:used], dc.sample_rate, dc.n_mels,
                                                      dc.win_ms, dc.hop_ms))
            self.pending.extend(feats)
            self.buffer = self.buffer[count * self.hop:]
        k = self.task.config.model.stack
        whole = len(self.pending) - len(self.pending) % k
        if whole:
            self._steps(self.pending[:whole])
            self.pending = self.pending[whole:]
        return self.task.vocab.decode(self.ids)

    def finish(self) -> str:
        """Flush the frames short of a whole step (zero-padded); returns the final text."""
        if self.pending:
            k = self.task.config.model.stack
            zeros = [np.zeros_like(self.pending[0])] * ((-len(self.pending)) % k)
            self._steps(self.pending + zeros)
            self.pending = []
        return self.task.vocab.decode(self.ids)

    def run(self, source: Any) -> Iterator[dict[str, Any]]:
        """Stream a file or 1-D samples; yields one record per chunk (the last one after :meth:`finish`)."""
        if isinstance(source, (str, Path)):
            samples = read_audio(source, self.dc.sample_rate)
        else:
            samples = np.asarray(source, dtype=np.float32)
            if samples.ndim != 1 or samples.size == 0:
                raise ValueError(f"stream: expected an audio file or non-empty 1-D samples, got shape {samples.shape}")
        self.reset()
        rate = self.dc.sample_rate
        starts = list(range(0, len(samples), self.chunk))
        for n, start in enumerate(starts):
            began = time.perf_counter()
            text = self.feed(samples[start:start + self.chunk])
            if n == len(starts) - 1:
                text = self.finish()
            yield {"chunk": n, "end_s": min(len(samples), start + self.chunk) / rate, "text": text,
                   "seconds": time.perf_counter() - began}
