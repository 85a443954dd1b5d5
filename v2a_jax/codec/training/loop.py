"""The codec training loop (torch): EnCodec's losses on SyncScenes audio and wav folders.

Phases, chosen so progress shows in minutes on a CPU:
1. ``warmup_steps``: the quantizer is bypassed (encoder -> decoder), so the autoencoder learns
   a latent before any codebook exists; k-means then initialises the codebooks on that latent.
2. Quantized: residual VQ on, commitment loss added.
3. From ``adv_start``: the MS-STFT discriminator's hinge and feature-matching losses join, all
   reconstruction and adversarial losses combined by the loss balancer.
Before ``adv_start`` the reconstruction losses are a plain weighted sum (``plain_weights``): with
only two losses of known scale the balancer adds nothing, and Adam is scale-invariant anyway.

``input_gain`` scales the first encoder convolution up and the last decoder convolution down at
initialisation (the function computed is unchanged in form; only the starting point moves):
SyncScenes audio has an RMS near 0.1, so a freshly initialised encoder sees tiny activations and
its gradients are ~100x smaller than the decoder's.

``decoder_only`` (with ``init_from``, a trained codec) fine-tunes the decoder alone: the encoder
and the quantizer are frozen (no gradients, eval mode, so no codebook EMA updates or re-seeding),
so every token is what ``init_from`` makes. Data tokenized with that codec, and every model
trained on those tokens, stay valid; only the audio the tokens decode to changes. The codec's
own headroom measurements say why this is the lever: its decoder ignores most of what the
latent carries (codebooks 2-4 and the continuous latent decode within 1% of codebook 1).

A magnitude-only decoder (``istft_phase="griffin_lim"``) is trained on its predicted spectrogram
alone (``losses.stft_magnitude_loss``), without the adversarial phase; evaluation still decodes
audio (Griffin-Lim) so its curve compares with the other recipes'. ``init_decoder`` starts such a
decoder from a trained inverse-STFT decoder's weights (every tensor whose name and shape match).

``max_minutes`` stops a run after that much training wall time (it saves first), so a run can be
planned to end at a given time and resumed later.

Resumable: ``<out>/train_state.pt`` (tensors only, loaded with ``weights_only=True``) holds the
model, discriminator, optimizers, step, data RNG and the metric history; a run restarted with the
same ``out`` continues from it. The exported codec (``<out>/codec``) is what ``Codec.load`` reads.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from v2a_jax.codec.checkpoint import save_codec
from v2a_jax.codec.config import CodecConfig, build_encodec_model
from v2a_jax.io.atomic import atomic_path


@dataclasses.dataclass
class TrainConfig:
    steps: int = 2000
    batch_size: int = 8
    segment_s: float = 0.5
    lr: float = 3e-3
    adam_b1: float = 0.9
    adam_b2: float = 0.99
    input_gain: float = 10.0
    # From this step the learning rate follows a cosine to lr * lr_end_factor at ``steps``
    # (negative: constant), so a resumed run can be annealed.
    lr_decay_start: int = -1
    lr_end_factor: float = 0.1
    max_minutes: float = 0.0  # 0 = no wall-clock limit
    warmup_steps: int = 300
    adv_start: int = 1500
    eval_every: int = 100
    save_every: int = 200
    num_eval_clips: int = 16
    eval_segment_s: float = 1.0  # evaluation crops, fixed across recipes so curves compare
    # EMA cluster size below which a code is re-seeded, for this run's batch. EnCodec's 2 assumes
    # ~5 latent vectors per code per step; 8 x 0.5 s at 50 fps gives 0.2, so with 2 at most ~100
    # codes can ever stay alive. Negative: keep the codec config's value.
    dead_code_threshold: float = 0.05
    seed: int = 0
    pool_size: int = 256  # SyncScenes training clips that crops are drawn from
    wav_dir: str | None = None  # optional folder of extra training wavs
    weights: dict = dataclasses.field(  # balancer gradient shares (adversarial phase)
        default_factory=lambda: {"l1": 0.1, "mel": 1.0, "adv": 3.0, "feat": 3.0}
    )
    plain_weights: dict = dataclasses.field(  # loss multipliers before the adversarial phase
        default_factory=lambda: {"l1": 1.0, "mel": 1.0}
    )
    # Linear-frequency multi-resolution STFT loss (tones; see losses.MultiResolutionSTFTLoss):
    # its multiplier before the adversarial phase and its gradient share in it. 0 = off.
    stft_weight: float = 0.0
    # The MS-STFT discriminator's window sizes, comma-separated (hop = size // 4). EnCodec's
    # 1024,2048,512 are 32-128 ms at 16 kHz: adding 256,128 lets it see 8-16 ms energy dips.
    disc_n_ffts: str = "1024,2048,512"
    # A codec ("default" or a checkpoint folder) whose weights start a new run (not a resume).
    init_from: str | None = None
    # Train the decoder only (needs init_from and warmup_steps=0; see the module docstring).
    decoder_only: bool = False
    # With init_from: also copy the decoder tensors whose names and shapes match init_from's
    # (e.g. a trained inverse-STFT decoder into a Griffin-Lim one); otherwise a new decoder.
    init_decoder: bool = False
    # Share of the batch decoded from the continuous (pre-quantization) latent instead of the
    # quantized one: a decoder that sees both can use the detail a refiner restores.
    continuous_latent_prob: float = 0.0

    @property
    def disc_window_sizes(self) -> list[int]:
        """``disc_n_ffts`` as ints (ValueError when a part is not an integer)."""
        return [int(n) for n in self.disc_n_ffts.split(",")]

    def __post_init__(self):
        try:
            sizes = self.disc_window_sizes
        except ValueError:
            sizes = []
        if not sizes or min(sizes) < 16:
            raise ValueError(
                f"disc_n_ffts={self.disc_n_ffts!r}: expected comma-separated window sizes >= 16"
            )
        if not 0.0 <= self.continuous_latent_prob <= 1.0:
            raise ValueError(
                f"continuous_latent_prob={self.continuous_latent_prob}: expected a share in [0, 1]"
            )
        if self.decoder_only and not self.init_from:
            raise ValueError("decoder_only needs init_from: the trained codec whose tokens to keep")
        if self.init_decoder and not self.init_from:
            raise ValueError("init_decoder needs init_from: the codec whose decoder to start from")
        if self.decoder_only and self.warmup_steps > 0:
            raise ValueError(
                f"decoder_only needs warmup_steps=0, got {self.warmup_steps}: the warm-up bypasses "
                "the quantizer, and a decoder-only run must decode the frozen tokens"
            )


class AudioCrops:
    """Random mono crops float32 [B, 1, S] from SyncScenes training seeds (and optional wavs)."""

    def __init__(self, sample_rate, segment_s, seed, wav_dir=None, pool_size=256):
        from v2a_jax.data.splits import split_seeds
        from v2a_jax.data.syncscenes import SceneConfig, render_clip
        from v2a_jax.io.audio import read_wav, resample

        self.rng = np.random.default_rng(seed)
        self.n = int(segment_s * sample_rate)
        cfg = SceneConfig(duration_s=4.0, sample_rate=sample_rate)
        self.pool = [render_clip(s, cfg).audio for s in split_seeds("train", pool_size)]
        for path in sorted(Path(wav_dir).glob("*.wav")) if wav_dir else []:
            audio, sr = read_wav(path)
            if len(audio) >= self.n:
                self.pool.append(resample(audio, sr, sample_rate))

    def batch(self, size: int) -> np.ndarray:
        out = np.empty((size, 1, self.n), np.float32)
        for i in range(size):
            clip = self.pool[self.rng.integers(len(self.pool))]
            start = self.rng.integers(0, len(clip) - self.n + 1)
            out[i, 0] = clip[start : start + self.n]
        return out


def _eval_metrics(model, batch_bcs, sample_rate, quantize: bool):
    """Mel distances, SNR and SI-SNR of reconstructions of a fixed batch.

    During warm-up the quantizer is bypassed here too: its first call k-means-initialises the
    codebooks, which must happen on the warmed-up latent, not on an early evaluation batch.
    Leaves the model in eval mode: the loop restores its training modes (``_set_modes``).
    """
    import torch

    from v2a_jax.codec.training.losses import MultiScaleMelLoss, log_mel_distance, si_snr_db

    model.eval()
    with torch.no_grad():
        y = torch.from_numpy(batch_bcs)
        emb = model.encoder(y)
        q = model.quantizer(emb, model.frame_rate, model.bandwidth).quantized if quantize else emb
        x = model.decoder(q)[..., : y.shape[-1]]
        mel = MultiScaleMelLoss(sample_rate)(x, y).item()
        log_mel = log_mel_distance(x, y, sample_rate).item()
        err = ((x - y) ** 2).sum(-1)
        snr = (10 * torch.log10((y**2).sum(-1) / err.clamp(min=1e-9))).mean().item()
        sisnr = si_snr_db(x, y).mean().item()
    return {"mel_distance": round(mel, 4), "log_mel_distance": round(log_mel, 4),
            "snr_db": round(snr, 3), "si_snr_db": round(sisnr, 3)}  # fmt: skip


def _scale_input_output(model, gain: float) -> None:
    """Multiplies the first encoder conv by ``gain`` and the last decoder conv by 1 / gain.

    An inverse-STFT decoder has no last conv: its head already starts quiet (log-magnitude -5);
    an STFT encoder takes log-magnitudes, whose scale does not depend on the audio's level.
    """
    import torch

    convs = []
    if hasattr(model.encoder, "model"):  # SEANet
        convs.append((model.encoder.model[0].conv.conv, gain))
    if hasattr(model.decoder, "model"):  # SEANet
        convs.append((model.decoder.model[-1].conv.conv, 1.0 / gain))
    with torch.no_grad():
        for conv, factor in convs:
            # weight_norm keeps the scale in weight_g; other norms in the weight itself.
            getattr(conv, "weight_g", conv.weight).mul_(factor)


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """The generator's learning rate at ``step``: constant, then an optional cosine decay."""
    if cfg.lr_decay_start < 0 or step < cfg.lr_decay_start:
        return cfg.lr
    frac = min(1.0, (step - cfg.lr_decay_start) / max(1, cfg.steps - cfg.lr_decay_start))
    # a Python float: a numpy scalar in the optimizer state would not load with weights_only=True
    return float(
        cfg.lr * (cfg.lr_end_factor + (1 - cfg.lr_end_factor) * 0.5 * (1 + np.cos(np.pi * frac)))
    )


