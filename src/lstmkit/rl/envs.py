"""Partially observed environments where memory is needed (gymnasium API).

* ``MaskVelocity``: CartPole with the velocities hidden, observation ``[x, theta]``
  (position and angle); the policy must infer velocities from successive frames.
* ``RepeatFirst``: at step 0 the agent sees a one-hot symbol out of ``k``; then
  zeros. At every step it is rewarded ``1 / length`` for naming that symbol.
  A policy with memory reaches return 1; a memoryless one at best
  ``1/length + (1 - 1/length) / k`` (it knows the symbol at step 0 only).
* popgym's memory tasks (``popgym-RepeatPreviousEasy-v0``, ``popgym-CountRecallEasy-v0``,
  ``popgym-PositionOnlyCartPoleEasy-v0`` ...) through :func:`make_env`.

``make_env(name, frame_stack=k)`` returns a zero-argument constructor (for
vector envs); ``frame_stack`` > 1 stacks the last ``k`` observations (the
frame-stacking baseline).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np


class MaskVelocity(gym.ObservationWrapper):
    """CartPole observation ``[x, x_dot, theta, theta_dot]`` -> ``[x, theta]``."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        low, high = env.observation_space.low[[0, 2]], env.observation_space.high[[0, 2]]
        self.observation_space = gym.spaces.Box(low, high, dtype=np.float32)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return np.asarray(observation, dtype=np.float32)[[0, 2]]


class RepeatFirst(gym.Env):
    """Name the symbol shown at the first step, at every step (see the module docstring)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, symbols: int = 4, length: int = 8) -> None:
        self.symbols, self.length = int(symbols), int(length)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (self.symbols,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(self.symbols)
        self._symbol, self._t = 0, 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._symbol, self._t = int(self.np_random.integers(self.symbols)), 0
        obs = np.zeros(self.symbols, dtype=np.float32)
        obs[self._symbol] = 1.0
        return obs, {}

    def step(self, action: int):
        reward = (1.0 if int(action) == self._symbol else 0.0) / self.length
        self._t += 1
        done = self._t >= self.length
        return np.zeros(self.symbols, dtype=np.float32), reward, done, False, {}


def make_env(name: str, frame_stack: int = 1, **kwargs: Any) -> Callable[[], gym.Env]:
    """A constructor for ``MaskedCartPole``, ``RepeatFirst`` or a gymnasium/popgym id."""

    def build() -> gym.Env:
        if name == "MaskedCartPole":
            env: gym.Env = MaskVelocity(gym.make("CartPole-v1", **kwargs))
        elif name == "RepeatFirst":
            env = gym.wrappers.TimeLimit(RepeatFirst(**kwargs), max_episode_steps=10_000)
        else:
            if name.startswith("popgym-"):
                import popgym  # noqa: F401  (registers the popgym-* ids)
            env = gym.make(name, **kwargs)
            if not isinstance(env.observation_space, gym.spaces.Box):
                env = gym.wrappers.FlattenObservation(env)
        if frame_stack > 1:
            env = gym.wrappers.FlattenObservation(gym.wrappers.FrameStackObservation(env, frame_stack))
        return env

    return build
