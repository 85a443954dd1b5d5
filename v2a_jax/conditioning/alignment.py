"""Time alignment of frame-rate features onto the audio-token timeline.

Legend: B batch, F video frames, S token steps, D feature width.

Frame ``f`` of a video at ``fps`` shows the instant ``f / fps`` s; token step ``s`` of a codec at
``frame_rate`` Hz starts at ``s / frame_rate`` s. Step ``s`` therefore reads the video at the
fractional frame index ``u = s * fps / frame_rate``: with ``linear`` the two neighbouring frames
are blended (exact for any feature that is linear in time), with ``repeat`` the latest frame shown
by then is held (``floor(u)``). At 25 fps onto 50 Hz, even steps get frame ``s / 2`` exactly and
odd steps the midpoint (or a repeat). Steps after the last frame hold the last frame. ``fps`` may
differ per clip (29.97, 24, 60, ...) and may be traced: only ``num_steps`` is static.
"""

from __future__ import annotations

from typing import Literal

import jax.numpy as jnp


def frame_positions(num_steps: int, fps, frame_rate: float, num_frames: int) -> jnp.ndarray:
    """Fractional frame index read by each token step: float32 [B, S] (or [1, S] for scalar fps),
    clipped to ``[0, num_frames - 1]``."""
    fps_b = jnp.atleast_1d(jnp.asarray(fps, jnp.float32))
    steps = jnp.arange(num_steps, dtype=jnp.float32)
    u = steps[None, :] * (fps_b[:, None] / jnp.float32(frame_rate))
    return jnp.clip(u, 0.0, num_frames - 1)


def resample_to_steps(
    x_bfd: jnp.ndarray,
    fps,
    frame_rate: float,
    num_steps: int,
    mode: Literal["linear", "repeat"] = "linear",
) -> jnp.ndarray:
    """Resamples per-frame features onto ``num_steps`` token steps.

    Args:
        x_bfd: features [B, F, D] at ``fps`` frames per second.
        fps: frame rate, a float or float array [B].
        frame_rate: token steps per second (50 for the codecs here).
        num_steps: S, the output length (static).
        mode: ``linear`` interpolation or ``repeat`` (hold the latest frame).

    Returns:
        [B, S, D] in the dtype of ``x_bfd``.
    """
    if x_bfd.ndim != 3 or x_bfd.shape[1] < 1:
        raise ValueError(f"x_bfd must be [B, F >= 1, D], got shape {x_bfd.shape}")
    if mode not in ("linear", "repeat"):
        raise ValueError(f"mode must be 'linear' or 'repeat', got {mode!r}")
    num_frames = x_bfd.shape[1]
    u_bs = frame_positions(num_steps, fps, frame_rate, num_frames)
    u_bs = jnp.broadcast_to(u_bs, (x_bfd.shape[0], num_steps))
    lo_bs = jnp.floor(u_bs).astype(jnp.int32)

    def gather(idx_bs):
        return jnp.take_along_axis(x_bfd, idx_bs[:, :, None], axis=1)

    if mode == "repeat":
        return gather(lo_bs)
    hi_bs = jnp.minimum(lo_bs + 1, num_frames - 1)
    w_bs1 = (u_bs - lo_bs)[:, :, None]
    out = gather(lo_bs).astype(jnp.float32) * (1.0 - w_bs1) + gather(hi_bs) * w_bs1
    return out.astype(x_bfd.dtype)
