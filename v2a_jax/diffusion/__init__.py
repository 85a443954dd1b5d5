"""Flow-matching schedule and the few-step ODE sampler used by the refiner."""

from v2a_jax.diffusion.sampler import METHODS, SamplerState, ode_step, sample_ode
from v2a_jax.diffusion.schedules import FlowMatching, timestep_embedding

__all__ = [
    "METHODS",
    "FlowMatching",
    "SamplerState",
    "ode_step",
    "sample_ode",
    "timestep_embedding",
]
