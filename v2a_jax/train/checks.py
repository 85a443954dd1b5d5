"""Checks that a data set fits a token model, run on the host before training starts.

Cheap, and they turn silent failures into one clear error: XLA's gather clamps an out-of-range
token id instead of failing, so a data set tokenized with another codec would train "fine".
"""

from __future__ import annotations

from typing import Any

import numpy as np


def check_tokens_fit(model_cfg: Any, batch: dict[str, np.ndarray], where: str) -> None:
    """Token ids, codebook count and length of ``batch`` against a token model's config.

    An id past the embedding table would be silently clamped by XLA's gather, so this is checked
    on the host, once, on the first batch.

    Raises:
        ValueError: naming the data set (``where``) and the mismatching field.
    """
    tokens = batch.get("tokens")
    k = getattr(model_cfg, "num_codebooks", None)
    v = getattr(model_cfg, "codebook_size", None)
    if tokens is None or k is None or v is None:
        return
    if tokens.shape[-1] != k:
        raise ValueError(
            f"{where}: tokens have {tokens.shape[-1]} codebooks, model.num_codebooks={k}"
        )
    if tokens.min() < 0 or tokens.max() >= v:
        raise ValueError(
            f"{where}: token ids span [{tokens.min()}, {tokens.max()}] but model.codebook_size={v} "
            "(was the data tokenized with another codec?)"
        )
    max_steps = getattr(model_cfg, "max_steps", None)
    if max_steps is not None and tokens.shape[1] + k - 1 > max_steps:
        raise ValueError(
            f"{where}: clips of {tokens.shape[1]} token frames need {tokens.shape[1] + k - 1} "
            f"delayed steps, more than model.max_steps={max_steps}"
        )


def check_codec_info(model_cfg: Any, data_cfg: Any) -> None:
    """The tokenized data set's codec (``codec_info.json``) against a token model's config.

    Raises:
        ValueError: codebook count, codebook size or text width differ (names the data set).
    """
    from v2a_jax.data.tokenized import read_codec_info

    info = read_codec_info(data_cfg.data_dir, data_cfg.name or None)
    pairs = {
        "num_codebooks": info.get("num_codebooks"),
        "codebook_size": info.get("codebook_size"),
        "text_dim": info.get("text_dim"),
    }
    wrong = {
        k: (v, getattr(model_cfg, k))
        for k, v in pairs.items()
        if v is not None and hasattr(model_cfg, k) and getattr(model_cfg, k) != v
    }
    if wrong:
        listed = ", ".join(f"{k}: data {d} vs model {m}" for k, (d, m) in wrong.items())
        raise ValueError(
            f"data set {data_cfg.data_dir} does not fit the model ({listed}); set "
            "--config.model.<field> to match or tokenize with the model's codec"
        )
