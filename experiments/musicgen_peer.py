"""The peer of ``bench_sampling.py``: Hugging Face transformers' ``MusicgenForCausalLM``, randomly
initialised with this project's model sizes, sampling with its own ``generate``.

Legend: B samples, K codebooks, V codebook size, T codec frames, M cross-attention memory length,
D model width.

What is matched: layers, width D, heads, K codebooks, vocabulary V, the feed-forward parameter
count (MusicGen's MLP has two matrices of ``ffn_dim``, ours is gated with three of ``mlp_dim``, so
``ffn_dim = 1.5 * mlp_dim``), the sampling method (top-k 250, temperature 1), the number of
steps (``generate``'s ``max_length = T + K``: BOS plus ``T + K - 1`` steps, its own delay
pattern) and the cross-attention memory (``encoder_hidden_states`` of M rows of width D, as long
as our video + text memory; precomputed, so MusicGen is not charged for any encoder).
Classifier-free guidance is MusicGen's own ``guidance_scale``: two branches (conditional and
unconditional memory) in one doubled batch.

transformers 5.x's ``MusicgenForCausalLM.generate`` creates a plain ``DynamicCache`` (its config
is not encoder-decoder), into which every layer's cross-attention appends the memory again at
each step: the cache grows by ``M + 1`` per step and a step's cost grows with the step index.
We pass an ``EncoderDecoderCache`` (what ``MusicgenForConditionalGeneration`` uses), so the
memory's keys and values are computed once and reused, as MusicGen intends: the fair, faster
baseline.
"""

from __future__ import annotations

import os


def _torch():
    from v2a_jax.codec._torchaudio_compat import ensure_torchaudio

    ensure_torchaudio()  # transformers imports torchaudio; ours may not load beside torch-cpu
    import torch

    return torch


def set_threads() -> int:
    """torch intra-op threads = the CPUs this process may run on (what XLA uses too)."""
    torch = _torch()
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(n)
    return n


def build_musicgen(cfg, seed: int = 0, dtype: str = "float32"):
    """A random ``MusicgenForCausalLM`` with ``cfg``'s (a ``ModelConfig``) sizes, in eval mode,
    its parameters in ``dtype`` (``"float32"`` or ``"bfloat16"``).

    Returns:
        (model, its parameter count).
    """
    torch = _torch()
    from transformers import MusicgenDecoderConfig, MusicgenForCausalLM

    mg_cfg = MusicgenDecoderConfig(
        vocab_size=cfg.codebook_size,
        max_position_embeddings=max(2048, 2 * cfg.max_steps),
        num_hidden_layers=cfg.num_layers,
        ffn_dim=3 * cfg.mlp_dim // 2,
        num_attention_heads=cfg.num_heads,
        hidden_size=cfg.d_model,
        num_codebooks=cfg.num_codebooks,
        pad_token_id=cfg.pad_id,
        bos_token_id=cfg.pad_id,
        decoder_start_token_id=cfg.pad_id,
    )
    torch.manual_seed(seed)
    model = MusicgenForCausalLM(mg_cfg).eval().to(getattr(torch, dtype))
    return model, int(sum(p.numel() for p in model.parameters()))


def musicgen_sampler(model, batch: int, num_frames: int, memory_len: int, guidance_scale=None):
    """A no-argument callable that samples ``batch`` sequences of ``num_frames`` codec frames.

    Args:
        model: from ``build_musicgen``.
        batch: B samples.
        num_frames: T codec frames (``T + K - 1`` decoding steps).
        memory_len: M rows of ``encoder_hidden_states`` per sample.
        guidance_scale: None for none, else MusicGen's CFG scale (> 1: 2 branches).

    Returns:
        The callable; it returns int64 tokens [B, K, T].
    """
    torch = _torch()
    from transformers.cache_utils import DynamicCache, EncoderDecoderCache

    cfg = model.config
    rows = batch * (2 if guidance_scale else 1)
    gen = torch.Generator().manual_seed(0)
    dtype = next(model.parameters()).dtype  # the memory in the model's dtype
    memory = torch.randn(rows, memory_len, cfg.hidden_size, generator=gen).to(dtype)
    bos = torch.full((batch * cfg.num_codebooks, 1), cfg.bos_token_id, dtype=torch.long)

    def run():
        cache = EncoderDecoderCache(DynamicCache(config=cfg), DynamicCache(config=cfg))
        with torch.inference_mode():
            out = model.generate(
                bos,
                encoder_hidden_states=memory,
                do_sample=True,
                top_k=250,
                temperature=1.0,
                max_length=num_frames + cfg.num_codebooks,
                guidance_scale=guidance_scale,
                num_return_sequences=1,
                cache=cache,
            )
        tokens = out.numpy()
        if tokens.shape != (batch, cfg.num_codebooks, num_frames):
            raise RuntimeError(f"MusicGen returned {tokens.shape}, expected [B, K, T]")
        return tokens

    return run


__all__ = ["build_musicgen", "musicgen_sampler", "set_threads"]
