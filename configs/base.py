"""base: ~150 M parameters, bfloat16 compute, for GPUs or TPUs (data + FSDP sharding).

    v2a train --config configs/base.py --workdir workdirs/base \
        --config.data.data_dir=DATA --config.mesh.fsdp=8

On a pod slice or several GPU hosts, run the same command on every host (after
``jax.distributed.initialize``, see the README); the batch is split over (data, fsdp).

Expect: validation loss well below the small config's at the same number of tokens seen.
Not yet trained by this project.
"""

from v2a_jax.config import Config, DataConfig, TrainConfig
from v2a_jax.models.presets import BASE
from v2a_jax.sharding import MeshConfig


def get_config() -> Config:
    return Config(
        model=BASE,
        train=TrainConfig(
            steps=100_000,
            batch_size=64,
            lr=3e-4,
            warmup_steps=2000,
            end_lr_factor=0.1,
            weight_decay=0.05,
            clip_norm=1.0,
            log_every=50,
            eval_every=2000,
            eval_batches=16,
            save_every=2000,
            keep_checkpoints=3,
        ),
        data=DataConfig(data_dir="data/tokenized", max_text_len=32),
        mesh=MeshConfig(data=-1, fsdp=1, tensor=1),
        seed=0,
    )
