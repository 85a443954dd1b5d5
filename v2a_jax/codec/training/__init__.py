"""Training the project's codec (torch, used by ``tokenizers/train_codec.py`` only)."""
