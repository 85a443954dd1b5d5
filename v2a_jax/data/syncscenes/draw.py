"""Rendering a scene's frames: uint8 [F, H, W, 3] (F frames, H x W pixels).

Frame i covers [i / fps, (i + 1) / fps) and shows the scene at the middle of that interval,
except that a frame holding an object's event shows that object at the event's exact time: the
ball touching the floor, the mallet touching the object. A flash lights the box in every frame its
beep overlaps. Layers, back to front: sky and floor, water, shadows, glows, mallets, objects,
rain, wind.
"""

from __future__ import annotations

import numpy as np

from v2a_jax.data.syncscenes import sprites, weather_draw
from v2a_jax.data.syncscenes.ambience import Weather
from v2a_jax.data.syncscenes.config import SceneConfig
from v2a_jax.data.syncscenes.motion import Bounce, Flash, Strike
from v2a_jax.data.syncscenes.scene import Scene, SceneObject

# (sky top, sky at the horizon) palettes: dark and unsaturated so every object stands out.
_SKIES = (
    ((12, 18, 42), (45, 60, 100)),
    ((24, 14, 40), (85, 55, 85)),
    ((10, 30, 36), (45, 85, 90)),
    ((28, 28, 34), (78, 78, 88)),
    ((14, 24, 16), (55, 75, 60)),
)
_FLOORS = ((72, 66, 60), (56, 60, 72), (46, 66, 46), (88, 72, 52))
MALLET_RGB = (225, 212, 180)
ROD_RGB = (150, 140, 122)
THREAD_RGB = (125, 120, 110)
LAMP_ON_RGB = (255, 245, 165)
LAMP_OFF_RGB = (70, 62, 35)
LEDGE_FRACTION = 0.06  # with water, the floor is a ledge this thick above it


def water_top(cfg: SceneConfig, floor_y: float) -> int:
    """First pixel row of the water band (below the ledge objects stand on)."""
    return int(floor_y) + max(2, round(LEDGE_FRACTION * cfg.height))


def background(rng: np.random.Generator, cfg: SceneConfig, scene: Scene) -> np.ndarray:
    """Sky with hills and texture, and the floor: uint8 [H, W, 3]."""
    h, w, floor_y = cfg.height, cfg.width, int(scene.floor_y)
    top, horizon = (np.asarray(c, np.float32) for c in _SKIES[int(rng.integers(len(_SKIES)))])
    top, horizon = top * rng.uniform(0.8, 1.2), horizon * rng.uniform(0.8, 1.2)
    if "rain" in scene.ambiences:  # overcast: greyer and darker
        top, horizon = 0.5 * top + 0.5 * top.mean(), 0.6 * (0.5 * horizon + 0.5 * horizon.mean())
    y = (np.arange(h, dtype=np.float32) / max(1, floor_y))[:, None, None]
    img = np.broadcast_to(top + np.clip(y, 0, 1) * (horizon - top), (h, w, 3)).copy()
    x = np.arange(w, dtype=np.float32) / w
    ridge = h * (
        rng.uniform(0.5, 0.62)
        + 0.05 * np.sin(2 * np.pi * (rng.uniform(0.6, 1.5) * x + rng.uniform(0, 1)))
        + 0.025 * np.sin(2 * np.pi * (rng.uniform(2, 4) * x + rng.uniform(0, 1)))
    )
    hills = np.arange(h)[:, None] >= ridge[None, :]
    img[hills] = 0.55 * horizon + 0.1 * top
    # Low-frequency texture: a coarse random grid, bilinearly enlarged.
    grid = rng.normal(0.0, 5.0, (6, 6)).astype(np.float32)
    gy, gx = np.linspace(0, 5, h), np.linspace(0, 5, w)
    iy, ix = np.minimum(gy.astype(int), 4), np.minimum(gx.astype(int), 4)
    fy, fx = (gy - iy)[:, None], (gx - ix)[None, :]
    tex = (
        grid[iy][:, ix] * (1 - fy) * (1 - fx)
        + grid[iy + 1][:, ix] * fy * (1 - fx)
        + grid[iy][:, ix + 1] * (1 - fy) * fx
        + grid[iy + 1][:, ix + 1] * fy * fx
    )
    img += tex[..., None]
    floor = np.asarray(_FLOORS[int(rng.integers(len(_FLOORS)))], np.float32)
    floor = floor * rng.uniform(0.85, 1.15)
    depth = (np.arange(h - floor_y, dtype=np.float32) / max(1, h - floor_y))[:, None, None]
    img[floor_y:] = floor * (1.0 - 0.35 * depth) + tex[floor_y:, :, None] * 0.5
    img[floor_y] = np.minimum(floor * 1.45 + 10, 255)  # the lit edge of the floor
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def _object_times(obj: SceneObject, cfg: SceneConfig) -> np.ndarray:
    """float [F]: the time each frame shows this object (event frames: the event time)."""
    t = (np.arange(cfg.num_frames) + 0.5) / cfg.fps
    t[[event_frame(s, cfg) for s in obj.event_samples]] = obj.event_times
    return t


