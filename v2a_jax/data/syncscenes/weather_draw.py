"""Drawing the visible ambiences: rain streaks, a flowing water band, wind-blown particles.

All three are vectorised over frames (F) and elements (N); they read the same ``Weather`` as the
sounds, so heavier rain has more streaks and wind particles race during the gusts one hears.
"""

from __future__ import annotations

import numpy as np

from v2a_jax.data.syncscenes.ambience import Weather


def _blend(frames, f, r, c, rgb, alpha) -> None:
    """Alpha-blends RGB into the listed pixels (int [N] each), in place."""
    h, w = frames.shape[1:3]
    flat, pix = frames.reshape(-1, 3), (f * h + r) * w + c
    dst = flat[pix].astype(np.float32)
    a = np.reshape(alpha, (-1, 1)) if np.ndim(alpha) else alpha
    flat[pix] = (dst + a * (np.asarray(rgb, np.float32) - dst) + 0.5).astype(np.uint8)


def draw_water(frames, t_f, weather: Weather, y_top: int, rng) -> None:
    """Water filling rows ``y_top``..H with waves travelling sideways at the flow speed.

    Args:
        frames: uint8 [F, H, W, 3], drawn in place; t_f: float [F] frame times in seconds.
    """
    f_n, h, w = frames.shape[:3]
    if y_top >= h:
        return
    y = np.arange(y_top - 1, h, dtype=np.float32)[None, :, None]  # one row above: the surface
    x = np.arange(w, dtype=np.float32)[None, None, :]
    t = t_f.astype(np.float32)[:, None, None]
    scale = w / 64.0
    k1, k2 = 2 * np.pi / (rng.uniform(10, 16) * scale), 2 * np.pi / (rng.uniform(5, 8) * scale)
    s1 = weather.flow * rng.uniform(14, 20) * scale  # px/s: the current
    p1, p2 = k1 * (x - s1 * t), k2 * (x - 1.6 * s1 * t) + rng.uniform(0, 6)
    depth = (y - y_top) / max(1.0, h - y_top)
    bright = 0.5 + 0.3 * np.sin(p1 + 0.9 * y) + 0.2 * np.sin(p2 + 1.7 * y) - 0.35 * depth
    deep, light = np.array([15, 50, 120], np.float32), np.array([70, 140, 210], np.float32)
    col = deep + np.clip(bright, 0, 1)[..., None] * (light - deep)
    col = np.where((bright > 0.88)[..., None], np.float32([200, 225, 250]), col)
    surface = y_top - 0.2 + 0.8 * np.sin(p1) * np.ones_like(y)  # the top edge undulates
    cover = np.clip(y + 1 - surface, 0, 1)[..., None]  # [F, rows, W, 1]
    old = frames[:, y_top - 1 :].astype(np.float32)
    frames[:, y_top - 1 :] = (old + cover * (col - old) + 0.5).astype(np.uint8)


def draw_rain(frames, t_f, fps: float, weather: Weather, floor_y: float, rng, slant_f) -> None:
    """Falling streaks, motion-blurred, stopping at the floor; denser with rain intensity.

    Args:
        slant_f: float [F] horizontal px per px of fall (the wind pushes the rain).
    """
    f_n, h, w = frames.shape[:3]
    n = max(4, int(round(weather.rain * 0.5 * w)))
    speed = rng.uniform(2.4, 3.4, n) * h  # px/s
    length = int(np.clip(np.median(speed) / fps * 0.5, 2, 0.15 * h))  # blur of one exposure
    x0 = rng.uniform(0, w, n)
    span = floor_y + length
    head = (rng.uniform(0, span, n)[None, :] + speed[None, :] * t_f[:, None]) % span  # [F, N]
    seg = np.arange(length, dtype=np.float32)[None, None, :]
    rows = head[..., None] - seg  # [F, N, L]
    cols = x0[None, :, None] + slant_f[:, None, None] * rows
    r, c = np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64) % w
    ok = (r >= 0) & (r < floor_y)
    f = np.broadcast_to(np.arange(f_n)[:, None, None], r.shape)
    alpha = np.broadcast_to(0.6 * (1 - seg / (length + 1)), r.shape)  # the tail fades
    _blend(frames, f[ok], r[ok], c[ok], (175, 190, 225), alpha[ok])
    # Splashes: a bright dot on the floor where a drop lands during this frame.
    landed = (head >= floor_y) & (head < floor_y + speed[None, :] / fps)
    ff, nn = np.nonzero(landed)
    if len(ff) and floor_y < h:
        cc = np.floor(x0[nn] + slant_f[ff] * floor_y).astype(np.int64) % w
        _blend(frames, ff, np.full_like(ff, int(floor_y)), cc, (200, 210, 235), 0.7)


