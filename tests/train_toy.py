"""A toy model, loss and data for the training-infrastructure tests (not a test module itself).

Tiny on purpose: the loop, checkpoints and resume logic are what the tests exercise, so every
step compiles and runs in milliseconds. The model has a non-parameter variable (a call counter)
and uses the step's rng, so resuming must restore both to reproduce the losses.

Run as ``python -c "import train_toy; train_toy.main()" WORKDIR [--config.a.b=v ...]`` with
``tests`` on ``PYTHONPATH`` (the resume test kills such a process).
"""

from __future__ import annotations

import dataclasses
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from v2a_jax.config import Config, DataConfig, TrainConfig, apply_overrides

K, V, T, E = 2, 8, 6, 5


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    """The toy model: width, and the call count from which its loss turns NaN (-1: never)."""

    width: int = 16
    nan_from_call: int = -1


class Calls(nnx.Variable):
    """Counts training calls (a non-parameter variable the train state must carry)."""


class ToyModel(nnx.Module):
    def __init__(self, cfg: ToyConfig, rngs: nnx.Rngs):
        self.cfg = cfg
        self.embed = nnx.Embed(V, cfg.width, rngs=rngs)
        self.text = nnx.Linear(E, cfg.width, rngs=rngs)
        self.out = nnx.Linear(cfg.width, K * V, rngs=rngs)
        self.calls = Calls(jnp.zeros((), jnp.int32))


def build(config: Config, rngs: nnx.Rngs) -> ToyModel:
    return ToyModel(config.model, rngs)


def loss(model: ToyModel, batch: dict, rng: jax.Array, train: bool):
    """Predicts each frame's K tokens from the previous frame's and the mean text embedding."""
    tokens_btk = batch["tokens"]
    text_bd = model.text(
        jnp.sum(batch["text_emb"] * batch["text_mask"][..., None], 1)
        / jnp.maximum(jnp.sum(batch["text_mask"], 1, keepdims=True), 1)
    )
    x_btd = model.embed(tokens_btk[:, :-1, 0]) + text_bd[:, None]
    if train:  # dropout drawn from the step's key: resuming must reproduce the keys
        keep = jax.random.bernoulli(rng, 0.8, x_btd.shape)
        x_btd = jnp.where(keep, x_btd / 0.8, 0)
        model.calls[...] = model.calls[...] + 1
    logits = model.out(jax.nn.gelu(x_btd)).reshape(*x_btd.shape[:2], K, V)
    logp = jax.nn.log_softmax(logits)
    ce = -jnp.take_along_axis(logp, tokens_btk[:, 1:, :, None], -1).mean()
    if model.cfg.nan_from_call >= 0:
        ce = jnp.where(model.calls[...] > model.cfg.nan_from_call, jnp.nan, ce)
    return ce, {"ce": ce}


def records(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        text_len = int(rng.integers(1, 5))
        out.append(
            {
                "clip_id": f"toy{seed}_{i}",
                # A learnable pattern: each frame's tokens follow from the previous one.
                "tokens": ((np.arange(T)[:, None] * 3 + i + np.arange(K)) % V).astype(np.int32),
                "text_emb": rng.normal(size=(text_len, E)).astype(np.float16),
            }
        )
    return out


def config(**train) -> Config:
    base = TrainConfig(
        steps=12,
        batch_size=4,
        lr=3e-2,
        warmup_steps=2,
        log_every=1,
        eval_every=4,
        eval_batches=1,
        save_every=3,
        keep_checkpoints=2,
    )
    return Config(
        model=ToyConfig(),
        train=dataclasses.replace(base, **train),
        data=DataConfig(keys=("tokens",), max_text_len=6),
        seed=0,
    )


def slow_sample(model, config, step, workdir):
    """The sample hook, used here to slow the run down so a test can kill it mid-way."""
    time.sleep(0.15)


def main() -> None:
    from v2a_jax.train.loop import train

    workdir, overrides = sys.argv[1], sys.argv[2:]
    cfg = apply_overrides(config(sample_every=1), overrides)
    train(
        cfg,
        workdir,
        build=build,
        loss_fn=loss,
        records=(records(10, 0), records(4, 1)),
        sample_fn=slow_sample,
        progress=False,
    )
