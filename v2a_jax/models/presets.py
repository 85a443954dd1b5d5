"""Model presets: ``tiny`` (tests, seconds), ``small`` (the CPU default), ``base`` (GPU/TPU).

All use K = 4 codebooks of V = 1024 (the project's codec; ``tiny`` shrinks V) and 64x64 frames at
25 fps (SyncScenes). Their video encoders keep the feature grid's layout and see frame differences
(``pool="grid"``, ``motion=True``): on SyncScenes the coarsest codebook's CE at event frames
rose by 0.55 nats with another clip's video after 900 steps, against 0.15 for the mean-pooled
encoder after 2,400 (``experiments/condition_ablation.py``, README).
Parameter counts: ``tests/test_token_lm.py``.
"""

from __future__ import annotations

from v2a_jax.models.config import ModelConfig, VideoEncoderConfig

# ~65k parameters: every code path, in seconds on a CPU.
TINY = ModelConfig(
    num_codebooks=4,
    codebook_size=16,
    d_model=32,
    num_layers=2,
    num_heads=2,
    mlp_dim=64,
    max_steps=64,
    text_dim=384,
    video=VideoEncoderConfig(patch=16, widths=(8, 16), pool="grid", motion=True),
)

# ~9 M parameters: trainable on SyncScenes on 2 CPU cores (4 s clips: 200 frames, 203 steps).
SMALL = ModelConfig(
    num_codebooks=4,
    codebook_size=1024,
    d_model=256,
    num_layers=6,
    num_heads=4,
    mlp_dim=768,
    max_steps=256,
    video=VideoEncoderConfig(patch=8, widths=(32, 64), pool="grid", motion=True),
)

# ~150 M parameters: accelerators, bfloat16 compute, up to 10 s clips (500 frames).
BASE = ModelConfig(
    num_codebooks=4,
    codebook_size=1024,
    d_model=768,
    num_layers=12,
    num_heads=12,
    mlp_dim=3072,
    max_steps=512,
    dtype="bfloat16",
    video=VideoEncoderConfig(
        patch=8, widths=(64, 128, 256), temporal_layers=2, pool="grid", motion=True
    ),
)

MODEL_PRESETS: dict[str, ModelConfig] = {"tiny": TINY, "small": SMALL, "base": BASE}