def draw_wind(frames, t_f, fps: float, weather: Weather, floor_y: float, rng) -> None:
    """Leaves and dust blown sideways, fast in gusts; faint streaks show the strongest gusts."""
    f_n, h, w = frames.shape[:3]
    gust = weather.gust(t_f)  # [F]
    travel = np.cumsum(0.15 + 0.85 * gust) / fps  # [F] seconds of full-strength wind so far
    n = max(4, int(rng.integers(8, 16) * w / 64))
    speed = weather.wind_dir * rng.uniform(0.6, 1.3, n) * w  # px per second at full gust
    x = rng.uniform(0, w, n)[None, :] + speed[None, :] * travel[:, None]  # [F, N]
    wobble = rng.uniform(0.5, 1.5, n) * (h / 64)
    y = rng.uniform(0.08 * h, floor_y - 2, n)[None, :] + wobble * np.sin(
        2 * np.pi * rng.uniform(0.5, 2.0, n) * t_f[:, None] + rng.uniform(0, 6, n)
    )
    palette = np.array(
        [[170, 140, 60], [140, 105, 50], [205, 185, 125], [120, 140, 60]], np.float32
    )
    colour = palette[rng.integers(0, len(palette), n)]
    size = rng.integers(1, 3, n) * max(1, w // 64)  # 1 or 2 px specks
    for dy in range(int(size.max())):
        for dx in range(int(size.max())):
            keep = (size > dy) & (size > dx)
            r = np.floor(y[:, keep]).astype(np.int64) + dy
            c = np.floor(x[:, keep]).astype(np.int64) % w + dx
            ok = (r >= 0) & (r < floor_y) & (c < w)
            f = np.broadcast_to(np.arange(f_n)[:, None], r.shape)
            col = np.broadcast_to(colour[keep][None], r.shape + (3,))
            dst = frames[f[ok], r[ok], c[ok]].astype(np.float32)
            frames[f[ok], r[ok], c[ok]] = (0.15 * dst + 0.85 * col[ok] + 0.5).astype(np.uint8)
    # Gust streaks: faint horizontal dashes whose length and strength follow the gust.
    m = 4
    rows = rng.uniform(0.1 * h, floor_y - 3, m).astype(np.int64)
    head = (rng.uniform(0, w, m)[None, :] + 2.5 * w * travel[:, None]) % (w * 1.5)  # [F, M]
    if weather.wind_dir < 0:
        head = w - 1 - head
    dash = weather.wind_dir * np.arange(max(2, w // 6))[None, None, :] * (0.3 + gust[:, None, None])
    cols = np.floor(head[..., None] - dash).astype(np.int64)  # [F, M, D]
    ok = (cols >= 0) & (cols < w) & (gust[:, None, None] > 0.45)
    f = np.broadcast_to(np.arange(f_n)[:, None, None], cols.shape)
    r = np.broadcast_to(rows[None, :, None], cols.shape)
    alpha = np.broadcast_to(0.35 * np.clip(gust - 0.45, 0, 1)[:, None, None] * 2, cols.shape)
    _blend(frames, f[ok], r[ok], cols[ok], (210, 215, 225), alpha[ok])