def event_frame(sample: int, cfg: SceneConfig) -> int:
    """The frame whose interval holds an onset sample."""
    return min(int(np.floor(sample * cfg.fps / cfg.sample_rate + 1e-9)), cfg.num_frames - 1)


def _drum_shade(rgb, half_h):
    body = np.asarray(rgb, np.float32)
    skin = np.array([232, 218, 190], np.float32)

    def shade(u, v, d, n):
        col = np.where((v < -0.2 * half_h)[..., None], skin, body)  # the head, seen from above
        col = np.where((np.abs(v + 0.2 * half_h) < 0.5)[..., None], body * 0.6, col)  # the hoop
        return np.where((d > -0.8)[..., None], col * 0.75, col)

    return shade


def _draw_object(frames, obj: SceneObject, cfg: SceneConfig, floor_y: float) -> None:
    """Draws one object over all frames: its shadow, its mallet if struck, then the object."""
    f_n = cfg.num_frames
    all_f = np.arange(f_n)
    t = _object_times(obj, cfg)
    half_w = np.full(f_n, obj.half_w, np.float32)
    half_h = np.full(f_n, obj.half_h, np.float32)
    cx = np.full(f_n, obj.x)
    height = np.zeros(f_n)
    motion = obj.motion
    if isinstance(motion, Bounce):
        height = motion.height(t)
        cx = obj.x + motion.x_offset(t, obj.slot_half)
        if obj.material == "rubber":  # a rubber ball squashes on the floor, more when hit hard
            frames_hit = [event_frame(s, cfg) for s in obj.event_samples]
            squash = np.ones(f_n, np.float32)
            squash[frames_hit] = 1 - 0.25 * obj.gains
            half_h, half_w = half_h * squash, half_w / np.sqrt(squash)
    cy = floor_y - height - half_h

    # Shadow on the floor: smaller and fainter the higher the object is.
    lift = np.clip(height / (0.6 * cfg.height), 0, 1)
    shadow_y = np.full(f_n, floor_y + 0.7)
    black = lambda u, v, d, n: np.zeros(3, np.float32)  # noqa: E731
    sprites.draw(frames, all_f, shadow_y, cx, "ellipse", half_w * (1.1 - 0.5 * lift),
                 np.maximum(0.9, 0.15 * half_w), black, opacity=0.5 * (1 - 0.7 * lift))  # fmt: skip

    rgb = np.asarray(obj.rgb, np.float32)
    if isinstance(motion, Bounce) and motion.release_s > 0:  # hangs on a thread until dropped
        held = t < motion.release_s
        col = int(np.clip(np.floor(cx[0]), 0, cfg.width - 1))
        thread = np.arange(cfg.height)[None, :] < (cy - half_h)[:, None]  # [F, H]
        frames[:, :, col][thread & held[:, None]] = THREAD_RGB
    if isinstance(motion, Strike):
        _draw_mallet(frames, obj, motion.gap(t), cx, floor_y, cfg)
    if obj.shape == "circle":
        shine = 0.9 if obj.material == "metal" else 0.12
        shade = sprites.sphere_shade(rgb, shine, half_w, half_h, 30 if shine > 0.5 else 6)
        sprites.draw(frames, all_f, cy, cx, "ellipse", half_w, half_h, shade)
    elif obj.shape == "square":
        shade = sprites.flat_shade(rgb, rgb * 0.6, 1.0, grain=0.12)
        sprites.draw(frames, all_f, cy, cx, "square", half_w, half_h, shade)
    elif obj.shape == "triangle":
        shade = sprites.flat_shade(rgb, (225, 250, 255), 1.0)
        sprites.draw(frames, all_f, cy, cx, "triangle", half_w, half_h, shade, opacity=0.85)
    elif obj.shape == "disc":
        sprites.draw(frames, all_f, cy, cx, "ellipse", half_w, half_h, _drum_shade(rgb, obj.half_h))
    elif obj.shape == "box":
        _draw_box(frames, obj, motion, cy, cx, cfg)
    else:
        raise ValueError(f"unknown shape {obj.shape!r}")


