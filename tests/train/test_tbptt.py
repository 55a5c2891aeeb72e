"""Truncated BPTT: windows reproduce the full-sequence forward; gradients stop at window borders."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from lstmkit.train import TBPTTModule, TrainConfig, detach_state, fit, split_batch, split_windows


class StreamModel(TBPTTModule):
    """An LSTM predicting a target stream step by step, trained window by window."""

    tbptt_window = 5

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rnn = torch.nn.LSTM(2, 8, batch_first=True)
        self.head = torch.nn.Linear(8, 1)
        self.states_seen: list = []

    def forward(self, x, state=None):
        out, state = self.rnn(x, state)
        return self.head(out), state

    def tbptt_step(self, batch, state, window_index):
        self.states_seen.append(state)
        x, y = batch
        y_hat, state = self(x, state)
        return torch.nn.functional.mse_loss(y_hat, y), state


def _stream(batch=3, steps=23, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, steps, 2, generator=g)
    y = x.cumsum(dim=1)[..., :1] * 0.1
    return x, y


def test_windows_reproduce_the_full_sequence_forward_and_loss():
    torch.manual_seed(0)
    model = StreamModel()
    x, y = _stream()
    full, _ = model(x)
    full_loss = torch.nn.functional.mse_loss(full, y)
    state, outputs, weighted = None, [], 0.0
    for xw, yw in split_batch((x, y), model.tbptt_window):
        out, state = model(xw, state)
        state = detach_state(state)
        outputs.append(out)
        weighted += torch.nn.functional.mse_loss(out, yw) * xw.shape[1]
    torch.testing.assert_close(torch.cat(outputs, dim=1), full, rtol=0, atol=1e-6)
    torch.testing.assert_close(weighted / x.shape[1], full_loss, rtol=1e-6, atol=1e-7)


def test_gradient_stops_at_the_window_border():
    torch.manual_seed(0)
    model = StreamModel()
    x, _ = _stream()
    x.requires_grad_(True)
    first, second = split_windows(x, 5)[:2]
    _, state = model(first)
    out, _ = model(second, detach_state(state))
    out.sum().backward()
    assert torch.count_nonzero(x.grad[:, :5]) == 0  # nothing flows back past the border
    assert torch.count_nonzero(x.grad[:, 5:10]) > 0
    x.grad = None
    _, state = model(first)
    out, _ = model(second, state)  # without detaching, it does
    out.sum().backward()
    assert torch.count_nonzero(x.grad[:, :5]) > 0


def test_split_helpers_validate():
    assert [w.shape[1] for w in split_windows(torch.zeros(1, 7), 3)] == [3, 3, 1]
    with pytest.raises(ValueError, match="window: expected an int >= 1"):
        split_windows(torch.zeros(1, 7), 0)
    with pytest.raises(ValueError, match="must share T"):
        split_batch((torch.zeros(2, 5, 1), torch.zeros(2, 6, 1)), 2)
    ids = torch.arange(2)
    windows = split_batch({"x": torch.zeros(2, 5, 1), "id": ids}, 2)
    assert len(windows) == 3 and windows[2]["x"].shape == (2, 1, 1) and windows[2]["id"] is ids
    with pytest.raises(TypeError, match="state"):
        detach_state("h")


def _loader(carry_batches: int = 1):
    x, y = _stream(batch=4 * carry_batches, steps=20)
    return DataLoader(TensorDataset(x, y), batch_size=4, shuffle=False)


def test_fit_takes_one_step_per_window_and_clips():
    torch.manual_seed(0)
    model = StreamModel()
    loader = _loader()
    before = model.head.weight.detach().clone()
    result = fit(model, loader, None, TrainConfig(max_epochs=2, lr=1e-2, schedule="cosine",
                                                  gradient_clip_val=0.1, progress=False))
    assert result.global_step == 2 * 4  # 1 batch x 4 windows of 5 steps, 2 epochs
    assert not torch.equal(before, model.head.weight)
    assert all(s is None for s in model.states_seen[::4])  # each batch starts from a zero state
    assert all(s is not None and not s[0].requires_grad for i, s in enumerate(model.states_seen) if i % 4)
    assert torch.isfinite(torch.tensor(result.history[-1]["train_loss"]))
    scheduler = model.lr_schedulers()
    assert scheduler.lr_lambdas[0].total_steps == 8  # step schedule counts windows, not batches


@pytest.mark.parametrize("max_steps, total", [(100, 8), (4, 4)])
def test_step_schedule_counts_windows_up_to_max_steps(max_steps, total):
    """2 epochs x 1 batch x 4 windows = 8 optimizer steps, unless max_steps ends the fit first."""
    torch.manual_seed(0)
    model = StreamModel()
    result = fit(model, _loader(), None, TrainConfig(max_epochs=2, max_steps=max_steps, lr=1e-2,
                                                     schedule="cosine", progress=False))
    assert result.global_step == total
    assert model.lr_schedulers().lr_lambdas[0].total_steps == total


class Carrying(StreamModel):
    carry_state_across_batches = True


def test_state_carried_across_batches_within_an_epoch():
    torch.manual_seed(0)
    model = Carrying()
    fit(model, _loader(carry_batches=2), None, TrainConfig(max_epochs=2, progress=False))
    starts = model.states_seen[::4]  # the first window of each batch
    assert starts[0] is None and starts[1] is not None  # batch 2 continues batch 1
    assert starts[2] is None  # a new epoch starts afresh
