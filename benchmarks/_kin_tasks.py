"""The tasks of benchmarks/kin.py: data, one shared training loop, HMM baselines.

Every model is a :class:`Net`: an input map (a linear layer for dense inputs
is the layer's own; an embedding of width ``W`` for tokens), the sequence layer
``layer(input, W, num_layers, batch_first=True)`` and a linear head on every
position. Tasks pick the positions they score.

- **Long lags** (``lstmkit.tasks.adding``): adding and temporal order, read at
  each sequence's last valid step; solve rate as in H&S 1997.
- **Selective copy** (Gu & Dao 2023, Mamba, section 4.1.1): ``K`` data tokens
  (symbols ``2 .. 2+V-1``) at random distinct positions among ``T`` noise tokens
  (0), then ``K`` marker tokens (1); at the markers the model outputs the data
  tokens in order. Token accuracy at the ``K`` recall positions.
- **Character LM** (Bible, :mod:`lstmkit.data.bible`): bits per character on
  held-out books, windows of ``bptt`` characters without state carried over,
  after training for the same CPU time per model.
- **Forecasting** (AirPassengers): log series, 36 months in, the next 12 out,
  read at the last step; MASE (seasonal naive scale, m = 12).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class Net(nn.Module):
    """Input map, sequence layer, per-position linear head (module docstring)."""

    def __init__(self, layer_cls, d_in: int, width: int, d_out: int, tokens: bool,
                 num_layers: int = 2, **options) -> None:
        super().__init__()
        self.embed = nn.Embedding(d_in, width) if tokens else None
        self.layer = layer_cls(width if tokens else d_in, width, num_layers=num_layers,
                               batch_first=True, **options)
        self.cached = "need_state" in self.layer.forward.__code__.co_varnames
        with torch.no_grad():
            probe = self._features(torch.zeros(1, 3, dtype=torch.long) if tokens else torch.zeros(1, 3, d_in))
        self.head = nn.Linear(probe.shape[-1], d_out)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x) if self.embed is not None else x
        return self.layer(h, need_state=False)[0] if self.cached else self.layer(h)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self._features(x))


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def train_steps(model: nn.Module, batches, loss_fn, steps: int, cpu_budget: float, lr: float,
                on_eval=None, eval_every: int = 0) -> dict:
    """Adam (``lr``, clip 1) for ``steps`` steps or until ``cpu_budget`` CPU seconds; returns counts.

    ``batches(step)`` returns the step's batch (the same stream for every
    model); ``on_eval(step)`` is called every ``eval_every`` steps.
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    cpu0, wall0, done = time.process_time(), time.perf_counter(), 0
    model.train()
    for step in range(1, steps + 1):
        loss = loss_fn(model, batches(step))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        done = step
        if on_eval is not None and eval_every and step % eval_every == 0:
            on_eval(step)
        if time.process_time() - cpu0 > cpu_budget:
            break
    model.eval()
    return {"steps": done, "cpu_s": round(time.process_time() - cpu0, 1),
            "wall_s": round(time.perf_counter() - wall0, 1), "hit_cpu_budget": done < steps}


# ---- long lags -------------------------------------------------------------------------------

def last_step_output(model: Net, batch) -> torch.Tensor:
    out = model(batch.x)
    return out[torch.arange(out.shape[0]), batch.lengths - 1]


def evaluate_lag(model: Net, problem, test) -> dict:
    with torch.no_grad():
        out = torch.cat([last_step_output(model, type(test)(test.x[i:i + 64], test.lengths[i:i + 64],
                                                            test.target[i:i + 64]))
                         for i in range(0, test.x.shape[0], 64)])
    return problem.metrics(out, test)


# ---- selective copy -------------------------------------------------------------------------

def selective_copy(n: int, T: int, K: int, V: int, gen: torch.Generator):
    """x (n, T + K) tokens, y (n, K) data tokens to recall in order (module docstring)."""
    x = torch.zeros(n, T + K, dtype=torch.long)
    pos = torch.rand(n, T, generator=gen).argsort(dim=1)[:, :K].sort(dim=1).values
    data = 2 + torch.randint(0, V, (n, K), generator=gen)
    x.scatter_(1, pos, data)
    x[:, T:] = 1
    return x, data


def copy_loss(model: Net, batch) -> torch.Tensor:
    x, y = batch
    logits = model(x)[:, -y.shape[1]:]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), (y - 2).reshape(-1))


def copy_accuracy(model: Net, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + 64])[:, -y.shape[1]:].argmax(-1) for i in range(0, len(x), 64)])
    return float((pred == y - 2).float().mean())


# ---- character LM ---------------------------------------------------------------------------

def char_vocab(text: str) -> dict[str, int]:
    """Characters of the training text; id 0 is the unknown character."""
    return {c: i + 1 for i, c in enumerate(sorted(set(text)))}


