"""Streaming inference: one step (or a short chunk) at a time with the state passed back.

Real-time use (audio frames, sensor samples) calls a recurrent layer once per
incoming frame. Going through the layer's full ``forward`` costs argument
checks, spec and parameter gathering and the stacking logic at every call;
``Stream`` does that once and then calls the fused C++ forward directly::

    >>> import torch, lstmkit
    >>> from lstmkit.kernels.cpu.stream import Stream
    >>> layer = lstmkit.LSTM(8, 16, num_layers=2).eval()
    >>> stream = Stream(layer)
    >>> state = None
    >>> for frame in torch.randn(5, 1, 8):        # (B=1, I) per call
    ...     y, state = stream(frame, state)
    >>> y.shape, state[0].shape
    (torch.Size([1, 16]), torch.Size([2, 1, 16]))

The results equal ``layer(x, state)`` in evaluation mode (zoneout uses its
expectation, dropouts are off). The stream holds views of the layer's
parameters (no copies), so in-place weight updates are seen; a parameter
replaced by a new tensor needs a new ``Stream``. Shapes: ``x`` is (B, I) for one
step, returning y (B, H_out), or (T, B, I) for a chunk, returning (T, B, H_out);
``state`` is ``(h, c)`` for the LSTM, ``h`` otherwise, each (L, B, ·), or None
for zeros.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lstmkit.kernels.cpu.functions import ext, kind_of, param_list


class Stream:
    """Low-overhead stepping of a unidirectional lstmkit ``LSTM`` / ``GRU`` / ``RNN``."""

    def __init__(self, layer: Any) -> None:
        spec = getattr(layer, "spec", None)
        if spec is None or not hasattr(layer, "dir_params"):
            raise TypeError(f"layer: expected an lstmkit LSTM, GRU or RNN, got {type(layer).__name__}")
        if spec.bidirectional:
            raise ValueError("layer: a bidirectional layer needs the whole sequence; got bidirectional=True")
        ref = layer.weight_ih_l0
        if ref.device.type != "cpu" or ref.dtype not in (torch.float32, torch.float64):
            raise ValueError(f"layer: expected float32/float64 CPU parameters, got {ref.dtype} on {ref.device}")
        self.spec = spec
        self.cell = spec.cell
        self.lstm = self.cell.mode == "LSTM"
        self._ext = ext()
        with torch.no_grad():
            self._params = [
                [None if t is None else t.detach() for t in param_list(layer.dir_params(k, False))]
                for k in range(spec.num_layers)
            ]
        self._kind = None if self.lstm else kind_of(self.cell)
        self._zoneout: dict[tuple[int, int], list[Tensor | None]] = {}
        self.dtype = ref.dtype

    def _masks(self, steps: int, batch: int) -> list[Tensor | None]:
        """Evaluation zoneout uses the constant rate (the expectation of the mask)."""
        key = (steps, batch)
        if key not in self._zoneout:
            cell, spec = self.cell, self.spec
            zc = spec.zoneout_c if self.lstm else 0.0
            full = lambda rate, width: (
                torch.full((1, batch, width), rate, dtype=self.dtype) if rate > 0 else None)  # constant over time
            self._zoneout[key] = [None, full(zc, cell.hidden_size), full(spec.zoneout_h, cell.out_size)]
        return self._zoneout[key]

    def zero_state(self, batch: int) -> Tensor | tuple[Tensor, Tensor]:
        rows, cell = self.spec.num_layers, self.cell
        h = torch.zeros(rows, batch, cell.out_size, dtype=self.dtype)
        return (h, torch.zeros(rows, batch, cell.hidden_size, dtype=self.dtype)) if self.lstm else h

    @torch.no_grad()
    def __call__(
        self, x: Tensor, state: Tensor | tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
        single = x.dim() == 2
        if x.dim() not in (2, 3) or x.shape[-1] != self.spec.input_size:
            raise ValueError(
                f"x: expected (B, {self.spec.input_size}) or (T, B, {self.spec.input_size}), "
                f"got {tuple(x.shape)}"
            )
        seq = (x.unsqueeze(0) if single else x).contiguous()  # (T, B, I)
        if state is None:
            state = self.zero_state(seq.shape[1])
        h_all, c_all = state if self.lstm else (state, None)
        h_all = h_all.contiguous()
        c_all = None if c_all is None else c_all.contiguous()
        masks = self._masks(seq.shape[0], seq.shape[1])
        h_out, c_out = [], []
        layer_in = seq
        for k, params in enumerate(self._params):
            if self.lstm:
                y, h, c = self._ext.lstm_forward(
                    layer_in, h_all[k], c_all[k], params, masks, None, False, self.cell.coupled_gates, False
                )[:3]
                c_out.append(c)
            else:
                y, h = self._ext.gru_rnn_forward(layer_in, h_all[k], params, masks, None, False, self._kind)[:2]
            h_out.append(h)
            if self.spec.residual and k > 0 and y.shape[2] == layer_in.shape[2]:
                y = y + layer_in
            layer_in = y
        out = layer_in[0] if single else layer_in
        h_n = torch.stack(h_out, 0)
        return out, ((h_n, torch.stack(c_out, 0)) if self.lstm else h_n)
