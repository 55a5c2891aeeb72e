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


# --- normalisation, clip schedule, truncation bootstrapping (issue 16, part 2) ---------------------------

import gymnasium as gym  # noqa: E402
import torch  # noqa: E402

from lstmkit.rl import ActorCritic  # noqa: E402
from lstmkit.rl.norm import RewardScaler, RunningNorm  # noqa: E402
from lstmkit.rl.ppo import advantages, clip_range, collect, reset_envs, segments  # noqa: E402


def test_running_norm_matches_numpy_on_a_stream_of_uneven_batches():
    rng = np.random.default_rng(0)
    stream = rng.normal([3.0, -2.0, 0.5], [0.1, 5.0, 2.0], size=(1000, 3))
    norm = RunningNorm(3)
    for lo, hi in zip([0, 1, 8, 300, 301, 777], [1, 8, 300, 301, 777, 1000]):
        norm.update(torch.as_tensor(stream[lo:hi], dtype=torch.float32))
    want = stream.astype(np.float32).astype(np.float64)
    assert np.allclose(norm.mean.numpy(), want.mean(0), atol=1e-6, rtol=0)
    assert np.allclose(norm.var.numpy(), want.var(0), atol=1e-6, rtol=1e-9)
    assert int(norm.count) == 1000
    x = torch.as_tensor(stream[:5], dtype=torch.float32)
    expected = np.clip((stream[:5] - want.mean(0)) / np.sqrt(want.var(0) + 1e-8), -10, 10)
    assert np.allclose(norm.normalize(x).numpy(), expected, atol=1e-5)
    assert norm.normalize(torch.full((1, 3), 1e6)).max() == 10.0          # clipped


def test_reward_scaler_divides_by_the_std_of_the_discounted_return():
    scaler = RewardScaler(1, gamma=0.5)
    returns, g = [], 0.0
    for r, d in [(1.0, 0.0), (2.0, 0.0), (4.0, 1.0), (1.0, 0.0)]:
        g = 0.5 * g + r
        returns.append(g)
        out = float(scaler(torch.tensor([r]), torch.tensor([d]))[0])
        assert out == pytest.approx(min(10.0, r / np.sqrt(np.var(returns) + 1e-8)), rel=1e-6)
        g *= 1.0 - d
    assert returns == [1.0, 2.5, 5.25, 1.0]                                 # the return restarts after done
    assert out == pytest.approx(1.0 / np.std([1.0, 2.5, 5.25, 1.0]), rel=1e-6)


def _trained_tiny_policy():
    policy = ActorCritic(2, 2, hidden_size=8, head_size=8)
    policy.obs_norm.update(torch.tensor([[1.0, 10.0], [3.0, 30.0], [5.0, 20.0]]))
    return policy


def test_observation_statistics_are_frozen_in_evaluation_and_saved_with_the_policy(tmp_path):
    policy = _trained_tiny_policy()
    before = {k: v.clone() for k, v in policy.obs_norm.state_dict().items()}
    evaluate(policy, make_env("MaskedCartPole"), episodes=2)
    for k, v in policy.obs_norm.state_dict().items():
        assert torch.equal(v, before[k]), k
    torch.save(policy.state_dict(), tmp_path / "policy.pt")
    loaded = ActorCritic(2, 2, hidden_size=8, head_size=8)
    assert loaded.obs_norm.count == 0
    loaded.load_state_dict(torch.load(tmp_path / "policy.pt"))
    assert torch.equal(loaded.obs_norm.mean, policy.obs_norm.mean) and loaded.obs_norm.count == 3
    obs = torch.tensor([[2.0, 15.0]])
    a = policy.step(obs, policy.initial_state(1), torch.ones(1))
    b = loaded.step(obs, loaded.initial_state(1), torch.ones(1))
    assert torch.allclose(a[0], b[0]) and torch.allclose(a[1], b[1])
    # the normalised input, not the raw one, reaches the network
    raw = ActorCritic(2, 2, hidden_size=8, head_size=8, normalize_obs=False)
    raw.load_state_dict(policy.state_dict())
    assert not torch.allclose(raw.step(obs, raw.initial_state(1), torch.ones(1))[1], a[1])


def test_clip_range_falls_linearly_to_zero_or_stays():
    cfg = PPOConfig(clip=0.2)
    assert [clip_range(cfg, k, 4) for k in range(4)] == pytest.approx([0.2, 0.15, 0.1, 0.05])
    assert clip_range(PPOConfig(clip=0.2, clip_schedule="constant"), 3, 4) == 0.2
    with pytest.raises(ValueError, match="clip_schedule"):
        PPOConfig(clip_schedule="cosine")


class _Flat(gym.Env):
    """Observation 0, reward 1 every step; never terminates (a TimeLimit truncates it)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(1, dtype=np.float32), 1.0, False, False, {}


def _flat_rollout(bootstrap: bool, value: float = 2.0, gamma: float = 0.5):
    cfg = PPOConfig(n_envs=2, n_steps=6, seq_len=6, gamma=gamma, normalize_obs=False, normalize_reward=False,
                    bootstrap_truncation=bootstrap)
    envs = gym.vector.SyncVectorEnv([lambda: gym.wrappers.TimeLimit(_Flat(), max_episode_steps=3)] * 2,
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    policy = cfg.make_policy(1, 2)
    with torch.no_grad():
        policy.v.weight.zero_()
        policy.v.bias.fill_(value)                  # the critic says V = 2 everywhere
    rollout = collect(policy, envs, reset_envs(policy, envs, 0), cfg)
    return rollout, cfg


def test_a_time_limit_truncation_is_bootstrapped_with_the_value_of_the_final_observation():
    rollout, cfg = _flat_rollout(bootstrap=True)
    # episodes of 3 steps: truncated at t = 2 and t = 5; there r = 1 + gamma * V(final) = 1 + 0.5 * 2
    assert rollout.rew[:, 0].tolist() == [1.0, 1.0, 2.0, 1.0, 1.0, 2.0]
    assert rollout.done[:, 0].tolist() == [0, 0, 1, 0, 0, 1]
    adv, ret = advantages(rollout, cfg.gamma, 1.0)
    # lambda = 1: the return at t = 0 is 1 + 0.5 * 1 + 0.25 * 2 = 2 = V, so the advantage is 0
    assert ret[0, 0].item() == pytest.approx(2.0) and adv[0, 0].item() == pytest.approx(0.0)
    plain, _ = _flat_rollout(bootstrap=False)
    assert plain.rew[:, 0].tolist() == [1.0] * 6                           # treated as a failure


def test_segments_split_at_episode_starts_and_take_the_stored_state():
    rollout, cfg = _flat_rollout(bootstrap=True)
    rollout.states = [(torch.ones(2, 2, 64), torch.full((2, 2, 64), 2.0))]
    rollout.start[0] = 0.0                           # pretend the rollout began mid-episode
    seg = segments(rollout, cfg.seq_len)
    # each env: [0, 3) from the stored state, [3, 6) a new episode from zeros
    assert seg.lengths.tolist() == [3, 3, 3, 3]
    assert seg.time[:, 1].tolist() == [3, 4, 5]
    assert seg.h0[:, 0].eq(1).all() and seg.c0[:, 0].eq(2).all() and seg.h0[:, 1].eq(0).all()
