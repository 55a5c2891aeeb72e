"""fit(): training, validation, early stopping, clipping, schedules, precision, seeding, files."""

from __future__ import annotations

import math
import os

import pytest
import torch
from train_helpers import TinyRegression, fresh_model, make_data

from lstmkit.train import FitResult, TaskModule, TrainConfig, WarmupDecay, fit

QUIET = {"progress": False}


def test_fit_reduces_loss_and_reports(tmp_path):
    model = fresh_model()
    train, val = make_data()
    result = fit(model, train, val, TrainConfig(max_epochs=4, lr=1e-2, run_dir=str(tmp_path), **QUIET))
    assert isinstance(result, FitResult)
    assert result.epochs == 4 and result.global_step == 4 * len(train)
    assert [r["epoch"] for r in result.history] == [0.0, 1.0, 2.0, 3.0]
    losses = [r["val_loss"] for r in result.history]
    assert losses[-1] < 0.5 * losses[0]
    assert result.best_score == min(losses)
    assert result.history[0]["train_loss"] > result.history[-1]["train_loss"]
    assert result.last_checkpoint == tmp_path / "checkpoints" / "last.ckpt"
    assert result.last_checkpoint.is_file() and result.best_checkpoint.is_file()
    assert not [p for p in tmp_path.rglob("*.tmp")], "temporary checkpoint files left behind"
    assert list((tmp_path / "logs").rglob("metrics.csv"))


def test_restore_best_loads_best_checkpoint_weights(tmp_path):
    model = fresh_model()
    train, val = make_data()
    result = fit(model, train, val, TrainConfig(max_epochs=3, lr=1e-2, run_dir=str(tmp_path), **QUIET))
    best = torch.load(result.best_checkpoint, weights_only=False)["state_dict"]
    for name, value in model.state_dict().items():
        assert torch.equal(value, best[name])


def test_restore_best_in_memory_without_checkpoints(tmp_path):
    model = fresh_model()
    train, val = make_data()
    config = TrainConfig(max_epochs=4, lr=0.3, checkpoint=False, run_dir=str(tmp_path), **QUIET)
    result = fit(model, train, val, config)  # lr 0.3 overshoots: the last epoch is not the best
    assert result.history[-1]["val_loss"] > result.best_score
    model.eval()
    x, y = val.dataset.tensors
    with torch.no_grad():
        loss = torch.nn.functional.mse_loss(model(x), y)
    assert loss.item() == pytest.approx(result.best_score, rel=1e-5)
    assert result.best_checkpoint is None and not (tmp_path / "checkpoints").exists()


def test_max_steps_stops_mid_epoch():
    model = fresh_model()
    train, _ = make_data()
    result = fit(model, train, None, TrainConfig(max_epochs=50, max_steps=5, **QUIET))
    assert result.global_step == 5
    assert result.best_score is None and result.run_dir is None


@pytest.mark.parametrize("max_epochs, max_steps", [(2, 1000), (50, 5), (3, -1)])
def test_step_schedule_is_as_long_as_the_fit(max_epochs, max_steps):
    """The cosine schedule spans min(max_steps, max_epochs x batches): whichever limit ends
    the fit first, the rate reaches its floor on the last step."""
    model = fresh_model()
    train, _ = make_data()
    result = fit(model, train, None, TrainConfig(max_epochs=max_epochs, max_steps=max_steps, lr=1e-2,
                                                 schedule="cosine", min_lr_ratio=0.05, warmup_steps=0,
                                                 **QUIET))
    taken = max_epochs * len(train) if max_steps < 0 else min(max_steps, max_epochs * len(train))
    assert result.global_step == taken
    multiplier = model.lr_schedulers().lr_lambdas[0]
    assert multiplier.total_steps == taken
    assert multiplier(taken) == pytest.approx(0.05, abs=1e-6)


def test_no_files_left_in_cwd_without_run_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = fresh_model()
    train, val = make_data()
    result = fit(model, train, val, TrainConfig(max_epochs=2, **QUIET))
    assert list(tmp_path.iterdir()) == []
    assert result.run_dir is None and result.last_checkpoint is None


class Stagnant(TinyRegression):
    """Validation loss that never improves after the first epoch."""

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", torch.tensor(1.0) + 0.0 * self.current_epoch)


def test_early_stopping_stops_after_patience():
    torch.manual_seed(0)
    model = Stagnant()
    train, val = make_data()
    config = TrainConfig(max_epochs=20, early_stopping_patience=2, **QUIET)
    result = fit(model, train, val, config)
    assert result.stopped_early
    assert result.epochs == 3  # epoch 0 sets the best, epochs 1 and 2 do not improve


def test_early_stopping_needs_validation():
    model = fresh_model()
    train, _ = make_data()
    with pytest.raises(ValueError, match="needs val_dataloaders"):
        fit(model, train, None, TrainConfig(early_stopping_patience=2, **QUIET))


class GradientRecorder(TinyRegression):
    """Scales the loss up and records the gradient norm the optimizer actually sees."""

    def __init__(self):
        super().__init__()
        self.norms: list[float] = []
        self.lrs: list[float] = []

    def training_step(self, batch, batch_idx):
        return 1e4 * super().training_step(batch, batch_idx)

    def configure_optimizers(self):
        config = super().configure_optimizers()
        optimizer = config["optimizer"] if isinstance(config, dict) else config

        def record(opt, args, kwargs):
            grads = [p.grad.norm() for p in self.parameters() if p.grad is not None]
            self.norms.append(float(torch.linalg.vector_norm(torch.stack(grads))))
            self.lrs.append(opt.param_groups[0]["lr"])

        optimizer.register_step_post_hook(record)
        return config


