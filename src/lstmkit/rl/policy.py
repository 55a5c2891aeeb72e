r"""Actor-critic networks for discrete actions: with an ``lstmkit.LSTM`` memory, or without.

For the actor (and, with its own weights, the critic):

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
    """Separate actor and critic networks of the same shape (see the module docstring).

    The state is ``(h, c)``, each ``(2, B, H)``: row 0 the actor's LSTM, row 1 the critic's.
    """

    def __init__(self, obs_size: int, n_actions: int, hidden_size: int = 64, memory: str = "lstm") -> None:
        super().__init__()
        if memory not in ("lstm", "none"):
            raise ValueError(f"memory: expected 'lstm' or 'none', got {memory!r}")
        self.memory, self.hidden_size = memory, hidden_size
        self.encoders = nn.ModuleList(nn.Sequential(nn.Linear(obs_size, hidden_size), nn.Tanh())
                                      for _ in range(2))
        if memory == "lstm":
            self.cores = nn.ModuleList(lstmkit.LSTM(hidden_size, hidden_size) for _ in range(2))
        else:
            self.cores = nn.ModuleList(nn.Sequential(nn.Linear(hidden_size, hidden_size), nn.Tanh())
                                       for _ in range(2))
        self.pi = nn.Linear(hidden_size, n_actions)
        self.v = nn.Linear(hidden_size, 1)
        nn.init.orthogonal_(self.pi.weight, 0.01)
        nn.init.zeros_(self.pi.bias)

    def initial_state(self, batch: int) -> State:
        zeros = torch.zeros(2, batch, self.hidden_size)
        return zeros, zeros.clone()

    def _core(self, k: int, e: torch.Tensor, state: State, starts: torch.Tensor) -> tuple[torch.Tensor, State]:
        if self.memory == "none":
            return self.cores[k](e), state
        outs = []
        hx, cx = state[0][k:k + 1], state[1][k:k + 1]                    # (1, B, H)
        for t in range(e.shape[0]):
            keep = (1.0 - starts[t]).view(1, -1, 1)                      # (1, B, 1)
            out, (hx, cx) = self.cores[k](e[t:t + 1], (hx * keep, cx * keep))   # (1, B, H)
            outs.append(out)
        return torch.cat(outs), (hx, cx)                                 # (T, B, H)

    def unroll(self, obs: torch.Tensor, state: State, starts: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, State]:
        """``obs`` (T, B, D), ``starts`` (T, B) 1.0 where an episode begins -> logits (T, B, A), values (T, B)."""
        ha, sa = self._core(0, self.encoders[0](obs), state, starts)
        hv, sv = self._core(1, self.encoders[1](obs), state, starts)
        if self.memory == "lstm":
            state = (torch.cat([sa[0], sv[0]]), torch.cat([sa[1], sv[1]]))   # (2, B, H) each
        return self.pi(ha), self.v(hv).squeeze(-1), state

    def step(self, obs: torch.Tensor, state: State, starts: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, State]:
        """One step for a batch of environments: ``obs`` (B, D), ``starts`` (B,)."""
        logits, values, state = self.unroll(obs.unsqueeze(0), state, starts.unsqueeze(0))
        return logits[0], values[0], state
