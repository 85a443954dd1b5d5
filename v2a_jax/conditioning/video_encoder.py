"""Trainable video encoder over raw uint8 frames: per-frame conv encoder + temporal convs.

Legend: B batch, F frames, H W frame size, C channels, D model width.

Each frame (with ``motion``, plus its difference from the previous frame as 3 more channels) is
patchified by a stride-``patch`` conv and downsampled by 3x3 stride-2 convs; the feature grid is
mean-pooled over space (``pool="mean"``) or flattened (``pool="grid"``, which keeps where things
are: an object touching the floor is a position, not a mean); a linear map takes it to D and
residual 1-D convs over time mix neighbouring frames (motion, onsets). The output stays at the
video's frame rate: ``TokenLM`` resamples it onto the token timeline (``alignment.py``).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import nnx

from v2a_jax.layers.norms import RMSNorm
from v2a_jax.layers.params import dense_init, param

_CONV_DIMS = ("NHWC", "HWIO", "NHWC")


@dataclasses.dataclass(frozen=True)
class VideoEncoderConfig:
    """Per-frame conv encoder + temporal conv over raw uint8 frames.

    Attributes:
        height: frame height H the encoder accepts.
        width: frame width W.
        fps: default frame rate of the input (25 for SyncScenes); a call may pass another.
        patch: size and stride of the first (patchifying) conv.
        widths: channels of the patch conv, then of each 3x3 stride-2 conv after it.
        temporal_kernel: width (frames) of each temporal conv.
        temporal_layers: residual temporal conv layers.
        pool: ``"mean"`` over the final feature grid, or ``"grid"``: flatten it (position kept).
        motion: also feed each frame's difference from the previous one (zeros for the first).
    """

    height: int = 64
    width: int = 64
    fps: float = 25.0
    patch: int = 8
    widths: tuple[int, ...] = (32, 64)
    temporal_kernel: int = 3
    temporal_layers: int = 1
    pool: str = "mean"
    motion: bool = False

    @property
    def grid_size(self) -> tuple[int, int]:
        """(h, w) of the final feature grid: the patch conv, then one halving per later conv."""
        h, w = self.height // self.patch, self.width // self.patch
        for _ in self.widths[1:]:
            h, w = -(-h // 2), -(-w // 2)
        return h, w

    def __post_init__(self):
        # a list (from a config override) would make the config, and the graphdef, unhashable
        object.__setattr__(self, "widths", tuple(self.widths))
        if self.height % self.patch or self.width % self.patch:
            raise ValueError(
                f"video frame size {self.height}x{self.width} must be a multiple of patch "
                f"{self.patch}"
            )
        if not self.widths:
            raise ValueError("video widths must name at least the patch conv's channels")
        if self.pool not in ("mean", "grid"):
            raise ValueError(f"video pool must be 'mean' or 'grid', got {self.pool!r}")
        if self.temporal_kernel % 2 != 1:
            raise ValueError(f"temporal_kernel must be odd, got {self.temporal_kernel}")


class VideoEncoder(nnx.Module):
    """Frames [B, F, H, W, 3] uint8 -> per-frame features [B, F, D].

    Args:
        cfg: encoder configuration.
        dim: output width D.
        dtype: compute dtype; param_dtype: parameter dtype.
        rngs: random streams.
    """

    def __init__(
        self,
        cfg: VideoEncoderConfig,
        dim: int,
        *,
        dtype=jnp.float32,
        param_dtype=jnp.float32,
        rngs: nnx.Rngs,
    ):
        self.cfg, self.dtype = cfg, dtype
        conv_init = dense_init((0, 1, 2), 3)
        names4 = (None, None, None, None)  # small kernels: replicated on every device
        kernels, biases = [], []
        c_in, size = (6 if cfg.motion else 3), cfg.patch
        for c_out in cfg.widths:
            kernels.append(param(rngs, conv_init, (size, size, c_in, c_out), names4, param_dtype))
            biases.append(param(rngs, jax.nn.initializers.zeros, (c_out,), (None,), param_dtype))
            c_in, size = c_out, 3
        self.kernels, self.biases = nnx.List(kernels), nnx.List(biases)
        if cfg.pool == "grid":
            c_in *= cfg.grid_size[0] * cfg.grid_size[1]
        self.proj = param(rngs, dense_init(0, 1), (c_in, dim), (None, "embed"), param_dtype)
        self.temporal = nnx.List(
            [
                param(
                    rngs,
                    dense_init((0, 1), 2),
                    (cfg.temporal_kernel, dim, dim),
                    (None, None, "embed"),
                    param_dtype,
                )
                for _ in range(cfg.temporal_layers)
            ]
        )
        self.temporal_norms = nnx.List(
            [RMSNorm(dim, param_dtype=param_dtype, rngs=rngs) for _ in range(cfg.temporal_layers)]
        )

    def __call__(self, frames_bfhwc: jnp.ndarray) -> jnp.ndarray:
        """Encodes ``frames_bfhwc`` uint8 [B, F, H, W, 3] into [B, F, D] (compute dtype)."""
        cfg = self.cfg
        if frames_bfhwc.ndim != 5 or frames_bfhwc.shape[2:] != (cfg.height, cfg.width, 3):
            raise ValueError(
                f"frames must be uint8 [B, F, {cfg.height}, {cfg.width}, 3], "
                f"got {frames_bfhwc.dtype} {frames_bfhwc.shape}"
            )
        if frames_bfhwc.dtype != jnp.uint8:
            raise ValueError(f"frames must be uint8 pixels, got dtype {frames_bfhwc.dtype}")
        b, f = frames_bfhwc.shape[:2]
        x = jnp.asarray(frames_bfhwc).astype(self.dtype) * (2.0 / 255.0) - 1.0
        if cfg.motion:
            # frame f minus frame f - 1 (zeros at f = 0), in [-2, 2]
            diff = jnp.diff(x, axis=1, prepend=x[:, :1])
            x = jnp.concatenate([x, diff], axis=-1)
        x = x.reshape(b * f, cfg.height, cfg.width, x.shape[-1])
        for i, (kernel, bias) in enumerate(zip(self.kernels, self.biases, strict=True)):
            stride = cfg.patch if i == 0 else 2
            x = jax.lax.conv_general_dilated(
                x,
                kernel[...].astype(self.dtype),
                (stride, stride),
                "VALID" if i == 0 else "SAME",
                dimension_numbers=_CONV_DIMS,
            )
            x = jax.nn.gelu(x + bias[...].astype(self.dtype))
        pooled = jnp.mean(x, axis=(1, 2)) if cfg.pool == "mean" else x.reshape(b * f, -1)
        x_bfd = (pooled @ self.proj[...].astype(self.dtype)).reshape(b, f, -1)
        for kernel, norm in zip(self.temporal, self.temporal_norms, strict=True):
            h = jax.lax.conv_general_dilated(
                norm(x_bfd),
                kernel[...].astype(self.dtype),
                (1,),
                "SAME",
                dimension_numbers=("NWC", "WIO", "NWC"),
            )
            x_bfd = x_bfd + jax.nn.gelu(h)
        return x_bfd
