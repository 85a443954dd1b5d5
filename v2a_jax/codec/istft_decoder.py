"""A Vocos-style codec decoder (torch): ConvNeXt at frame rate, then an inverse STFT.

Legend: B batch, D latent dim, T token frames, F STFT frames (``upsample * T + 1``),
E backbone width, Q frequency bins (``n_fft // 2 + 1``), S samples (``T * hop``).

EnCodec's SEANet decoder builds the waveform with transposed convolutions and must learn to
oscillate; trained with reconstruction losses alone on this project's CPU budget it renders a
tone as band-limited noise (``experiments/codec_tones.py``). This decoder predicts each STFT
frame's log-magnitude and phase and inverts them with ``torch.istft`` (Siuzdak, "Vocos", 2023,
which decodes EnCodec's tokens the same way): a tone is one bin's magnitude, so a magnitude loss
reaches it directly, and every layer runs at the frame rate, not the sample rate.

Phase, ``phase="integrated"`` (the default of new runs): each frame's phase is the previous
frame's plus the bin's nominal advance (``2 pi q hop / n_fft``) plus a predicted deviation. A
convolutional decoder fed a stationary latent (a held tone: the encoder's frames barely change)
outputs the same frame after frame; with absolute phases (Vocos's ``phase="absolute"``) that is
a signal periodic in the STFT hop, so a tone can only land on multiples of the frame rate (the
shipped SEANet decoder and the first inverse-STFT runs put a 1 kHz sine at 750 Hz). Integrated,
the same stationary output is a steady phase advance: a tone at any frequency.

``phase="griffin_lim"`` (session 12): the phase half of the head is not used; the decoder is
trained on its predicted magnitude alone (``losses.stft_magnitude_loss``: the same STFT as the
decoder's, no inverse transform in the loop) and the phase is found by fast Griffin-Lim at decode
time (``griffin_lim.py``). Neither predicted phase mode learned to keep a tone's frames in phase:
their overlap-add cancelled beeps 16 dB down, and no latent brought them back. Griffin-Lim on the
real audio's magnitude keeps them, so only the magnitude has to be learned, which a loss reaches
directly.

It is a drop-in ``model.decoder`` of an ``encodec.EncodecModel``: latent [B, D, T] in, audio
[B, 1, S] out. Fine-tuned alone on a trained codec's frozen tokens (``decoder_only``), it keeps
every token the encoder makes.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ISTFT_PHASES
from .griffin_lim import griffin_lim


def _nominal_phase(num_frames: int, num_bins: int, device) -> torch.Tensor:
    """float32 [F, Q]: bin q's phase at frame f when it advances ``2 pi q / 4`` per hop (the
    hop is a quarter window), reduced mod 2 pi in integers so long clips lose no precision."""
    f = torch.arange(num_frames, device=device)[:, None]
    q = torch.arange(num_bins, device=device)[None, :]
    return ((f * q) % 4).float() * (torch.pi / 2)


class ConvNeXtBlock(nn.Module):
    """Depthwise conv (kernel 7) -> LayerNorm -> MLP (GELU) -> layer scale, residual [B, E, F]."""

    def __init__(self, dim: int, hidden: int, layer_scale: float):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, hidden)
        self.pwconv2 = nn.Linear(hidden, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x_bef: torch.Tensor) -> torch.Tensor:
        h_bfe = self.norm(self.dwconv(x_bef).transpose(1, 2))
        h_bfe = self.pwconv2(nn.functional.gelu(self.pwconv1(h_bfe)))
        return x_bef + (self.gamma * h_bfe).transpose(1, 2)


class ISTFTDecoder(nn.Module):
    """Latent [B, D, T] -> audio [B, 1, T * hop] through a predicted STFT.

    Args:
        dimension: latent size D.
        hop_length: samples per token frame.
        dim: backbone width E.
        num_layers: ConvNeXt blocks.
        upsample: STFT frames per token frame (hop of the STFT = hop_length // upsample; its
            window is 4 STFT hops).
        phase: ``"integrated"`` (predicted per-frame phase deviations, summed over frames),
            ``"absolute"`` (each frame's phase predicted directly, as Vocos) or
            ``"griffin_lim"`` (magnitude only; phase by Griffin-Lim when decoding).
        gl_iters: Griffin-Lim iterations of ``phase="griffin_lim"``.
    """

    def __init__(
        self,
        dimension: int,
        hop_length: int,
        dim: int = 128,
        num_layers: int = 8,
        upsample: int = 2,
        phase: str = "integrated",
        gl_iters: int = 32,
    ):
        super().__init__()
        if hop_length % upsample:
            raise ValueError(f"hop_length {hop_length} must be a multiple of upsample {upsample}")
        if phase not in ISTFT_PHASES:
            raise ValueError(f"phase must be one of {ISTFT_PHASES}, got {phase!r}")
        if gl_iters < 0:
            raise ValueError(f"gl_iters must be >= 0, got {gl_iters}")
        self.phase = phase
        self.gl_iters = gl_iters
        self.hop_length = hop_length
        self.stft_hop = hop_length // upsample
        self.n_fft = 4 * self.stft_hop
        self.embed = nn.Conv1d(dimension, dim, kernel_size=7, padding=3)
        # Each token frame becomes ``upsample`` STFT frames; the backbone learns where in the
        # frame each one sits.
        self.upsample = nn.ConvTranspose1d(dim, dim, kernel_size=upsample, stride=upsample)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.blocks = nn.ModuleList(
            [ConvNeXtBlock(dim, 3 * dim, 1.0 / num_layers) for _ in range(num_layers)]
        )
        self.final_norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, 2 * (self.n_fft // 2 + 1))
        with torch.no_grad():  # start quiet: log-magnitudes near -5, not 0
            self.head.bias[: self.n_fft // 2 + 1].fill_(-5.0)
            if phase == "integrated":  # start at the bins' nominal advance (deviation ~0)
                self.head.weight[self.n_fft // 2 + 1 :].mul_(0.01)
                self.head.bias[self.n_fft // 2 + 1 :].zero_()
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def log_magnitude_and_phase(self, z_bdt: torch.Tensor):
        """The head's two halves: log-magnitude and raw phase output, float [B, F, Q] each."""
        x_bef = self.upsample(self.embed(z_bdt))
        # One more frame than hops, so the centred inverse STFT covers the last samples too.
        x_bef = nn.functional.pad(x_bef, (0, 1), mode="replicate")
        x_bef = self.norm(x_bef.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x_bef = block(x_bef)
        out_bfq = self.head(self.final_norm(x_bef.transpose(1, 2)))
        return out_bfq.chunk(2, dim=-1)

    def forward(self, z_bdt: torch.Tensor) -> torch.Tensor:
        num_samples = z_bdt.shape[-1] * self.hop_length
        log_mag_bfq, phase_bfq = self.log_magnitude_and_phase(z_bdt)
        mag_bfq = torch.exp(log_mag_bfq).clamp(max=1e2)
        if self.phase == "griffin_lim":
            wave_bs = griffin_lim(
                mag_bfq.transpose(1, 2), self.n_fft, self.stft_hop, self.window, num_samples,
                num_iters=self.gl_iters,
            )  # fmt: skip
            return wave_bs[:, None, :]
        if self.phase == "integrated":
            nominal_fq = _nominal_phase(*phase_bfq.shape[1:], device=phase_bfq.device)
            phase_bfq = nominal_fq + torch.cumsum(phase_bfq, dim=1)
        spec_bqf = torch.polar(mag_bfq, phase_bfq).transpose(1, 2)
        wave_bs = torch.istft(
            spec_bqf,
            self.n_fft,
            self.stft_hop,
            window=self.window,
            center=True,
            length=num_samples,
        )
        return wave_bs[:, None, :]
