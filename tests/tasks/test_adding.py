"""The long-time-lag problems of Hochreiter & Schmidhuber (1997), checked against their definitions."""

import json
import math

import pytest
import torch

from lstmkit.tasks.adding import (
    CLASSES,
    SYMBOLS,
    AddingProblem,
    LagTrainConfig,
    SequenceModel,
    TemporalOrderProblem,
    make_recurrent,
    run_demo,
    train_side_by_side,
    write_json_atomic,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- adding problem


@pytest.mark.parametrize("T", [22, 100, 201])
def test_adding_markers_positions_and_target(T):
    batch = AddingProblem(T).sample(3000, gen(T))
    n, L, width = batch.x.shape
    assert width == 2 and n == 3000
    assert int(batch.lengths.min()) >= T and int(batch.lengths.max()) <= T + T // 10
    assert L == int(batch.lengths.max())
    values, markers = batch.x[..., 0], batch.x[..., 1]
    for k in range(n):
        length = int(batch.lengths[k])
        v, m = values[k], markers[k]
        marked = torch.nonzero(m == 1.0).flatten().tolist()
        assert len(marked) == 2
        # one marked among the first 10, both among the first T//2 - 1
        assert min(marked) < 10 and max(marked) < T // 2 - 1
        # -1 at the first (unless marked) and at the final pair, 0 elsewhere, nothing past the end
        expected = torch.zeros(L)
        expected[length - 1] = -1.0
        expected[0] = 1.0 if 0 in marked else -1.0
        expected[marked] = 1.0
        assert torch.equal(m, expected)
        assert torch.all(v[length:] == 0) and torch.all(v.abs() <= 1.0)
        if 0 in marked:
            assert v[0] == 0.0
        x1, x2 = v[marked[0]], v[marked[1]]
        assert math.isclose(float(batch.target[k]), 0.5 + float(x1 + x2) / 4.0, abs_tol=1e-6)
    assert torch.all((batch.target >= 0.0) & (batch.target <= 1.0))


def test_adding_marker_positions_cover_their_windows():
    T = 40
    batch = AddingProblem(T).sample(20000, gen(1))
    marked = torch.nonzero(batch.x[..., 1] == 1.0)[:, 1]
    # every position of the second window {0, ..., T//2 - 2} is used, nothing beyond
    assert set(marked.tolist()) == set(range(T // 2 - 1))
    lengths = set(batch.lengths.tolist())
    assert lengths == set(range(T, T + T // 10 + 1))
    # values are U[-1, 1]: mean ~0, variance ~1/3 (over the valid steps only)
    valid = torch.arange(batch.x.shape[1]) < batch.lengths.unsqueeze(1)  # (N, L)
    v = batch.x[..., 0][valid]
    assert abs(float(v.mean())) < 0.01 and abs(float(v.var()) - 1 / 3) < 0.01


def test_adding_fixed_length_and_determinism():
    a = AddingProblem(50, variable_length=False).sample(64, gen(3))
    b = AddingProblem(50, variable_length=False).sample(64, gen(3))
    assert torch.all(a.lengths == 50) and a.x.shape == (64, 50, 2)
    assert torch.equal(a.x, b.x) and torch.equal(a.target, b.target)
    c = AddingProblem(50, variable_length=False).sample(64, gen(4))
    assert not torch.equal(a.x, c.x)


def test_adding_solved_criterion_and_mse():
    problem = AddingProblem(30)
    batch = problem.sample(100, gen(5))
    close = (batch.target + 0.039).unsqueeze(-1)
    far = (batch.target - 0.041).unsqueeze(-1)
    assert problem.metrics(close, batch)["solve_rate"] == 1.0
    assert problem.metrics(far, batch)["solve_rate"] == 0.0
    m = problem.metrics(far, batch)
    assert math.isclose(m["mse"], 0.041**2, rel_tol=1e-4)
    assert math.isclose(float(problem.loss(far, batch)), 0.041**2, rel_tol=1e-4)
    # the mean predictor: MSE = Var(X1 + X2) / 16 = (2 - p0) / 48, where p0, the chance
    # that the first pair is marked (its value then 0), is 1/10 + 9/10 / (T//2 - 2)
    big = problem.sample(40000, gen(6))
    mean = problem.metrics(torch.full((40000, 1), 0.5), big)
    p0 = 0.1 + 0.9 / (30 // 2 - 2)
    assert abs(mean["mse"] - (2 - p0) / 48) < 0.001


# --------------------------------------------------------------- temporal order


@pytest.mark.parametrize("T", [100, 200])
def test_temporal_order_definition(T):
    batch = TemporalOrderProblem(T).sample(2000, gen(T))
    n, L, width = batch.x.shape
    assert width == len(SYMBOLS) == 8 and len(CLASSES) == 4 and L == int(batch.lengths.max())
    assert int(batch.lengths.min()) >= T and int(batch.lengths.max()) <= T + T // 10
    sym = batch.x.argmax(-1)
    X, Y, E, B = (SYMBOLS.index(s) for s in "XYEB")
    for k in range(n):
        length = int(batch.lengths[k])
        row = batch.x[k]
        assert torch.all(row[:length].sum(-1) == 1.0) and torch.all(row[length:] == 0.0)
        s = sym[k, :length]
        assert s[0] == E and s[-1] == B
        relevant = torch.nonzero((s == X) | (s == Y)).flatten().tolist()
        assert len(relevant) == 2
        t1, t2 = (p + 1 for p in relevant)  # 1-based as in the paper
        assert T // 10 <= t1 <= T // 5 and T // 2 <= t2 <= T // 2 + T // 10
        rest = torch.ones(length, dtype=torch.bool)
        rest[[0, length - 1, *relevant]] = False
        assert torch.all((s[rest] >= 2) & (s[rest] <= 5))  # a, b, c, d
        expected = {(X, X): 0, (X, Y): 1, (Y, X): 2, (Y, Y): 3}[(int(s[relevant[0]]),
                                                                 int(s[relevant[1]]))]
        assert int(batch.target[k]) == expected
    counts = torch.bincount(batch.target, minlength=4)
    assert torch.all(counts > 400)


def test_temporal_order_paper_windows_at_T100():
    batch = TemporalOrderProblem(100).sample(5000, gen(9))
    sym = batch.x.argmax(-1)
    pos = torch.nonzero(sym >= SYMBOLS.index("X"))[:, 1].reshape(-1, 2) + 1  # (N, 2), 1-based
    assert set(pos[:, 0].tolist()) == set(range(10, 21))
    assert set(pos[:, 1].tolist()) == set(range(50, 61))
    assert set(batch.lengths.tolist()) == set(range(100, 111))


def test_temporal_order_metrics():
    problem = TemporalOrderProblem(20)
    batch = problem.sample(50, gen(2))
    onehot = torch.nn.functional.one_hot(batch.target, 4).float()

    def logits_for(p_true):  # softmax gives p_true on the target, the rest shared equally
        p = onehot * p_true + (1 - onehot) * (1 - p_true) / 3
        return p.log()

    good = problem.metrics(logits_for(0.75), batch)
    assert good["accuracy"] == 1.0 and good["solve_rate"] == 1.0
    assert math.isclose(good["ce"], -math.log(0.75), rel_tol=1e-5)
    meh = problem.metrics(logits_for(0.65), batch)  # right argmax, but 1 - 0.65 > 0.3
    assert meh["accuracy"] == 1.0 and meh["solve_rate"] == 0.0
    wrong = problem.metrics(logits_for(0.1), batch)
    assert wrong["accuracy"] == 0.0


# ------------------------------------------------------------------ bad input


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="T must be >= 22, got 21"):
        AddingProblem(21)
    with pytest.raises(TypeError, match="T must be an int"):
        TemporalOrderProblem(100.0)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        AddingProblem(30).sample(0, gen())
    with pytest.raises(TypeError, match="generator must be a torch.Generator, got int"):
        AddingProblem(30).sample(4, 0)
    with pytest.raises(ValueError, match="kind must be one of"):
        make_recurrent("transformer", 2, 4)
    with pytest.raises(ValueError, match="steps must be >= 1, got 0"):
        LagTrainConfig(steps=0)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        LagTrainConfig(lr=float("nan"))
    with pytest.raises(ValueError, match="backends must be"):
        LagTrainConfig(backends=(("lstmx", "cpu"),))
    with pytest.raises(ValueError, match="kinds must be distinct"):
        train_side_by_side(AddingProblem(30), ("lstm", "lstm"), LagTrainConfig(steps=1))
    with pytest.raises(TypeError, match="config must be a LagTrainConfig"):
        train_side_by_side(AddingProblem(30), ("lstm",), {"steps": 1})


# --------------------------------------------------------------- models, training


@pytest.mark.parametrize("kind", ["lstm", "peephole", "gru", "rnn"])
def test_model_reads_each_sequence_at_its_last_step(kind):
    torch.manual_seed(0)
    model = SequenceModel(kind, 2, 8, 1, chrono=30.0).eval()
    batch = AddingProblem(24).sample(6, gen(11))
    full = model(batch.x, batch.lengths)
    for k in range(6):
        length = int(batch.lengths[k])
        alone = model(batch.x[k : k + 1, :length], batch.lengths[k : k + 1])
        torch.testing.assert_close(full[k], alone[0])
    if kind == "peephole":
        assert hasattr(model.rnn, "weight_ch_l0")


def test_gru_chrono_sets_update_gate_bias():
    torch.manual_seed(0)
    layer = make_recurrent("gru", 2, 16, chrono=50.0)
    b_z = layer.bias_ih_l0[16:32]
    assert torch.all(b_z >= 0.0) and torch.all(b_z <= math.log(49.0))
    assert torch.all(layer.bias_hh_l0[16:32] == 0.0)
    with pytest.raises(ValueError, match=r"chrono_init: expected a finite T_max > 2"):
        make_recurrent("gru", 2, 4, chrono=1.5)


def test_training_smoke_adding_loss_decreases():
    config = LagTrainConfig(steps=40, batch_size=32, lr=1e-2, hidden_size=8, eval_every=20,
                            test_size=256, seed=1)
    lines = []
    result = train_side_by_side(AddingProblem(24), ("lstm", "rnn"), config, progress=False,
                                log=lines.append)
    assert [row["step"] for row in result.history] == [0, 20, 40]
    for kind in ("lstm", "rnn"):
        before, after = result.history[0][f"{kind}/mse"], result.history[-1][f"{kind}/mse"]
        assert after < 0.5 * before, (kind, before, after)
        assert result.final[kind]["mse"] == after and result.seconds[kind] > 0
    assert len(lines) == 6 and lines[0].startswith("step      0  lstm")


def test_training_smoke_temporal_order_loss_decreases():
    # At T = 20 the order of X and Y is learnt in a few dozen steps by a small LSTM.
    config = LagTrainConfig(steps=60, batch_size=32, lr=3e-2, hidden_size=16, eval_every=30,
                            test_size=256, seed=1)
    result = train_side_by_side(TemporalOrderProblem(20), ("lstm",), config, progress=False)
    before, after = result.history[0]["lstm/ce"], result.history[-1]["lstm/ce"]
    assert after < 0.5 * before, (before, after)
    assert result.final["lstm"]["accuracy"] > 0.5


def test_run_demo_writes_json(tmp_path, capsys):
    out = tmp_path / "sub" / "demo.json"
    assert run_demo(T=24, steps=5, seed=0, out=out) == 0
    record = json.loads(out.read_text())
    assert record["task"] == "adding" and record["T"] == 24
    assert set(record["final"]) == {"lstm", "rnn"}
    assert [row["step"] for row in record["history"]] == [0, 5]
    printed = capsys.readouterr().out
    assert "test MSE" in printed and "rnn" in printed
    assert list(out.parent.iterdir()) == [out]


def test_write_json_atomic_leaves_nothing_on_failure(tmp_path):
    path = tmp_path / "r.json"
    write_json_atomic(path, {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
