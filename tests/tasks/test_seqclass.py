"""seqclass networks, the task API, streaming, gate traces, save/load (tiny data, few steps)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit.tasks.seqclass import (
    SeqClass,
    SeqClassConfig,
    SeqClassDataConfig,
    SeqClassModelConfig,
    SeqClassNet,
    early_accuracy,
    plot_early_accuracy,
)


def toy(n: int = 24, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Two classes of 2-channel series of lengths 6..14: a rising or a falling first channel."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for i in range(n):
        length = int(rng.integers(6, 15))
        sign = 1.0 if i % 2 else -1.0
        t = np.linspace(0, 1, length)
        xs.append(np.stack([sign * t + rng.normal(0, 0.1, length), rng.normal(0, 1, length)]))
        ys.append("up" if sign > 0 else "down")
    return xs, np.array(ys)


def _task(**model) -> SeqClass:
    mc = SeqClassModelConfig(**{"hidden_size": 8, "filters": (4, 4), "kernels": (3, 3), **model})
    return SeqClass(SeqClassConfig(model=mc, data=SeqClassDataConfig(batch_size=8)),
                    SeqClass.default_train(max_epochs=2, progress=False, warmup_steps=0))


@pytest.mark.parametrize("pooling", ["last", "mean", "attention"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("model", ["lstm", "lstm_fcn"])
def test_net_output_shapes_and_padding_does_not_leak(model, pooling, bidirectional):
    torch.manual_seed(0)
    net = SeqClassNet(3, 4, model=model, hidden_size=5, bidirectional=bidirectional, pooling=pooling,
                      filters=(6, 7), kernels=(3, 2)).eval()
    x = torch.randn(2, 9, 3)
    lengths = torch.tensor([9, 4])
    logits = net(x, lengths)
    assert logits.shape == (2, 4)
    width = 5 * (2 if bidirectional else 1) + (7 if model == "lstm_fcn" else 0)
    assert net.features(x, lengths).shape == (2, width)
    # what lies past a sequence's length changes nothing
    garbage = x.clone()
    garbage[1, 4:] = 100.0
    torch.testing.assert_close(net(garbage, lengths), logits)
    # the short sequence alone gives the same logits as inside the padded batch
    alone = net(x[1:, :4], lengths[1:])
    torch.testing.assert_close(alone[0], logits[1], rtol=1e-5, atol=1e-5)


def test_fcn_batch_norm_in_training_ignores_padding():
    # Regression (issue 16): the FCN branch's batch norm took its training statistics over padded
    # steps too, so a series' features (and the running statistics) changed with the padding of
    # its batch; with PLAID's lengths (25..336 after downsampling) most of a batch was padding.
    from lstmkit.tasks.seqclass.model import FCN

    torch.manual_seed(0)
    fcn = FCN(2, (5, 6), (3, 2)).train()
    x = torch.randn(3, 7, 2) + 2.0
    lengths = torch.tensor([7, 4, 6])
    padded = torch.cat([x, torch.zeros(3, 20, 2)], dim=1)               # same series, 20 more padded steps
    out = fcn(x, lengths)
    running = fcn.blocks[0]["bn"].running_mean.clone()
    fcn.blocks[0]["bn"].reset_running_stats()
    torch.testing.assert_close(fcn(padded, lengths), out, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fcn.blocks[0]["bn"].running_mean, running, rtol=1e-5, atol=1e-6)
    # on equal lengths it is the ordinary batch norm
    full = torch.tensor([7, 7, 7])
    block = fcn.blocks[0]
    mask = torch.ones(3, 1, 7)
    from lstmkit.tasks.seqclass.model import masked_batch_norm

    u = block["conv"](torch.nn.functional.pad(x.transpose(1, 2), (1, 1)))
    torch.testing.assert_close(masked_batch_norm(block["bn"], u, mask), torch.nn.functional.batch_norm(
        u, None, None, block["bn"].weight, block["bn"].bias, training=True, eps=block["bn"].eps))
    assert fcn(x, full).shape == (3, 6)


@pytest.mark.parametrize("pooling", ["last", "mean", "attention"])
def test_step_logits_match_prefixes(pooling):
    torch.manual_seed(1)
    net = SeqClassNet(2, 3, hidden_size=6, bidirectional=False, pooling=pooling).eval()
    x = torch.randn(2, 7, 2)
    lengths = torch.tensor([7, 5])
    steps = net.step_logits(x, lengths)                              # (B, T, K)
    assert steps.shape == (2, 7, 3)
    for t in (1, 3, 5):
        prefix = net(x[1:, :t], torch.tensor([t]))
        torch.testing.assert_close(steps[1, t - 1], prefix[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(steps[0, -1], net(x, lengths)[0], rtol=1e-5, atol=1e-5)


def test_step_logits_refuse_a_model_that_sees_the_future():
    with pytest.raises(ValueError, match="unidirectional"):
        SeqClassNet(2, 3, hidden_size=4, bidirectional=True).step_logits(torch.randn(1, 3, 2), torch.tensor([3]))


def test_fit_predict_evaluate_save_load(tmp_path):
    xs, y = toy()
    task = _task(model="lstm_fcn", members=2)
    assert task.fit((xs, y), val=toy(8, seed=5)) is task
    assert task.classes == ["down", "up"] and "val_accuracy" in task.val_metrics
    frame = task.predict(xs[:5])
    assert list(frame.columns) == ["series_id", "prediction", "p_down", "p_up"]
    np.testing.assert_allclose(frame[["p_down", "p_up"]].sum(axis=1), 1.0)
    report = task.evaluate(toy(10, seed=3), baselines=("summary_lr", "dtw"))
    assert list(report) == ["lstm_fcn", "summary_lr", "dtw"]
    assert all(0.0 <= row["accuracy"] <= 1.0 and row["n"] == 10 for row in report.values())
    task.save(tmp_path / "m")
    loaded = SeqClass.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_proba(xs), task.predict_proba(xs))
    assert loaded.evaluate(toy(10, seed=3), baselines=("summary_lr", "dtw")) == report


def test_evaluate_refuses_unknown_labels_and_wrong_channels():
    xs, y = toy()
    task = _task().fit((xs, y))
    with pytest.raises(ValueError, match="label\\(s\\) sideways were not seen in training"):
        task.evaluate((xs[:2], ["up", "sideways"]), baselines=())
    with pytest.raises(ValueError, match="3 channel\\(s\\), the model was trained on 2"):
        task.predict(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="labels are needed"):
        task.evaluate(xs, baselines=())
    with pytest.raises(ValueError, match="at least two classes"):
        _task().fit((xs, ["up"] * len(xs)))


def test_streaming_last_step_equals_the_full_prediction_and_the_curve():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    xs, y = toy()
    task = _task(model="lstm", bidirectional=False, pooling="mean").fit((xs, y))
    steps = task.predict_proba_steps(xs)
    assert [len(p) for p in steps] == [x.shape[1] for x in xs]
    np.testing.assert_allclose(np.stack([p[-1] for p in steps]), task.predict_proba(xs), rtol=1e-5, atol=1e-6)
    curve = early_accuracy(task, (xs, y), fractions=(0.25, 0.5, 1.0))
    assert curve["fraction"].tolist() == [0.25, 0.5, 1.0]
    full = float(np.mean(task.predict(xs)["prediction"].to_numpy() == y))
    assert curve["accuracy"].iloc[-1] == pytest.approx(full)
    fig, ax = plt.subplots()
    assert plot_early_accuracy(curve, ax=ax) is fig
    plt.close(fig)
    with pytest.raises(ValueError, match="unidirectional"):
        _task().fit((xs, y)).predict_proba_steps(xs)


def test_gate_traces_cover_each_series_length():
    xs, y = toy(8)
    task = _task(bidirectional=True).fit((xs, y))
    traces = task.gate_traces(xs[:3])
    assert len(traces) == 3 and set(traces[0]) == {"l0", "l0_reverse"}
    for tr, x in zip(traces, xs[:3]):
        assert tr["l0"].values["f"].shape == (x.shape[1], 8)
        assert {"i", "f", "g", "o", "c", "h"} <= set(tr["l0"].values)


def test_nan_training_data_is_filled_and_reported():
    xs, y = toy()
    xs[0] = xs[0].copy()
    xs[0][1, 2] = np.nan
    task = _task()
    task.config = SeqClassConfig(model=task.config.model, data=SeqClassDataConfig(missing="mask"))
    with pytest.warns(UserWarning, match="missing \\(NaN\\)"):
        task.fit((xs, y))
    assert task.prep.input_size == 4
    assert np.isfinite(task.predict_proba(xs)).all()


def test_defaults_are_lstm_fcn_trained_for_a_budget_of_optimizer_steps():
    """LSTM-FCN with a unidirectional LSTM and 1000 optimizer steps whatever the set's size
    (chosen by cross-validation inside the benchmark's train splits, see config.py); the
    schedule's length when the epochs end first is the engine's (tests/train/test_engine.py)."""
    mc, tc = SeqClassModelConfig(), SeqClass.default_train()
    assert (mc.model, mc.bidirectional, mc.hidden_size) == ("lstm_fcn", False, 64)
    assert (tc.max_steps, tc.max_epochs, tc.lr, tc.schedule) == (1000, 500, 2e-3, "cosine")
