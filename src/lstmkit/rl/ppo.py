r"""Recurrent PPO (Schulman et al. 2017, with an LSTM policy) on gymnasium vector environments.

One update: ``n_envs`` environments run ``n_steps`` steps with the current
policy, carrying the LSTM state across steps and zeroing it where an episode
begins. Observations are normalised by running statistics and rewards scaled
by the running std of the discounted return (:mod:`lstmkit.rl.norm`; options
``normalize_obs``, ``normalize_reward``). An episode cut by a time limit is not
a failure: with ``bootstrap_truncation`` its last reward becomes
:math:`r_t + \gamma V(o^{\mathrm{final}}_t)`, the critic's value of the final
observation (from the state after step :math:`t`). Advantages are GAE(:math:`\gamma, \lambda`):

.. math::
    \delta_t = r_t + \gamma V_{t+1} (1 - d_t) - V_t, \qquad
    \hat A_t = \delta_t + \gamma\lambda (1 - d_t) \hat A_{t+1}, \qquad \hat R_t = \hat A_t + V_t

with :math:`d_t = 1` where an episode ended (terminated or truncated). The
rollout of each environment is cut into segments at every episode start and
every ``seq_len`` steps (truncated back-propagation through time); each
segment starts from the LSTM state the rollout had there (zero at an episode
start), and all segments run padded in one LSTM call per network. In a segment
that does not begin an episode, the first ``burn_in`` steps carry no loss (they
only refresh the stored state, as in R2D2). The loss over the other steps, on
``minibatches`` random sets of segments for ``epochs`` passes, is

.. math::
    L = -\mathbb{E}\big[\min(\rho_t \hat A_t, \mathrm{clip}(\rho_t, 1 \pm \epsilon_k) \hat A_t)\big]
        + c_v\,\mathbb{E}\big[(V_t - \hat R_t)^2\big] - c_H\,\mathbb{E}[H(\pi_t)],
    \qquad \rho_t = \pi(a_t \mid o_{\le t}) / \pi_{\mathrm{old}}(a_t \mid o_{\le t})

with advantages normalised per minibatch and the gradient norm clipped. The
learning rate and (with ``clip_schedule="linear"``) the clip range
:math:`\epsilon_k = \epsilon (1 - k/K)` fall linearly to 0 over the K updates.
``memory="none"`` is the same algorithm with a memoryless policy; frame
stacking is an environment wrapper (:func:`lstmkit.rl.envs.make_env`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.distributions import Categorical

from lstmkit.rl.norm import RewardScaler
from lstmkit.rl.policy import ActorCritic, State


@dataclass(frozen=True)
class PPOConfig:
    """PPO knobs. Defaults: RL Zoo's published recurrent-PPO settings for masked CartPole
    (CartPoleNoVel-v1: VecNormalize on observations and rewards, LSTM 64 then a 64-unit ReLU head
    per actor and critic, default init, linear lr and clip schedules, truncations bootstrapped)."""

    total_steps: int = 100_000
    n_envs: int = 8
    n_steps: int = 32
    seq_len: int = 32
    burn_in: int = 0
    epochs: int = 20
    minibatches: int = 1
    lr: float = 1e-3
    gamma: float = 0.98
    gae_lambda: float = 0.8
    clip: float = 0.2
    clip_schedule: str = "linear"
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden_size: int = 64
    head_size: int = 64
    layout: str = "zoo"
    activation: str = "relu"
    ortho_init: bool = False
    normalize_obs: bool = True
    normalize_reward: bool = True
    norm_clip: float = 10.0
    bootstrap_truncation: bool = True
    memory: str = "lstm"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_steps % self.seq_len:
            raise ValueError(f"n_steps ({self.n_steps}) must be a multiple of seq_len ({self.seq_len})")
        if not 0 <= self.burn_in < self.seq_len:
            raise ValueError(f"burn_in must be in [0, seq_len), got {self.burn_in}")
        if self.memory not in ("lstm", "none"):
            raise ValueError(f"memory: expected 'lstm' or 'none', got {self.memory!r}")
        if self.clip_schedule not in ("linear", "constant"):
            raise ValueError(f"clip_schedule: expected 'linear' or 'constant', got {self.clip_schedule!r}")

    def make_policy(self, obs_size: int, n_actions: int) -> ActorCritic:
        return ActorCritic(obs_size, n_actions, self.hidden_size, self.memory, layout=self.layout,
                           activation=self.activation, head_size=self.head_size,
                           normalize_obs=self.normalize_obs, ortho_init=self.ortho_init)


def clip_range(config: PPOConfig, update: int, updates: int) -> float:
    """The clip range of update ``update`` (0-based) of ``updates``: constant, or linear to 0."""
    if config.clip_schedule == "constant":
        return config.clip
    return config.clip * (1.0 - update / updates)


@dataclass
class PPOResult:
    """The trained policy, ``(env step, return)`` of every finished episode, and the wall time."""

    policy: ActorCritic
    episodes: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0

    def final_return(self, last: int = 20) -> float:
        """Mean return of the last ``last`` finished training episodes."""
        values = [r for _, r in self.episodes[-last:]]
        return float(np.mean(values)) if values else float("nan")


def _obs(x: Any) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float32))


@dataclass
class Carry:
    """What one rollout hands the next: current observations, LSTM state, episode-start flags."""

    obs: torch.Tensor
    state: State
    starts: torch.Tensor
    running: np.ndarray
    global_step: int = 0


@dataclass
class Rollout:
    """Buffers of one rollout, each (T, N, ...); ``states[j]`` the state before step ``j * seq_len``."""

    obs: torch.Tensor
    act: torch.Tensor
    logp: torch.Tensor
    val: torch.Tensor
    rew: torch.Tensor
    done: torch.Tensor
    start: torch.Tensor
    states: list[State]
    last_value: torch.Tensor


def reset_envs(policy: ActorCritic, envs: Any, seed: int, update_norm: bool = True) -> Carry:
    """Reset ``envs`` and return the first :class:`Carry`."""
    raw, _ = envs.reset(seed=seed)
    obs = _obs(raw).reshape(envs.num_envs, -1)
    if update_norm and policy.normalize_obs:
        policy.obs_norm.update(obs)
    n = envs.num_envs
    return Carry(obs, policy.initial_state(n), torch.ones(n), np.zeros(n))


@torch.no_grad()
def collect(policy: ActorCritic, envs: Any, carry: Carry, config: PPOConfig,
            scaler: RewardScaler | None = None, episodes: list[tuple[int, float]] | None = None) -> Rollout:
    """Run ``config.n_steps`` steps of every env (see the module docstring); updates ``carry``,
    the observation statistics and ``scaler``; appends finished episodes' raw returns to ``episodes``."""
    steps, n, cfg = config.n_steps, envs.num_envs, config
    b_obs = torch.zeros(steps, n, carry.obs.shape[1])
    b_act = torch.zeros(steps, n, dtype=torch.long)
    b_logp, b_val, b_rew, b_done, b_start = (torch.zeros(steps, n) for _ in range(5))
    states = []
    obs, state, starts = carry.obs, carry.state, carry.starts
    for t in range(steps):
        if t % cfg.seq_len == 0:
            states.append(state)
        logits, value, state = policy.step(obs, state, starts)
        dist = Categorical(logits=logits)
        action = dist.sample()
        raw, reward, term, trunc, info = envs.step(action.numpy())
        done = np.logical_or(term, trunc)
        b_obs[t], b_act[t], b_logp[t], b_val[t], b_start[t] = obs, action, dist.log_prob(action), value, starts
        carry.running += reward
        carry.global_step += n
        for i in np.flatnonzero(done):
            if episodes is not None:
                episodes.append((carry.global_step, float(carry.running[i])))
            carry.running[i] = 0.0
        r, d = _obs(reward), _obs(done)
        if scaler is not None:
            r = scaler(r, d)
        cut = np.flatnonzero(np.logical_and(trunc, np.logical_not(term)))
        if cfg.bootstrap_truncation and len(cut):
            final = _obs(np.stack([info["final_obs"][i] for i in cut])).reshape(len(cut), -1)
            idx = torch.as_tensor(cut)
            sub = (state[0][:, idx], state[1][:, idx])
            _, final_value, _ = policy.step(final, sub, torch.zeros(len(cut)))
            r[idx] += cfg.gamma * final_value
        b_rew[t], b_done[t] = r, d
        obs, starts = _obs(raw).reshape(n, -1), d
        if policy.normalize_obs:
            policy.obs_norm.update(obs)
    _, last_value, _ = policy.step(obs, state, starts)
    carry.obs, carry.state, carry.starts = obs, state, starts
    return Rollout(b_obs, b_act, b_logp, b_val, b_rew, b_done, b_start, states, last_value)


