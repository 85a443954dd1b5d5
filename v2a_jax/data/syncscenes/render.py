"""render_clip: one SyncScenes clip (frames, audio, stems, annotation) from a seed.

Legend: F frames, H x W pixels, S audio samples, L layers (``LAYER_NAMES``), E events.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from v2a_jax.data.syncscenes import ambience, prompt_layers
from v2a_jax.data.syncscenes.captions import make_captions
from v2a_jax.data.syncscenes.config import SceneConfig
from v2a_jax.data.syncscenes.constants import LAYER_NAMES, MATERIALS
from v2a_jax.data.syncscenes.draw import draw_frames, event_frame
from v2a_jax.data.syncscenes.scene import Scene, sample_scene

PEAK = 0.9  # the mix is scaled so its peak is this; the stems get the same gain
# Independent random streams per concern: drawing frames differently leaves the sounds as they are.
_STREAMS = ("scene", "weather", "look", "captions") + LAYER_NAMES[1:]


@dataclasses.dataclass
class Clip:
    """One clip.

    Attributes:
        clip_id: ``f"syncscenes-{seed:07d}"``.
        seed: the seed it was rendered from.
        frames: uint8 [F, H, W, 3] RGB; frame i covers [i / fps, (i + 1) / fps).
        audio: float32 [S] mono mix; equals ``stems.sum(0)``.
        stems: float32 [L, S]: foreground, each ambience, each prompt-only layer (zeros if absent).
        annotation: JSON-serializable ground truth (objects, events, layers, labels, captions).
    """

    clip_id: str
    seed: int
    frames: np.ndarray
    audio: np.ndarray
    stems: np.ndarray
    annotation: dict


def _streams(seed: int) -> dict[str, np.random.Generator]:
    return {name: np.random.default_rng([seed, i]) for i, name in enumerate(_STREAMS)}


def scene_for(seed: int, config: SceneConfig | None = None) -> tuple[Scene, ambience.Weather]:
    """The scene and weather ``render_clip(seed, config)`` renders (for tests and tools)."""
    cfg = SceneConfig() if config is None else config
    rng = _streams(seed)
    return sample_scene(rng["scene"], cfg), ambience.sample_weather(rng["weather"], cfg.duration_s)


def _annotation(seed: int, scene: Scene, cfg: SceneConfig) -> dict:
    """The clip's ground truth, JSON-serializable (captions are added by the caller)."""
    sr = cfg.sample_rate
    objects, events = [], []
    for obj in scene.objects:
        objects.append(
            {"index": obj.index, "material": obj.material, "shape": obj.shape, "color": obj.color,
             "motion": obj.motion_kind, "x_px": round(float(obj.x), 3),
             "size_px": round(float(obj.half_h), 3), **obj.timbre.to_json(),
             **obj.motion.to_json()}
        )  # fmt: skip
        for s, g in zip(obj.event_samples.tolist(), obj.gains.tolist(), strict=True):
            events.append(
                {"time_s": s / sr, "sample": s, "frame": event_frame(s, cfg), "object": obj.index,
                 "material": obj.material, "kind": obj.motion_kind, "gain": round(g, 4)}
            )  # fmt: skip
    events.sort(key=lambda e: (e["sample"], e["object"]))
    sounding = {o["material"] for o in objects}
    return {
        "clip_id": f"syncscenes-{seed:07d}",
        "seed": int(seed),
        "duration_s": float(cfg.duration_s),
        "fps": float(cfg.fps),
        "sample_rate": int(sr),
        "num_frames": int(cfg.num_frames),
        "num_samples": int(cfg.num_samples),
        "height": int(cfg.height),
        "width": int(cfg.width),
        "objects": objects,
        "events": events,
        "ambiences": list(scene.ambiences),
        "prompt_layers": list(scene.prompt_layers),
        "labels": [m for m in MATERIALS if m in sounding] + scene.ambiences + scene.prompt_layers,
        "captions": [],
        "stem_names": list(LAYER_NAMES),
    }


def render_clip(seed: int, config: SceneConfig | None = None) -> Clip:
    """Renders the clip of ``seed``; a pure function of (seed, config).

    Args:
        seed: any integer >= 0.
        config: sizes, rates and odds; ``SceneConfig()`` when None.

    Returns:
        The clip; its audio peaks at ``PEAK``.

    Raises:
        ValueError: a bad config value (naming the field) or a negative seed.
    """
    cfg = SceneConfig() if config is None else config
    cfg.validate()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    seed = int(seed)
    rng = _streams(seed)
    scene, weather = scene_for(seed, cfg)

    n, sr = cfg.num_samples, cfg.sample_rate
    stems = np.zeros((len(LAYER_NAMES), n), np.float32)
    stems[0] = scene.foreground
    for name in scene.ambiences:
        stems[LAYER_NAMES.index(name)] = ambience.SOUNDS[name](rng[name], n, sr, weather)
    for name in scene.prompt_layers:
        stems[LAYER_NAMES.index(name)] = prompt_layers.SOUNDS[name](rng[name], n, sr)
    audio = stems.sum(0)
    gain = np.float32(PEAK / max(float(np.abs(audio).max()), 1e-6))
    stems *= gain
    audio = stems.sum(0)  # re-summed, so audio == stems.sum(0) exactly

    frames = draw_frames(scene, cfg, weather, rng["look"])
    annotation = _annotation(seed, scene, cfg)
    annotation["captions"] = make_captions(rng["captions"], annotation)
    return Clip(annotation["clip_id"], seed, frames, audio, stems, annotation)
