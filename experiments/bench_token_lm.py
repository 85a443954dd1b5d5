"""Token LM cost on this machine: parameters, train-step time (forward + backward + adam) and
decode-step time (KV cache, jitted lax.fori_loop), for a preset.

    python experiments/bench_token_lm.py --preset small --batch 8 --seconds 4 \
        --out out/bench_token_lm_small.json

Compile time is reported separately from the steady-state times. ``decode_step_ms`` is one jitted
call of ``--decode-steps`` steps (conditions prepared inside it, as the sampler does) divided by
the number of steps; ``train_step_s`` the median of ``--steps`` steps after the first.
"""

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from v2a_jax.io.atomic import atomic_path
from v2a_jax.models import MODEL_PRESETS, init_model
from v2a_jax.models.losses import lm_loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small", choices=sorted(MODEL_PRESETS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--decode-steps", type=int, default=64)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    cfg = MODEL_PRESETS[args.preset]
    b, t = args.batch, int(round(args.seconds * cfg.audio_frame_rate))
    f = int(round(args.seconds * cfg.video.fps))
    rng = np.random.default_rng(0)
    batch = {
        "tokens": rng.integers(0, cfg.codebook_size, (b, t, cfg.num_codebooks)).astype(np.int32),
        "frames": rng.integers(0, 256, (b, f, cfg.video.height, cfg.video.width, 3)).astype(
            np.uint8
        ),
        "text_emb": rng.normal(size=(b, 16, cfg.text_dim)).astype(np.float32),
        "text_mask": np.ones((b, 16), bool),
    }
    result = {"preset": args.preset, "batch": b, "frames": t, "devices": str(jax.devices()[0])}
    t0 = time.perf_counter()
    model = init_model(cfg, seed=0)
    graphdef, params = nnx.split(model)
    result["params"] = int(sum(x.size for x in jax.tree.leaves(params)))
    result["init_s"] = time.perf_counter() - t0
    opt = optax.adamw(1e-4)
    opt_state = opt.init(params)

    @jax.jit
    def train_step(params, opt_state, key, batch):
        def loss_fn(p):
            return lm_loss(nnx.merge(graphdef, p), batch, key, True)[0]

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    t0 = time.perf_counter()
    params, opt_state, loss = train_step(params, opt_state, jax.random.key(0), batch)
    loss.block_until_ready()
    result["train_compile_and_first_step_s"] = time.perf_counter() - t0
    times = []
    for i in range(args.steps):
        t0 = time.perf_counter()
        params, opt_state, loss = train_step(params, opt_state, jax.random.key(i + 1), batch)
        loss.block_until_ready()
        times.append(time.perf_counter() - t0)
    result["train_step_s"] = float(np.median(times))
    result["train_tokens_per_s"] = b * t * cfg.num_codebooks / result["train_step_s"]

    n = args.decode_steps

    @jax.jit
    def decode(params, batch):
        m = nnx.merge(graphdef, params)
        cond = m.prepare_conditions(
            batch["frames"], cfg.video.fps, batch["text_emb"], batch["text_mask"], num_steps=n
        )

        def body(step, carry):
            cache, tok = carry
            logits, cache = m.decode_step(tok, step, cond, cache)
            return cache, jnp.argmax(logits, -1).astype(jnp.int32)

        tok = jnp.full((b, 1, cfg.num_codebooks), cfg.pad_id, jnp.int32)
        return jax.lax.fori_loop(0, n, body, (m.init_cache(b, n), tok))[1]

    t0 = time.perf_counter()
    decode(params, batch).block_until_ready()
    result["decode_compile_and_first_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    decode(params, batch).block_until_ready()
    result["decode_step_ms"] = 1e3 * (time.perf_counter() - t0) / n
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
