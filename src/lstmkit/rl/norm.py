r"""Running normalisation of observations and rewards for PPO (the role of VecNormalize in RL Zoo).

``RunningNorm`` keeps the count :math:`n`, mean :math:`\mu` and (population)
variance :math:`\sigma^2` of every value it has been shown, merged batch by
batch (Chan, Golub & LeVeque 1979): with a new batch of :math:`m` rows of mean
:math:`\bar x` and variance :math:`s^2`,

.. math::
    n' = n + m, \qquad \delta = \bar x - \mu, \qquad
    \mu' = \mu + \delta\,\frac{m}{n'}, \qquad
    \sigma'^2 = \frac{n\sigma^2 + m s^2 + \delta^2\, n m / n'}{n'}

so after any split of a stream into batches :math:`\mu, \sigma^2` equal the
mean and ``numpy.var`` of the whole stream. Normalising is

.. math::
    \hat x = \mathrm{clip}\big((x - \mu) / \sqrt{\sigma^2 + \epsilon},\ -c,\ c\big)

and never changes the statistics: only :meth:`RunningNorm.update` does, and
training calls it, evaluation never (the statistics are frozen). The
statistics are buffers, so they are in the owning module's ``state_dict`` and
are saved and loaded with the policy. Before any update :math:`\mu = 0`,
:math:`\sigma^2 = 1` (identity up to :math:`\epsilon`).

``RewardScaler`` scales rewards by the running standard deviation of the
discounted return, per environment :math:`G_t = \gamma G_{t-1}(1 - d_{t-1}) + r_t`:

.. math::
    \hat r_t = \mathrm{clip}\big(r_t / \sqrt{\sigma_G^2 + \epsilon},\ -c,\ c\big)

where :math:`\sigma_G^2` is the running variance of every :math:`G_t` seen
(the mean is not subtracted: that would change which policy is optimal).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RunningNorm(nn.Module):
    """Running mean/variance of ``shape``-sized values; ``normalize`` clips to ``[-clip, clip]``."""

    def __init__(self, shape: int | tuple[int, ...] = (), clip: float = 10.0, eps: float = 1e-8) -> None:
        super().__init__()
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self.clip, self.eps = float(clip), float(eps)
        self.register_buffer("mean", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("var", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))

    @torch.no_grad()
    def update(self, x: Tensor) -> None:
        """Merge a batch ``x`` (M, *shape) into the statistics (see the module docstring)."""
        x = x.detach().to(torch.float64).reshape(-1, *self.mean.shape)
        m = x.shape[0]
        if m == 0:
            return
        batch_mean, batch_var = x.mean(0), x.var(0, unbiased=False)
        n = self.count
        total = n + m
        delta = batch_mean - self.mean
        if n == 0:
            self.mean.copy_(batch_mean)
            self.var.copy_(batch_var)
        else:
            self.mean.add_(delta * (m / total))
            self.var.copy_((n * self.var + m * batch_var + delta.pow(2) * (n * m / total)) / total)
        self.count.fill_(total)

    def normalize(self, x: Tensor) -> Tensor:
        """``clip((x - mean) / sqrt(var + eps))`` in ``x``'s dtype; statistics unchanged."""
        scale = torch.sqrt(self.var + self.eps)
        return ((x - self.mean.to(x.dtype)) / scale.to(x.dtype)).clamp(-self.clip, self.clip)


class RewardScaler:
    """Divide rewards by the running std of each environment's discounted return (module docstring)."""

    def __init__(self, n_envs: int, gamma: float, clip: float = 10.0, eps: float = 1e-8) -> None:
        self.gamma = float(gamma)
        self.norm = RunningNorm((), clip=clip, eps=eps)
        self.returns = torch.zeros(n_envs, dtype=torch.float64)

    def __call__(self, reward: Tensor, done: Tensor) -> Tensor:
        """Scale ``reward`` (B,); ``done`` (B,) 1.0 where the episode ended at this step."""
        self.returns = self.returns * self.gamma + reward.to(torch.float64)
        self.norm.update(self.returns)
        scale = torch.sqrt(self.norm.var + self.norm.eps)
        out = (reward.to(torch.float64) / scale).clamp(-self.norm.clip, self.norm.clip)
        self.returns = self.returns * (1.0 - done.to(torch.float64))
        return out.to(reward.dtype)
