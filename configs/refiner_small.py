"""Refiner, small: 6 ConvNeXt blocks of width 192 (2.84 M parameters), 8 Euler steps.

Trained on random 1 s windows (50 frames) of the clips, evaluated on whole clips. Flow
matching on the residual between the codec's continuous latent and the quantized latent of
the first k codebooks (all K by default; ``config.model.num_coarse_codebooks=2`` to restore two).

Run (CPU, one core; the measured result is in the README's refiner section):
    v2a refiner train --config configs/refiner_small.py --workdir workdirs/refiner_small \
        --config.data.data_dir=data/tokenized
    v2a refiner eval --refiner workdirs/refiner_small --data-dir data/tokenized --split test \
        --num-clips 100 --out workdirs/refiner_small/eval_test.json
"""

from v2a_jax.config import Config, DataConfig, TrainConfig
from v2a_jax.models.refiner_config import RefinerConfig


def get_config() -> Config:
    return Config(
        model=RefinerConfig(width=192, num_blocks=6, kernel_size=7, dilations=(1, 2, 4)),
        train=TrainConfig(
            steps=800,
            batch_size=16,
            lr=2e-3,
            warmup_steps=50,
            end_lr_factor=0.1,
            weight_decay=0.0,
            log_every=20,
            eval_every=200,
            eval_batches=2,
            save_every=100,
            keep_checkpoints=2,
        ),
        # 1 s windows: the conv stack's receptive field is ~0.5 s, whole clips cost 4x more.
        data=DataConfig(keys=("tokens", "latent"), crop_frames=50),
        seed=0,
    )
