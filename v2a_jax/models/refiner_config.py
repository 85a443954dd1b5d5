"""``RefinerConfig``: the diffusion refiner's architecture, conditioning and sampling defaults."""

from __future__ import annotations

import dataclasses

from v2a_jax.diffusion.sampler import METHODS
from v2a_jax.diffusion.schedules import FlowMatching


@dataclasses.dataclass(frozen=True)
class RefinerConfig:
    """The refiner: a residual 1-D conv stack (ConvNeXt blocks with adaLN-Zero time modulation).

    Attributes:
        latent_dim: D, the codec latent (and codebook vector) dimension.
        num_codebooks: K codebooks of the codec (the shape of the stored codebook table).
        codebook_size: V entries per codebook.
        num_coarse_codebooks: the refiner sees ``z_q`` from only the first ``k`` codebooks and
            restores the rest; None means all K.
        width: W, channels of the residual stack.
        num_blocks: residual blocks.
        kernel_size: depthwise convolution kernel (token frames).
        dilations: dilation of each block, cycled (1, 2, 4 -> a receptive field of ~0.5 s at 50
            frames/s for 6 blocks of kernel 7).
        mlp_ratio: hidden width of the pointwise gated MLP / W.
        time_dim: sinusoidal time-embedding width.
        flow: the flow-matching schedule (training ``t`` distribution, sampling grid shift).
        num_steps: default ODE steps at sampling (4 to 16).
        method: default ODE solver, ``euler`` or ``heun``.
        codec: where the codebooks come from when the model is built without them (a codec
            checkpoint folder, ``default`` or an official name; see ``Codec.from_pretrained``).
        latent_mean: per-dim mean of the ground-truth latent over the training set ([D]), used
            to normalise the conditioning ``z_q``; None = 0 (stats not computed yet).
        latent_std: per-dim standard deviation of the latent ([D]); None = 1.
        residual_std: per-dim standard deviation of ``latent - z_q`` ([D]): the flow's data
            space is the residual in these units; None = 1.
    """

    latent_dim: int = 64
    num_codebooks: int = 4
    codebook_size: int = 1024
    num_coarse_codebooks: int | None = None
    width: int = 192
    num_blocks: int = 6
    kernel_size: int = 7
    dilations: tuple[int, ...] = (1, 2, 4)
    mlp_ratio: int = 3
    time_dim: int = 128
    flow: FlowMatching = FlowMatching()
    num_steps: int = 8
    method: str = "euler"
    codec: str | None = None
    latent_mean: tuple[float, ...] | None = None
    latent_std: tuple[float, ...] | None = None
    residual_std: tuple[float, ...] | None = None

    def __post_init__(self):
        problems = []
        for name in ("latent_dim", "num_codebooks", "codebook_size", "width", "num_blocks"):
            if int(getattr(self, name)) < 1:
                problems.append(f"{name}={getattr(self, name)} must be >= 1")
        k = self.num_coarse_codebooks
        if k is not None and not 1 <= k <= self.num_codebooks:
            problems.append(f"num_coarse_codebooks={k} must be in 1..num_codebooks")
        if self.kernel_size % 2 == 0:
            problems.append(f"kernel_size={self.kernel_size} must be odd (centred convolution)")
        if not self.dilations or min(self.dilations) < 1:
            problems.append(f"dilations={self.dilations} must be non-empty and >= 1")
        if self.time_dim % 2:
            problems.append(f"time_dim={self.time_dim} must be even")
        if self.method not in METHODS:
            problems.append(f"method={self.method!r} must be one of {METHODS}")
        if not 1 <= self.num_steps <= 1000:
            problems.append(f"num_steps={self.num_steps} must be in 1..1000")
        for name in ("latent_mean", "latent_std", "residual_std"):
            stats = getattr(self, name)
            if stats is not None:
                object.__setattr__(self, name, tuple(float(s) for s in stats))
                if len(stats) != self.latent_dim:
                    problems.append(f"{name} has {len(stats)} values, expected {self.latent_dim}")
                elif name != "latent_mean" and min(stats) <= 0:
                    problems.append(f"{name} must be > 0")
        object.__setattr__(self, "dilations", tuple(int(d) for d in self.dilations))
        if problems:
            raise ValueError("invalid RefinerConfig: " + "; ".join(problems))

    @property
    def coarse_codebooks(self) -> int:
        """k, the number of codebooks whose sum conditions the refiner."""
        return self.num_coarse_codebooks or self.num_codebooks

    def with_stats(self, latent_mean, latent_std, residual_std) -> RefinerConfig:
        """A copy with the training-set latent statistics (each [D])."""
        return dataclasses.replace(
            self,
            latent_mean=tuple(float(x) for x in latent_mean),
            latent_std=tuple(float(x) for x in latent_std),
            residual_std=tuple(float(x) for x in residual_std),
        )
