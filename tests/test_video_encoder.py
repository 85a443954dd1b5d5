"""The video encoder's options: ``pool="grid"`` keeps where things are, ``motion`` sees change."""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from v2a_jax.conditioning.video_encoder import VideoEncoder, VideoEncoderConfig


def _encoder(**kw):
    # one non-overlapping patch conv and no temporal mixing: each grid cell's feature is a
    # function of its own 8 x 8 patch of its own frame (and, with motion, the previous frame's)
    cfg = VideoEncoderConfig(height=16, width=16, patch=8, widths=(8,), temporal_layers=0, **kw)
    return VideoEncoder(cfg, 16, rngs=nnx.Rngs(0))


def _video(seed, frames=3):
    return np.random.default_rng(seed).integers(0, 256, (1, frames, 16, 16, 3)).astype(np.uint8)


def _swap_patches(video):
    """The top-left and bottom-right 8 x 8 patches exchanged, in every frame."""
    out = video.copy()
    out[..., :8, :8, :], out[..., 8:, 8:, :] = video[..., 8:, 8:, :], video[..., :8, :8, :]
    return out


def test_grid_pool_sees_where_a_patch_is_and_mean_pool_does_not():
    video = _video(0)
    swapped = _swap_patches(video)
    mean_enc, grid_enc = _encoder(pool="mean"), _encoder(pool="grid")
    np.testing.assert_allclose(mean_enc(video), mean_enc(swapped), rtol=1e-5, atol=1e-5)
    assert float(jnp.max(jnp.abs(grid_enc(video) - grid_enc(swapped)))) > 1e-2
    assert grid_enc.cfg.grid_size == (2, 2)
    assert grid_enc.proj.shape == (8 * 2 * 2, 16)


def test_motion_makes_a_frame_depend_on_the_one_before():
    a = _video(1)
    b = a.copy()
    b[0, 0] = _video(2, frames=1)[0, 0]  # same frame 1, different frame 0
    still, moving = _encoder(), _encoder(motion=True)
    np.testing.assert_allclose(still(a)[0, 1], still(b)[0, 1], rtol=1e-6, atol=1e-6)
    assert float(jnp.max(jnp.abs(moving(a)[0, 1] - moving(b)[0, 1]))) > 1e-2
    # frame 2 and its predecessor are the same in both videos
    np.testing.assert_allclose(moving(a)[0, 2], moving(b)[0, 2], rtol=1e-6, atol=1e-6)
    assert moving.kernels[0].shape == (8, 8, 6, 8)


def test_grid_size_counts_the_halving_convs():
    cfg = VideoEncoderConfig(height=64, width=64, patch=8, widths=(32, 64), pool="grid")
    assert cfg.grid_size == (4, 4)
    assert VideoEncoderConfig(height=64, width=96, patch=8, widths=(8, 8, 8)).grid_size == (2, 3)


def test_an_unknown_pool_is_refused_by_name():
    with pytest.raises(ValueError, match="pool must be 'mean' or 'grid'"):
        VideoEncoderConfig(pool="max")
