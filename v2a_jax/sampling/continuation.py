"""Long videos by windowed continuation: windows of the model's length, overlapping context.

Legend: B samples, T codec frames (whole clip), W frames per window, P overlap frames, K
codebooks, F video frames, H W frame size.

A clip longer than one window (``max_steps - K + 1`` codec frames) is generated window by window
(AudioCraft's extension): window 1 is sampled from scratch; every later window starts ``W - P``
frames after the previous one, and its first frames (the last ``overlap_s`` seconds already
generated) are forced as a prompt, so the model continues from them with the matching video in
view. The last window is moved back to end at the clip's end (its prompt is then longer). All
windows have the same length, so one compiled program serves every window and every clip length.
Window starts are multiples of ``frame_rate / fps`` codec frames where that is a whole number
(2 at 50 Hz / 25 fps), so each window's video frames line up with its tokens exactly.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from v2a_jax.sampling.guidance import Guidance
from v2a_jax.sampling.methods import SamplingMethod
from v2a_jax.sampling.sampler import sample_window


@dataclasses.dataclass(frozen=True)
class Window:
    """One window: codec frames ``[start, start + length)``, the first ``num_prompt`` forced."""

    start: int
    length: int
    num_prompt: int


def plan_windows(num_frames: int, window: int, overlap: int, align: int = 1) -> list[Window]:
    """Windows covering ``num_frames`` codec frames (the last may run past the end).

    Raises:
        ValueError: an overlap that leaves no room to advance.
    """
    if num_frames <= window:
        return [Window(0, num_frames, 0)]
    stride = (window - overlap) // align * align
    if overlap < 1 or stride < 1:
        raise ValueError(
            f"overlap of {overlap} frames must be >= 1 and leave room to advance in a window of "
            f"{window} frames (alignment {align})"
        )
    windows = [Window(0, window, 0)]
    last_start = math.ceil((num_frames - window) / align) * align
    while windows[-1].start + window < num_frames:
        prev_end = windows[-1].start + window
        start = min(windows[-1].start + stride, last_start)
        windows.append(Window(start, window, prev_end - start))
    return windows


def _window_frames(frames_fhwc: np.ndarray, fps: float, rate: float, win: Window) -> np.ndarray:
    """The video frames shown during ``win`` (frame 0 at its start; the last one held past
    the end)."""
    count = max(1, math.ceil(win.length * fps / rate - 1e-6))
    t0 = win.start / rate
    idx = np.floor((t0 + np.arange(count) / fps) * fps + 1e-6).astype(int)
    return frames_fhwc[np.clip(idx, 0, len(frames_fhwc) - 1)]


def generate_tokens(
    model,
    frames_fhwc: np.ndarray,
    fps: float,
    text_rble,
    mask_rbl,
    guidance: Guidance,
    method: SamplingMethod,
    seeds: list[int],
    num_frames: int,
    overlap_s: float = 1.0,
    window_frames: int | None = None,
    progress=None,
    split=None,
) -> np.ndarray:
    """Tokens for a whole clip, one window or several.

    Args:
        model: a ``TokenLM``.
        frames_fhwc: uint8 [F, H, W, 3] of the whole clip at ``fps`` (the model's rate).
        fps: frame rate of ``frames_fhwc``.
        text_rble: float32 [R, B, L, E] per guidance branch; mask_rbl: bool [R, B, L].
        guidance: the guidance; method: the sampling method.
        seeds: B seeds; sample b's keys are ``key(seeds[b])`` folded with the window index.
        num_frames: T codec frames of the clip.
        overlap_s: context carried from one window into the next, in seconds; at most half a
            window (a longer overlap is cut to that, so each window advances by half or more).
        window_frames: W (default: the most the model's ``max_steps`` allows).
        progress: called with ``(windows_done, windows_total)`` after each window.
        split: ``nnx.split(model)`` when the caller keeps it.

    Returns:
        int32 tokens_btk [B, T, K].
    """
    from flax import nnx

    cfg = model.cfg
    rate = cfg.audio_frame_rate
    window = window_frames or cfg.max_frames_for_steps()
    ratio = rate / fps
    align = round(ratio) if abs(ratio - round(ratio)) < 1e-6 and ratio >= 1 else 1
    overlap = min(max(1, round(overlap_s * rate)), window // 2)
    windows = plan_windows(num_frames, window, overlap, align)
    base_keys = jnp.stack([jax.random.key(int(s)) for s in seeds])
    split = split if split is not None else nnx.split(model)
    total = windows[-1].start + windows[-1].length
    out_btk = np.zeros((len(seeds), total, cfg.num_codebooks), np.int32)
    for i, win in enumerate(windows):
        keys = base_keys if i == 0 else jax.vmap(jax.random.fold_in, (0, None))(base_keys, i)
        prompt = out_btk[:, win.start : win.start + win.length]
        tokens_btk, _ = sample_window(
            model,
            _window_frames(frames_fhwc, fps, rate, win),
            fps,
            text_rble,
            mask_rbl,
            guidance,
            method,
            keys,
            win.length,
            prompt_btk=prompt,
            num_prompt=win.num_prompt,
            split=split,
        )
        out_btk[:, win.start : win.start + win.length] = np.asarray(tokens_btk)
        if progress is not None:
            progress(i + 1, len(windows))
    return out_btk[:, :num_frames]
