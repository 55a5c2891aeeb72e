"""Recurrent policies for partially observed control: recurrent PPO on lstmkit's LSTM (example grade).

    from lstmkit.rl import PPOConfig, make_env, train, evaluate
    result = train(make_env("MaskedCartPole"), PPOConfig(total_steps=100_000))
    evaluate(result.policy, make_env("MaskedCartPole"))

Needs the ``rl`` extra (``pip install lstmkit[rl]``: gymnasium, popgym, sb3-contrib).
"""

from lstmkit._extras import require

require("rl", "gymnasium", feature="lstmkit.rl")  # one line naming the extra, not a deep ImportError

from lstmkit.rl.envs import MaskVelocity, RepeatFirst, make_env  # noqa: E402
from lstmkit.rl.norm import RewardScaler, RunningNorm  # noqa: E402
from lstmkit.rl.policy import ActorCritic  # noqa: E402
from lstmkit.rl.ppo import PPOConfig, PPOResult, evaluate, train  # noqa: E402

__all__ = ["ActorCritic", "MaskVelocity", "PPOConfig", "PPOResult", "RepeatFirst", "RewardScaler", "RunningNorm", "evaluate", "make_env", "train"]
