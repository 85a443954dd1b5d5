"""The diffusion refiner: schedule, scan vs loop sampler, shapes, loss, and a toy it fixes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from v2a_jax.diffusion import FlowMatching, sample_ode
from v2a_jax.diffusion.refine import refine, refine_jit
from v2a_jax.models.refiner import Refiner, count_params
from v2a_jax.models.refiner_build import dequantize_np, latent_stats
from v2a_jax.models.refiner_config import RefinerConfig
from v2a_jax.models.refiner_loss import refiner_loss

D, K, V = 8, 3, 16


def tiny_cfg(**overrides) -> RefinerConfig:
    base = dict(latent_dim=D, num_codebooks=K, codebook_size=V, width=32, num_blocks=2, time_dim=16)
    return RefinerConfig(**{**base, **overrides})


def codebooks(seed=0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(K, V, D)).astype(np.float32) / np.arange(1, 4)[
        :, None, None
    ].astype(np.float32)


def random_model(cfg: RefinerConfig, seed: int = 0) -> Refiner:
    """A refiner whose zero-initialised gates/outputs are randomised, so its velocity is not 0."""
    model = Refiner(cfg, codebooks(), rngs=nnx.Rngs(seed))
    params = nnx.state(model, nnx.Param)
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.key(seed + 1), len(leaves))
    leaves = [p + 0.1 * jax.random.normal(k, p.shape) for p, k in zip(leaves, keys, strict=True)]
    nnx.update(model, jax.tree.unflatten(treedef, leaves))
    return model


def test_shapes_and_dequantize_matches_numpy():
    cfg = tiny_cfg(num_coarse_codebooks=2)
    model = random_model(cfg)
    tokens_btk = jax.random.randint(jax.random.key(0), (2, 12, K), 0, V)
    z_q_btd = model.dequantize(tokens_btk)
    assert z_q_btd.shape == (2, 12, D)
    np.testing.assert_allclose(
        z_q_btd, dequantize_np(np.asarray(tokens_btk), codebooks(), 2), rtol=1e-6
    )
    v_btd = model(jnp.zeros((2, 12, D)), z_q_btd, jnp.array([0.1, 0.9]))
    assert v_btd.shape == (2, 12, D) and bool(jnp.all(jnp.isfinite(v_btd)))
    z_btd = refine_jit(model, z_q_btd, jax.random.key(1), num_steps=4)
    assert z_btd.shape == (2, 12, D) and z_btd.dtype == jnp.float32
    small = nnx.eval_shape(lambda: Refiner(RefinerConfig(), rngs=nnx.Rngs(0)))
    assert 1_000_000 <= count_params(small) <= 3_000_000
    with pytest.raises(ValueError, match="z_q_btd has shape"):
        refine(model, jnp.zeros((2, 12, D + 1)), jax.random.key(0))


@pytest.mark.parametrize("method", ["euler", "heun"])
def test_scan_equals_python_loop(method):
    model = random_model(tiny_cfg())
    z_q_btd = jax.random.normal(jax.random.key(3), (2, 10, D))
    out = {
        use_scan: refine(model, z_q_btd, jax.random.key(4), 6, method=method, use_scan=use_scan)
        for use_scan in (True, False)
    }
    # Same step function, different compilation: equal up to float reassociation (1e-5 policy).
    np.testing.assert_allclose(out[True], out[False], rtol=1e-5, atol=1e-5)
    # The model's velocity is not trivially 0: refinement moved the starting point.
    assert float(jnp.abs(out[True] - z_q_btd).mean()) > 1e-2


def test_heun_is_second_order_on_a_known_flow():
    # dx/dt = cos(t) x  ->  x(1) = x(0) exp(sin(1)); halving the step divides the error by
    # about 2 for Euler (first order) and by about 4 for Heun (second order).
    x0 = jnp.ones((1, 1, 1))
    exact = float(np.exp(np.sin(1.0)))

    def err(method, n):
        ts = jnp.linspace(0.0, 1.0, n + 1)
        x1 = sample_ode(lambda x, t: jnp.cos(t)[:, None, None] * x, x0, ts, method)
        return abs(float(x1.squeeze()) - exact)

    assert 1.6 < err("euler", 8) / err("euler", 16) < 2.4
    assert 3.2 < err("heun", 8) / err("heun", 16) < 4.8
    assert err("heun", 8) < err("euler", 8) / 4


def test_flow_schedule():
    flow = FlowMatching(shift=3.0)
    ts = flow.timesteps(8)
    assert ts.shape == (9,) and ts[0] == 0.0 and ts[-1] == 1.0 and np.all(np.diff(ts) > 0)
    # shift > 1 spends the first steps near the noise end (small t increments).
    assert ts[1] < 1 / 8
    t_b = flow.sample_t(jax.random.key(0), 1000)
    assert float(t_b.min()) > 0 and float(t_b.max()) < 1
    with pytest.raises(ValueError, match="t_sampling"):
        FlowMatching(t_sampling="cosine")
    with pytest.raises(ValueError, match="num_coarse_codebooks"):
        tiny_cfg(num_coarse_codebooks=K + 1)
    with pytest.raises(ValueError, match="latent_std has 2 values"):
        tiny_cfg(latent_std=(1.0, 1.0))


def test_latent_stats():
    cb = codebooks()
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, V, (2, 50, K))
    latents = [dequantize_np(t, cb, K) + 0.5 + rng.normal(size=(50, D)) * 0.1 for t in tokens]
    stats = latent_stats(zip(tokens, latents, strict=True), cb, K)
    allz = np.concatenate(latents)
    np.testing.assert_allclose(stats["latent_mean"], allz.mean(0), rtol=1e-6)
    np.testing.assert_allclose(stats["latent_std"], allz.std(0) + 1e-4, rtol=1e-6)
    np.testing.assert_allclose(stats["residual_std"], np.sqrt(0.25 + 0.01), rtol=0.05)
    with pytest.raises(ValueError, match="no frames"):
        latent_stats([], cb, K)


def toy_batch(rng, batch=16, frames=16):
    """target = z_q + a smooth function of z_q (what the toy refiner must learn to add)."""
    tokens_btk = rng.integers(0, V, (batch, frames, K)).astype(np.int32)
    z_q_btd = dequantize_np(tokens_btk, codebooks(), K)
    mix = np.random.default_rng(123).normal(size=(D, D)).astype(np.float32) / np.sqrt(D)
    latent_btd = z_q_btd + 0.5 * np.tanh(z_q_btd @ mix)
    return {"tokens": tokens_btk, "latent": latent_btd.astype(np.float32)}


def train(model, batches, steps, lr=1e-2):
    optimizer = nnx.Optimizer(model, optax.adam(lr), wrt=nnx.Param)

    @nnx.jit
    def step(model, optimizer, batch, rng):
        grad_fn = nnx.value_and_grad(lambda m: refiner_loss(m, batch, rng, True)[0])
        loss, grads = grad_fn(model)
        optimizer.update(model, grads)
        return loss

    return [float(step(model, optimizer, batches(i), jax.random.key(i))) for i in range(steps)]


def test_loss_drops_when_overfitting_a_tiny_batch():
    batch = toy_batch(np.random.default_rng(0), batch=4, frames=8)
    losses = train(Refiner(tiny_cfg(), codebooks(), rngs=nnx.Rngs(0)), lambda i: batch, 60)
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:10])


def test_trained_refiner_moves_the_latent_towards_the_target():
    rng = np.random.default_rng(1)
    data = [toy_batch(rng) for _ in range(8)]
    stats = latent_stats(
        ((t, z) for b in data for t, z in zip(b["tokens"], b["latent"], strict=True)),
        codebooks(),
        K,
    )
    cfg = tiny_cfg().with_stats(stats["latent_mean"], stats["latent_std"], stats["residual_std"])
    model = Refiner(cfg, codebooks(), rngs=nnx.Rngs(0))
    train(model, lambda i: data[i % len(data)], 80)
    test = toy_batch(np.random.default_rng(99))
    z_q = model.dequantize(jnp.asarray(test["tokens"]))
    z = refine_jit(model, z_q, jax.random.key(0), num_steps=8)
    err_q = float(jnp.mean((z_q - test["latent"]) ** 2))
    err_refined = float(jnp.mean((z - test["latent"]) ** 2))
    assert err_refined < 0.5 * err_q, (err_refined, err_q)


def test_codec_codebooks_dequantize_like_the_codec():
    from v2a_jax.codec import Codec, CodecConfig

    codec = Codec.from_config(CodecConfig(n_q=3, bins=16, dimension=8, kmeans_init=False), seed=0)
    table_kvd = codec.codebooks()
    assert table_kvd.shape == (3, 16, 8) and table_kvd.dtype == np.float32
    tokens_btk = np.random.default_rng(0).integers(0, 16, (2, 5, 3)).astype(np.int32)
    for k in (1, 3):
        np.testing.assert_allclose(
            dequantize_np(tokens_btk, table_kvd, k),
            codec.dequantize(tokens_btk, num_codebooks=k),
            rtol=1e-5,
            atol=1e-6,
        )


@pytest.mark.parametrize("name", ["refiner_tiny", "refiner_small"])
def test_shipped_configs_load_and_build(name):
    from pathlib import Path

    from v2a_jax.config import load_config
    from v2a_jax.models.refiner_build import build_refiner_model

    path = Path(__file__).resolve().parent.parent / "configs" / f"{name}.py"
    config = load_config(path, ["--config.train.steps=7", "--config.model.flow.shift=2.0"])
    assert config.train.steps == 7 and config.model.flow.shift == 2.0
    assert set(config.data.keys) == {"tokens", "latent"}
    model = nnx.eval_shape(lambda: build_refiner_model(config, nnx.Rngs(0)))
    assert count_params(model) <= 3_000_000
