"""The memory path of lstmkit.rl: a recurrent policy solves "repeat the first observation"; an MLP cannot."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gymnasium")

from lstmkit.rl import PPOConfig, RepeatFirst, evaluate, make_env, train  # noqa: E402

SYMBOLS, LENGTH = 4, 8


def _config(memory: str) -> PPOConfig:
    return PPOConfig(total_steps=16 * 64 * 16, n_envs=16, n_steps=64, seq_len=8, hidden_size=32, lr=3e-3,
                     gamma=0.9, memory=memory, seed=0)


def test_repeat_first_rewards_only_the_first_symbol():
    env = RepeatFirst(SYMBOLS, LENGTH)
    obs, _ = env.reset(seed=3)
    symbol = int(obs.argmax())
    total, done = 0.0, False
    while not done:
        obs, reward, done, _, _ = env.step(symbol)
        assert not obs.any()                       # nothing to see after the first step
        total += reward
    assert total == pytest.approx(1.0)


def test_recurrent_policy_solves_it_and_a_memoryless_one_cannot():
    env = make_env("RepeatFirst", symbols=SYMBOLS, length=LENGTH)
    lstm = train(env, _config("lstm"))
    mlp = train(env, _config("none"))
    memoryless_best = 1 / LENGTH + (1 - 1 / LENGTH) / SYMBOLS       # 0.34 in expectation
    lstm_score = np.mean(evaluate(lstm.policy, env, episodes=40))
    mlp_score = np.mean(evaluate(mlp.policy, env, episodes=40))
    assert lstm_score > 0.9, lstm_score
    assert mlp_score < memoryless_best + 0.25, mlp_score


def test_masked_cartpole_hides_velocities_and_frame_stacking_widens_the_observation():
    env = make_env("MaskedCartPole")()
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2,)
    stacked = make_env("MaskedCartPole", frame_stack=4)()
    assert stacked.reset(seed=0)[0].shape == (8,)


def test_config_checks():
    with pytest.raises(ValueError, match="multiple of seq_len"):
        PPOConfig(n_steps=100, seq_len=16)
    with pytest.raises(ValueError, match="burn_in"):
        PPOConfig(seq_len=8, burn_in=8)
