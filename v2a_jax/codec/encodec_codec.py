"""``Codec``: an EnCodec model behind a numpy-in, numpy-out interface.

Legend: B batch, C channels, S samples, T token frames, K codebooks, D latent dim.

The data path the rest of v2a_jax relies on::

    wave [B, S] --encode_latent--> z [B, T, D] --RVQ--> tokens [B, T, K]
    tokens --dequantize--> z_q [B, T, D] --decode_latent--> wave [B, T * hop_length]

``decode(tokens) == decode_latent(dequantize(tokens))``, which is what lets the diffusion refiner
sit between the two halves.

Exact durations: encoding ``S`` samples gives ``T = num_frames_for(S) = ceil(S / hop_length)``
frames (the encoder pads the last frame), and decoding ``T`` frames gives ``T * hop_length``
samples, so decoded audio can be up to ``hop_length - 1`` samples longer than the original.
To produce audio for a clip of ``S = round(seconds * sample_rate)`` samples, generate
``num_frames_for(S)`` frames, decode, and keep ``wave[..., :S]``.

torch and encodec are imported only when a Codec is built, never by ``import v2a_jax.codec``.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np

from . import inputs
from .config import CodecConfig

logger = logging.getLogger(__name__)

DEFAULT_CODEC_DIR = Path(__file__).resolve().parent.parent / "assets" / "codec" / "default"
OFFICIAL_NAMES = ("encodec_24khz", "encodec_48khz")


class Codec:
    """An EnCodec model used frozen (switched to eval mode, run without gradients), numpy I/O.

    Args:
        model: an ``encodec.EncodecModel``.
        config: its architecture, for the project's codecs (None for official ones).
        name: a label for logs and errors.

    Models trained with loudness normalisation (official 48 kHz) are encoded at unit RMS and the
    per-clip scale is not part of the tokens: decoded audio comes back at that normalised level.
    Official models' 1 s segmenting is not used; the whole clip goes through the network at once.
    """

    def __init__(self, model, config: CodecConfig | None = None, name: str | None = None):
        # Eval mode matters: in train mode the quantizer would update its codebooks (EMA).
        self.model = model.eval()
        self.config = config
        self.name = name or getattr(model, "name", "codec")
        self.card: dict = {}
        if not all(bool(layer._codebook.inited) for layer in model.quantizer.vq.layers):
            # k-means initialisation happens on the first training batch; before it every
            # codebook is zero and every token is 0, which is easy to mistake for a bug.
            logger.warning(
                "codec %r has uninitialised codebooks (untrained): all tokens are 0", self.name
            )

    # ---- properties -------------------------------------------------------------------------

    @property
    def sample_rate(self) -> int:
        return int(self.model.sample_rate)

    @property
    def channels(self) -> int:
        return int(self.model.channels)

    @property
    def hop_length(self) -> int:
        """Samples per token frame."""
        return int(np.prod(self.model.encoder.ratios))

    @property
    def frame_rate(self) -> int:
        """Token frames per second (``ceil(sample_rate / hop_length)``, as EnCodec defines it)."""
        return int(self.model.frame_rate)

    @property
    def num_codebooks(self) -> int:
        """K codebooks that :meth:`encode` emits (set by the bandwidth for official models)."""
        q = self.model.quantizer
        return int(q.get_num_quantizers_for_bandwidth(self.model.frame_rate, self.model.bandwidth))

    @property
    def codebook_size(self) -> int:
        return int(self.model.quantizer.bins)

    @property
    def latent_dim(self) -> int:
        """D, the latent (and codebook vector) dimension."""
        return int(self.model.quantizer.dimension)

    @property
    def bandwidth(self) -> float:
        """Bit rate of the emitted tokens in kbps."""
        return self.num_codebooks * math.log2(self.codebook_size) * self.frame_rate / 1000

    def num_frames_for(self, num_samples: int) -> int:
        """Token frames that cover ``num_samples`` samples: ``ceil(num_samples / hop_length)``."""
        return -(-int(num_samples) // self.hop_length)

    def __repr__(self) -> str:
        return (
            f"Codec({self.name!r}, {self.sample_rate} Hz, {self.frame_rate} frames/s, "
            f"K={self.num_codebooks}x{self.codebook_size}, D={self.latent_dim})"
        )

    # ---- encode / decode ----------------------------------------------------------------------

    def encode(self, wave, sample_rate: int | None = None) -> np.ndarray:
        """Waveform to tokens.

        Args:
            wave: float ``[B, S]`` or ``[S]`` (mono), or ``[B, C, S]``.
            sample_rate: the audio's rate; when given it must equal :attr:`sample_rate`.

        Returns:
            int32 ``tokens_btk`` ``[B, T, K]`` (``[T, K]`` for unbatched input),
            ``T = num_frames_for(S)``.
        """
        return self.encode_with_latent(wave, sample_rate)[0]

    def encode_latent(self, wave, sample_rate: int | None = None) -> np.ndarray:
        """Waveform to the continuous pre-quantisation latent.

        Args:
            wave: as in :meth:`encode`.
            sample_rate: as in :meth:`encode`.

        Returns:
            float32 ``z_btd`` ``[B, T, D]`` (``[T, D]`` for unbatched input).
        """
        torch = _torch()
        with torch.no_grad():
            emb_bdt, unbatched = self._embed(wave, sample_rate)
            z_btd = emb_bdt.transpose(1, 2).float().cpu().numpy()
        return z_btd[0] if unbatched else z_btd

    def encode_with_latent(self, wave, sample_rate: int | None = None):
        """Tokens and latent from one encoder pass (what :meth:`encode` and
        :meth:`encode_latent` return, for the price of one).

        Returns:
            ``(tokens_btk int32 [B, T, K], z_btd float32 [B, T, D])``, unbatched as the input.
        """
        torch = _torch()
        with torch.no_grad():
            emb_bdt, unbatched = self._embed(wave, sample_rate)
            codes_kbt = self.model.quantizer.encode(
                emb_bdt, self.model.frame_rate, self.model.bandwidth
            )
            tokens_btk = codes_kbt.permute(1, 2, 0).to(torch.int32).cpu().numpy()
            z_btd = emb_bdt.transpose(1, 2).float().cpu().numpy()
        return (tokens_btk[0], z_btd[0]) if unbatched else (tokens_btk, z_btd)

    def dequantize(self, tokens, num_codebooks: int | None = None) -> np.ndarray:
        """Tokens to the quantised latent ``z_q``: the sum of each codebook's vectors.

        Args:
            tokens: int ``[B, T, K]`` or ``[T, K]``.
            num_codebooks: use only the first ``k`` (coarse) codebooks; default all K given.

        Returns:
            float32 ``z_q_btd`` ``[B, T, D]`` (``[T, D]`` for unbatched input).
        """
        torch = _torch()
        with torch.no_grad():
            zq_bdt, unbatched = self._dequantize_bdt(tokens, num_codebooks)
            zq_btd = zq_bdt.transpose(1, 2).float().cpu().numpy()
        return zq_btd[0] if unbatched else zq_btd

    def decode(self, tokens, num_codebooks: int | None = None) -> np.ndarray:
        """Tokens to waveform.

        Args:
            tokens: int ``[B, T, K]`` or ``[T, K]``.
            num_codebooks: decode from the first ``k`` codebooks only.

        Returns:
            float32 ``wave_bs`` ``[B, T * hop_length]`` (``[B, C, S]`` for multi-channel codecs;
            batch axis dropped for unbatched input). Trim to the duration you need.
        """
        torch = _torch()
        with torch.no_grad():
            zq_bdt, unbatched = self._dequantize_bdt(tokens, num_codebooks)
            return self._synthesize(zq_bdt, unbatched)

    def decode_latent(self, z_btd) -> np.ndarray:
        """Continuous latent (e.g. the refiner's output) to waveform.

        Args:
            z_btd: float ``[B, T, D]`` or ``[T, D]``.

        Returns:
            float32 waveform shaped as in :meth:`decode`.
        """
        torch = _torch()
        z_btd, unbatched = inputs.as_latent_btd(z_btd, self.latent_dim)
        with torch.no_grad():
            z_bdt = torch.from_numpy(z_btd).to(self._device).transpose(1, 2)
            return self._synthesize(z_bdt, unbatched)

    def codebooks(self) -> np.ndarray:
        """The codebook vectors, for dequantizing in JAX (``z_q = sum_k table[k, tokens_k]``).

        Returns:
            float32 ``[K, V, D]`` for the K codebooks that :meth:`encode` emits.

        Raises:
            ValueError: the quantizer projects codebook vectors (codebook dim != latent dim), so a
                plain lookup would not equal :meth:`dequantize`.
        """
        layers = self.model.quantizer.vq.layers[: self.num_codebooks]
        if any(not isinstance(layer.project_out, _torch().nn.Identity) for layer in layers):
            raise ValueError(f"codec {self.name!r} projects its codebooks; no plain lookup table")
        return np.stack([layer.codebook.detach().float().cpu().numpy() for layer in layers])

    # ---- internals ----------------------------------------------------------------------------

    @property
    def _device(self):
        return next(self.model.parameters()).device

    def _embed(self, wave, sample_rate):
        torch = _torch()
        wave_bcs, unbatched = inputs.as_wave_bcs(wave, self.channels, self.sample_rate, sample_rate)
        x = torch.from_numpy(wave_bcs).to(self._device)
        if self.model.normalize:
            # As EncodecModel._encode_frame: the network was trained on unit-RMS input.
            x = x / (1e-8 + x.mean(dim=1, keepdim=True).pow(2).mean(dim=2, keepdim=True).sqrt())
        return self.model.encoder(x), unbatched

    def _dequantize_bdt(self, tokens, num_codebooks):
        torch = _torch()
        n_q = int(self.model.quantizer.n_q)
        tokens_btk, unbatched = inputs.as_tokens_btk(tokens, self.codebook_size, n_q)
        if num_codebooks is not None:
            if not 1 <= num_codebooks <= tokens_btk.shape[2]:
                raise ValueError(
                    f"num_codebooks={num_codebooks} must be in 1..{tokens_btk.shape[2]} "
                    "(the codebooks present in tokens)"
                )
            tokens_btk = tokens_btk[:, :, :num_codebooks]
        codes_kbt = torch.from_numpy(np.ascontiguousarray(tokens_btk.transpose(2, 0, 1)))
        return self.model.quantizer.decode(codes_kbt.to(self._device)), unbatched

    def _synthesize(self, z_bdt, unbatched: bool) -> np.ndarray:
        wave_bcs = self.model.decoder(z_bdt).float().cpu().numpy()
        wave = wave_bcs[:, 0] if self.channels == 1 else wave_bcs
        return wave[0] if unbatched else wave

    # ---- construction -------------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: CodecConfig | None = None, seed: int | None = None) -> Codec:
        """A randomly initialised codec of the given architecture (tests, training start)."""
        from .config import build_encodec_model

        if seed is not None:
            _torch().manual_seed(seed)
        config = config or CodecConfig()
        return cls(build_encodec_model(config), config=config, name="v2a_jax_codec")

    @classmethod
    def load(cls, folder: str | os.PathLike) -> Codec:
        """Loads a project checkpoint folder (``codec.safetensors`` + ``codec.json``)."""
        from .checkpoint import WEIGHTS_FILE, load_state_checked, read_codec_files
        from .config import build_encodec_model

        config, state, card = read_codec_files(folder)
        model = build_encodec_model(config)
        load_state_checked(model, state, Path(folder) / WEIGHTS_FILE)
        codec = cls(model, config=config, name=card.get("name") or Path(folder).name)
        codec.card = card
        return codec

    def save(self, folder: str | os.PathLike, card: dict | None = None) -> Path:
        """Writes this codec as a project checkpoint folder (see ``save_codec``)."""
        from .checkpoint import save_codec

        return save_codec(self, folder, self.config, card)

    @classmethod
    def from_official(
        cls,
        name: str = "encodec_24khz",
        path: str | os.PathLike | None = None,
        hub_dir: str | os.PathLike | None = None,
        bandwidth: float | None = None,
        check_hash: bool = False,
    ) -> Codec:
        """Official EnCodec weights from a local file or the torch hub cache; never downloads.

        Args:
            name: ``encodec_24khz`` (mono, 75 frames/s) or ``encodec_48khz`` (stereo, 150/s).
            path: the checkpoint file, or a folder holding it under its official file name.
            hub_dir: a torch hub directory; the file is looked for in ``hub_dir/checkpoints/``.
                Without ``path`` and ``hub_dir``: ``torch.hub.get_dir()/checkpoints/``.
            bandwidth: target kbps, which sets K (24 kHz: 1.5, 3, 6, 12, 24 -> K = 2, 4, 8, 16,
                32); default 6.
            check_hash: verify the sha256 prefix in the official file name.

        Raises:
            FileNotFoundError: listing every place looked at.
        """
        from .official import DEFAULT_BANDWIDTH, load_official_model

        model = load_official_model(name, path=path, hub_dir=hub_dir, check_hash=check_hash)
        model.set_target_bandwidth(DEFAULT_BANDWIDTH[name] if bandwidth is None else bandwidth)
        return cls(model, name=name)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike = "default", **kwargs) -> Codec:
        """``"default"`` (the shipped codec), a checkpoint folder, or an official name.

        Args:
            name_or_path: ``"default"``, ``"encodec_24khz"``, ``"encodec_48khz"`` or a folder.
            **kwargs: passed to :meth:`from_official` for official names.
        """
        if str(name_or_path) == "default":
            if not (DEFAULT_CODEC_DIR / "codec.json").is_file():
                raise FileNotFoundError(
                    "the default v2a_jax codec has not been trained/shipped yet: expected "
                    f"codec.json and codec.safetensors in {DEFAULT_CODEC_DIR}. Train it with the "
                    "recipe in tokenizers/, or use Codec.from_pretrained('encodec_24khz') with "
                    "the official weights on disk."
                )
            return cls.load(DEFAULT_CODEC_DIR)
        if str(name_or_path) in OFFICIAL_NAMES:
            return cls.from_official(str(name_or_path), **kwargs)
        if kwargs:
            raise TypeError(f"unexpected arguments for a checkpoint folder: {sorted(kwargs)}")
        path = Path(name_or_path)
        if not path.is_dir():
            raise FileNotFoundError(
                f"{name_or_path!r} is neither 'default', an official name {OFFICIAL_NAMES}, "
                "nor an existing codec checkpoint folder"
            )
        return cls.load(path)


def _torch():
    import torch

    return torch
