"""Architecture config of the project's own EnCodec-style codecs, and the builder.

The defaults describe the small 16 kHz mono codec this project trains (``tokenizers/``):
hop 320 samples (ratios 8 * 5 * 4 * 2) = 50 token frames per second, K = 4 residual codebooks of
1024 entries (2 kbps), a 64-dim latent. ``n_filters=16`` and no LSTM keep it at 1.61 M
parameters (an 8.6 MB float32 checkpoint, codebook EMA state included); it encodes and decodes
1 s of audio in about 0.06 s on a CPU. Every field is stored in
``codec.json`` so a checkpoint rebuilds itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
from typing import Any

ENCODERS = ("seanet", "stft")
DECODERS = ("seanet", "istft")
ISTFT_PHASES = ("integrated", "absolute", "griffin_lim")  # see istft_decoder.py
# What only the decoder depends on: a decoder-only run may change these and keep the tokens.
_DECODER_FIELDS = (
    "decoder", "istft_dim", "istft_layers", "istft_upsample", "istft_phase", "istft_gl_iters",
    "trim_right_ratio",
)  # fmt: skip
# Fields added after format version 1; absent means the default (what older checkpoints are).
_ADDED_LATER = (*_DECODER_FIELDS[:-1], "encoder", "encoder_dim", "encoder_layers")


@dataclasses.dataclass(frozen=True)
class CodecConfig:
    """Everything needed to rebuild an ``encodec.EncodecModel`` (encoder + RVQ + decoder).

    Attributes:
        sample_rate: audio sample rate in Hz.
        channels: audio channels (1 = mono).
        n_filters: base width of the SEANet encoder/decoder (doubles at each downsampling).
        ratios: decoder-order upsampling ratios; their product is the hop length.
        dimension: latent dimension D (the codebook vector size).
        n_q: number of residual codebooks K.
        bins: entries per codebook (a power of two).
        causal: causal convolutions (streaming) or centred ones.
        norm: convolution normalisation, one of encodec's (``weight_norm``, ``time_group_norm``...).
        n_residual_layers: residual blocks per SEANet stage.
        lstm: LSTM layers at the bottleneck (0 = none).
        kernel_size: first convolution's kernel.
        last_kernel_size: last convolution's kernel.
        residual_kernel_size: kernel inside the residual blocks.
        dilation_base: dilation growth across residual blocks.
        compress: channel reduction inside residual blocks.
        true_skip: identity skip connections instead of 1x1 convolutions.
        pad_mode: padding of the non-causal convolutions.
        trim_right_ratio: causal decoder's right-trim share of the transposed-conv padding.
        audio_normalize: normalise input loudness before encoding (EnCodec 48 kHz does).
        kmeans_init: initialise codebooks by k-means on the first training batch.
        kmeans_iters: k-means iterations at that initialisation.
        decay: EMA decay of the codebook updates.
        threshold_ema_dead_code: EMA cluster size below which a code is re-seeded.
        encoder: ``"seanet"`` (EnCodec's, on the waveform) or ``"stft"`` (ConvNeXt on the
            log-magnitude STFT, ``stft_encoder.py``; ``istft_upsample`` STFT frames per token
            frame, as the inverse-STFT decoder); the quantizer is RVQ either way.
        encoder_dim: width of the STFT encoder's ConvNeXt backbone.
        encoder_layers: its ConvNeXt blocks.
        decoder: ``"seanet"`` (EnCodec's) or ``"istft"`` (a Vocos-style inverse-STFT decoder,
            ``istft_decoder.py``).
        istft_dim: width of the inverse-STFT decoder's ConvNeXt backbone.
        istft_layers: its ConvNeXt blocks.
        istft_upsample: its STFT frames per token frame.
        istft_phase: ``"integrated"``, ``"absolute"`` or ``"griffin_lim"`` (see
            ``istft_decoder.py``); checkpoints written before the field existed are absolute.
        istft_gl_iters: Griffin-Lim iterations when ``istft_phase="griffin_lim"``.
    """

    sample_rate: int = 16_000
    channels: int = 1
    n_filters: int = 16
    ratios: tuple[int, ...] = (8, 5, 4, 2)
    dimension: int = 64
    n_q: int = 4
    bins: int = 1024
    causal: bool = False
    norm: str = "weight_norm"
    n_residual_layers: int = 1
    lstm: int = 0
    kernel_size: int = 7
    last_kernel_size: int = 7
    residual_kernel_size: int = 3
    dilation_base: int = 2
    compress: int = 2
    true_skip: bool = False
    pad_mode: str = "reflect"
    trim_right_ratio: float = 1.0
    audio_normalize: bool = False
    kmeans_init: bool = True
    kmeans_iters: int = 50
    decay: float = 0.99
    threshold_ema_dead_code: int = 2
    encoder: str = "seanet"
    encoder_dim: int = 128
    encoder_layers: int = 4
    decoder: str = "seanet"
    istft_dim: int = 128
    istft_layers: int = 8
    istft_upsample: int = 2
    istft_phase: str = "absolute"
    istft_gl_iters: int = 32

    def __post_init__(self):
        object.__setattr__(self, "ratios", tuple(int(r) for r in self.ratios))
        problems = []
        if self.sample_rate <= 0 or self.channels <= 0 or self.n_q <= 0 or self.dimension <= 0:
            problems.append("sample_rate, channels, n_q and dimension must be positive")
        if self.bins < 2 or self.bins & (self.bins - 1):
            problems.append(f"bins must be a power of two, got {self.bins}")
        if not self.ratios or min(self.ratios) < 1:
            problems.append(f"ratios must be positive integers, got {self.ratios}")
        if self.istft_phase not in ISTFT_PHASES:
            problems.append(f"istft_phase must be one of {ISTFT_PHASES}, got {self.istft_phase!r}")
        if self.istft_gl_iters < 0:
            problems.append(f"istft_gl_iters must be >= 0, got {self.istft_gl_iters}")
        if self.encoder not in ENCODERS:
            problems.append(f"encoder must be one of {ENCODERS}, got {self.encoder!r}")
        if self.encoder == "stft" and (self.encoder_dim <= 0 or self.encoder_layers < 0):
            problems.append("encoder_dim must be positive and encoder_layers >= 0")
        if self.decoder not in DECODERS:
            problems.append(f"decoder must be one of {DECODERS}, got {self.decoder!r}")
        if problems:
            raise ValueError("invalid CodecConfig: " + "; ".join(problems))

    @property
    def hop_length(self) -> int:
        """Samples per token frame."""
        return math.prod(self.ratios)

    @property
    def frame_rate(self) -> int:
        """Token frames per second (EnCodec rounds up)."""
        return math.ceil(self.sample_rate / self.hop_length)

    @property
    def bandwidth_kbps(self) -> float:
        """Bit rate of all K codebooks."""
        return self.n_q * math.log2(self.bins) * self.frame_rate / 1000

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (ratios as a list)."""
        d = dataclasses.asdict(self)
        d["ratios"] = list(self.ratios)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CodecConfig:
        """Strict inverse of :meth:`to_dict`: unknown or missing keys raise ``ValueError``.

        The fields added later may be missing: checkpoints written before they existed have a
        SEANet encoder and decoder.
        """
        if not isinstance(d, dict):
            raise TypeError(f"codec config must be a JSON object, got {type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        missing = sorted(names - set(d) - set(_ADDED_LATER))
        if unknown or missing:
            raise ValueError(
                f"codec config keys do not match CodecConfig: unknown {unknown}, missing {missing}"
            )
        return cls(**d)

    def with_decoder_of(self, other: CodecConfig) -> CodecConfig:
        """This config with ``other``'s decoder fields (to compare encoder + quantizer parts)."""
        return dataclasses.replace(self, **{k: getattr(other, k) for k in _DECODER_FIELDS})


def build_encodec_model(config: CodecConfig):
    """Builds a randomly initialised ``encodec.EncodecModel`` in eval mode.

    Args:
        config: the architecture.

    Returns:
        ``encodec.EncodecModel`` whose quantizer uses all ``config.n_q`` codebooks by default.
    """
    from ._torchaudio_compat import import_encodec

    encodec = import_encodec()
    from encodec import modules, quantization

    seanet = dict(
        channels=config.channels,
        dimension=config.dimension,
        n_filters=config.n_filters,
        n_residual_layers=config.n_residual_layers,
        ratios=list(config.ratios),
        norm=config.norm,
        kernel_size=config.kernel_size,
        last_kernel_size=config.last_kernel_size,
        residual_kernel_size=config.residual_kernel_size,
        dilation_base=config.dilation_base,
        causal=config.causal,
        pad_mode=config.pad_mode,
        true_skip=config.true_skip,
        compress=config.compress,
        lstm=config.lstm,
    )
    with quiet_weight_norm():
        if config.encoder == "stft":
            from .stft_encoder import STFTEncoder

            encoder = STFTEncoder(
                config.dimension, config.ratios, config.encoder_dim, config.encoder_layers,
                config.istft_upsample,
            )  # fmt: skip
        else:
            encoder = modules.SEANetEncoder(**seanet)
        if config.decoder == "istft":
            from .istft_decoder import ISTFTDecoder

            decoder = ISTFTDecoder(
                config.dimension,
                config.hop_length,
                config.istft_dim,
                config.istft_layers,
                config.istft_upsample,
                config.istft_phase,
                config.istft_gl_iters,
            )
        else:
            decoder = modules.SEANetDecoder(**seanet, trim_right_ratio=config.trim_right_ratio)
    quantizer = quantization.ResidualVectorQuantizer(
        dimension=config.dimension,
        n_q=config.n_q,
        bins=config.bins,
        decay=config.decay,
        kmeans_init=config.kmeans_init,
        kmeans_iters=config.kmeans_iters,
        threshold_ema_dead_code=config.threshold_ema_dead_code,
    )
    model = encodec.EncodecModel(
        encoder,
        decoder,
        quantizer,
        target_bandwidths=[config.bandwidth_kbps],
        sample_rate=config.sample_rate,
        channels=config.channels,
        normalize=config.audio_normalize,
        name="v2a_jax_codec",
    )
    return model.eval()


@contextlib.contextmanager
def quiet_weight_norm():
    """Silences torch's deprecation notice for encodec's ``weight_norm`` inside the block.

    encodec uses the old ``torch.nn.utils.weight_norm`` (``weight_g``/``weight_v`` keys), which
    the official checkpoints need, so the notice is expected and not actionable here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*weight_norm.*", category=FutureWarning)
        yield
