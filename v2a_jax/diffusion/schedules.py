"""Rectified-flow (flow-matching) schedule: the path, its velocity, and the time grids.

Legend: B batch, T time frames, D latent dim, N sampling steps.

The straight path from noise ``x0`` to data ``x1`` is ``x_t = (1 - t) x0 + t x1`` for ``t`` in
[0, 1] (t = 0 is noise, t = 1 is data); its velocity ``dx_t/dt = x1 - x0`` is what the network
learns (Liu et al. 2022, "Flow straight and fast"; Lipman et al. 2022). Straight paths are why a
few Euler or Heun steps suffice, which is the point of a refiner that runs after every AR sample.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

T_SAMPLINGS = ("uniform", "logit_normal")


@dataclasses.dataclass(frozen=True)
class FlowMatching:
    """The rectified-flow schedule.

    Attributes:
        t_sampling: training-time distribution of ``t``: ``uniform`` or ``logit_normal``
            (SD3: puts more weight on the middle of the path, where the velocity is hardest).
        logit_mean: mean of the logit-normal's underlying normal.
        logit_std: its standard deviation.
        shift: sampling-grid shift (SD3's ``t' = t / (t + shift (1 - t))`` mirrored to our
            t = 0 noise convention); ``shift > 1`` spends more steps near the noise end.
    """

    t_sampling: str = "logit_normal"
    logit_mean: float = 0.0
    logit_std: float = 1.0
    shift: float = 1.0

    def __post_init__(self):
        if self.t_sampling not in T_SAMPLINGS:
            raise ValueError(f"t_sampling={self.t_sampling!r}: expected one of {T_SAMPLINGS}")
        if self.shift <= 0 or self.logit_std <= 0:
            raise ValueError(f"shift and logit_std must be > 0, got {self.shift}, {self.logit_std}")

    def interpolate(self, x0_btd: jax.Array, x1_btd: jax.Array, t_b: jax.Array) -> jax.Array:
        """``x_t = (1 - t) x0 + t x1``, with ``t_b`` [B] broadcast over the other axes."""
        t = t_b.reshape((-1,) + (1,) * (x0_btd.ndim - 1))
        return (1.0 - t) * x0_btd + t * x1_btd

    @staticmethod
    def velocity(x0_btd: jax.Array, x1_btd: jax.Array) -> jax.Array:
        """The straight path's velocity ``x1 - x0`` (the regression target)."""
        return x1_btd - x0_btd

    def sample_t(self, rng: jax.Array, batch: int) -> jax.Array:
        """Training times ``t_b`` [B] in (0, 1)."""
        if self.t_sampling == "uniform":
            return jax.random.uniform(rng, (batch,), minval=0.0, maxval=1.0)
        u = self.logit_mean + self.logit_std * jax.random.normal(rng, (batch,))
        return jax.nn.sigmoid(u)

    def timesteps(self, num_steps: int) -> np.ndarray:
        """The sampling grid ``t_n`` [N + 1], increasing from 0 (noise) to 1 (data).

        Raises:
            ValueError: ``num_steps`` < 1.
        """
        if int(num_steps) < 1:
            raise ValueError(f"num_steps={num_steps}: expected >= 1")
        s = np.linspace(0.0, 1.0, int(num_steps) + 1)
        # SD3's shift acts on sigma = 1 - t (noise level): sigma' = k sigma / (1 + (k - 1) sigma).
        sigma = 1.0 - s
        sigma = self.shift * sigma / (1.0 + (self.shift - 1.0) * sigma)
        return (1.0 - sigma).astype(np.float32)


def timestep_embedding(t_b: jax.Array, dim: int, max_period: float = 10_000.0) -> jax.Array:
    """Sinusoidal features of ``t`` in [0, 1] (scaled by 1000 as in DDPM/DiT): [B] -> [B, dim].

    Raises:
        ValueError: ``dim`` is odd.
    """
    if dim % 2:
        raise ValueError(f"timestep embedding dim={dim} must be even")
    half = dim // 2
    freqs = jnp.exp(-jnp.log(max_period) * jnp.arange(half, dtype=jnp.float32) / half)
    args = (1000.0 * t_b.astype(jnp.float32))[:, None] * freqs[None]
    return jnp.concatenate([jnp.cos(args), jnp.sin(args)], axis=-1)
