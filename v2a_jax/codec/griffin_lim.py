"""Phase from magnitude alone: fast Griffin-Lim (torch), for the magnitude-only codec decoder.

Legend: B batch, Q frequency bins (``n_fft // 2 + 1``), F STFT frames, S samples.

A decoder that predicts each STFT frame's phase must make overlapping frames agree: a tone needs
its phase to advance by ``2 pi f hop / sr`` per hop, which a convolutional decoder fed a steady
latent does not learn from reconstruction losses alone; its frames then cancel in the overlap-add
and the tone is lost (``tokenizers/README.md``, sessions 7-12). Griffin-Lim finds a phase that
is consistent across frames for a given magnitude, so a magnitude the decoder gets right is
heard: on the real audio's own magnitude it keeps every beep of the SyncScenes clips probed
(session 12).

Perraudin, Balazs and Sondergaard, "A fast Griffin-Lim algorithm" (2013): the momentum term
(0.99, as torchaudio's ``GriffinLim``) converges in tens of iterations. The start is all-zero
phase, so a decoding is deterministic.
"""

from __future__ import annotations

import torch


def griffin_lim(
    mag_bqf: torch.Tensor,
    n_fft: int,
    hop_length: int,
    window: torch.Tensor,
    num_samples: int,
    num_iters: int = 32,
    momentum: float = 0.99,
) -> torch.Tensor:
    """Audio whose centred STFT magnitude approximates ``mag_bqf``.

    Args:
        mag_bqf: float [B, Q, F] magnitudes (``Q = n_fft // 2 + 1``).
        n_fft: STFT size (the window's length).
        hop_length: STFT hop in samples.
        window: float [n_fft] analysis/synthesis window.
        num_samples: length S of the audio returned.
        num_iters: Griffin-Lim iterations (0: zero phase, no iteration).
        momentum: the fast algorithm's momentum (0 = classic Griffin-Lim).

    Returns:
        float [B, S] audio.
    """
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    angles_bqf = torch.ones_like(mag_bqf, dtype=torch.complex64)
    previous_bqf = torch.zeros_like(angles_bqf)
    for _ in range(num_iters):
        wave_bs = torch.istft(
            mag_bqf * angles_bqf, n_fft, hop_length, window=window, length=num_samples
        )
        rebuilt_bqf = torch.stft(wave_bs, n_fft, hop_length, window=window, return_complex=True)
        angles_bqf = rebuilt_bqf - (momentum / (1.0 + momentum)) * previous_bqf
        angles_bqf = angles_bqf / angles_bqf.abs().clamp(min=1e-16)
        previous_bqf = rebuilt_bqf
    return torch.istft(mag_bqf * angles_bqf, n_fft, hop_length, window=window, length=num_samples)
