"""TFDS builders of this project: ``syncscenes``, ``video_folder``, ``tokenized``.

Every builder here writes its splits in source order (``disable_shuffling=True``), so TFDS's
shuffler is only a buffer. Past ``MAX_MEM_BUFFER_SIZE`` (1 GB) that buffer spills to bucket files
through ``tf.io.gfile``, which needs TensorFlow, which this project does not install: a split
of more than about 500 SyncScenes clips then failed with ``No module named 'tensorflow'``.
Records are written in order anyway, so the buffer is raised to keep a split in memory (the
machine's RAM is the bound; a 2,000-clip SyncScenes split of 4 s is about 4 GB).
"""

from tensorflow_datasets.core import shuffle as _tfds_shuffle

IN_MEMORY_SPLIT_BYTES = 64 << 30
_tfds_shuffle.MAX_MEM_BUFFER_SIZE = max(_tfds_shuffle.MAX_MEM_BUFFER_SIZE, IN_MEMORY_SPLIT_BYTES)
