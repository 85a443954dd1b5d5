"""Anti-aliased shapes drawn into frames, vectorised over frames on small patches.

A shape is a signed distance function (pixels; negative inside) over coordinates relative to its
centre. For each frame only a patch around the shape is evaluated, [F, P, Q], so drawing an
object costs about as much as one frame-sized array. Pixel (r, c) has its centre at (r+.5, c+.5).
Legend: F frames, P x Q patch rows x columns, H x W frame.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# (u, v, d, n) of the covered pixels, each [M] (n: which drawn frame) -> RGB floats [M, 3] or [3]
Shade = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def sdf(shape: str, u: np.ndarray, v: np.ndarray, half_w, half_h) -> np.ndarray:
    """Signed distance (px) to ``shape`` centred at 0, of half size (half_w, half_h).

    ``u`` (columns) and ``v`` (rows, down) broadcast against each other and against the sizes.
    """
    if shape == "circle":
        return np.sqrt(u * u + v * v) - half_h
    if shape in ("square", "box", "rect"):
        rr = 0.25 * np.minimum(half_w, half_h) if shape == "box" else 0.6
        qx, qy = np.abs(u) - half_w + rr, np.abs(v) - half_h + rr
        outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
        return outside + np.minimum(np.maximum(qx, qy), 0) - rr
    if shape == "triangle":  # apex up, base on the bottom
        norm = np.sqrt(4 * half_h * half_h + half_w * half_w)
        side = (2 * half_h * (np.abs(u) - half_w) - half_w * (v - half_h)) / norm
        return np.maximum(v - half_h, side)
    if shape in ("disc", "ellipse"):
        k = np.sqrt((u / half_w) ** 2 + (v / half_h) ** 2)
        return (k - 1) * np.minimum(half_w, half_h)
    raise ValueError(f"unknown shape {shape!r}")


def draw(
    frames: np.ndarray,
    frame_idx: np.ndarray,
    cy: np.ndarray,
    cx: np.ndarray,
    shape: str,
    half_w,
    half_h,
    shade: Shade,
    opacity=1.0,
) -> None:
    """Blends a shape into ``frames`` in place, at one centre per listed frame.

    Args:
        frames: uint8 [F, H, W, 3].
        frame_idx: int [N] which frames to draw in; cy, cx: float [N] centres in pixels.
        half_w, half_h: floats, or float [N] for a shape that changes size (a squashed ball).
        shade: colours of the covered pixels, see ``Shade``.
        opacity: float or [N]: multiplies the coverage (translucent glass, shadows, glows).
    """
    if not len(frame_idx):
        return
    h, w = frames.shape[1:3]
    max_hw, max_hh = float(np.max(half_w)), float(np.max(half_h))
    p, q = int(np.ceil(2 * max_hh + 3)), int(np.ceil(2 * max_hw + 3))
    r0 = np.floor(cy - max_hh - 1).astype(np.int64)
    c0 = np.floor(cx - max_hw - 1).astype(np.int64)
    rows = r0[:, None] + np.arange(p)  # [N, P]
    cols = c0[:, None] + np.arange(q)  # [N, Q]
    v = (rows + 0.5 - cy[:, None])[:, :, None].astype(np.float32)  # [N, P, 1]
    u = (cols + 0.5 - cx[:, None])[:, None, :].astype(np.float32)  # [N, 1, Q]
    hw = np.reshape(half_w, (-1, 1, 1)) if np.ndim(half_w) else half_w
    hh = np.reshape(half_h, (-1, 1, 1)) if np.ndim(half_h) else half_h
    d = sdf(shape, u, v, hw, hh)  # [N, P, Q]
    alpha = np.clip(0.5 - d, 0.0, 1.0) * (
        np.reshape(opacity, (-1, 1, 1)) if np.ndim(opacity) else opacity
    )
    inside = (
        (alpha > 0)
        & ((rows >= 0) & (rows < h))[:, :, None]
        & ((cols >= 0) & (cols < w))[:, None, :]
    )
    n_i, p_i, q_i = np.nonzero(inside)
    if not len(n_i):
        return
    dd = d[n_i, p_i, q_i]
    rgb = shade(u[n_i, 0, q_i], v[n_i, p_i, 0], dd, n_i)
    flat = frames.reshape(-1, 3)  # one linear index gathers faster than three
    pix = (frame_idx[n_i] * h + rows[n_i, p_i]) * w + cols[n_i, q_i]
    a = alpha[n_i, p_i, q_i][:, None]
    dst = flat[pix].astype(np.float32)
    flat[pix] = np.clip(dst + a * (rgb - dst) + 0.5, 0, 255).astype(np.uint8)


def sphere_shade(rgb, shine: float, half_w, half_h, spec_power: float = 24.0) -> Shade:
    """A lit ball (or squashed ball): diffuse light from the upper left, a specular spot.

    ``half_w``, ``half_h``: floats or [N] per drawn frame, as given to ``draw``.
    """
    base = np.asarray(rgb, np.float32)
    light = np.array([-0.45, -0.6, 0.66], np.float32)
    hw = np.asarray(half_w, np.float32).reshape(-1)
    hh = np.asarray(half_h, np.float32).reshape(-1)

    def shade(u, v, d, n):
        nx = u / (hw[n] if len(hw) > 1 else hw[0])  # sizes per drawn frame, or one for all
        ny = v / (hh[n] if len(hh) > 1 else hh[0])
        nz = np.sqrt(np.clip(1 - nx * nx - ny * ny, 0, 1))
        lam = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0, 1)[..., None]
        return base * (0.45 + 0.7 * lam) + 255 * shine * lam**spec_power

    return shade


def flat_shade(rgb, edge_rgb=None, edge_px: float = 1.0, grain: float = 0.0) -> Shade:
    """Flat colour, with a border of ``edge_rgb`` and optional wood-like horizontal grain."""
    base = np.asarray(rgb, np.float32)
    edge = base * 0.7 if edge_rgb is None else np.asarray(edge_rgb, np.float32)

    def shade(u, v, d, n):
        col = np.broadcast_to(base, d.shape + (3,))
        if grain:
            col = col * (1 + grain * np.sin(2.3 * v + 0.8 * np.sin(0.9 * u)))[..., None]
        return np.where((d > -edge_px)[..., None], edge, col)

    return shade
