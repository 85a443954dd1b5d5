"""Imports a script of ``experiments/`` as a module, for tests of its functions (the scripts are
run as files, not a package)."""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def load_experiment(name: str) -> types.ModuleType:
    """``experiments/<name>.py``, executed as a fresh module named ``name``."""
    spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
