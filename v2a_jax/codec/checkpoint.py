"""The project's codec checkpoint: a folder with ``codec.safetensors`` and ``codec.json``.

``codec.json`` holds ``{"format_version": 1, "config": <CodecConfig fields>, "card": {...}}``;
``codec.safetensors`` the model's full ``state_dict`` (codebook EMA buffers included, so a
checkpoint also resumes training). Safetensors only: loading never unpickles anything.
Folders are written atomically: a sibling temp folder is filled, then swapped in.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .config import CodecConfig

WEIGHTS_FILE = "codec.safetensors"
CONFIG_FILE = "codec.json"
FORMAT_VERSION = 1
_TOP_LEVEL_KEYS = {"format_version", "config", "card"}


class CodecCheckpointError(ValueError):
    """A codec checkpoint file exists but is unreadable or does not match what was expected."""


def save_codec(
    model_or_codec,
    folder: str | os.PathLike,
    config: CodecConfig | None = None,
    card: dict[str, Any] | None = None,
) -> Path:
    """Writes a codec checkpoint folder atomically (replacing an existing one).

    Args:
        model_or_codec: an ``encodec.EncodecModel`` or a :class:`~v2a_jax.codec.Codec`.
        folder: destination folder.
        config: the architecture; defaults to the Codec's own config.
        card: optional JSON-serialisable notes (training data, steps, metrics...).

    Returns:
        The folder path.
    """
    from safetensors.torch import save_file

    model = getattr(model_or_codec, "model", model_or_codec)
    config = config if config is not None else getattr(model_or_codec, "config", None)
    if not isinstance(config, CodecConfig):
        raise TypeError("save_codec needs config=CodecConfig(...) to describe the architecture")
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format_version": FORMAT_VERSION, "config": config.to_dict(), "card": card or {}}
    # Buffers such as the codebooks may be views; safetensors needs contiguous, owned storage.
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}

    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        save_file(state, str(tmp / WEIGHTS_FILE), metadata={"format": "pt"})
        (tmp / CONFIG_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        _swap_in(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _swap_in(tmp: Path, folder: Path) -> None:
    """Renames ``tmp`` to ``folder``; an old folder is moved aside first and then removed.

    A directory rename cannot replace a non-empty directory, so the old one is renamed away;
    at every moment either the old or the new complete folder exists under some name.
    """
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(folder, old)
    os.replace(tmp, folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_codec_files(folder: str | os.PathLike):
    """Reads and checks a checkpoint folder.

    Args:
        folder: a folder written by :func:`save_codec`.

    Returns:
        ``(config, state_dict, card)``: a CodecConfig, a dict of CPU torch tensors, a dict.

    Raises:
        FileNotFoundError: the folder or one of its two files is missing.
        CodecCheckpointError: a file is corrupt, truncated, or has unexpected content.
    """
    folder = Path(folder)
    config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    missing = [str(p) for p in (config_path, weights_path) if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"codec checkpoint incomplete: missing {', '.join(missing)}")
    config, card = _read_config(config_path)
    try:
        from safetensors.torch import load_file

        state = load_file(str(weights_path), device="cpu")
    except Exception as err:
        raise CodecCheckpointError(
            f"{weights_path} is not a readable safetensors file (corrupt or truncated?): {err}"
        ) from err
    return config, state, card


def _read_config(path: Path):
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CodecCheckpointError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(meta, dict) or set(meta) - _TOP_LEVEL_KEYS or "config" not in meta:
        keys = sorted(meta) if isinstance(meta, dict) else type(meta).__name__
        raise CodecCheckpointError(
            f"{path}: expected an object with keys {sorted(_TOP_LEVEL_KEYS)} "
            f"('config' required), got {keys}"
        )
    if meta.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
        raise CodecCheckpointError(
            f"{path}: format_version {meta['format_version']} is not supported "
            f"(this v2a_jax reads {FORMAT_VERSION})"
        )
    try:
        config = CodecConfig.from_dict(meta["config"])
    except (TypeError, ValueError) as err:
        raise CodecCheckpointError(f"{path}: bad 'config': {err}") from err
    return config, meta.get("card") or {}


def load_state_checked(model, state: dict, weights_path: Path) -> None:
    """``model.load_state_dict`` whose key or shape mismatch names the file."""
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise CodecCheckpointError(
            f"{weights_path} does not match the architecture in its codec.json: {err}"
        ) from err
