"""Train the project's default codec (run as a file; this folder is not a package).

The same as ``v2a codec train``; every option of ``TrainConfig`` is a flag:

    python tokenizers/train_codec.py --out workdirs/codec --steps 3000
    python tokenizers/train_codec.py --out workdirs/codec --steps 40 --warmup-steps 10 \
        --adv-start 30 --eval-every 10   # a smoke run of every phase

Re-running with the same --out resumes from its last checkpoint.
"""

import sys

from v2a_jax.cli import main

if __name__ == "__main__":
    sys.exit(main(["codec", "train", *sys.argv[1:]]))
