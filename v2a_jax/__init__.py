"""v2a-jax: soundtracks for silent video, in JAX.

The public surface (loaded on first use, so ``import v2a_jax`` stays light: no jax, torch or
transformers until one of these names is touched):

    V2A                     the pipeline: ``V2A.from_pretrained(...)``, ``pipe.generate(...)``
    GenerationOutput        what ``generate`` returns (waveforms, tokens, seeds, ``.save(dir)``)
    Greedy, Temperature, TopK, TopP     sampling methods
    SeparateCFG, CommonCFG, NoGuidance  guidance forms
"""

from __future__ import annotations

import importlib

_LAZY = {
    "V2A": "v2a_jax.api",
    "GenerationOutput": "v2a_jax.sampling.output",
    "Greedy": "v2a_jax.sampling.methods",
    "Temperature": "v2a_jax.sampling.methods",
    "TopK": "v2a_jax.sampling.methods",
    "TopP": "v2a_jax.sampling.methods",
    "SeparateCFG": "v2a_jax.sampling.guidance",
    "CommonCFG": "v2a_jax.sampling.guidance",
    "NoGuidance": "v2a_jax.sampling.guidance",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
