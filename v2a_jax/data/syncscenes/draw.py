"""Rendering a scene's frames, vectorised over time: uint8 [F, H, W, 3].

Every shape is a boolean mask over [F, H, W] built by broadcasting the pixel grid against per-frame
positions, so a 4 s clip draws in a few milliseconds. Frame i shows time i / fps.
"""

from __future__ import annotations

import numpy as np

from v2a_jax.data.syncscenes.config import SceneConfig
from v2a_jax.data.syncscenes.constants import APPEARANCE
from v2a_jax.data.syncscenes.scene import GRAVITY_PER_HEIGHT, Scene, SceneObject, bounce_times

STRIKER_REACH_PX_S = 90.0  # striker speed; it touches the object exactly at the hit time
STRIKER_MAX_GAP = 0.22  # fraction of the height the striker rests above the object


def ball_height(obj: SceneObject, t_f: np.ndarray, gravity: float, end: float) -> np.ndarray:
    """Height of the ball above the floor, pixels [F]: the same physics as its event times."""
    times, speeds = bounce_times(obj.drop_time, obj.drop_height, obj.restitution, gravity, end + 1)
    falling = obj.drop_height - 0.5 * gravity * np.clip(t_f - obj.drop_time, 0, None) ** 2
    h = np.where(t_f < obj.drop_time, obj.drop_height, falling)
    for t_hit, v in zip(times, speeds, strict=True):
        dt = t_f - t_hit
        rebound = obj.restitution * v * dt - 0.5 * gravity * dt**2
        h = np.where(dt >= 0, rebound, h)
    return np.clip(h, 0.0, None)


def _shape_mask(shape, yy, xx, cy_f, cx, r):
    dy, dx = yy - cy_f[:, None, None], xx - cx
    if shape == "circle":
        return dy**2 + dx**2 <= r**2
    if shape in ("square", "box"):
        return (np.abs(dy) <= r) & (np.abs(dx) <= r)
    if shape == "triangle":
        return (np.abs(dy) <= r) & (np.abs(dx) <= (dy + r) / 2)
    if shape == "disc":
        return (dx / (1.5 * r)) ** 2 + (dy / (0.75 * r)) ** 2 <= 1
    raise ValueError(f"unknown shape {shape!r}")


def _hit_distance(t_f: np.ndarray, hits: np.ndarray) -> np.ndarray:
    """Seconds from each frame time to the nearest hit [F]."""
    return np.min(np.abs(t_f[:, None] - hits[None, :]), axis=1)


def _draw_objects(frames, scene, cfg, t_f, yy, xx):
    gravity = GRAVITY_PER_HEIGHT * cfg.height
    for obj in scene.objects:
        shape, _, rgb = APPEARANCE[obj.material]
        r = obj.radius
        rest_y = scene.floor_y - r
        if obj.motion == "bounce":
            cy = rest_y - ball_height(obj, t_f, gravity, cfg.duration_s)
        else:
            cy = np.full_like(t_f, rest_y)
        colour = np.broadcast_to(np.asarray(rgb, np.float32), (len(t_f), 3)).copy()
        if obj.motion == "flash":
            since = t_f[:, None] - obj.event_times[None, :]
            lit = np.any((since >= -0.5 / cfg.fps) & (since < obj.flash_s), axis=1)
            colour[lit] = (190, 255, 190)
        if obj.motion == "strike":
            gap = np.minimum(_hit_distance(t_f, obj.event_times) * STRIKER_REACH_PX_S,
                             STRIKER_MAX_GAP * cfg.height)  # fmt: skip
            tip = rest_y - (0.75 * r if shape == "disc" else r) - gap  # [F]
            stick = (yy <= tip[:, None, None]) & (np.abs(xx - obj.x) <= max(1.0, r / 3))
            stick &= yy >= tip[:, None, None] - 0.4 * cfg.height
            frames[stick] = (235, 235, 235)
        mask = _shape_mask(shape, yy, xx, cy, obj.x, r)
        frames[:] = np.where(mask[..., None], colour[:, None, None, :].astype(np.uint8), frames)


