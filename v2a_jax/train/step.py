"""The train state and the pure train / eval steps over split NNX state.

The model is split once (``nnx.split(model, nnx.Param, ...)``) into a static ``graphdef``, the
parameters and the rest (non-parameter variables: RNG counters, statistics). The hot loop jits
``train_step(graphdef, state, batch, rng)`` once with the state donated: no Python walk of the
object graph per step (Flax's performance guide; MaxText does the same).

``loss_fn(model, batch, rng, train) -> (loss, metrics)`` is the only thing a step knows about the
model, so the AR LM and the refiner share these steps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax
from flax import nnx

LossFn = Callable[[nnx.Module, dict, jax.Array, bool], tuple[jax.Array, dict]]


@flax.struct.dataclass
class TrainState:
    """Everything a step reads and writes.

    Attributes:
        step: int32 scalar, optimiser steps taken so far.
        params: the model's ``nnx.Param`` state.
        opt_state: the optax state of ``params``.
        rest: the model's other variables, carried through the step, not optimised.
    """

    step: jax.Array
    params: nnx.State
    opt_state: Any
    rest: nnx.State


def split_model(model: nnx.Module) -> tuple[nnx.GraphDef, nnx.State, nnx.State]:
    """``(graphdef, params, rest)`` of ``model``."""
    return nnx.split(model, nnx.Param, ...)


def init_state(model: nnx.Module, tx: optax.GradientTransformation) -> TrainState:
    """A step-0 state for ``model`` (call under ``jax.jit`` to create it sharded)."""
    _, params, rest = split_model(model)
    return TrainState(
        step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params), rest=rest
    )


def train_step(
    graphdef: nnx.GraphDef,
    state: TrainState,
    batch: dict[str, jax.Array],
    rng: jax.Array,
    *,
    loss_fn: LossFn,
    tx: optax.GradientTransformation,
    schedule: optax.Schedule | None = None,
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One optimiser step. Pure: same inputs, same outputs.

    Args:
        graphdef: the model's static structure.
        state: the current state (donated by the jitted caller).
        batch: arrays with a leading batch axis B.
        rng: the run's base key; this step uses ``fold_in(rng, state.step)`` so a resumed run
            draws exactly the keys an uninterrupted one would.
        loss_fn: ``(model, batch, rng, train) -> (scalar loss, metrics)``.
        tx: the optimiser.
        schedule: the learning-rate schedule, only to report ``lr``.

    Returns:
        The new state and float32 scalar metrics: ``loss``, ``grad_norm``, ``lr`` and the
        loss function's own.
    """
    step_rng = jax.random.fold_in(rng, state.step)

    def compute(params, rest):
        # Fresh Variable objects at this trace level (tree.map rebuilds them), so the loss may
        # update the model's non-parameter variables (counters, statistics).
        model = nnx.merge(graphdef, params, jax.tree.map(lambda x: x, rest))
        loss, metrics = loss_fn(model, batch, step_rng, True)
        _, _, rest = split_model(model)
        return loss, (metrics, rest)

    grad_fn = jax.value_and_grad(compute, has_aux=True)
    (loss, (metrics, rest)), grads = grad_fn(state.params, state.rest)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    out = {k: jnp.asarray(v, jnp.float32) for k, v in metrics.items()}
    out["loss"] = jnp.asarray(loss, jnp.float32)
    out["grad_norm"] = optax.tree.norm(grads).astype(jnp.float32)
    if schedule is not None:
        out["lr"] = jnp.asarray(schedule(state.step), jnp.float32)
    new_state = TrainState(step=state.step + 1, params=params, opt_state=opt_state, rest=rest)
    return new_state, out


def eval_step(
    graphdef: nnx.GraphDef,
    state: TrainState,
    batch: dict[str, jax.Array],
    rng: jax.Array,
    *,
    loss_fn: LossFn,
) -> dict[str, jax.Array]:
    """The loss and metrics of ``batch`` with ``train=False`` (no condition dropout, no update)."""
    model = nnx.merge(graphdef, state.params, state.rest)
    loss, metrics = loss_fn(model, batch, rng, False)
    out = {k: jnp.asarray(v, jnp.float32) for k, v in metrics.items()}
    out["loss"] = jnp.asarray(loss, jnp.float32)
    return out


def jit_steps(
    graphdef: nnx.GraphDef,
    loss_fn: LossFn,
    tx: optax.GradientTransformation,
    schedule: optax.Schedule | None = None,
    state_shardings: Any = None,
    mesh: jax.sharding.Mesh | None = None,
) -> tuple[Callable, Callable]:
    """The jitted ``(train_step, eval_step)``, both taking ``(state, batch, rng)``.

    The train step donates its state (the old buffers are reused for the new state). With
    ``state_shardings`` the new state is laid out exactly as the old one, so one compiled program
    serves every step; metrics come back replicated over ``mesh``.
    """
    train = functools.partial(train_step, graphdef, loss_fn=loss_fn, tx=tx, schedule=schedule)
    evaluate = functools.partial(eval_step, graphdef, loss_fn=loss_fn)
    out_shardings = None
    if state_shardings is not None:
        replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
        out_shardings = (state_shardings, replicated)
    return (
        jax.jit(train, donate_argnums=0, out_shardings=out_shardings),
        jax.jit(evaluate),
    )
