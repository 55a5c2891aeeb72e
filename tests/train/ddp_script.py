"""Subprocess of the DDP test: train TinyRegression on 2 CPU processes (gloo), then predict here.

usage: ddp_script.py RUN_DIR MODEL_DIR OUT.pt
"""

import sys

import torch
from train_helpers import fresh_model, make_data, one_thread

from lstmkit.train import TrainConfig, fit, load_model, save_model

if __name__ == "__main__":
    one_thread()
    run_dir, model_dir, out = sys.argv[1], sys.argv[2], sys.argv[3]
    model = fresh_model()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    train, val = make_data(n=64, batch_size=16)
    config = TrainConfig(max_epochs=3, lr=3e-2, devices=2, strategy="ddp", accelerator="cpu",
                         progress=False, run_dir=run_dir, restore_best=False)
    result = fit(model, train, val, config)
    model.eval()
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        prediction = model(x)
    save_model(model_dir, task="tiny", config={"hidden": 16}, state_dict=model.state_dict())
    loaded = fresh_model(seed=7)
    load_model(model_dir, task="tiny").load_into(loaded)
    loaded.eval()
    with torch.no_grad():
        reloaded = loaded(x)
    changed = any(not torch.equal(initial[k], v) for k, v in model.state_dict().items())
    torch.save({"prediction": prediction, "reloaded": reloaded, "changed": changed,
                "epochs": result.epochs, "step": result.global_step,
                "history": list(result.history), "last": str(result.last_checkpoint)}, out)