def _scatter(frames, f_idx, rows, cols, rgb):
    h, w = frames.shape[1:3]
    ok = (rows >= 0) & (rows < h)
    frames[f_idx[ok], rows[ok], cols[ok] % w] = rgb


def _draw_rain(frames, rng, cfg, t_f):
    n, length = max(8, cfg.width // 2), max(3, cfg.height // 16)
    x0 = rng.uniform(0, cfg.width, n)
    phase = rng.uniform(0, cfg.height, n)
    speed = rng.uniform(2.0, 3.0, n) * cfg.height
    head = (phase[None] + speed[None] * t_f[:, None]) % (cfg.height + length)  # [F, N]
    seg = np.arange(length)[None, None, :]
    rows = (head[..., None] - seg).astype(int)
    cols = (x0[None, :, None] - seg * 0.35).astype(int) + np.zeros_like(rows)
    f_idx = np.broadcast_to(np.arange(len(t_f))[:, None, None], rows.shape)
    _scatter(frames, f_idx, rows, cols, (165, 180, 225))


def _draw_wind(frames, rng, cfg, t_f, gust_f):
    n = max(6, cfg.width // 3)
    x0, y0 = rng.uniform(0, cfg.width, n), rng.uniform(0, cfg.height * 0.75, n)
    drift = np.cumsum(gust_f) / cfg.fps * cfg.width * 1.1  # [F] particles move with the gusts
    cols = (x0[None] + drift[:, None] * rng.uniform(0.7, 1.3, n)[None]).astype(int)
    rows = (y0[None] + 1.5 * np.sin(2 * np.pi * (0.8 * t_f[:, None] + x0[None] / 9))).astype(int)
    f_idx = np.broadcast_to(np.arange(len(t_f))[:, None], rows.shape)
    _scatter(frames, f_idx, rows, cols, (215, 200, 160))
    _scatter(frames, f_idx, rows, cols + 1, (180, 165, 130))


def _draw_water(frames, rng, cfg, t_f, yy, xx, floor_y):
    level = floor_y + 0.35 * (cfg.height - floor_y)
    wavelength, speed = rng.uniform(8, 14) * cfg.width / 64, rng.uniform(0.5, 1.2)
    phase = 2 * np.pi * (xx / wavelength - speed * t_f[:, None, None])
    surface = level + 1.2 * np.sin(phase)
    water = yy >= surface
    frames[water] = (30, 85, 185)
    crest = water & (np.sin(phase + 1.3 * yy) > 0.85)
    frames[crest] = (100, 160, 235)


def draw_frames(scene: Scene, cfg: SceneConfig, rng: np.random.Generator, gust) -> np.ndarray:
    """uint8 [F, H, W, 3]: sky, floor, ambiences, then objects on top.

    Args:
        gust: callable seconds [N] -> wind strength [N] in (0, 1], shared with the wind's sound.
    """
    t_f = np.arange(cfg.num_frames) / cfg.fps
    yy = np.arange(cfg.height, dtype=np.float32)[None, :, None] + 0.5
    xx = np.arange(cfg.width, dtype=np.float32)[None, None, :] + 0.5
    sky = scene.background[None, None, :] + (np.arange(cfg.height)[:, None, None] * 0.4)
    frames = np.broadcast_to(sky.astype(np.uint8)[None], (cfg.num_frames, cfg.height, cfg.width, 3))
    frames = frames.copy()
    ground = int(np.ceil(scene.floor_y))
    frames[:, ground:] = (55, 50, 45)
    frames[:, ground : ground + 1] = (120, 115, 105)
    if "water" in scene.ambiences:
        _draw_water(frames, rng, cfg, t_f, yy, xx, scene.floor_y)
    if "wind" in scene.ambiences:
        _draw_wind(frames, rng, cfg, t_f, gust(t_f))
    _draw_objects(frames, scene, cfg, t_f, yy, xx)
    if "rain" in scene.ambiences:
        _draw_rain(frames, rng, cfg, t_f)
    return frames