def advantages(rollout: Rollout, gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE advantages and returns (T, N) of a rollout (module docstring)."""
    steps = rollout.rew.shape[0]
    adv = torch.zeros_like(rollout.rew)
    gae = torch.zeros(rollout.rew.shape[1])
    for t in reversed(range(steps)):
        next_value = rollout.last_value if t == steps - 1 else rollout.val[t + 1]
        alive = 1.0 - rollout.done[t]
        delta = rollout.rew[t] + gamma * next_value * alive - rollout.val[t]
        gae = delta + gamma * lam * alive * gae
        adv[t] = gae
    return adv, adv + rollout.val


@dataclass
class Segments:
    """Padded segments: ``time``/``env`` (L, S) gather indices, ``valid`` (L, S) loss mask, ``lengths`` (S,),
    ``h0``/``c0`` (2, S, H) the state at each segment's first step."""

    time: torch.Tensor
    env: torch.Tensor
    valid: torch.Tensor
    lengths: torch.Tensor
    h0: torch.Tensor
    c0: torch.Tensor


def segments(rollout: Rollout, seq_len: int, burn_in: int = 0) -> Segments:
    """Cut each env's rollout at episode starts and every ``seq_len`` steps (module docstring)."""
    start = rollout.start.numpy()
    steps, n = start.shape
    pieces = []                                         # (env, t0, t1, from a stored chunk state)
    for i in range(n):
        cuts = sorted({0, *range(seq_len, steps, seq_len), *np.flatnonzero(start[1:, i] > 0) + 1})
        for t0, t1 in zip(cuts, [*cuts[1:], steps]):
            pieces.append((i, t0, t1))
    longest = max(t1 - t0 for _, t0, t1 in pieces)
    offs = np.arange(longest)[:, None]
    t0s = np.array([p[1] for p in pieces])
    lens = np.array([p[2] - p[1] for p in pieces])
    envs = np.array([p[0] for p in pieces])
    time_idx = np.minimum(t0s[None, :] + offs, steps - 1)
    valid = offs < lens[None, :]
    if burn_in:
        fresh = start[t0s, envs] > 0                  # segments beginning an episode need no burn-in
        valid &= (offs >= burn_in) | fresh[None, :]
    h_all = torch.stack([s[0] for s in rollout.states])   # (chunks, 2, N, H)
    c_all = torch.stack([s[1] for s in rollout.states])
    keep = torch.as_tensor(1.0 - start[t0s, envs], dtype=torch.float32).view(1, -1, 1)
    chunk = torch.as_tensor(t0s // seq_len)
    env_t = torch.as_tensor(envs)
    # a segment starting mid-chunk starts an episode (state zero); at a chunk boundary it takes the stored state
    at_boundary = torch.as_tensor((t0s % seq_len) == 0, dtype=torch.float32).view(1, -1, 1)
    h0 = h_all[chunk, :, env_t].transpose(0, 1) * keep * at_boundary
    c0 = c_all[chunk, :, env_t].transpose(0, 1) * keep * at_boundary
    return Segments(torch.as_tensor(time_idx), env_t.expand(longest, -1), torch.as_tensor(valid),
                    torch.as_tensor(lens), h0.contiguous(), c0.contiguous())


def train(env_fn: Callable[[], Any], config: PPOConfig = PPOConfig(), log: Callable[[str], None] | None = None
          ) -> PPOResult:
    """Train a policy with PPO on ``config.n_envs`` copies of ``env_fn()``; see the module docstring."""
    import gymnasium as gym

    cfg = config
    torch.manual_seed(cfg.seed)
    envs = gym.vector.SyncVectorEnv([env_fn] * cfg.n_envs, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    if not isinstance(envs.single_action_space, gym.spaces.Discrete):
        raise ValueError("lstmkit.rl: only discrete action spaces are supported")
    obs_size = int(np.prod(envs.single_observation_space.shape))
    policy = cfg.make_policy(obs_size, int(envs.single_action_space.n))
    optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.lr, eps=1e-5)
    result = PPOResult(policy)
    started = time.perf_counter()
    scaler = RewardScaler(cfg.n_envs, cfg.gamma, cfg.norm_clip) if cfg.normalize_reward else None
    carry = reset_envs(policy, envs, cfg.seed)
    updates = max(1, cfg.total_steps // (cfg.n_envs * cfg.n_steps))
    for update in range(updates):
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * (1.0 - update / updates)                # linear decay
        eps = clip_range(cfg, update, updates)
        rollout = collect(policy, envs, carry, cfg, scaler, result.episodes)
        adv, ret = advantages(rollout, cfg.gamma, cfg.gae_lambda)
        seg = segments(rollout, cfg.seq_len, cfg.burn_in)
        s_obs = rollout.obs[seg.time, seg.env]                            # (L, S, D)
        s_act, s_logp = rollout.act[seg.time, seg.env], rollout.logp[seg.time, seg.env]
        s_adv, s_ret = adv[seg.time, seg.env], ret[seg.time, seg.env]
        count = s_obs.shape[1]
        per_batch = max(1, count // cfg.minibatches)
        for _ in range(cfg.epochs):
            order = torch.randperm(count)
            for k in range(0, count, per_batch):
                idx = order[k:k + per_batch]
                mask = seg.valid[:, idx]
                logits, values = policy.sequences(s_obs[:, idx], seg.lengths[idx], (seg.h0[:, idx], seg.c0[:, idx]))
                logits, values = logits[mask], values[mask]
                dist = Categorical(logits=logits)
                a = s_act[:, idx][mask]
                ratio = torch.exp(dist.log_prob(a) - s_logp[:, idx][mask])
                advantage = s_adv[:, idx][mask]
                advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
                policy_loss = -torch.min(ratio * advantage, ratio.clamp(1 - eps, 1 + eps) * advantage).mean()
                value_loss = (values - s_ret[:, idx][mask]).pow(2).mean()
                loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * dist.entropy().mean()
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
                optimizer.step()
        if log is not None and (update + 1) % max(1, updates // 10) == 0:
            log(f"step {carry.global_step}: mean return of the last 20 episodes {result.final_return():.3f} "
                f"({time.perf_counter() - started:.0f} s)")
    envs.close()
    result.seconds = time.perf_counter() - started
    return result


@torch.no_grad()
def evaluate(policy: ActorCritic, env_fn: Callable[[], Any], episodes: int = 10, seed: int = 1000,
             greedy: bool = True) -> list[float]:
    """Returns of ``episodes`` episodes run one at a time (greedy actions unless ``greedy=False``).
    The observation statistics are frozen: evaluation never updates them."""
    out = []
    for k in range(episodes):
        env = env_fn()
        raw, _ = env.reset(seed=seed + k)
        state, begin, total, done = policy.initial_state(1), torch.ones(1), 0.0, False
        while not done:
            logits, _, state = policy.step(_obs(raw).reshape(1, -1), state, begin)
            action = int(logits.argmax(-1)) if greedy else int(Categorical(logits=logits).sample())
            raw, reward, term, trunc, _ = env.step(action)
            total += float(reward)
            done, begin = bool(term or trunc), torch.zeros(1)
        out.append(total)
        env.close()
    return out
