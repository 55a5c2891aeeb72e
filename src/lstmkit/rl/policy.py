r"""Actor-critic networks for discrete actions: with an ``lstmkit.LSTM`` memory, or without.

The actor and the critic have the same shape and their own weights. With
``layout="zoo"`` (the default; RL Zoo's recurrent-PPO policy for masked
CartPole, ``net_arch=dict(pi=[64], vf=[64])`` after the LSTM):

.. math::
    \hat o_t = \mathrm{norm}(o_t), \qquad
    (h_t, c_t) = \mathrm{LSTM}(\hat o_t, (m_t h_{t-1}, m_t c_{t-1})), \qquad
    z_t = \phi(W_z h_t + b_z), \qquad
    \pi(\cdot \mid o_{\le t}) = \mathrm{softmax}(W_\pi z_t + b_\pi), \quad V_t = w_v^\top z_t + b_v

with :math:`\phi` = ``activation`` (ReLU or tanh), :math:`m_t = 0` at the first
step of an episode (the state is reset) and 1 elsewhere, and ``norm`` the
running observation normalisation of :mod:`lstmkit.rl.norm` (its statistics are
buffers of this module, saved with it; identity when ``normalize_obs=False``).
``layout="encoder"`` is the earlier network: :math:`e_t = \tanh(W_e \hat o_t + b_e)`
into the LSTM and the heads read :math:`h_t` directly (no :math:`z_t`).
``memory="none"`` replaces the LSTM by :math:`h_t = \phi(W_h x_t + b_h)`: the
same PPO without memory (the MLP baseline). ``ortho_init=True`` initialises the
policy logits orthogonally with gain 0.01 (PPO's usual choice); RL Zoo's setting
is ``False`` (PyTorch's default initialisation).

State is explicit: ``step`` takes and returns ``(h, c)``, each ``(2, B, H)``
(row 0 the actor's LSTM, row 1 the critic's); nothing is kept on the module.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

import lstmkit
from lstmkit.rl.norm import RunningNorm

State = tuple[Tensor, Tensor]
_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


class ActorCritic(nn.Module):
    """Separate actor and critic networks of the same shape (see the module docstring)."""

    def __init__(self, obs_size: int, n_actions: int, hidden_size: int = 64, memory: str = "lstm",
                 layout: str = "zoo", activation: str = "relu", head_size: int = 64,
                 normalize_obs: bool = True, ortho_init: bool = False) -> None:
        super().__init__()
        if memory not in ("lstm", "none"):
            raise ValueError(f"memory: expected 'lstm' or 'none', got {memory!r}")
        if layout not in ("zoo", "encoder"):
            raise ValueError(f"layout: expected 'zoo' or 'encoder', got {layout!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation: expected one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        self.memory, self.layout, self.hidden_size = memory, layout, hidden_size
        self.normalize_obs = normalize_obs
        self.obs_norm = RunningNorm(obs_size)
        act = _ACTIVATIONS[activation]
        core_in = obs_size
        if layout == "encoder":
            self.encoders = nn.ModuleList(nn.Sequential(nn.Linear(obs_size, hidden_size), nn.Tanh())
                                          for _ in range(2))
            core_in = hidden_size
        if memory == "lstm":
            self.cores = nn.ModuleList(lstmkit.LSTM(core_in, hidden_size) for _ in range(2))
        else:
            self.cores = nn.ModuleList(nn.Sequential(nn.Linear(core_in, hidden_size), act()) for _ in range(2))
        out = hidden_size
        if layout == "zoo":
            self.heads = nn.ModuleList(nn.Sequential(nn.Linear(hidden_size, head_size), act()) for _ in range(2))
            out = head_size
        self.pi = nn.Linear(out, n_actions)
        self.v = nn.Linear(out, 1)
        if ortho_init:
            nn.init.orthogonal_(self.pi.weight, 0.01)
            nn.init.zeros_(self.pi.bias)
        self._streams: list | None = None

    def initial_state(self, batch: int) -> State:
        zeros = torch.zeros(2, batch, self.hidden_size)
        return zeros, zeros.clone()

    def _inputs(self, k: int, obs: Tensor) -> Tensor:
        x = self.obs_norm.normalize(obs) if self.normalize_obs else obs
        return self.encoders[k](x) if self.layout == "encoder" else x

    def _outputs(self, ha: Tensor, hv: Tensor) -> tuple[Tensor, Tensor]:
        if self.layout == "zoo":
            ha, hv = self.heads[0](ha), self.heads[1](hv)
        return self.pi(ha), self.v(hv).squeeze(-1)

    def _core(self, k: int, e: Tensor, state: State, starts: Tensor) -> tuple[Tensor, State]:
        if self.memory == "none":
            return self.cores[k](e), state
        outs = []
        hx, cx = state[0][k:k + 1], state[1][k:k + 1]                    # (1, B, H)
        for t in range(e.shape[0]):
            keep = (1.0 - starts[t]).view(1, -1, 1)                      # (1, B, 1)
            out, (hx, cx) = self.cores[k](e[t:t + 1], (hx * keep, cx * keep))   # (1, B, H)
            outs.append(out)
        return torch.cat(outs), (hx, cx)                                 # (T, B, H)

    def unroll(self, obs: Tensor, state: State, starts: Tensor) -> tuple[Tensor, Tensor, State]:
        """``obs`` (T, B, D), ``starts`` (T, B) 1.0 where an episode begins -> logits (T, B, A), values (T, B)."""
        ha, sa = self._core(0, self._inputs(0, obs), state, starts)
        hv, sv = self._core(1, self._inputs(1, obs), state, starts)
        if self.memory == "lstm":
            state = (torch.cat([sa[0], sv[0]]), torch.cat([sa[1], sv[1]]))   # (2, B, H) each
        logits, values = self._outputs(ha, hv)
        return logits, values, state

    def sequences(self, obs: Tensor, lengths: Tensor, state: State) -> tuple[Tensor, Tensor]:
        """Whole segments in one LSTM call each: ``obs`` (L, S, D) padded, ``lengths`` (S,),
        ``state`` (2, S, H) pairs at each segment's first step (no resets inside a segment).
        -> logits (L, S, A), values (L, S); rows past a segment's length are padding."""
        if self.memory == "none":
            logits, values, _ = self.unroll(obs, state, torch.zeros(obs.shape[:2]))
            return logits, values
        outs = []
        for k in range(2):
            y, _ = self.cores[k](self._inputs(k, obs), (state[0][k:k + 1], state[1][k:k + 1]), lengths=lengths)
            outs.append(y)
        return self._outputs(outs[0], outs[1])

    @torch.no_grad()
    def step(self, obs: Tensor, state: State, starts: Tensor) -> tuple[Tensor, Tensor, State]:
        """One step for a batch of environments: ``obs`` (B, D), ``starts`` (B,); no gradient.

        Uses the fused kernels' ``Stream`` when they are built (one C++ call per LSTM per step),
        otherwise the layer itself; the results are the same."""
        if self.memory == "none":
            logits, values, state = self.unroll(obs.unsqueeze(0), state, starts.unsqueeze(0))
            return logits[0], values[0], state
        streams = self._stream()
        keep = (1.0 - starts).view(1, -1, 1)
        h0, c0 = state[0] * keep, state[1] * keep
        hs, cs, outs = [], [], []
        for k in range(2):
            x = self._inputs(k, obs)
            if streams is None:
                y, (h, c) = self.cores[k](x.unsqueeze(0), (h0[k:k + 1], c0[k:k + 1]))
                y = y[0]
            else:
                y, (h, c) = streams[k](x, (h0[k:k + 1], c0[k:k + 1]))
            outs.append(y)
            hs.append(h)
            cs.append(c)
        logits, values = self._outputs(outs[0], outs[1])
        return logits, values, (torch.cat(hs), torch.cat(cs))

    def _stream(self) -> list | None:
        if self._streams is None:
            from lstmkit.kernels.cpu import _loader

            if _loader.reason(build=False) is not None or self.cores[0].weight_ih_l0.device.type != "cpu":
                self._streams = []
            else:
                from lstmkit.kernels.cpu.stream import Stream

                self._streams = [Stream(core) for core in self.cores]
        return self._streams or None

    def _apply(self, fn, recurse=True):  # type: ignore[no-untyped-def]
        self._streams = None                 # moved or cast parameters: the streams' views are stale
        return super()._apply(fn, recurse)
