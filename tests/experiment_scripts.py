"""Imports a script of ``experiments/`` (or ``tokenizers/``) as a module, for tests of its
functions (the scripts are run as files, not packages)."""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"


def load_experiment(name: str) -> types.ModuleType:
    """``experiments/<name>.py``, executed as a fresh module named ``name``."""
    return load_script(EXPERIMENTS / f"{name}.py")


def load_script(path: Path) -> types.ModuleType:
    """The script at ``path``, executed as a fresh module named after the file."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