def test_gradient_clipping_bounds_the_norm():
    train, _ = make_data()
    torch.manual_seed(0)
    clipped = GradientRecorder()
    fit(clipped, train, None, TrainConfig(max_epochs=1, gradient_clip_val=0.5, **QUIET))
    torch.manual_seed(0)
    free = GradientRecorder()
    fit(free, train, None, TrainConfig(max_epochs=1, gradient_clip_val=None, **QUIET))
    assert len(clipped.norms) == len(train)
    assert max(clipped.norms) <= 0.5 * (1 + 1e-5)
    assert min(free.norms) > 1.0


def test_cosine_schedule_with_warmup_follows_the_formula():
    train, _ = make_data()  # 8 batches per epoch
    torch.manual_seed(0)
    model = GradientRecorder()
    config = TrainConfig(max_epochs=2, lr=0.1, schedule="cosine", warmup_steps=4, min_lr_ratio=0.1, **QUIET)
    fit(model, train, None, config)
    rule = WarmupDecay("cosine", 4, 16, 0.1)
    assert model.lrs == pytest.approx([0.1 * rule(t) for t in range(16)])
    assert model.lrs[3] == pytest.approx(0.1) and model.lrs[-1] < 0.15


def test_warmup_decay_shapes():
    linear = WarmupDecay("linear", 0, 10, 0.0)
    assert [linear(t) for t in (0, 5, 10, 20)] == pytest.approx([1.0, 0.5, 0.0, 0.0])
    cosine = WarmupDecay("cosine", 0, 10, 0.2)
    assert cosine(5) == pytest.approx(0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi / 2)))
    assert WarmupDecay("constant", 3, 3, 0.0)(1) == pytest.approx(2 / 3)


def test_same_seed_same_weights_and_deterministic_flag_restored():
    train, val = make_data()
    before = torch.are_deterministic_algorithms_enabled()
    states = []
    for _ in range(2):
        model = fresh_model(seed=3)
        fit(model, train, val, TrainConfig(max_epochs=2, seed=5, deterministic=True, **QUIET))
        states.append(model.state_dict())
    assert torch.are_deterministic_algorithms_enabled() == before
    for name in states[0]:
        assert torch.equal(states[0][name], states[1][name])


def test_bf16_mixed_precision_on_cpu_trains():
    model = fresh_model()
    train, val = make_data()
    result = fit(model, train, val, TrainConfig(max_epochs=2, lr=1e-2, precision="bf16-mixed", **QUIET))
    assert math.isfinite(result.history[-1]["val_loss"])
    assert next(model.parameters()).dtype == torch.float32  # weights stay float32 under autocast


def test_fp16_mixed_on_cpu_is_refused():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: 16-mixed is valid there")
    model = fresh_model()
    train, _ = make_data()
    with pytest.raises(ValueError, match="16-mixed"):
        fit(model, train, None, TrainConfig(precision="16-mixed", **QUIET))


def test_fit_rejects_wrong_types():
    train, _ = make_data()
    with pytest.raises(TypeError, match="TaskModule"):
        fit(torch.nn.Linear(2, 2), train)
    with pytest.raises(TypeError, match="TrainConfig"):
        fit(fresh_model(), train, None, {"max_epochs": 1})


class NoParams(TaskModule):
    def training_step(self, batch, batch_idx):
        return torch.zeros((), requires_grad=True)


def test_module_without_parameters_fails_clearly():
    train, _ = make_data()
    with pytest.raises(ValueError, match="no trainable parameters"):
        fit(NoParams(), train, None, TrainConfig(max_epochs=1, **QUIET))


def test_resume_from_explicit_missing_checkpoint():
    train, _ = make_data()
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        fit(fresh_model(), train, None, TrainConfig(resume=os.path.join("nowhere", "x.ckpt"), **QUIET))


def test_precision_and_accelerator_resolution():
    from lstmkit.train.engine import _resolve_accelerator, _resolve_precision

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present; this checks the CPU-only resolution")
    assert _resolve_accelerator(TrainConfig()) == "cpu"
    assert _resolve_precision(TrainConfig(precision="auto"), "cpu") == "32-true"
    assert _resolve_precision(TrainConfig(precision="bf16-mixed"), "cpu") == "bf16-mixed"
    with pytest.raises(ValueError, match="no CUDA device is available"):
        _resolve_accelerator(TrainConfig(accelerator="gpu"))


class BlowsUp(TinyRegression):
    """Its loss becomes NaN at the third batch of the second epoch."""

    def training_step(self, batch, batch_idx):
        loss = super().training_step(batch, batch_idx)
        if self.current_epoch == 1 and batch_idx == 2:
            return loss * float("nan")
        return loss


def test_a_non_finite_loss_stops_the_fit_at_its_step(tmp_path):
    from lstmkit.train.engine import NonFiniteLossError

    torch.manual_seed(0)
    train, val = make_data()  # 8 batches per epoch: the NaN comes at step 8 + 3 = 11
    with pytest.raises(NonFiniteLossError, match=r"training loss became nan at step 11 \(epoch 1, batch 2\)") as info:
        fit(BlowsUp(), train, val, TrainConfig(max_epochs=3, progress=False, checkpoint=False))
    assert "\n" not in str(info.value)
