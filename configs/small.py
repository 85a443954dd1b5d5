"""small: the CPU default, 9.5 M parameters, trained on tokenized SyncScenes on 2 cores.

Build the data, then train (rerun the same command to resume after an interruption):

    v2a data build syncscenes --data-dir data/syncscenes --num-train 2000 --num-validation 100
    v2a data tokenize ...                      # -> data/tokenized (see the README)
    v2a train --config configs/small.py --workdir workdirs/small

Expect: validation loss (mean CE per token, nats) falling steadily from ln(1024) = 6.9; the
numbers and wall time of the reference run are in the README.

Step cost (``python experiments/bench_train.py --config configs/small.py``): 4.9 s per
step of 8 two-second windows on one core of a machine at load 8 (other jobs running); 2000
steps fit the 90-minute budget at about 2.7 s per step, so on a busy machine lower
``--config.train.steps`` or expect a longer run.
"""

from v2a_jax.config import Config, DataConfig, TrainConfig
from v2a_jax.models.presets import SMALL


def get_config() -> Config:
    return Config(
        model=SMALL,
        train=TrainConfig(
            steps=2000,
            batch_size=8,
            lr=1e-3,
            warmup_steps=200,
            end_lr_factor=0.1,
            weight_decay=0.01,
            clip_norm=1.0,
            log_every=20,
            eval_every=250,
            eval_batches=4,
            save_every=250,
            keep_checkpoints=3,
        ),
        # 2 s training windows of the 4 s clips: half the compute per step, the same sync cues;
        # validation runs on whole clips.
        data=DataConfig(data_dir="data/tokenized", max_text_len=32, crop_frames=100),
        mesh=None,
        seed=0,
    )
