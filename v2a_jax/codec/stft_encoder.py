"""A spectral codec encoder (torch): log-magnitude STFT, ConvNeXt at the STFT rate, then a
strided convolution down to the token rate.

Legend: B batch, S samples, Q frequency bins (``n_fft // 2 + 1``), F STFT frames
(``downsample * T``), E backbone width, D latent dim, T token frames (``ceil(S / hop)``).

EnCodec's SEANet encoder must learn a filter bank from the waveform before it can tell a tone
from noise. Trained on this project's CPU budget it never did: cutting the four beeps out of a
test clip moved its latent by no more than neighbouring frames differ
(``experiments/codec_event_latent.py``), so no decoder found them in the tokens. Here a tone is
one bin's log-magnitude from the first layer on, the way Vocos's decoder sees it from the other
side (``istft_decoder.py``), and every layer runs at the frame rate, not the sample rate.

It is a drop-in ``model.encoder`` of an ``encodec.EncodecModel``: audio [B, 1, S] in, latent
[B, D, T] out, with the ``ratios`` attribute EnCodec reads the hop length from.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .istft_decoder import ConvNeXtBlock


class STFTEncoder(nn.Module):
    """Audio [B, 1, S] -> latent [B, D, ceil(S / hop)] through its log-magnitude STFT.

    Args:
        dimension: latent size D.
        ratios: the codec's ratios (their product is the hop length; kept for EnCodec).
        dim: backbone width E.
        num_layers: ConvNeXt blocks.
        downsample: STFT frames per token frame (STFT hop = hop_length // downsample; its window
            is 4 STFT hops, the inverse-STFT decoder's).
    """

    def __init__(
        self,
        dimension: int,
        ratios,
        dim: int = 128,
        num_layers: int = 4,
        downsample: int = 2,
    ):
        super().__init__()
        self.ratios = list(ratios)
        self.hop_length = math.prod(self.ratios)
        if self.hop_length % downsample:
            raise ValueError(
                f"hop_length {self.hop_length} must be a multiple of downsample {downsample}"
            )
        self.downsample = downsample
        self.stft_hop = self.hop_length // downsample
        self.n_fft = 4 * self.stft_hop
        num_bins = self.n_fft // 2 + 1
        self.embed = nn.Conv1d(num_bins, dim, kernel_size=7, padding=3)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.blocks = nn.ModuleList(
            [ConvNeXtBlock(dim, 3 * dim, 1.0 / num_layers) for _ in range(num_layers)]
        )
        self.final_norm = nn.LayerNorm(dim, eps=1e-6)
        # Each token frame is ``downsample`` STFT frames: a strided convolution merges them.
        self.pool = nn.Conv1d(dim, dimension, kernel_size=downsample, stride=downsample)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def log_magnitude(self, wave_bs: torch.Tensor) -> torch.Tensor:
        """float [B, Q, F]: log STFT magnitude of the audio zero-padded to ``T * hop`` samples;
        frame f is centred on sample ``f * stft_hop``."""
        num_frames = -(-wave_bs.shape[-1] // self.hop_length)
        wave_bs = nn.functional.pad(wave_bs, (0, num_frames * self.hop_length - wave_bs.shape[-1]))
        spec_bqf = torch.stft(
            wave_bs, self.n_fft, self.stft_hop, window=self.window, center=True,
            return_complex=True,
        )  # fmt: skip
        # The centred STFT has one frame more than hops; the token grid has exactly T * ds.
        return torch.log(spec_bqf.abs().clamp(min=1e-5))[..., : num_frames * self.downsample]

    def forward(self, wave_bcs: torch.Tensor) -> torch.Tensor:
        if wave_bcs.shape[1] != 1:
            raise ValueError(f"STFTEncoder takes mono audio [B, 1, S], got {tuple(wave_bcs.shape)}")
        x_bef = self.embed(self.log_magnitude(wave_bcs[:, 0]))
        x_bef = self.norm(x_bef.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x_bef = block(x_bef)
        x_bef = self.final_norm(x_bef.transpose(1, 2)).transpose(1, 2)
        return self.pool(x_bef)
