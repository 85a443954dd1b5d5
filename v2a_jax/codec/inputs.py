"""Checks and normalises what users hand to the codec (numpy only, no torch).

Legend: B batch, C channels, S samples, T token frames, K codebooks, D latent dim.
Every function returns a batched array plus whether the input was unbatched, so the caller can
give back the same rank it received.
"""

from __future__ import annotations

import numpy as np


def as_wave_bcs(
    wave, channels: int, codec_rate: int, given_rate: int | None
) -> tuple[np.ndarray, bool]:
    """Validates a waveform and returns float32 ``[B, C, S]``.

    Accepted shapes: ``[S]`` (unbatched mono), ``[B, S]`` (mono), ``[B, C, S]``. Floating
    input is cast to float32; signed-integer PCM is scaled by ``2 ** (bits - 1)`` to [-1, 1).

    Args:
        wave: array-like waveform.
        channels: channels the codec expects.
        codec_rate: the codec's sample rate in Hz.
        given_rate: the caller's sample rate, checked when not None.

    Returns:
        ``(wave_bcs, unbatched)``.

    Raises:
        ValueError: wrong sample rate, channel count, rank, empty, or non-finite samples.
        TypeError: a dtype that is neither floating nor signed integer.
    """
    if given_rate is not None and int(given_rate) != codec_rate:
        raise ValueError(
            f"audio sample rate {given_rate} Hz does not match the codec's {codec_rate} Hz; "
            "resample first (e.g. encodec.utils.convert_audio)"
        )
    x = np.asarray(wave)
    if np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32, copy=False)
    elif np.issubdtype(x.dtype, np.signedinteger):
        x = x.astype(np.float32) / float(2 ** (8 * x.dtype.itemsize - 1))
    else:
        raise TypeError(f"waveform must be floating point or signed-integer PCM, got {x.dtype}")

    unbatched = x.ndim == 1
    if x.ndim == 1:
        x = x[None, None]
    elif x.ndim == 2:
        if channels != 1:
            raise ValueError(
                f"this codec expects {channels}-channel audio shaped [B, {channels}, S], "
                f"got {list(x.shape)}"
            )
        x = x[:, None]
    elif x.ndim != 3:
        raise ValueError(f"waveform must be [S], [B, S] or [B, C, S], got shape {list(x.shape)}")
    if x.shape[1] != channels:
        hint = " (downmix with wave.mean(axis=1))" if channels == 1 else ""
        raise ValueError(
            f"this codec expects {channels} channel(s), got {x.shape[1]} in shape "
            f"{list(x.shape)}{hint}"
        )
    if x.size == 0:
        raise ValueError(f"waveform is empty (shape {list(x.shape)})")
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(f"waveform has {int(bad.sum())} NaN/inf samples")
    return x, unbatched


def as_tokens_btk(tokens, codebook_size: int, max_codebooks: int) -> tuple[np.ndarray, bool]:
    """Validates codec tokens and returns int64 ``[B, T, K]``.

    Args:
        tokens: integer array ``[T, K]`` or ``[B, T, K]``; K may be fewer than the codec's
            codebooks (coarse decoding uses the first K).
        codebook_size: entries per codebook; values must be in ``[0, codebook_size)``.
        max_codebooks: the most codebooks the codec has.

    Returns:
        ``(tokens_btk, unbatched)``.
    """
    x = np.asarray(tokens)
    if not np.issubdtype(x.dtype, np.integer):
        raise TypeError(f"tokens must be integers, got {x.dtype}")
    unbatched = x.ndim == 2
    if unbatched:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"tokens must be [T, K] or [B, T, K], got shape {list(np.shape(tokens))}")
    if x.size == 0:
        raise ValueError(f"tokens are empty (shape {list(x.shape)})")
    if not 1 <= x.shape[2] <= max_codebooks:
        raise ValueError(f"tokens have K={x.shape[2]} codebooks; this codec has 1..{max_codebooks}")
    if x.min() < 0 or x.max() >= codebook_size:
        raise ValueError(
            f"token values must be in [0, {codebook_size}), got [{x.min()}, {x.max()}]"
        )
    return x.astype(np.int64, copy=False), unbatched


def as_latent_btd(z, dim: int) -> tuple[np.ndarray, bool]:
    """Validates a continuous latent and returns float32 ``[B, T, D]``."""
    x = np.asarray(z, dtype=np.float32)
    unbatched = x.ndim == 2
    if unbatched:
        x = x[None]
    if x.ndim != 3 or x.shape[2] != dim:
        raise ValueError(f"latent must be [T, {dim}] or [B, T, {dim}], got {list(np.shape(z))}")
    if x.size == 0:
        raise ValueError(f"latent is empty (shape {list(x.shape)})")
    if not np.isfinite(x).all():
        raise ValueError("latent has NaN/inf values")
    return x, unbatched
