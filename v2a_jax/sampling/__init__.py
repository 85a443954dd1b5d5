"""Sampling: the AR sampler, sampling methods, guidance, exact durations, the output dataclass.

Names load on first use, so importing this package does not import jax.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "Greedy": "methods",
    "Temperature": "methods",
    "TopK": "methods",
    "TopP": "methods",
    "parse_method": "methods",
    "Branch": "guidance",
    "CommonCFG": "guidance",
    "NoGuidance": "guidance",
    "SeparateCFG": "guidance",
    "make_guidance": "guidance",
    "DurationError": "duration",
    "DurationPlan": "duration",
    "plan_duration": "duration",
    "GenerationOutput": "output",
    "sample_window": "sampler",
    "compiled_programs": "sampler",
    "generate_tokens": "continuation",
    "plan_windows": "continuation",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
