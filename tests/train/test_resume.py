"""Kill a run, resume it, and get bit-for-bit the weights of an uninterrupted run (CPU)."""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import lightning as L
import pytest
import torch
from train_helpers import TinyRegression, fresh_model, make_data

from lstmkit.train import TrainConfig, fit
from lstmkit.train.checkpoint import atomic_torch_save

HERE = Path(__file__).resolve().parent
EPOCHS = 6


def _config(run_dir, **changes):
    base = TrainConfig(max_epochs=EPOCHS, lr=1e-2, schedule="cosine", restore_best=False,
                       progress=False, run_dir=str(run_dir))
    return base.replace(**changes)


def _assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name, value in a.items():
        assert torch.equal(value, b[name]), f"{name} differs after resume"


def test_kill_with_sigkill_then_resume_matches_uninterrupted(tmp_path):
    reference = fresh_model()
    train, val = make_data()
    fit(reference, train, val, _config(tmp_path / "reference"))

    run_dir = tmp_path / "killed"
    out = tmp_path / "resumed.pt"
    script = str(HERE / "resume_script.py")
    # 8 batches x 0.05 s per epoch: the parent kills the child once epoch 2's checkpoint exists
    child = subprocess.Popen([sys.executable, script, str(run_dir), str(EPOCHS), str(out), "--sleep", "0.05"],
                             cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    marker = run_dir / "checkpoints" / "epoch002.ckpt"
    deadline = time.monotonic() + 60
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert child.poll() is None, f"child ended before it could be killed: {child.stderr.read().decode()[-2000:]}"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert not out.exists()
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)
    # the kill may land between writing epoch002.ckpt and last.ckpt: last then still says epoch 1
    assert 1 <= last["epoch"] < EPOCHS - 1, "the kill should land mid-run"

    done = subprocess.run([sys.executable, script, str(run_dir), str(EPOCHS), str(out), "--resume"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    resumed = torch.load(out, weights_only=False)
    assert resumed["epochs"] == EPOCHS and resumed["history"] == EPOCHS
    _assert_same_weights(reference.state_dict(), resumed["state"])


class Crash(RuntimeError):
    pass


class CrashingRegression(TinyRegression):
    """Raises in the middle of epoch ``crash_epoch`` (after that epoch's first batches ran)."""

    def __init__(self, crash_epoch: int):
        super().__init__()
        self.crash_epoch = crash_epoch

    def training_step(self, batch, batch_idx):
        if self.current_epoch == self.crash_epoch and batch_idx == 5:
            raise Crash("simulated failure")
        return super().training_step(batch, batch_idx)


@pytest.mark.parametrize(("schedule", "loader_seed"), [("constant", None), ("plateau", None), ("constant", 7)])
def test_crash_mid_epoch_then_resume_matches_uninterrupted(tmp_path, schedule, loader_seed):
    """``loader_seed``: the training loader shuffles with a generator of its own (not saved by RNGState)."""
    config = _config(tmp_path / "a", schedule=schedule, plateau_patience=0)
    reference = fresh_model()
    fit(reference, *make_data(loader_seed=loader_seed), config)

    torch.manual_seed(0)
    crashing = CrashingRegression(crash_epoch=3)
    crashing.load_state_dict(fresh_model().state_dict())
    with pytest.raises(Crash):
        fit(crashing, *make_data(loader_seed=loader_seed), config.replace(run_dir=str(tmp_path / "b")))
    resumed = fresh_model(seed=99)  # a different start: everything must come from the checkpoint
    # fresh loaders, as in a new process: a loader's own generator starts again from its seed
    train, val = make_data(loader_seed=loader_seed)
    result = fit(resumed, train, val, config.replace(run_dir=str(tmp_path / "b"), resume="last"))
    assert result.epochs == EPOCHS and len(result.history) == EPOCHS
    _assert_same_weights(reference.state_dict(), resumed.state_dict())


def test_resume_last_without_checkpoint_starts_afresh(tmp_path):
    train, val = make_data()
    model = fresh_model()
    result = fit(model, train, val, _config(tmp_path, max_epochs=2, resume="last"))
    assert result.epochs == 2


def test_atomic_save_failure_leaves_old_file_and_no_temp(tmp_path):
    path = tmp_path / "x.ckpt"
    atomic_torch_save({"a": 1}, path)
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):
        atomic_torch_save({"bad": lambda: None}, path)  # lambdas do not pickle
    assert torch.load(path, weights_only=False) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.ckpt"]


def test_fresh_run_into_a_used_run_dir_is_refused(tmp_path):
    train, val = make_data()
    fit(fresh_model(), train, val, _config(tmp_path, max_epochs=1))
    with pytest.raises(ValueError, match="already holds checkpoints of an earlier run: resume it"):
        fit(fresh_model(), train, val, _config(tmp_path, max_epochs=1))
    assert fit(fresh_model(), train, val, _config(tmp_path, max_epochs=2, resume="last")).epochs == 2


def test_loader_generator_order_follows_the_epoch_and_is_given_back(tmp_path):
    """A loader's own generator: each epoch's order comes from (its seed, epoch); after the fit it is back."""
    from lstmkit.train.checkpoint import epoch_seed

    assert epoch_seed(7, 0) != epoch_seed(7, 1) and epoch_seed(7, 1) == epoch_seed(7, 1)
    train, val = make_data(loader_seed=7)
    generator = train.sampler.generator
    orders = []

    class Record(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if batch_idx == 0:
                orders.append(batch[0][:, 0].clone())

    fit(fresh_model(), train, val, _config(tmp_path, max_epochs=3, checkpoint=False), callbacks=[Record()])
    assert len(orders) == 3 and not torch.equal(orders[0], orders[1])
    data = train.dataset.tensors[0][:, 0]
    for epoch, first in enumerate(orders):
        perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(epoch_seed(7, epoch)))
        assert torch.equal(first, data[perm[:8]]), f"epoch {epoch}"
    assert train.sampler.generator is generator and generator.initial_seed() == 7


def test_resume_with_another_thread_count_warns():
    from lstmkit.train.checkpoint import ResumeWarning, RNGState

    state = RNGState().state_dict()
    assert state["num_threads"] == torch.get_num_threads()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResumeWarning)
        RNGState().load_state_dict(state)  # the same count: silent
    state["num_threads"] = torch.get_num_threads() + 1
    with pytest.warns(ResumeWarning, match="thread"):
        RNGState().load_state_dict(state)
