"""Subprocess half of the kill-and-resume test: train (or resume) TinyRegression, save weights.

usage: resume_script.py RUN_DIR EPOCHS OUT.pt [--resume] [--sleep SECONDS]
"""

import sys

import torch
from train_helpers import fresh_model, make_data, one_thread

from lstmkit.train import TrainConfig, fit

if __name__ == "__main__":
    one_thread()
    run_dir, epochs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sleep = float(sys.argv[sys.argv.index("--sleep") + 1]) if "--sleep" in sys.argv else 0.0
    config = TrainConfig(
        max_epochs=epochs, lr=1e-2, schedule="cosine", restore_best=False, progress=False,
        run_dir=run_dir, resume="last" if "--resume" in sys.argv else None,
    )
    model = fresh_model(step_sleep=sleep)
    train, val = make_data()
    result = fit(model, train, val, config)
    torch.save({"state": model.state_dict(), "epochs": result.epochs,
                "history": len(result.history), "step": result.global_step}, out)