def load_train_state(path: Path) -> dict:
    """The training state at ``path``, loaded with ``weights_only=True`` (no arbitrary code).

    States written before ``learning_rate`` returned a Python float hold numpy float64 scalars in
    the optimizer's ``lr``; those two numpy types are allowed, nothing else.

    Raises:
        ValueError: the file is not a readable training state (the message names it).
    """
    import pickle

    import torch

    allowed = [np._core.multiarray.scalar, np.dtype, type(np.dtype(np.float64))]
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(path, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as err:
        raise ValueError(
            f"{path} is not a readable codec training state ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}); move it away to start over"
        ) from None


def _reseed_dead_codes_(codebook, batch_samples) -> None:
    """``EuclideanCodebook.expire_codes_`` whose re-seeded codes survive the EMA update.

    encodec's version writes batch vectors into ``embed`` only; the EMA step that follows sets
    ``embed = embed_avg / cluster_size`` from the stale averages, which undoes the re-seeding, so
    codes left behind by a drifting latent stay dead (the shipped step-3003 codec's level 0 used a
    single code). Here ``embed_avg`` and ``cluster_size`` are reset with the new code, as
    vector-quantize-pytorch does.
    """
    import torch
    from einops import rearrange
    from encodec.quantization.core_vq import sample_vectors

    expired = codebook.cluster_size < codebook.threshold_ema_dead_code
    if codebook.threshold_ema_dead_code <= 0 or not torch.any(expired):
        return
    samples = rearrange(batch_samples, "... d -> (...) d")
    new = sample_vectors(samples, codebook.codebook_size)
    size = torch.full_like(codebook.cluster_size, float(codebook.threshold_ema_dead_code))
    codebook.embed.data.copy_(torch.where(expired[:, None], new, codebook.embed))
    codebook.cluster_size.data.copy_(torch.where(expired, size, codebook.cluster_size))
    avg = codebook.embed * codebook.cluster_size[:, None]
    codebook.embed_avg.data.copy_(torch.where(expired[:, None], avg, codebook.embed_avg))


def _install_reseeding(model, threshold: float) -> None:
    """Every RVQ codebook re-seeds with ``_reseed_dead_codes_`` (threshold < 0: config's value)."""
    import types

    for layer in model.quantizer.vq.layers:
        codebook = layer._codebook
        if threshold >= 0:
            codebook.threshold_ema_dead_code = threshold
        codebook.expire_codes_ = types.MethodType(_reseed_dead_codes_, codebook)


def _init_weights(
    model, codec_config: CodecConfig, source: str, decoder_only: bool, init_decoder: bool = False
) -> None:
    """Copies the weights of the codec ``source`` ("default" or a folder) into ``model``.

    A decoder-only run may build another decoder (``--decoder istft`` on a SEANet codec): then
    only the encoder and quantizer weights are copied and the new decoder starts fresh, unless
    ``init_decoder``: then its tensors whose names and shapes match ``source``'s are copied too.
    With ``init_decoder`` a whole-codec run may change the decoder as well (its encoder and
    quantizer start from ``source``'s and train on, so its tokens are new).

    Raises:
        ValueError: ``source``'s architecture differs from ``codec_config`` (beyond the decoder,
            for a decoder-only run).
    """
    from v2a_jax.codec.encodec_codec import Codec

    init = Codec.from_pretrained(source)
    same_tokens = codec_config.with_decoder_of(init.config) == init.config
    if init.config == codec_config:
        model.load_state_dict(init.model.state_dict())
    elif (decoder_only or init_decoder) and same_tokens:
        state = init.model.state_dict()
        own = model.state_dict()
        kept = {
            k: v for k, v in state.items()
            if not k.startswith("decoder.")
            or (init_decoder and k in own and own[k].shape == v.shape)
        }  # fmt: skip
        missing, _ = model.load_state_dict(kept, strict=False)
        assert all(k.startswith("decoder.") for k in missing), missing
    else:
        raise ValueError(
            f"init_from={source!r} has the architecture {init.config}, but this run builds "
            f"{codec_config}: pass the same --n-q, --n-filters and --norm (a decoder-only run "
            "may change the decoder, and so may a run with --init-decoder)"
        )


def _set_modes(model, decoder_only: bool) -> None:
    """Training mode; a decoder-only run keeps the encoder and quantizer frozen in eval mode."""
    model.train()
    if decoder_only:
        model.encoder.eval()
        model.quantizer.eval()


def train_codec(out_dir: str | Path, codec_config: CodecConfig, cfg: TrainConfig) -> dict:
    """Trains (or resumes) a codec into ``out_dir``; returns the card it writes."""
    import torch
    from tqdm import tqdm

    from v2a_jax.codec._torchaudio_compat import import_encodec
    from v2a_jax.codec.training.balancer import Balancer
    from v2a_jax.codec.training.losses import (
        MultiResolutionSTFTLoss,
        MultiScaleMelLoss,
        feature_matching,
        hinge_discriminator_loss,
        hinge_generator_loss,
        stft_magnitude_loss,
        waveform_l1,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    import_encodec()  # installs the torchaudio stand-in where the real one cannot load
    from encodec import msstftd

    model = build_encodec_model(codec_config)
    magnitude_only = getattr(model.decoder, "phase", None) == "griffin_lim"
    if magnitude_only and cfg.adv_start < cfg.steps:
        raise ValueError(
            f"adv_start={cfg.adv_start} < steps={cfg.steps}: a Griffin-Lim decoder is trained on "
            "its spectrogram alone; set --adv-start to at least --steps"
        )
    if cfg.init_from:  # already trained: its input/output scale is learned, no gain applied
        _init_weights(model, codec_config, cfg.init_from, cfg.decoder_only, cfg.init_decoder)
    elif cfg.input_gain != 1.0:
        _scale_input_output(model, cfg.input_gain)
    _install_reseeding(model, cfg.dead_code_threshold)
    if cfg.decoder_only:
        for module in (model.encoder, model.quantizer):
            module.requires_grad_(False)
    trained = model.decoder if cfg.decoder_only else model
    n_ffts = cfg.disc_window_sizes
    disc = msstftd.MultiScaleSTFTDiscriminator(
        filters=16, n_ffts=n_ffts, hop_lengths=[n // 4 for n in n_ffts], win_lengths=n_ffts
    )
    betas = (cfg.adam_b1, cfg.adam_b2)
    opt_g = torch.optim.Adam(trained.parameters(), lr=cfg.lr, betas=betas)
    # The discriminator keeps EnCodec's GAN betas.
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.9))
    data = AudioCrops(codec_config.sample_rate, cfg.segment_s, cfg.seed, cfg.wav_dir, cfg.pool_size)
    eval_batch = AudioCrops(
        codec_config.sample_rate, cfg.eval_segment_s, cfg.seed + 1, pool_size=cfg.pool_size
    ).batch(cfg.num_eval_clips)
    state_path = out / "train_state.pt"
    step, history, elapsed = 0, [], 0.0
    if state_path.exists():
        state = load_train_state(state_path)
        model.load_state_dict(state["model"])
        disc.load_state_dict(state["disc"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        step, history, elapsed = state["step"], json.loads(state["history"]), state["elapsed"]
        data.rng = np.random.default_rng([cfg.seed, step])
        print(f"resumed from {state_path} at step {step}")
    mel_loss = MultiScaleMelLoss(codec_config.sample_rate)
    stft_loss = MultiResolutionSTFTLoss() if cfg.stft_weight > 0 else None
    # "spec": the magnitude-only decoder's one loss (see stft_magnitude_loss)
    plain_weights = {"spec": 1.0, **cfg.plain_weights, "stft": cfg.stft_weight}
    balancer = Balancer({**cfg.weights, **({"stft": cfg.stft_weight} if stft_loss else {})})
    _set_modes(model, cfg.decoder_only)

    def save():
        state = {"model": model.state_dict(), "disc": disc.state_dict(),
                 "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "step": step,
                 "history": json.dumps(history), "elapsed": elapsed}  # fmt: skip
        with atomic_path(state_path) as tmp:
            torch.save(state, tmp)
        card = {"codec_config": codec_config.to_dict(), "train_config": dataclasses.asdict(cfg),
                "steps": step, "wall_time_s": round(elapsed, 1),
                "data": f"SyncScenes training seeds [0, {cfg.pool_size}), random crops"
                + (f" + wavs from {cfg.wav_dir}" if cfg.wav_dir else ""),
                "history": history}  # fmt: skip
        save_codec(model, out / "codec", codec_config, card=card)
        return card

    bar = tqdm(total=cfg.steps, initial=step, desc="codec", unit="step")
    card, session_start = None, time.perf_counter()
    while step < cfg.steps:
        if cfg.max_minutes and time.perf_counter() - session_start > 60 * cfg.max_minutes:
            tqdm.write(f"stopping at step {step}: --max-minutes {cfg.max_minutes} reached")
            break
        start = time.perf_counter()
        for group in opt_g.param_groups:
            group["lr"] = learning_rate(cfg, step)
        y = torch.from_numpy(data.batch(cfg.batch_size))
        with torch.set_grad_enabled(not cfg.decoder_only):
            emb = model.encoder(y)
        if step < cfg.warmup_steps:
            q, commit = emb, torch.zeros(())
        else:
            result = model.quantizer(emb, model.frame_rate, model.bandwidth)
            q, commit = result.quantized, result.penalty
            if cfg.continuous_latent_prob > 0:
                pick = torch.from_numpy(data.rng.random(q.shape[0]) < cfg.continuous_latent_prob)
                q = torch.where(pick[:, None, None], emb, q)
        if magnitude_only:
            dec = model.decoder
            log_mag_bfq, _ = dec.log_magnitude_and_phase(q)
            # the frames of the crop's own STFT (the encoder rounds a partial hop up)
            log_mag_bfq = log_mag_bfq[:, : y.shape[-1] // dec.stft_hop + 1]
            sr = codec_config.sample_rate
            losses = {"spec": stft_magnitude_loss(log_mag_bfq, y, dec.n_fft, sr)}
        else:
            x = model.decoder(q)[..., : y.shape[-1]]
            losses = {"l1": waveform_l1(x, y), "mel": mel_loss(x, y)}
        if stft_loss is not None and not magnitude_only:
            losses["stft"] = stft_loss(x, y)
        if step >= cfg.adv_start:
            fake_logits, fake_fmaps = disc(x)
            _, real_fmaps = disc(y)
            losses["adv"] = hinge_generator_loss(fake_logits)
            losses["feat"] = feature_matching(real_fmaps, fake_fmaps)
        opt_g.zero_grad()
        if commit.requires_grad:
            commit.backward(retain_graph=True)
        if step >= cfg.adv_start:
            balancer.backward(losses, x)
        else:
            sum(plain_weights[k] * v for k, v in losses.items()).backward()
        opt_g.step()
        if step >= cfg.adv_start:
            real_logits, _ = disc(y)
            fake_logits, _ = disc(x.detach())
            opt_d.zero_grad()
            hinge_discriminator_loss(real_logits, fake_logits).backward()
            opt_d.step()
        if not all(torch.isfinite(v) for v in losses.values()):
            raise FloatingPointError(f"non-finite codec loss at step {step}: {losses}")
        step += 1
        elapsed += time.perf_counter() - start
        bar.update(1)
        shown = "spec" if magnitude_only else "mel"
        bar.set_postfix({shown: f"{losses[shown].item():.3f}"})
        if step % cfg.eval_every == 0 or step == cfg.steps:
            quantized = step > cfg.warmup_steps
            metrics = _eval_metrics(model, eval_batch, codec_config.sample_rate, quantized)
            _set_modes(model, cfg.decoder_only)
            metrics["quantized"] = quantized
            train = {f"train_{k}": round(v.item(), 5) for k, v in losses.items()}
            history.append({"step": step, "wall_time_s": round(elapsed, 1), **metrics, **train})
            tqdm.write(json.dumps(history[-1]))
        if step % cfg.save_every == 0 or step == cfg.steps:
            card = save()
    bar.close()
    return card if card is not None and card["steps"] == step else save()