def encode(text: str, vocab: dict[str, int]) -> torch.Tensor:
    return torch.tensor([vocab.get(c, 0) for c in text], dtype=torch.long)


def lm_batch(ids: torch.Tensor, batch: int, bptt: int, gen: torch.Generator) -> torch.Tensor:
    starts = torch.randint(0, len(ids) - bptt - 1, (batch,), generator=gen)
    return torch.stack([ids[s:s + bptt + 1] for s in starts.tolist()])


def lm_loss(model: Net, chunk: torch.Tensor) -> torch.Tensor:
    logits = model(chunk[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1))


def bits_per_char(model: Net, ids: torch.Tensor, bptt: int) -> float:
    """Mean bits per predicted character over non-overlapping windows of ``bptt + 1``."""
    n = (len(ids) - 1) // bptt
    windows = torch.stack([ids[i * bptt:i * bptt + bptt + 1] for i in range(n)])
    total = 0.0
    with torch.no_grad():
        for i in range(0, n, 64):
            chunk = windows[i:i + 64]
            logits = model(chunk[:, :-1])
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1),
                                           reduction="sum"))
    return total / (n * bptt) / math.log(2)


def hmm_bits_per_char(train: np.ndarray, test: np.ndarray, val: np.ndarray, V: int, states: int,
                      n_iter: int, seed: int) -> dict:
    """A discrete HMM (hmmlearn ``CategoricalHMM``, Baum-Welch) on characters; bits per char.

    Baum-Welch runs on the first ``len(train)`` characters it is given (the
    caller passes a prefix: one pass costs O(chars x states^2)). Emissions are smoothed with 1e-4 per symbol so unseen test characters get a
    finite cost. The forward algorithm scores the whole held-out stream.
    """
    from hmmlearn.hmm import CategoricalHMM

    cpu0 = time.process_time()
    hmm = CategoricalHMM(n_components=states, n_iter=n_iter, random_state=seed, n_features=V, tol=1e-3,
                         implementation="scaling")
    hmm.fit(train.reshape(-1, 1))
    em = hmm.emissionprob_ + 1e-4
    hmm.emissionprob_ = em / em.sum(1, keepdims=True)
    bpc = lambda ids: -hmm.score(ids.reshape(-1, 1)) / len(ids) / math.log(2)  # noqa: E731
    return {"test_bpc": bpc(test), "val_bpc": bpc(val), "states": states, "iterations": n_iter,
            "cpu_s": round(time.process_time() - cpu0, 1), "params": states * (states + V + 1)}


# ---- forecasting ----------------------------------------------------------------------------

def forecast_windows(log_y: np.ndarray, end: int, lookback: int, horizon: int):
    """All (input, target) windows whose target ends at or before ``end``, level-normalised.

    Input and target are offsets from the mean of the input's last 12 months.
    """
    xs, ys = [], []
    for s in range(0, end - lookback - horizon + 1):
        w = log_y[s:s + lookback]
        level = w[-12:].mean()
        xs.append(w - level)
        ys.append(log_y[s + lookback:s + lookback + horizon] - level)
    return torch.tensor(np.array(xs), dtype=torch.float32).unsqueeze(-1), torch.tensor(np.array(ys),
                                                                                        dtype=torch.float32)


def forecast_from(model: Net, log_y: np.ndarray, end: int, lookback: int) -> np.ndarray:
    w = log_y[end - lookback:end]
    level = w[-12:].mean()
    with torch.no_grad():
        out = model(torch.tensor(w - level, dtype=torch.float32).view(1, -1, 1))[0, -1].numpy()
    return np.exp(out + level)


def mase(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray, m: int = 12) -> float:
    """Mean absolute error scaled by the in-sample seasonal-naive MAE (Hyndman & Koehler 2006)."""
    scale = np.mean(np.abs(history[m:] - history[:-m]))
    return float(np.mean(np.abs(actual - forecast)) / scale)


def hmm_forecast(log_y: np.ndarray, end: int, horizon: int, states: int, seed: int) -> np.ndarray:
    """Gaussian HMM on the seasonal differences ``d_t = log y_t - log y_{t-12}``.

    The forecast of ``d_{end+h}`` is the mean emission under the predicted state
    distribution ``p_end A^h``; the log series is rebuilt from the differences.
    """
    from hmmlearn.hmm import GaussianHMM

    d = (log_y[12:end] - log_y[:end - 12]).reshape(-1, 1)
    hmm = GaussianHMM(n_components=states, covariance_type="diag", n_iter=200, random_state=seed)
    hmm.fit(d)
    p = hmm.predict_proba(d)[-1]
    out = list(log_y[:end])
    for _ in range(horizon):
        p = p @ hmm.transmat_
        out.append(out[-12] + float(p @ hmm.means_[:, 0]))
    return np.exp(np.array(out[end:]))
