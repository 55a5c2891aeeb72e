r"""Recurrent PPO (Schulman et al. 2017, with an LSTM policy) on gymnasium vector environments.

One update: ``n_envs`` environments run ``n_steps`` steps with the current
policy, carrying the LSTM state across steps and zeroing it where an episode
begins. Advantages are GAE(:math:`\gamma, \lambda`):

.. math::
    \delta_t = r_t + \gamma V_{t+1} (1 - d_t) - V_t, \qquad
    \hat A_t = \delta_t + \gamma\lambda (1 - d_t) \hat A_{t+1}, \qquad \hat R_t = \hat A_t + V_t

(an episode cut by a time limit is treated as ended). The rollout is cut into
chunks of ``seq_len`` steps per environment (truncated back-propagation
through time); each chunk starts from the LSTM state the rollout had there,
and its first ``burn_in`` steps only refresh that state (no loss), as in R2D2.
The loss over the remaining steps, on ``minibatches`` random sets of chunks
for ``epochs`` passes, is

.. math::
    L = -\mathbb{E}\big[\min(\rho_t \hat A_t, \mathrm{clip}(\rho_t, 1 \pm \epsilon) \hat A_t)\big]
        + c_v\,\mathbb{E}\big[(V_t - \hat R_t)^2\big] - c_H\,\mathbb{E}[H(\pi_t)],
    \qquad \rho_t = \pi(a_t \mid o_{\le t}) / \pi_{\mathrm{old}}(a_t \mid o_{\le t})

with advantages normalised per minibatch and the gradient norm clipped.
``memory="none"`` is the same algorithm with a memoryless policy (chunks then
change nothing); frame stacking is an environment wrapper (:func:`lstmkit.rl.envs.make_env`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.distributions import Categorical

from lstmkit.rl.policy import ActorCritic


@dataclass(frozen=True)
class PPOConfig:
    """PPO knobs (defaults: RL Zoo's recurrent PPO settings for masked CartPole)."""

    total_steps: int = 100_000
    n_envs: int = 8
    n_steps: int = 32
    seq_len: int = 32
    burn_in: int = 0
    epochs: int = 10
    minibatches: int = 1
    lr: float = 1e-3
    gamma: float = 0.98
    gae_lambda: float = 0.8
    clip: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden_size: int = 64
    memory: str = "lstm"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_steps % self.seq_len:
            raise ValueError(f"n_steps ({self.n_steps}) must be a multiple of seq_len ({self.seq_len})")
        if not 0 <= self.burn_in < self.seq_len:
            raise ValueError(f"burn_in must be in [0, seq_len), got {self.burn_in}")
        if self.memory not in ("lstm", "none"):
            raise ValueError(f"memory: expected 'lstm' or 'none', got {self.memory!r}")


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
    policy = ActorCritic(obs_size, int(envs.single_action_space.n), cfg.hidden_size, cfg.memory)
    optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.lr, eps=1e-5)
    result = PPOResult(policy)
    started = time.perf_counter()
    n, steps, chunks = cfg.n_envs, cfg.n_steps, cfg.n_steps // cfg.seq_len
    raw, _ = envs.reset(seed=cfg.seed)
    obs = _obs(raw).reshape(n, -1)
    state = policy.initial_state(n)
    starts = torch.ones(n)
    running = np.zeros(n)
    global_step = 0
    updates = max(1, cfg.total_steps // (n * steps))
    for update in range(updates):
        frac = 1.0 - update / updates
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * frac                                    # linear decay
        b_obs = torch.zeros(steps, n, obs_size)
        b_act = torch.zeros(steps, n, dtype=torch.long)
        b_logp, b_val, b_rew, b_done, b_start = (torch.zeros(steps, n) for _ in range(5))
        chunk_states = []
        with torch.no_grad():
            for t in range(steps):
                if t % cfg.seq_len == 0:
                    chunk_states.append((state[0].clone(), state[1].clone()))
                logits, value, state = policy.step(obs, state, starts)
                dist = Categorical(logits=logits)
                action = dist.sample()
                raw, reward, term, trunc, _ = envs.step(action.numpy())
                done = np.logical_or(term, trunc)
                b_obs[t], b_act[t], b_logp[t], b_val[t] = obs, action, dist.log_prob(action), value
                b_rew[t], b_done[t], b_start[t] = _obs(reward), _obs(done), starts
                running += reward
                global_step += n
                for i in np.flatnonzero(done):
                    result.episodes.append((global_step, float(running[i])))
                    running[i] = 0.0
                obs, starts = _obs(raw).reshape(n, -1), _obs(done)
            _, last_value, _ = policy.step(obs, state, starts)
            adv = torch.zeros(steps, n)
            gae = torch.zeros(n)
            for t in reversed(range(steps)):
                next_value = last_value if t == steps - 1 else b_val[t + 1]
                alive = 1.0 - b_done[t]
                delta = b_rew[t] + cfg.gamma * next_value * alive - b_val[t]
                gae = delta + cfg.gamma * cfg.gae_lambda * alive * gae
                adv[t] = gae
            ret = adv + b_val
        h0 = torch.stack([s[0] for s in chunk_states])                    # (chunks, 2, N, H)
        c0 = torch.stack([s[1] for s in chunk_states])

        def cut(x: torch.Tensor) -> torch.Tensor:                         # (T, N, ...) -> (L, chunks*N, ...)
            x = x.reshape(chunks, cfg.seq_len, n, *x.shape[2:])           # (chunks, L, N, ...)
            x = x.transpose(0, 1)                                         # (L, chunks, N, ...)
            return x.reshape(cfg.seq_len, chunks * n, *x.shape[3:])

        s_obs, s_act, s_logp, s_adv, s_ret, s_start = map(cut, (b_obs, b_act, b_logp, adv, ret, b_start))
        # (chunks, 2, N, H) -> (2, chunks * N, H), sequence index = chunk * N + env as in cut()
        s_h0 = h0.transpose(0, 1).reshape(2, chunks * n, -1)
        s_c0 = c0.transpose(0, 1).reshape(2, chunks * n, -1)
        sequences = chunks * n
        per_batch = max(1, sequences // cfg.minibatches)
        for _ in range(cfg.epochs):
            order = torch.randperm(sequences)
            for k in range(0, sequences, per_batch):
                idx = order[k:k + per_batch]
                state0 = (s_h0[:, idx], s_c0[:, idx])
                o, st = s_obs[:, idx], s_start[:, idx]
                if cfg.burn_in and cfg.memory == "lstm":
                    with torch.no_grad():
                        _, _, state0 = policy.unroll(o[:cfg.burn_in], state0, st[:cfg.burn_in])
                    o, st = o[cfg.burn_in:], st[cfg.burn_in:]
                    cut_from = cfg.burn_in
                else:
                    cut_from = 0
                logits, values, _ = policy.unroll(o, state0, st)
                dist = Categorical(logits=logits)
                a = s_act[cut_from:, idx]
                ratio = torch.exp(dist.log_prob(a) - s_logp[cut_from:, idx])
                advantage = s_adv[cut_from:, idx]
                advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
                policy_loss = -torch.min(ratio * advantage,
                                         ratio.clamp(1 - cfg.clip, 1 + cfg.clip) * advantage).mean()
                value_loss = (values - s_ret[cut_from:, idx]).pow(2).mean()
                loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * dist.entropy().mean()
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
                optimizer.step()
        if log is not None and (update + 1) % max(1, updates // 10) == 0:
            log(f"step {global_step}: mean return of the last 20 episodes {result.final_return():.3f} "
                f"({time.perf_counter() - started:.0f} s)")
    envs.close()
    result.seconds = time.perf_counter() - started
    return result


@torch.no_grad()
def evaluate(policy: ActorCritic, env_fn: Callable[[], Any], episodes: int = 10, seed: int = 1000,
             greedy: bool = True) -> list[float]:
    """Returns of ``episodes`` episodes run one at a time (greedy actions unless ``greedy=False``)."""
    out = []
    for k in range(episodes):
        env = env_fn()
        raw, _ = env.reset(seed=seed + k)
        state, start, total, done = policy.initial_state(1), torch.ones(1), 0.0, False
        while not done:
            logits, _, state = policy.step(_obs(raw).reshape(1, -1), state, start)
            action = int(logits.argmax(-1)) if greedy else int(Categorical(logits=logits).sample())
            raw, reward, term, trunc, _ = env.step(action)
            total += float(reward)
            done, start = bool(term or trunc), torch.zeros(1)
        out.append(total)
        env.close()
    return out
