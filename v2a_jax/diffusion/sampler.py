"""ODE sampler for flow-matching models: ``lax.scan`` over the steps, or a Python loop to debug.

Legend: B batch, T time frames, D latent dim, N steps.

As in MaxDiffusion, the loop body is one pure function of an explicit state (the scheduler state
rides in the scan carry), so the compiled ``lax.scan`` and the Python loop (``use_scan=False``:
step through with a debugger, print intermediates) run the same code and give the same result.
"""

from __future__ import annotations

from collections.abc import Callable

import flax.struct
import jax
import jax.numpy as jnp

METHODS = ("euler", "heun")

# velocity_fn(x_btd, t_b) -> v_btd: the model with its conditioning closed over.
VelocityFn = Callable[[jax.Array, jax.Array], jax.Array]


@flax.struct.dataclass
class SamplerState:
    """The scan carry.

    Attributes:
        x: the current sample ``x_btd`` at time ``timesteps[step]``.
        step: int32 scalar, index of the current time in ``timesteps``.
        timesteps: float32 [N + 1], the grid from 0 (noise) to 1 (data).
    """

    x: jax.Array
    step: jax.Array
    timesteps: jax.Array


def ode_step(velocity_fn: VelocityFn, state: SamplerState, method: str) -> SamplerState:
    """One step from ``timesteps[step]`` to ``timesteps[step + 1]`` (Euler, or Heun's 2nd order)."""
    x = state.x
    batch = x.shape[0]
    t = state.timesteps[state.step]
    t_next = state.timesteps[state.step + 1]
    dt = (t_next - t).astype(x.dtype)
    v = velocity_fn(x, jnp.full((batch,), t, x.dtype))
    if method == "euler":
        x_next = x + dt * v
    elif method == "heun":
        # Heun's correction also at the last step: a flow's velocity is finite at t = 1.
        x_pred = x + dt * v
        v_next = velocity_fn(x_pred, jnp.full((batch,), t_next, x.dtype))
        x_next = x + dt * 0.5 * (v + v_next)
    else:
        raise ValueError(f"method={method!r}: expected one of {METHODS}")
    return state.replace(x=x_next, step=state.step + 1)


def sample_ode(
    velocity_fn: VelocityFn,
    x0_btd: jax.Array,
    timesteps_n: jax.Array,
    method: str = "euler",
    use_scan: bool = True,
) -> jax.Array:
    """Integrates ``dx/dt = velocity_fn(x, t)`` from ``x0`` at ``timesteps[0]`` to the last time.

    Args:
        velocity_fn: ``(x_btd, t_b) -> v_btd``, pure.
        x0_btd: the starting noise [B, ...].
        timesteps_n: [N + 1] increasing times (see ``FlowMatching.timesteps``).
        method: ``euler`` (N evaluations) or ``heun`` (2 N evaluations).
        use_scan: ``lax.scan`` (compiled once, constant size in N); False runs a Python loop over
            the same step function, for debugging.

    Returns:
        ``x1_btd``, same shape and dtype as ``x0_btd``.

    Raises:
        ValueError: an unknown method or fewer than 2 timesteps.
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r}: expected one of {METHODS}")
    timesteps_n = jnp.asarray(timesteps_n, jnp.float32)
    num_steps = timesteps_n.shape[0] - 1
    if num_steps < 1:
        raise ValueError(f"timesteps has {timesteps_n.shape[0]} entries: expected >= 2")
    state = SamplerState(x=x0_btd, step=jnp.zeros((), jnp.int32), timesteps=timesteps_n)
    if use_scan:

        def body(carry, _):
            return ode_step(velocity_fn, carry, method), None

        state, _ = jax.lax.scan(body, state, None, length=num_steps)
    else:
        for _ in range(num_steps):
            state = ode_step(velocity_fn, state, method)
    return state.x
