"""tiny: every code path of training in seconds on a CPU (tests, smoke runs).

Run (on a tokenized set, e.g. the test fixture's, or one built with ``v2a data tokenize``):

    v2a train --config configs/tiny.py --workdir workdirs/tiny \
        --config.data.data_dir=data/tokenized --config.train.steps=20

Expect: the loss falls from about ln(1024) = 6.9 within the 20 steps; checkpoints at steps 10 and
20, ``metrics.jsonl`` and TensorBoard events in the workdir. Not a useful model.
"""

import dataclasses

from v2a_jax.config import Config, DataConfig, TrainConfig
from v2a_jax.models.presets import TINY

# The preset's 16-entry codebooks are for unit tests on synthetic tokens; real tokens come from
# the project's codec (1024 entries per codebook).
MODEL = dataclasses.replace(TINY, codebook_size=1024)


def get_config() -> Config:
    return Config(
        model=MODEL,
        train=TrainConfig(
            steps=20,
            batch_size=2,
            lr=1e-3,
            warmup_steps=2,
            log_every=1,
            eval_every=10,
            eval_batches=1,
            save_every=10,
            keep_checkpoints=2,
        ),
        data=DataConfig(data_dir="data/tokenized", max_text_len=32),
        mesh=None,
        seed=0,
    )
