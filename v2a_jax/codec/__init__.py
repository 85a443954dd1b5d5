"""Audio codec boundary: EnCodec (torch) wrapper, checkpoints, delay interleaving.

Importing this package does not import torch: the torch-backed names below load on first use.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "Codec": "encodec_codec",
    "CodecConfig": "config",
    "build_encodec_model": "config",
    "save_codec": "checkpoint",
    "CodecCheckpointError": "checkpoint",
    "import_encodec": "_torchaudio_compat",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
