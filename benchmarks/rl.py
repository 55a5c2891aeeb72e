"""Recurrent PPO on partially observed control (issue 16, section 2): lstmkit.rl against memoryless
baselines and sb3-contrib's RecurrentPPO.

* masked-velocity CartPole (observation [x, theta]): recurrent PPO (lstmkit.LSTM),
  the same PPO with an MLP policy, the MLP on the last 4 frames stacked, and
  sb3-contrib's RecurrentPPO (its defaults: separate actor and critic LSTMs of 256)
  as the reference implementation, each for ``--steps`` environment steps;
* popgym's memory tasks (RepeatPreviousEasy, CountRecallEasy,
  PositionOnlyCartPoleEasy): recurrent PPO against the MLP.

Scores: mean return of 10 greedy evaluation episodes after training, per
seed; mean and standard deviation over seeds; wall time of training (1 torch thread).

    python benchmarks/rl.py                     # results/rl.json
    python benchmarks/rl.py --quick             # smoke run -> results/rl.quick.json
    python benchmarks/rl.py --only cartpole --methods lstm mlp --seeds 0
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _common import result_path

from lstmkit.io import atomic_write_json
from lstmkit.rl import PPOConfig, evaluate, make_env, train

RESULTS = Path(__file__).resolve().parent / "results"
TASKS = {
    "cartpole": ("MaskedCartPole", ("lstm", "mlp", "framestack", "sb3_recurrent_ppo")),
    "repeat_previous": ("popgym-RepeatPreviousEasy-v0", ("lstm", "mlp")),
    "count_recall": ("popgym-CountRecallEasy-v0", ("lstm", "mlp")),
    "position_only_cartpole": ("popgym-PositionOnlyCartPoleEasy-v0", ("lstm", "mlp")),
}
PPO = {k: v for k, v in dataclasses.asdict(PPOConfig()).items() if k not in ("total_steps", "memory", "seed")}


def run_ours(env_id: str, method: str, steps: int, seed: int) -> dict[str, Any]:
    memory = "lstm" if method == "lstm" else "none"
    frames = 4 if method == "framestack" else 1
    env = make_env(env_id, frame_stack=frames)
    result = train(env, PPOConfig(total_steps=steps, memory=memory, seed=seed, **PPO))
    scores = evaluate(result.policy, env, episodes=10, seed=10_000 + 100 * seed)
    return {"seed": seed, "return": float(np.mean(scores)), "train_return_last20": result.final_return(),
            "seconds": round(result.seconds, 1)}


def run_sb3(env_id: str, steps: int, seed: int) -> dict[str, Any]:
    import gymnasium as gym
    from sb3_contrib import RecurrentPPO

    started = time.perf_counter()
    venv_fn = make_env(env_id)
    model = RecurrentPPO("MlpLstmPolicy", venv_fn(), seed=seed, verbose=0, device="cpu")
    model.learn(total_timesteps=steps)
    seconds = time.perf_counter() - started
    scores = []
    for k in range(10):
        env: gym.Env = venv_fn()
        obs, _ = env.reset(seed=10_000 + 100 * seed + k)
        state, start, total, done = None, np.ones((1,), dtype=bool), 0.0, False
        while not done:
            action, state = model.predict(obs, state=state, episode_start=start, deterministic=True)
            obs, reward, term, trunc, _ = env.step(int(action))
            total += float(reward)
            done, start = bool(term or trunc), np.zeros((1,), dtype=bool)
        scores.append(total)
    return {"seed": seed, "return": float(np.mean(scores)), "seconds": round(seconds, 1)}


SELECTION = {
    "protocol": "no search: every method uses fixed settings set before any run (the recurrent PPO "
                "takes RL Zoo's published recurrent-PPO settings for masked CartPole, the MLP and "
                "frame-stacking baselines the same PPO settings); each run reports the mean return of "
                "evaluation episodes after training. One earlier design (a shared actor-critic trunk "
                "with 128-step rollouts) was tried first on masked CartPole and dropped when it stayed "
                "at a return of about 20; the published settings replaced it, unchanged.",
    "validation_scores": {},
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 4096 steps, one seed")
    parser.add_argument("--out", default=None, help="JSON to write (default: results/rl.json; --quick: *.quick.json)")
    parser.add_argument("--steps", type=int, default=100_000, help="environment steps per run")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--only", nargs="*", default=None, choices=tuple(TASKS))
    parser.add_argument("--methods", nargs="*", default=None,
                        choices=("lstm", "mlp", "framestack", "sb3_recurrent_ppo"))
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("rl", args.out, args.quick)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    steps, seeds = (4096, [0]) if args.quick else (args.steps, args.seeds)
    path = output_path(args)
    report: dict[str, Any] = {}
    if path.is_file() and not args.quick:
        import json

        report = json.loads(path.read_text())
    report.update({"ppo": PPO, "threads": 1, "quick": args.quick, "selection": SELECTION})
    report.setdefault("tasks", {})
    for task in args.only or TASKS:
        env_id, methods = TASKS[task]
        entry = report["tasks"].setdefault(task, {"env": env_id, "steps": steps, "methods": {}})
        for method in methods:
            if args.methods and method not in args.methods:
                continue
            runs = []
            for seed in seeds:
                run = run_sb3(env_id, steps, seed) if method == "sb3_recurrent_ppo" else \
                    run_ours(env_id, method, steps, seed)
                runs.append(run)
                print(f"{task:24s} {method:18s} seed {seed}: return {run['return']:.3f} in {run['seconds']} s",
                      flush=True)
            returns = [r["return"] for r in runs]
            entry["methods"][method] = {"runs": runs, "return_mean": float(np.mean(returns)),
                                        "return_std": float(np.std(returns)), "steps": steps,
                                        "seconds_mean": float(np.mean([r["seconds"] for r in runs]))}
            atomic_write_json(path, report)
    for task, entry in report["tasks"].items():
        for method, row in entry["methods"].items():
            print(f"| {task} | {method} | {row['return_mean']:.2f} ± {row['return_std']:.2f} | "
                  f"{len(row['runs'])} | {row['steps']} | {row['seconds_mean']:.0f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
