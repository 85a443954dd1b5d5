"""Tokenized data sets: building one from a clip data set, and reading which codec made it.

A tokenized data set lives under ``<out_dir>/tokenized/<config>/<version>/`` (records: see
``v2a_jax.data.builders.tokenized``) and is read like any other with
``v2a_jax.data.loaders.open_split(out_dir, split)``. Its ``codec_info.json`` holds::

    {"codec": "default" | an official name | an absolute checkpoint folder,
     "sample_rate", "frame_rate", "num_codebooks", "codebook_size", "latent_dim", "hop_length",
     "codec_card_steps", "text_encoder", "text_dim", "max_text_len"}

``codec`` is what ``Codec.from_pretrained`` takes to get the very codec back (to decode tokens).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

CODEC_INFO_KEYS = ("codec", "sample_rate", "frame_rate", "num_codebooks", "codebook_size",
                   "latent_dim", "hop_length")  # fmt: skip


def codec_ref(codec: str | os.PathLike) -> str:
    """How a codec is recorded: names as they are, folders as absolute paths."""
    from v2a_jax.codec.encodec_codec import OFFICIAL_NAMES

    if str(codec) == "default" or str(codec) in OFFICIAL_NAMES:
        return str(codec)
    return str(Path(codec).resolve())


def codec_info(codec, ref: str) -> dict[str, Any]:
    """The ``codec_info.json`` entries of a ``Codec`` recorded as ``ref``."""
    return {
        "codec": ref,
        "sample_rate": codec.sample_rate,
        "frame_rate": codec.frame_rate,
        "num_codebooks": codec.num_codebooks,
        "codebook_size": codec.codebook_size,
        "latent_dim": codec.latent_dim,
        "hop_length": codec.hop_length,
        "codec_card_steps": codec.card.get("steps"),
    }


def find_tokenized(data_dir: str | os.PathLike, name: str | None = None) -> Path:
    """The ``tokenized/<config>/<version>`` folder in ``data_dir`` (or ``data_dir`` itself).

    Args:
        data_dir: the out-dir of ``v2a data tokenize``, or the data set's version folder.
        name: ``tokenized/<config>`` prefix when several tokenized sets share ``data_dir``.

    Raises:
        FileNotFoundError: no tokenized data set there.
        ValueError: several, and ``name`` does not pick one.
    """
    from v2a_jax.data.builders.tokenized import CODEC_INFO_FILE
    from v2a_jax.data.loaders import find_datasets

    root = Path(data_dir)
    if (root / CODEC_INFO_FILE).is_file():
        return root
    found = [p for p in find_datasets(root) if p.parts[-3] == "tokenized"]
    if name:
        found = [p for p in found if "/".join(p.parts[-3:]).startswith(name)]
    if not found:
        raise FileNotFoundError(
            f"no tokenized data set in {data_dir}: expected tokenized/<config>/<version>/"
            f"{CODEC_INFO_FILE} (run `v2a data tokenize` first)"
        )
    if len(found) > 1:
        listed = ", ".join("/".join(p.parts[-3:-1]) for p in found)
        raise ValueError(f"{data_dir} holds several tokenized sets ({listed}); pick one by name")
    return found[0]


def read_codec_info(data_dir: str | os.PathLike, name: str | None = None) -> dict[str, Any]:
    """The codec info of the tokenized data set in ``data_dir`` (see the module docstring).

    Raises:
        FileNotFoundError: no tokenized data set (or no codec info) in ``data_dir``.
        ValueError: the info file is not JSON or lacks keys; the message names the file.
    """
    from v2a_jax.data.builders.tokenized import CODEC_INFO_FILE

    path = find_tokenized(data_dir, name) / CODEC_INFO_FILE
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    missing = [k for k in CODEC_INFO_KEYS if k not in info]
    if missing:
        raise ValueError(f"{path}: missing keys {missing}; expected {list(CODEC_INFO_KEYS)}")
    return info


def build_tokenized(
    data_dir: str | os.PathLike,
    codec: str | os.PathLike,
    out_dir: str | os.PathLike,
    name: str | None = None,
    text_encoder: str | os.PathLike | None = None,
    max_text_len: int = 32,
):
    """Tokenizes the built data set in ``data_dir`` into ``out_dir`` (reused when unchanged).

    Args:
        data_dir: a folder with one built clip data set (SyncScenes, video_folder).
        codec: ``default``, an official name or a codec checkpoint folder.
        out_dir: where the ``tokenized`` data set goes.
        name: ``builder[/config]`` of the source when ``data_dir`` holds several.
        text_encoder: a transformers folder; default all-MiniLM-L6-v2.
        max_text_len: caption tokens kept.

    Returns:
        ``(builder, num_clips, generated)``: ``generated`` is False when an up-to-date set was
        already there.

    Raises:
        FileNotFoundError: no built data set in ``data_dir``, or the codec cannot be found.
    """
    import tensorflow_datasets as tfds

    from v2a_jax.codec import Codec
    from v2a_jax.conditioning.text_encoder import TextEncoder
    from v2a_jax.data.builders.tokenized import SOURCE_FILE, Tokenized, make_config
    from v2a_jax.data.loaders import open_dataset

    source = open_dataset(data_dir, name)
    if source.name == "tokenized":
        raise ValueError(f"{data_dir}: is already a tokenized data set; give the clip data set")
    ref = codec_ref(codec)
    codec_obj = Codec.from_pretrained(ref)
    encoder_ref = str(Path(text_encoder).resolve()) if text_encoder else ""
    config = make_config(Path(source.data_dir), ref, encoder_ref, max_text_len)
    text = TextEncoder(path=encoder_ref or None)
    builder = Tokenized(data_dir=str(out_dir), config=config, file_format="array_record",
                        codec=codec_obj, text_encoder=text)  # fmt: skip
    folder = Path(builder.data_path)
    mode = tfds.download.GenerateMode.REUSE_DATASET_IF_EXISTS
    generated = not folder.exists()
    if folder.exists():
        stored = folder / SOURCE_FILE
        old = json.loads(stored.read_text()).get("fingerprint") if stored.is_file() else None
        if old != config.fingerprint:  # the source, the codec or the encoder changed
            mode, generated = tfds.download.GenerateMode.FORCE_REDOWNLOAD, True
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(download_mode=mode))
    num = sum(builder.info.splits[s].num_examples for s in builder.info.splits)
    return builder, num, generated
