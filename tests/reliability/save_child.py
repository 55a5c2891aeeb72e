"""Subprocess half of the save-safety tests.

usage:
  save_child.py save DEST VALUE [--hold SECONDS] [--exchange|--no-exchange] [--die-at-rename N]
      save a one-tensor model (every weight = VALUE) at DEST; --hold sleeps while
      holding the writer lock; --die-at-rename N ends the process with os._exit
      right before the N-th directory rename (a crash).
  save_child.py fit RUN_DIR
      a slow TinyRegression fit in RUN_DIR (holds the run lock for a while).
"""

import os
import sys
import time

import torch

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "fit":
        from train_helpers import fresh_model, make_data

        from lstmkit.train import TrainConfig, fit

        train, val = make_data()
        fit(fresh_model(step_sleep=0.2), train, val,
            TrainConfig(max_epochs=50, progress=False, run_dir=sys.argv[2]))
        sys.exit(0)
    import safetensors.torch

    from lstmkit.train import model_dir, save_model

    dest, value = sys.argv[2], float(sys.argv[3])
    if "--no-exchange" in sys.argv:
        model_dir.EXCHANGE_AVAILABLE = False
    if "--hold" in sys.argv:
        seconds = float(sys.argv[sys.argv.index("--hold") + 1])
        real_save = safetensors.torch.save

        def slow_save(*args, **kwargs):
            print("locked", flush=True)
            time.sleep(seconds)
            return real_save(*args, **kwargs)

        safetensors.torch.save = slow_save
    if "--die-at-rename" in sys.argv:
        limit = int(sys.argv[sys.argv.index("--die-at-rename") + 1])
        calls = {"n": 0}

        def crashing(real):
            def rename(src, dst, *args, **kwargs):
                if os.path.isdir(src):
                    calls["n"] += 1
                    if calls["n"] == limit:
                        os._exit(9)
                return real(src, dst, *args, **kwargs)
            return rename

        os.rename, os.replace = crashing(os.rename), crashing(os.replace)
    save_model(dest, task="t", config={"value": value}, state_dict={"w": torch.full((4,), value)})
