r"""Actor-critic networks for discrete actions: with an ``lstmkit.LSTM`` memory, or without.

.. math::
    e_t = \tanh(W_e o_t + b_e), \qquad
    (h_t, c_t) = \mathrm{LSTM}(e_t, (m_t h_{t-1}, m_t c_{t-1})), \qquad
    \pi(\cdot \mid o_{\le t}) = \mathrm{softmax}(W_\pi h_t), \quad V_t = w_v^\top h_t

with :math:`m_t = 0` at the first step of an episode (the state is reset) and
1 elsewhere. ``memory="none"`` replaces the LSTM by a second ``tanh`` layer,
:math:`h_t = \tanh(W_h e_t + b_h)`: the same PPO without memory (the MLP baseline).
State is explicit: ``step`` takes and returns it; nothing is kept on the module.
"""

from __future__ import annotations

import torch
from torch import nn

import lstmkit

State = tuple[torch.Tensor, torch.Tensor]


class ActorCritic(nn.Module):
    """Shared trunk, policy logits and value (see the module docstring)."""

    def __init__(self, obs_size: int, n_actions: int, hidden_size: int = 64, memory: str = "lstm") -> None:
        super().__init__()
        if memory not in ("lstm", "none"):
            raise ValueError(f"memory: expected 'lstm' or 'none', got {memory!r}")
        self.memory, self.hidden_size = memory, hidden_size
        self.encoder = nn.Sequential(nn.Linear(obs_size, hidden_size), nn.Tanh())
        if memory == "lstm":
            self.lstm = lstmkit.LSTM(hidden_size, hidden_size)
        else:
            self.mlp = nn.Sequential(nn.Linear(hidden_size, hidden_size), nn.Tanh())
        self.pi = nn.Linear(hidden_size, n_actions)
        self.v = nn.Linear(hidden_size, 1)
        nn.init.orthogonal_(self.pi.weight, 0.01)
        nn.init.zeros_(self.pi.bias)

    def initial_state(self, batch: int) -> State:
        zeros = torch.zeros(1, batch, self.hidden_size)
        return zeros, zeros.clone()

    def unroll(self, obs: torch.Tensor, state: State, starts: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, State]:
        """``obs`` (T, B, D), ``starts`` (T, B) 1.0 where an episode begins -> logits (T, B, A), values (T, B)."""
        e = self.encoder(obs)                                            # (T, B, H)
        if self.memory == "none":
            h = self.mlp(e)
            return self.pi(h), self.v(h).squeeze(-1), state
        outs = []
        hx, cx = state
        for t in range(obs.shape[0]):
            keep = (1.0 - starts[t]).view(1, -1, 1)                      # (1, B, 1)
            out, (hx, cx) = self.lstm(e[t:t + 1], (hx * keep, cx * keep))  # (1, B, H)
            outs.append(out)
        h = torch.cat(outs)                                              # (T, B, H)
        return self.pi(h), self.v(h).squeeze(-1), (hx, cx)

    def step(self, obs: torch.Tensor, state: State, starts: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, State]:
        """One step for a batch of environments: ``obs`` (B, D), ``starts`` (B,)."""
        logits, values, state = self.unroll(obs.unsqueeze(0), state, starts.unsqueeze(0))
        return logits[0], values[0], state
