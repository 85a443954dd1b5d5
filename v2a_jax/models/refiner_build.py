"""Building a refiner: codebooks from the codec, latent statistics from the training set.

Legend: N clips, T token frames, K codebooks, V codebook entries, D latent dim.
"""

from __future__ import annotations

import numpy as np
from flax import nnx

from v2a_jax.models.refiner import Refiner
from v2a_jax.models.refiner_config import RefinerConfig


def dequantize_np(tokens_tk: np.ndarray, codebooks_kvd: np.ndarray, k: int) -> np.ndarray:
    """``z_q`` [.., T, D] from the first ``k`` codebooks (numpy twin of ``Refiner.dequantize``)."""
    return sum(codebooks_kvd[i][tokens_tk[..., i]] for i in range(k)).astype(np.float32)


def latent_stats(clips, codebooks_kvd: np.ndarray, k: int, eps: float = 1e-4) -> dict:
    """Per-dim statistics of the latent and of the residual ``latent - z_q``.

    Args:
        clips: iterable of ``(tokens [T, K], latent [T, D])`` pairs.
        codebooks_kvd: the codec's codebooks [K, V, D].
        k: codebooks summed into ``z_q``.
        eps: floor of the standard deviations (a dead latent dim must not divide by 0).

    Returns:
        ``latent_mean``, ``latent_std``, ``residual_std`` (each [D] float64 numpy) and
        ``num_frames``.

    Raises:
        ValueError: no frames, or a latent whose width is not the codebooks' D.
    """
    d = codebooks_kvd.shape[-1]
    s1, s2, r2, n = np.zeros(d), np.zeros(d), np.zeros(d), 0
    for tokens_tk, latent_td in clips:
        latent_td = np.asarray(latent_td, np.float64)
        if latent_td.ndim != 2 or latent_td.shape[1] != d:
            raise ValueError(f"latent has shape {latent_td.shape}, expected [T, {d}]")
        res_td = latent_td - dequantize_np(np.asarray(tokens_tk), codebooks_kvd, k)
        s1 += latent_td.sum(0)
        s2 += (latent_td**2).sum(0)
        r2 += (res_td**2).sum(0)
        n += latent_td.shape[0]
    if n == 0:
        raise ValueError("latent_stats: no frames to compute statistics from")
    mean = s1 / n
    return {
        "latent_mean": mean,
        "latent_std": np.sqrt(np.maximum(s2 / n - mean**2, 0.0)) + eps,
        # Not centred: a residual mean is something the model should predict, not subtract.
        "residual_std": np.sqrt(r2 / n) + eps,
        "num_frames": n,
    }


def compute_stats_config(
    cfg: RefinerConfig, data_dir, codebooks_kvd: np.ndarray, split: str = "train", max_clips=512
) -> RefinerConfig:
    """``cfg`` with statistics computed from up to ``max_clips`` clips of a tokenized split."""
    from v2a_jax.data.loaders import open_split

    source = open_split(data_dir, split)
    count = min(len(source), int(max_clips))
    clips = ((source[i]["tokens"], source[i]["latent"]) for i in range(count))
    stats = latent_stats(clips, codebooks_kvd, cfg.coarse_codebooks)
    return cfg.with_stats(stats["latent_mean"], stats["latent_std"], stats["residual_std"])


def load_codebooks(codec: str) -> np.ndarray:
    """``Codec.from_pretrained(codec).codebooks()`` (imports torch; build time only)."""
    from v2a_jax.codec import Codec

    return Codec.from_pretrained(codec).codebooks()


def build_refiner(
    cfg: RefinerConfig, rngs: nnx.Rngs, codebooks_kvd: np.ndarray | None = None
) -> Refiner:
    """A refiner with the codec's codebooks: given, else loaded from ``cfg.codec``, else zeros.

    Zeros are for models whose checkpoint is restored next (the codebooks are part of it).
    """
    if codebooks_kvd is None and cfg.codec:
        codebooks_kvd = load_codebooks(cfg.codec)
    return Refiner(cfg, codebooks_kvd, rngs=rngs)


def build_refiner_model(config, rngs: nnx.Rngs) -> Refiner:
    """The training loop's ``build`` for a ``Config`` whose ``model`` is a ``RefinerConfig``."""
    if not isinstance(config.model, RefinerConfig):
        raise ValueError(f"config.model is {type(config.model).__name__}, not RefinerConfig")
    return build_refiner(config.model, rngs)


def prepare_refiner_config(config, codec: str | None = None, max_clips: int = 512):
    """Fills in what a refiner run learns from its data: the codec and the latent statistics.

    Args:
        config: a ``Config`` whose ``model`` is a ``RefinerConfig``; ``config.data`` names the
            tokenized set.
        codec: the codec the set was tokenized with; default ``config.model.codec``, else the
            data set's ``read_codec_info(data_dir)["codec"]``.
        max_clips: training clips the statistics are computed from.

    Returns:
        ``(config, codebooks_kvd)``: the config with ``model.codec`` and the statistics set (as
        they will be stored in the checkpoint), and the codebooks.

    Raises:
        ValueError: the codec's K, V or D differ from the refiner config's.
    """
    import dataclasses

    from v2a_jax.train.data import open_records

    cfg = config.model
    codec = codec or cfg.codec
    if not codec:
        from v2a_jax.data.tokenized import read_codec_info

        codec = str(read_codec_info(config.data.data_dir)["codec"])
    codebooks_kvd = load_codebooks(codec)
    k, v, d = codebooks_kvd.shape
    wanted = {"num_codebooks": k, "codebook_size": v, "latent_dim": d}
    wrong = {n: (getattr(cfg, n), x) for n, x in wanted.items() if getattr(cfg, n) != x}
    if wrong:
        fixes = " ".join(f"--config.model.{n}={x}" for n, (_, x) in wrong.items())
        raise ValueError(f"refiner config does not match codec {codec!r}: {wrong}; pass {fixes}")
    cfg = dataclasses.replace(cfg, codec=codec)
    records = open_records(config.data, config.data.train_split)
    count = min(len(records), int(max_clips))
    clips = ((records[i]["tokens"], records[i]["latent"]) for i in range(count))
    stats = latent_stats(clips, codebooks_kvd, cfg.coarse_codebooks)
    cfg = cfg.with_stats(stats["latent_mean"], stats["latent_std"], stats["residual_std"])
    return dataclasses.replace(config, model=cfg), codebooks_kvd
