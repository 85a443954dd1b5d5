"""Sampling methods: support of each distribution, determinism, per-row keys, parsing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from v2a_jax.sampling.methods import Greedy, Temperature, TopK, TopP, parse_method

# Methods run inside the sampler's jit; calling them through one jit here too keeps the tests
# from dispatching (and compiling) every op of the bisection loop eagerly.
_call = jax.jit(lambda method, logits, rng: method(logits, rng), static_argnums=0)


def _logits(b=3, k=2, v=16, seed=0):
    return jax.random.normal(jax.random.key(seed), (b, k, v)) * 2.0


def test_greedy_is_argmax():
    logits = _logits()
    np.testing.assert_array_equal(Greedy()(logits), jnp.argmax(logits, -1))
    assert Greedy()(logits).dtype == jnp.int32


@pytest.mark.parametrize("k", [1, 3])
def test_topk_draws_only_top_k(k):
    logits = _logits(b=1, k=1, v=32)
    allowed = set(np.argsort(-np.asarray(logits[0, 0]))[:k].tolist())
    keys = jax.random.split(jax.random.key(1), 200)
    draws = jax.vmap(lambda r: _call(TopK(k=k), logits, r))(keys)
    assert set(np.asarray(draws).ravel().tolist()) <= allowed
    if k == 3:
        assert len(set(np.asarray(draws).ravel().tolist())) == 3


def test_topp_keeps_the_smallest_nucleus():
    probs = jnp.array([0.5, 0.3, 0.15, 0.05])
    logits = jnp.log(probs)[None, None]
    keys = jax.random.split(jax.random.key(0), 400)
    draws = set(
        np.asarray(jax.vmap(lambda r: _call(TopP(p=0.75), logits, r))(keys)).ravel().tolist()
    )
    assert draws == {0, 1}  # 0.5 < 0.75, 0.5 + 0.3 reaches it
    tiny = jax.vmap(lambda r: _call(TopP(p=0.01), logits, r))(keys)
    assert set(np.asarray(tiny).ravel().tolist()) == {0}  # the top token is always kept


def test_low_temperature_approaches_greedy():
    logits = _logits()
    ids = Temperature(1e-4)(logits, jax.random.key(3))
    np.testing.assert_array_equal(ids, Greedy()(logits))


def test_temperature_changes_spread():
    logits = jnp.log(jnp.array([0.6, 0.4]))[None, None]
    keys = jax.random.split(jax.random.key(0), 2000)
    hot = np.asarray(jax.vmap(lambda r: Temperature(5.0)(logits, r))(keys)).mean()
    cold = np.asarray(jax.vmap(lambda r: Temperature(0.2)(logits, r))(keys)).mean()
    assert cold < 0.2 < 0.35 < hot  # P(token 1) = 0.116 at T = 0.2, 0.480 at T = 5


def test_per_row_keys_make_rows_independent_of_the_batch():
    logits = _logits(b=4, k=3, v=64)
    keys = jax.random.split(jax.random.key(7), 4)
    for method in (TopK(8), TopP(0.9, temperature=0.8)):
        full = _call(method, logits, keys)
        assert full.shape == (4, 3)
        one = _call(method, logits[2:3], keys[2:3])
        np.testing.assert_array_equal(full[2:3], one)


def test_methods_are_hashable_for_jit():
    f = jax.jit(lambda m, x, r: m(x, r), static_argnums=0)
    out = f(TopK(4), _logits(), jax.random.key(0))
    assert out.shape == (3, 2)
    assert hash(TopK(4)) == hash(TopK(4))


def test_parse_method_and_errors():
    assert parse_method("greedy") == Greedy()
    assert parse_method("topk:50:0.7") == TopK(50, 0.7)
    assert parse_method("topp:0.9") == TopP(0.9)
    assert parse_method("temperature:0.5") == Temperature(0.5)
    with pytest.raises(ValueError, match="unknown sampling method"):
        parse_method("beam:4")
    with pytest.raises(ValueError, match="k >= 1"):
        parse_method("topk:0")
    with pytest.raises(ValueError, match="temperature must be > 0"):
        Temperature(0.0)


def test_bisection_cutoffs_equal_sorting():
    logits = jax.random.normal(jax.random.key(3), (4, 3, 1024)) * 3.0
    keys = jax.random.split(jax.random.key(4), 4)
    for k in (1, 250):
        kth = jax.lax.top_k(logits, k)[0][..., -1:]
        allowed = np.asarray(logits >= kth)
        ids = np.asarray(_call(TopK(k), logits, keys))
        assert np.take_along_axis(allowed, ids[..., None], -1).all()
    # top-p: the kept set is the sorted prefix that first reaches p
    probs = np.asarray(jax.nn.softmax(logits))
    order = np.argsort(-probs, -1)
    mass = np.cumsum(np.take_along_axis(probs, order, -1), -1)
    n_keep = (mass - np.take_along_axis(probs, order, -1) < 0.9).sum(-1)
    draws = jax.vmap(lambda r: _call(TopP(0.9), logits, jax.random.split(r, 4)))(
        jax.random.split(jax.random.key(5), 50)
    )
    for b in range(4):
        for kk in range(3):
            kept = set(order[b, kk, : n_keep[b, kk]].tolist())
            assert set(np.asarray(draws[:, b, kk]).tolist()) <= kept


def test_blocked_cumsum_and_draw_frequencies_match_the_softmax():
    from v2a_jax.sampling.methods import _count, _cumsum

    p = jax.random.uniform(jax.random.key(6), (3, 2, 1024))
    np.testing.assert_allclose(_cumsum(p), jnp.cumsum(p, -1), rtol=1e-5)
    mask = p > 0.5
    np.testing.assert_array_equal(_count(mask)[..., 0], mask.sum(-1))
    # V = 64: two blocks of the blocked running sum; 20,000 draws against the softmax
    logits = jax.random.normal(jax.random.key(7), (1, 1, 64)) * 1.5
    keys = jax.random.split(jax.random.key(8), 20_000)
    draws = np.asarray(jax.vmap(lambda r: _call(Temperature(1.0), logits, r))(keys)).ravel()
    freq = np.bincount(draws, minlength=64) / draws.size
    np.testing.assert_allclose(freq, np.asarray(jax.nn.softmax(logits[0, 0])), atol=0.01)
