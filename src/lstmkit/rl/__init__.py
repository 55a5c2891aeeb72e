"""Recurrent policies for partially observed control: recurrent PPO on lstmkit's LSTM (example grade).

    from lstmkit.rl import PPOConfig, make_env, train, evaluate
    result = train(make_env("MaskedCartPole"), PPOConfig(total_steps=100_000))
    evaluate(result.policy, make_env("MaskedCartPole"))

Needs the ``rl`` extra (``pip install lstmkit[rl]``: gymnasium, popgym, sb3-contrib).
"""

from lstmkit.rl.envs import MaskVelocity, RepeatFirst, make_env
from lstmkit.rl.policy import ActorCritic
from lstmkit.rl.ppo import PPOConfig, PPOResult, evaluate, train

__all__ = ["ActorCritic", "MaskVelocity", "PPOConfig", "PPOResult", "RepeatFirst", "evaluate", "make_env", "train"]
