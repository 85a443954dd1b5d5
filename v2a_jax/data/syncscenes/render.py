"""render_clip: one SyncScenes clip (frames, audio, stems, annotation) from a seed."""

from __future__ import annotations

import dataclasses

import numpy as np

from v2a_jax.data.syncscenes import ambience
from v2a_jax.data.syncscenes.captions import make_captions
from v2a_jax.data.syncscenes.config import SceneConfig
from v2a_jax.data.syncscenes.constants import APPEARANCE, LAYER_NAMES
from v2a_jax.data.syncscenes.draw import draw_frames
from v2a_jax.data.syncscenes.materials import material_kernel, place_events
from v2a_jax.data.syncscenes.scene import sample_scene

PEAK = 0.9  # the mix is scaled down (never up) so its peak stays below this


@dataclasses.dataclass
class Clip:
    """One clip. Legend: F frames, H, W pixels, S samples, L layers (``LAYER_NAMES``).

    Attributes:
        frames: uint8 [F, H, W, 3] RGB; frame i shows time i / fps.
        audio: float32 [S] mono mix; equals ``stems.sum(0)``.
        stems: float32 [L, S]: foreground, each ambience, each prompt-only layer (zeros if absent).
        annotation: JSON-serializable ground truth (events, objects, layers, labels, captions).
    """

    clip_id: str
    seed: int
    frames: np.ndarray
    audio: np.ndarray
    stems: np.ndarray
    annotation: dict


def _streams(seed: int) -> dict[str, np.random.Generator]:
    # Independent streams per concern, so a change to how frames are drawn leaves sounds unchanged.
    names = ("scene", "sound", "layers", "draw", "captions")
    return {n: np.random.default_rng([seed, i]) for i, n in enumerate(names)}


def render_clip(seed: int, config: SceneConfig | None = None) -> Clip:
    """Renders the clip of ``seed`` (default ``SceneConfig()``); deterministic in (seed, config)."""
    config = SceneConfig() if config is None else config
    config.validate()
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    rng = _streams(seed)
    scene = sample_scene(rng["scene"], config)
    sr, n = config.sample_rate, config.num_samples
    stems = np.zeros((len(LAYER_NAMES), n), np.float32)

    events, objects = [], []
    for obj in scene.objects:
        shape, colour, _ = APPEARANCE[obj.material]
        kernel = material_kernel(obj.material, rng["sound"], sr, obj.flash_s)
        samples = np.round(obj.event_times * sr).astype(int)
        stems[0] += place_events(kernel, samples, obj.gains, n)
        objects.append(
            {"index": obj.index, "material": obj.material, "shape": shape, "color": colour,
             "motion": obj.motion, "x": round(obj.x, 2)}
        )  # fmt: skip
        for s, g in zip(samples, obj.gains, strict=True):
            events.append(
                {"time_s": s / sr, "sample": int(s), "frame": min(round(s / sr * config.fps),
                 config.num_frames - 1), "object": obj.index, "material": obj.material,
                 "kind": obj.motion, "gain": round(float(g), 4)}
            )  # fmt: skip
    events.sort(key=lambda e: e["sample"])
    stems[0] *= 0.6

    gust = ambience.make_gust(rng["layers"])
    makers = {
        "rain": lambda r: ambience.rain(r, n, sr),
        "water": lambda r: ambience.water(r, n, sr),
        "wind": lambda r: ambience.wind(r, n, sr, gust),
        "music": lambda r: ambience.music(r, n, sr),
        "hum": lambda r: ambience.hum(r, n, sr),
    }
    for name in scene.ambiences + scene.prompt_layers:
        stems[LAYER_NAMES.index(name)] = makers[name](rng["layers"])

    peak = np.abs(stems.sum(0)).max()
    if peak > PEAK:
        stems *= PEAK / peak
    frames = draw_frames(scene, config, rng["draw"], gust)

    sounding = sorted({o["material"] for o in objects}, key=lambda m: list(APPEARANCE).index(m))
    annotation = {
        "clip_id": f"syncscenes-{seed:07d}",
        "seed": int(seed),
        "duration_s": float(config.duration_s),
        "fps": float(config.fps),
        "sample_rate": int(sr),
        "num_frames": int(config.num_frames),
        "num_samples": int(n),
        "height": int(config.height),
        "width": int(config.width),
        "objects": objects,
        "events": events,
        "ambiences": list(scene.ambiences),
        "prompt_layers": list(scene.prompt_layers),
        "labels": sounding + list(scene.ambiences) + list(scene.prompt_layers),
        "stem_names": list(LAYER_NAMES),
    }
    annotation["captions"] = make_captions(rng["captions"], annotation)
    return Clip(annotation["clip_id"], int(seed), frames, stems.sum(0), stems, annotation)