def _draw_mallet(frames, obj: SceneObject, gap: np.ndarray, cx, floor_y: float, cfg) -> None:
    """A rod from the top of the frame holding a mallet head ``gap`` px above the object."""
    f_n = cfg.num_frames
    head_hh = max(1.0, 0.4 * obj.half_h)
    head_hw = max(1.5, 0.6 * min(obj.half_w, 1.4 * obj.half_h))
    head_cy = floor_y - 2 * obj.half_h - gap - head_hh  # [F]
    rod_w = max(1, round(cfg.width / 64))
    c0 = int(np.clip(np.floor(cx[0] - rod_w / 2 + 0.5), 0, cfg.width - rod_w))
    rod = np.arange(cfg.height)[None, :] < (head_cy - head_hh)[:, None]  # [F, H]
    strip = frames[:, :, c0 : c0 + rod_w]
    strip[rod] = ROD_RGB
    shade = sprites.flat_shade(MALLET_RGB, (160, 140, 110), 0.8)
    sprites.draw(frames, np.arange(f_n), head_cy, cx, "box", head_hw, head_hh, shade)


def _draw_box(frames, obj: SceneObject, motion: Flash, cy, cx, cfg) -> None:
    """The beep box: dim with a dark lamp, bright with a glowing lamp while it beeps."""
    f_n = cfg.num_frames
    t0 = np.arange(f_n) / cfg.fps
    lit = motion.lit(t0, t0 + 1 / cfg.fps)
    on, off = np.nonzero(lit)[0], np.nonzero(~lit)[0]
    rgb = np.asarray(obj.rgb, np.float32)
    glow = lambda u, v, d, n: np.asarray(LAMP_ON_RGB, np.float32)  # noqa: E731
    r_glow = 2.0 * obj.half_h
    sprites.draw(frames, on, cy[on], cx[on], "circle", r_glow, r_glow, glow, opacity=0.3)
    for idx, body, lamp in (
        (off, rgb * 0.7, LAMP_OFF_RGB),
        (on, np.minimum(rgb * 1.6, 255), LAMP_ON_RGB),
    ):
        shade = sprites.flat_shade(body, body * 0.6, 1.0)
        sprites.draw(frames, idx, cy[idx], cx[idx], "box", obj.half_w, obj.half_h, shade)
        r = 0.5 * obj.half_h
        lamp_shade = sprites.flat_shade(lamp, lamp, 0.0)
        sprites.draw(frames, idx, cy[idx], cx[idx], "circle", r, r, lamp_shade)


def draw_frames(
    scene: Scene, cfg: SceneConfig, weather: Weather, rng: np.random.Generator
) -> np.ndarray:
    """Renders every frame of the scene: uint8 [F, H, W, 3]."""
    f_n = cfg.num_frames
    t_mid = (np.arange(f_n) + 0.5) / cfg.fps
    still = background(rng, cfg, scene)
    frames = np.broadcast_to(still[None], (f_n,) + still.shape).copy()
    if "water" in scene.ambiences:
        weather_draw.draw_water(frames, t_mid, weather, water_top(cfg, scene.floor_y), rng)
    for obj in scene.objects:
        _draw_object(frames, obj, cfg, scene.floor_y)
    if "rain" in scene.ambiences:
        gust = weather.gust(t_mid) if "wind" in scene.ambiences else np.full(f_n, 0.1)
        slant = weather.wind_dir * 0.5 * gust + rng.uniform(-0.05, 0.05)  # blown with the wind
        weather_draw.draw_rain(frames, t_mid, cfg.fps, weather, scene.floor_y, rng, slant)
    if "wind" in scene.ambiences:
        weather_draw.draw_wind(frames, t_mid, cfg.fps, weather, scene.floor_y, rng)
    return frames
