"""The Python API: ``V2A.from_pretrained(...)`` then ``pipe.generate(...)``.

Legend: N samples, R guidance branches, L text tokens, E text width, T codec frames, K codebooks,
S audio samples, D latent width.

Example:
    pipe = V2A.from_pretrained("path/to/export")         # or "default"
    out = pipe.generate(video="clip.mp4", prompt="metal ball bouncing, rain",
                        negative_prompt="rain", num_samples=4, seed=0)
    out.save("out/")                                      # wav + mp4 per sample, manifest.json
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from v2a_jax.sampling.guidance import Branch, make_guidance
from v2a_jax.sampling.methods import SamplingMethod, TopK
from v2a_jax.sampling.output import GenerationOutput

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "assets" / "model" / "default"
DEFAULT_MAX_DURATION_S = 300.0
# AudioCraft's top-k 250 for codec-token LMs, at temperature 0.7: chosen on 60 SyncScenes
# *validation* clips x 2 samples (experiments/sampling_sweep.py, out/sampling_sweep_val): onset F1
# 0.727 -> 0.756, FAD 1215 -> 1163, diversity 13.3 -> 13.5 against temperature 1.
DEFAULT_METHOD = TopK(250, temperature=0.7)


@functools.cache
def _default_text_encoder():
    """One MiniLM per process, shared by every pipeline (it is frozen, and slow to load)."""
    from v2a_jax.conditioning.text_encoder import TextEncoder

    return TextEncoder()


class ModelMismatchError(ValueError):
    """A checkpoint whose config does not fit the codec, text encoder or refiner beside it."""


def _check_compatible(cfg, codec, where: str) -> None:
    problems = []
    if codec.num_codebooks != cfg.num_codebooks:
        problems.append(f"K = {cfg.num_codebooks} codebooks vs the codec's {codec.num_codebooks}")
    if codec.codebook_size != cfg.codebook_size:
        problems.append(f"V = {cfg.codebook_size} entries vs the codec's {codec.codebook_size}")
    if abs(codec.frame_rate - cfg.audio_frame_rate) > 1e-6:
        problems.append(f"{cfg.audio_frame_rate} frames/s vs the codec's {codec.frame_rate}")
    if problems:
        raise ModelMismatchError(
            f"checkpoint {where} was trained for another codec config ({'; '.join(problems)}); "
            f"codec: {codec!r}. Pass codec= the codec its tokens came from."
        )


# A shipped checkpoint's codec, as the package names it ("default" or a folder): one line.
CODEC_NAME_FILE = "codec_name.txt"


def _resolve_codec(codec, path: Path | None, config) -> tuple[Any, str]:
    """The codec: given, else ``<checkpoint>/codec``, else the name in
    ``<checkpoint>/codec_name.txt``, else the training data set's record, else the default codec
    (this order; the manifest records which one was used)."""
    from v2a_jax.codec import Codec

    if codec is not None and not isinstance(codec, str | os.PathLike):
        return codec, getattr(codec, "name", "codec")
    if codec is not None:
        return Codec.from_pretrained(codec), str(codec)
    if path is not None and (path / "codec" / "codec.json").is_file():
        return Codec.load(path / "codec"), str(path / "codec")
    if path is not None and (path / CODEC_NAME_FILE).is_file():
        name = (path / CODEC_NAME_FILE).read_text().strip()
        if not name:
            raise ValueError(f"{path / CODEC_NAME_FILE} is empty: expected a codec name or folder")
        return Codec.from_pretrained(name), name
    data_dir = getattr(getattr(config, "data", None), "data_dir", None)
    if data_dir and Path(data_dir).is_dir():
        try:
            from v2a_jax.data.tokenized import read_codec_info
        except ImportError:
            read_codec_info = None
        if read_codec_info is not None:
            try:
                name = read_codec_info(data_dir)["codec"]
            except (FileNotFoundError, KeyError):
                name = None
            if name:
                return Codec.from_pretrained(name), str(name)
    return Codec.from_pretrained("default"), "default"


def _check_refiner(rcfg, codec) -> None:
    have = (rcfg.latent_dim, rcfg.num_codebooks, rcfg.codebook_size)
    want = (codec.latent_dim, codec.num_codebooks, codec.codebook_size)
    if have != want:
        raise ModelMismatchError(
            f"the refiner was made for another codec: (D, K, V) = {have}, the codec has {want}"
        )


class V2A:
    """A loaded pipeline: AR token model, codec, text encoder and optional refiner.

    Args:
        model: a ``TokenLM``.
        config: the run ``Config`` it was trained with (or None: text length 32).
        codec: a ``v2a_jax.codec.Codec`` matching the model's K, V and frame rate.
        text_encoder: a ``TextEncoder``; None builds the default (MiniLM) on first use.
        refiner: a ``v2a_jax.models.refiner.Refiner``, or None (then ``refine=True`` raises).
        name: recorded in manifests.
        max_duration_s: the longest soundtrack ``generate`` accepts.
    """

    def __init__(
        self,
        model,
        config,
        codec,
        text_encoder=None,
        refiner=None,
        name: str = "",
        codec_name: str = "",
        max_duration_s: float = DEFAULT_MAX_DURATION_S,
    ):
        from flax import nnx

        _check_compatible(model.cfg, codec, name or "model")
        if refiner is not None:
            _check_refiner(refiner.cfg, codec)
        self.model, self.config, self.codec = model, config, codec
        self.refiner = refiner
        self.name, self.codec_name = name, codec_name or getattr(codec, "name", "")
        self.max_duration_s = float(max_duration_s)
        self._text_encoder = text_encoder
        self._split = nnx.split(model)  # walked once, reused by every call
        data = getattr(config, "data", None)
        self.max_text_len = int(getattr(data, "max_text_len", 32))

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike = "default",
        codec=None,
        text_encoder=None,
        refiner=None,
        max_duration_s: float = DEFAULT_MAX_DURATION_S,
        dtype: str | None = None,
    ) -> V2A:
        """Loads ``"default"`` (the shipped model) or a checkpoint folder.

        Args:
            name_or_path: ``"default"``, an ``export_params`` folder or a training workdir.
            codec: a Codec, a name/folder for ``Codec.from_pretrained``, or None: the folder's
                ``codec/`` subfolder, else the codec recorded by the training data set, else
                ``"default"``.
            text_encoder: a TextEncoder (default: MiniLM, built on first use).
            refiner: a Refiner, a checkpoint folder of one, or None: the folder's ``refiner/``
                subfolder when there is one, else no refiner.
            max_duration_s: the longest soundtrack ``generate`` accepts.
            dtype: run the AR model in this dtype instead of its saved one (``"bfloat16"``:
                weights cast on loading, products accumulated in float32; faster sampling at
                batch 8 on CPUs with bf16 instructions, see the README); None keeps the saved.

        Raises:
            FileNotFoundError: no such folder, or the default model is not shipped yet.
            v2a_jax.train.checkpoint.CheckpointError: an unloadable checkpoint.
            ModelMismatchError: a checkpoint made for another codec config.
        """
        from v2a_jax.train.checkpoint import load_model

        if str(name_or_path) == "default":
            if not (DEFAULT_MODEL_DIR / "config.json").is_file():
                raise FileNotFoundError(
                    "the default v2a_jax model has not been trained/shipped yet: expected an "
                    f"export_params folder at {DEFAULT_MODEL_DIR}. Train one with `v2a train` "
                    "and pass its export folder (--model DIR)"
                )
            path = DEFAULT_MODEL_DIR
        else:
            path = Path(name_or_path)
            if not path.is_dir():
                raise FileNotFoundError(
                    f"model {str(name_or_path)!r} is neither 'default' nor an existing checkpoint "
                    "folder (an export_params folder or a training workdir)"
                )
        model, config = load_model(path, dtype)
        codec, codec_name = _resolve_codec(codec, path, config)
        if refiner is None and (path / "refiner").is_dir():
            refiner = path / "refiner"
        if isinstance(refiner, str | os.PathLike):
            refiner = load_model(refiner)[0]
        return cls(
            model, config, codec, text_encoder, refiner, str(name_or_path), codec_name,
            max_duration_s,
        )  # fmt: skip

    @property
    def text_encoder(self):
        if self._text_encoder is None:
            self._text_encoder = _default_text_encoder()
        return self._text_encoder

    @property
    def sample_rate(self) -> int:
        return int(self.codec.sample_rate)

    def _text_branches(self, guidance, prompt: str, negative: str, n: int):
        """float32 [R, N, L, E] text states and bool [R, N, L] masks per guidance branch."""
        emb = self.text_encoder.encode([prompt, negative], max_length=self.max_text_len)
        if emb.tokens_bld.shape[-1] != self.model.cfg.text_dim:
            raise ModelMismatchError(
                f"text encoder width {emb.tokens_bld.shape[-1]} != the model's text_dim "
                f"{self.model.cfg.text_dim}"
            )
        rows = {"prompt": 0, "negative": 1}
        tokens, masks = [], []
        for branch in guidance.branches:
            row = rows.get(branch.text)
            t_le = emb.tokens_bld[row] if row is not None else np.zeros_like(emb.tokens_bld[0])
            m_l = emb.mask_bl[row] if row is not None else np.zeros_like(emb.mask_bl[0])
            tokens.append(np.broadcast_to(t_le, (n, *t_le.shape)))
            masks.append(np.broadcast_to(m_l, (n, *m_l.shape)))
        return np.stack(tokens), np.stack(masks)

    def generate(
        self,
        video: str | os.PathLike | None = None,
        *,
        frames=None,
        fps: float | None = None,
        timestamps=None,
        prompt: str = "",
        negative_prompt: str = "",
        num_samples: int = 1,
        seed: int = 0,
        refine: bool | None = None,
        guidance_scale: float = 3.0,
        guidance_form: str = "separate",
        video_weight: float | None = None,
        prompt_weight: float | None = None,
        negative_weight: float | None = None,
        negative_reference: str | None = None,
        method: SamplingMethod = DEFAULT_METHOD,
        duration: float | None = None,
        overlap_s: float = 1.0,
        refine_steps: int = 8,
        progress=None,
    ) -> GenerationOutput:
        """N soundtracks for one video.

        Args:
            video: a video file (any container FFmpeg reads), or None with ``frames``.
            frames: uint8 [F, H, W, 3] with ``fps`` (constant rate) or ``timestamps`` (seconds
                per frame, variable rate).
            prompt: what should be heard ("" for none).
            negative_prompt: what should not be heard ("" for none).
            num_samples: N variations, sampled in one batched call; sample i uses seed
                ``seed + i`` and is reproduced by ``seed=seed + i, num_samples=1``.
            seed: the first sample's seed.
            refine: True applies the diffusion refiner to the dequantized latent (raises
                ``ValueError`` when this pipeline has no refiner: never silently skipped);
                False decodes the tokens directly; None (default) refines when a refiner is
                loaded. The manifest's ``settings.refined`` says which happened.
            guidance_scale: ``s`` of classifier-free guidance; 1 with no negative prompt and no
                weights is unguided. Guidance needs a prompt (an empty prompt raises).
            guidance_form: ``"separate"`` (video / prompt / negative weights; without a negative
                prompt its defaults equal the common form) or ``"common"``
                (``l_neg + s (l_pos - l_neg)``).
            video_weight, prompt_weight, negative_weight: override the separate form's weights
                (see ``v2a_jax.sampling.guidance``).
            negative_reference: what the negative prompt is pushed away from: ``"null"`` (the
                default: what it means without the picture, so a negated sound the picture shows
                is removed too) or ``"video"`` (what it adds to this video); separate form only.
            method: the sampling method (default ``TopK(250, temperature=0.7)``).
            duration: seconds of soundtrack (default: the whole video); at most the video's.
            overlap_s: context carried between windows for videos longer than the model's
                (at most half a window, so that every window advances by at least half).
            refine_steps: ODE steps of the refiner.
            progress: called with ``(windows_done, windows_total)``.

        Returns:
            GenerationOutput with ``waveforms`` [N, S], ``S = round(duration * sample_rate)``.

        Raises:
            FileNotFoundError, VideoReadError: a missing or unreadable video, or one without
                frames.
            DurationError: a duration above ``max_duration_s``.
            ValueError: bad arguments (named).
        """
        from v2a_jax.sampling.continuation import generate_tokens
        from v2a_jax.sampling.duration import plan_duration
        from v2a_jax.sampling.video_input import load_video_file, video_from_frames

        t_start = time.perf_counter()
        timings: dict[str, float] = {}
        prompt, negative_prompt = (prompt or "").strip(), (negative_prompt or "").strip()
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1, got {num_samples}")
        if refine and self.refiner is None:
            raise ValueError(
                "refine=True but this pipeline has no refiner: load one with "
                "V2A.from_pretrained(..., refiner=DIR), or pass refine=False"
            )
        weights = (video_weight, prompt_weight, negative_weight)
        if not prompt and all(w is None for w in weights):
            if guidance_scale != 1.0 or negative_prompt:
                raise ValueError(
                    f"guidance (guidance_scale={guidance_scale}"
                    f"{' and a negative prompt' if negative_prompt else ''}) needs a non-empty "
                    "prompt: give a prompt, or guidance_scale=1 for unguided sampling, or "
                    "video_weight= to guide by the video alone"
                )
        guidance = make_guidance(
            guidance_scale, bool(negative_prompt), guidance_form, *weights,
            negative_reference=negative_reference,
        )  # fmt: skip
        vcfg = self.model.cfg.video
        size = (vcfg.height, vcfg.width)
        if (video is None) == (frames is None):
            raise ValueError("pass a video file or frames (with fps or timestamps), not both")
        if video is not None:
            vin = load_video_file(video, vcfg.fps, size, duration)
        else:
            vin = video_from_frames(frames, vcfg.fps, size, fps, timestamps, duration)
        plan = plan_duration(
            vin.duration_s, self.sample_rate, self.codec.hop_length,
            self.model.cfg.num_codebooks, vcfg.fps, self.max_duration_s,
        )  # fmt: skip
        timings["read"] = time.perf_counter() - t_start
        t = time.perf_counter()
        text_rnle, mask_rnl = self._text_branches(guidance, prompt, negative_prompt, num_samples)
        timings["text"] = time.perf_counter() - t
        t = time.perf_counter()
        seeds = [int(seed) + i for i in range(num_samples)]
        tokens_ntk = generate_tokens(
            self.model, vin.frames, vin.fps, text_rnle, mask_rnl, guidance, method, seeds,
            plan.num_frames, overlap_s=overlap_s, progress=progress, split=self._split,
        )  # fmt: skip
        timings["sample"] = time.perf_counter() - t
        do_refine = self.refiner is not None if refine is None else bool(refine)
        t = time.perf_counter()
        wave_ns, refined = self.decode_tokens(tokens_ntk, seeds, do_refine, refine_steps)
        wave_ns = wave_ns[:, : plan.num_samples]
        timings["decode"] = time.perf_counter() - t
        if wave_ns.shape[1] < plan.num_samples:  # T * hop >= S always; kept as a guard
            raise RuntimeError(f"codec returned {wave_ns.shape[1]} < {plan.num_samples} samples")
        timings["total"] = time.perf_counter() - t_start
        settings = {
            "model": self.name, "codec": self.codec_name, "guidance": repr(guidance),
            "guidance_scale": guidance_scale, "guidance_form": guidance_form,
            "method": repr(method), "refined": do_refine, "overlap_s": overlap_s,
            "source": str(video) if video is not None else "frames",
        }  # fmt: skip
        return GenerationOutput(
            waveforms=wave_ns, sample_rate=self.sample_rate, tokens=tokens_ntk, seeds=seeds,
            prompt=prompt, negative_prompt=negative_prompt, duration_s=plan.duration_s,
            timings=timings, settings=settings, video_path=vin.source_path,
            frames=vin.mp4_frames, fps=vin.mp4_fps, refined_latent=refined,
        )  # fmt: skip

    def decode_tokens(
        self, tokens_ntk, seeds: list[int], refine: bool, refine_steps: int = 8
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Audio of generated tokens, through the refiner or straight from the codec.

        The AR-only versus AR+diffusion comparison: decode one ``generate`` output's
        ``tokens`` both ways (``seeds`` = its ``seeds``, which seed the refiner's noise, as
        inside ``generate``).

        Args:
            tokens_ntk: int32 [N, T, K] codec tokens.
            seeds: N seeds.
            refine: True refines the dequantized latent before decoding (``ValueError`` without
                a refiner); False decodes the tokens directly.
            refine_steps: ODE steps of the refiner.

        Returns:
            ``(wave_ns, refined_ntd)``: float32 [N, S] audio (``S = T * hop``) and the refined
            latent (None when not refined).
        """
        tokens_ntk = np.asarray(tokens_ntk)
        if len(seeds) != tokens_ntk.shape[0]:
            raise ValueError(f"{len(seeds)} seeds for {tokens_ntk.shape[0]} token sequences")
        if refine and self.refiner is None:
            raise ValueError("refine=True but this pipeline has no refiner (load one)")
        refined = self._refine(tokens_ntk, list(seeds), refine_steps) if refine else None
        wave = self.codec.decode_latent(refined) if refine else self.codec.decode(tokens_ntk)
        return np.asarray(wave, np.float32).reshape(tokens_ntk.shape[0], -1), refined

    def _refine(self, tokens_ntk: np.ndarray, seeds: list[int], num_steps: int) -> np.ndarray:
        """Refined latent float32 [N, T, D]; sample i's noise comes from its own seed."""
        import jax
        import jax.numpy as jnp

        from v2a_jax.diffusion.refine import refine_jit

        # The refiner's own codebook copy and coarse-codebook count define its input.
        z_q_ntd = np.asarray(self.refiner.dequantize(jnp.asarray(tokens_ntk)))
        out = [
            np.asarray(refine_jit(self.refiner, z_q_ntd[i : i + 1], jax.random.key(s), num_steps))
            for i, s in enumerate(seeds)
        ]
        return np.concatenate(out, axis=0)


__all__ = ["Branch", "DEFAULT_MODEL_DIR", "ModelMismatchError", "V2A"]
