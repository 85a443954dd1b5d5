"""Refiner, tiny: a 2-block, 32-wide stack that trains in seconds; for tests and smoke runs.

Run (on a tokenized set, e.g. the one ``v2a data tokenize`` writes):
    v2a refiner train --config configs/refiner_tiny.py --workdir workdirs/refiner_tiny \
        --config.data.data_dir=data/tokenized
"""

from v2a_jax.config import Config, DataConfig, TrainConfig
from v2a_jax.models.refiner_config import RefinerConfig


def get_config() -> Config:
    return Config(
        model=RefinerConfig(width=32, num_blocks=2, time_dim=32),
        train=TrainConfig(
            steps=20,
            batch_size=4,
            lr=1e-3,
            warmup_steps=5,
            log_every=5,
            eval_every=10,
            eval_batches=1,
            save_every=10,
            keep_checkpoints=1,
        ),
        data=DataConfig(keys=("tokens", "latent")),
        seed=0,
    )
