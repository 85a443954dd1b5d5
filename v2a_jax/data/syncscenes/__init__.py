"""SyncScenes: procedural audio-visual clips with exact ground truth (the project's benchmark).

``render_clip(seed, SceneConfig())`` returns a ``Clip``: frames, audio, per-layer stems and an
annotation with every event's exact sample, the ambiences, the prompt-only layers, the labels and
captions. Objects' looks decide their materials; their visible events decide when they sound.
"""

from v2a_jax.data.syncscenes.config import SceneConfig
from v2a_jax.data.syncscenes.constants import (
    AMBIENCES,
    LABELS,
    LAYER_NAMES,
    MATERIALS,
    PROMPT_LAYERS,
)
from v2a_jax.data.syncscenes.render import Clip, render_clip

__all__ = [
    "AMBIENCES",
    "LABELS",
    "LAYER_NAMES",
    "MATERIALS",
    "PROMPT_LAYERS",
    "Clip",
    "SceneConfig",
    "render_clip",
]
