"""Sampling a scene: which objects, where, and when their events happen (physics, not a grid).

Times are in seconds. A bouncing ball is dropped from rest and follows ballistic flight with a
coefficient of restitution: each floor contact is an event, and the gaps shrink as it loses energy.
A struck object is hit by a striker at random, irregular times; a beep box flashes at random times.
All events of a clip keep ``MIN_EVENT_GAP_S`` between them so onsets are well defined.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from v2a_jax.data.syncscenes.config import SceneConfig
from v2a_jax.data.syncscenes.constants import (
    AMBIENCES,
    APPEARANCE,
    FIRST_EVENT_S,
    MATERIALS,
    MIN_EVENT_GAP_S,
    MOTIONS,
    PROMPT_LAYERS,
)

GRAVITY_PER_HEIGHT = 6.0  # g in frame heights per s^2: a drop of half the frame takes ~0.4 s


@dataclasses.dataclass
class SceneObject:
    index: int
    material: str
    motion: str
    x: float  # centre column, pixels
    radius: float  # pixels
    event_times: np.ndarray  # float64 [E] seconds
    gains: np.ndarray  # float32 [E] in (0, 1]
    # bounce only: drop time, drop height (px) and restitution; flash only: flash length (s)
    drop_time: float = 0.0
    drop_height: float = 0.0
    restitution: float = 0.0
    flash_s: float = 0.0


@dataclasses.dataclass
class Scene:
    objects: list[SceneObject]
    ambiences: list[str]
    prompt_layers: list[str]
    floor_y: float  # pixel row of the floor
    background: np.ndarray  # uint8 [3] sky colour


def _far_from(times: np.ndarray, taken: np.ndarray) -> bool:
    if not len(taken) or not len(times):
        return True
    return bool(np.min(np.abs(times[:, None] - taken[None, :])) >= MIN_EVENT_GAP_S)


def bounce_times(drop_time, drop_height, restitution, gravity, end, min_flight=0.15):
    """Floor-contact times and impact speeds of a ball dropped from rest at ``drop_time``."""
    t = drop_time + np.sqrt(2 * drop_height / gravity)
    v = np.sqrt(2 * gravity * drop_height)
    times, speeds = [], []
    while t < end:
        times.append(t)
        speeds.append(v)
        v *= restitution
        flight = 2 * v / gravity
        if flight < min_flight:
            break
        t += flight
    return np.asarray(times), np.asarray(speeds)


def _sample_bounce(rng, cfg, taken, floor_y, radius):
    gravity = GRAVITY_PER_HEIGHT * cfg.height
    for _ in range(20):
        drop_time = rng.uniform(0.0, min(1.0, cfg.duration_s / 3))
        drop_height = rng.uniform(0.3, 0.65) * (floor_y - radius - 2)
        restitution = rng.uniform(0.55, 0.82)
        times, speeds = bounce_times(drop_time, drop_height, restitution, gravity, cfg.duration_s)
        keep = times >= FIRST_EVENT_S
        if keep.all() and len(times) and _far_from(times, taken):
            gains = np.clip(speeds / np.sqrt(2 * gravity * 0.65 * floor_y), 0.3, 1.0)
            return times, gains.astype(np.float32), drop_time, drop_height, restitution
    return None


def _sample_hits(rng, cfg, taken, min_gap=0.25, max_gap=0.9):
    """Irregular hit times (gaps uniform in [min_gap, max_gap]) avoiding ``taken`` events."""
    times = []
    t = FIRST_EVENT_S + rng.uniform(0.05, 0.6)
    while t < cfg.duration_s - 0.05:
        if _far_from(np.array([t]), np.concatenate([taken, times])):
            times.append(t)
        t += rng.uniform(min_gap, max_gap)
    times = np.asarray(times)
    return times, rng.uniform(0.5, 1.0, size=len(times)).astype(np.float32)


def sample_scene(rng: np.random.Generator, cfg: SceneConfig) -> Scene:
    """Draws objects, their events, the ambiences and the prompt-only layers of one clip."""
    floor_y = cfg.height * 0.78
    num = int(rng.integers(cfg.min_objects, cfg.max_objects + 1))
    materials = rng.choice(MATERIALS, size=num, replace=False)
    columns = (np.arange(num) + 0.5) / num + rng.uniform(-0.08, 0.08, size=num) / num
    radius = max(2.0, cfg.width / 16)
    objects: list[SceneObject] = []
    taken = np.zeros(0)
    for material, col in zip(materials, rng.permutation(columns), strict=True):
        motion = str(rng.choice(MOTIONS[material]))
        x = float(col * cfg.width)
        obj = SceneObject(len(objects), str(material), motion, x, radius, np.zeros(0), np.zeros(0))
        if motion == "bounce":
            drawn = _sample_bounce(rng, cfg, taken, floor_y, radius)
            if drawn is None:
                continue  # no collision-free drop found: leave this object out
            obj.event_times, obj.gains, obj.drop_time, obj.drop_height, obj.restitution = drawn
        else:
            obj.event_times, obj.gains = _sample_hits(rng, cfg, taken)
            if not len(obj.event_times):
                continue
            obj.flash_s = float(rng.uniform(0.08, 0.16)) if motion == "flash" else 0.0
        taken = np.concatenate([taken, obj.event_times])
        objects.append(obj)

    ambiences: list[str] = []
    if rng.random() < cfg.p_ambience:
        ambiences = [str(a) for a in rng.choice(AMBIENCES, size=1)]
        if rng.random() < cfg.p_second_ambience:
            ambiences.append(str(rng.choice([a for a in AMBIENCES if a not in ambiences])))
    prompt_layers = [p for p in PROMPT_LAYERS if rng.random() < cfg.p_prompt_layer]
    background = np.array([rng.integers(10, 45), rng.integers(15, 50), rng.integers(30, 80)])
    return Scene(objects, sorted(ambiences), prompt_layers, floor_y, background.astype(np.uint8))


def appearance(material: str) -> tuple[str, str, tuple[int, int, int]]:
    return APPEARANCE[material]
