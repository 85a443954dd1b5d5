"""The SyncBench classifier: a small CNN over log-mel, multi-label over SyncScenes LABELS.

Its pooled features are the embedding that FAD and diversity use. Weights and a card ship in
``v2a_jax/assets/eval/`` (trained by ``python -m v2a_jax.eval.train_classifier``).

Legend: B batch, T frames, M mel bands, C channels, D embedding width, L labels.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from v2a_jax.data.syncscenes import LABELS
from v2a_jax.eval.features import N_MELS, log_mel

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets" / "eval"
WEIGHTS = "classifier.safetensors"
CARD = "classifier_card.json"


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
    """Widths of the CNN. ``embed_dim`` is the embedding (FAD) width."""

    channels: tuple[int, ...] = (16, 32, 64)
    embed_dim: int = 64
    num_labels: int = len(LABELS)
    n_mels: int = N_MELS


class AudioClassifier(nnx.Module):
    """Conv blocks (3x3 conv, ReLU, 2x2 max-pool) -> mean+max over time and frequency -> MLP."""

    def __init__(self, cfg: ClassifierConfig, rngs: nnx.Rngs):
        self.cfg = cfg
        chans = (1,) + tuple(cfg.channels)
        self.convs = nnx.List(
            [nnx.Conv(a, b, (3, 3), rngs=rngs) for a, b in zip(chans[:-1], chans[1:], strict=True)]
        )
        self.embed = nnx.Linear(2 * chans[-1], cfg.embed_dim, rngs=rngs)
        self.head = nnx.Linear(cfg.embed_dim, cfg.num_labels, rngs=rngs)
        self.mean = nnx.Variable(jnp.zeros((cfg.n_mels,)))  # feature normalisation (from data)
        self.std = nnx.Variable(jnp.ones((cfg.n_mels,)))

    def embedding(self, mel_btm: jax.Array) -> jax.Array:
        """Log-mel [B, T, M] -> embedding [B, D]."""
        x = ((mel_btm - self.mean[...]) / self.std[...])[..., None]  # [B, T, M, 1]
        for conv in self.convs:
            x = nnx.max_pool(jax.nn.relu(conv(x)), (2, 2), strides=(2, 2), padding="SAME")
        pooled = jnp.concatenate([x.mean(axis=(1, 2)), x.max(axis=(1, 2))], axis=-1)
        return jax.nn.relu(self.embed(pooled))

    def __call__(self, mel_btm: jax.Array) -> jax.Array:
        """Log-mel [B, T, M] -> label logits [B, L]."""
        return self.head(self.embedding(mel_btm))


@functools.cache
def _jitted():
    @nnx.jit
    def run(model, mel_btm):
        emb = model.embedding(mel_btm)
        return emb, jax.nn.sigmoid(model.head(emb))

    return run


@dataclasses.dataclass
class Classifier:
    """A loaded classifier: ``predict`` and ``embed`` take waveforms."""

    model: AudioClassifier
    card: dict

    def _run(self, waves, sr: int, batch: int = 16) -> tuple[np.ndarray, np.ndarray]:
        mels = [log_mel(np.asarray(w, np.float32), sr) for w in waves]
        d, n_lab = self.model.cfg.embed_dim, self.model.cfg.num_labels
        embs = np.zeros((len(mels), d), np.float32)
        probs = np.zeros((len(mels), n_lab), np.float32)
        by_len: dict[int, list[int]] = {}
        for i, mel in enumerate(mels):  # equal lengths share a batch (and a compilation)
            by_len.setdefault(len(mel), []).append(i)
        for idx in by_len.values():
            for k in range(0, len(idx), batch):
                part = idx[k : k + batch]
                # pad the batch to a fixed size so each length compiles once
                mel_btm = np.stack([mels[i] for i in part] + [mels[part[0]]] * (batch - len(part)))
                e, p = _jitted()(self.model, jnp.asarray(mel_btm))
                embs[part] = np.asarray(e)[: len(part)]
                probs[part] = np.asarray(p)[: len(part)]
        return embs, probs

    @property
    def thresholds(self) -> np.ndarray:
        """Per-label decision thresholds [L] (tuned on validation seeds; 0.5 when the card has
        none)."""
        return np.broadcast_to(np.asarray(self.card.get("thresholds", 0.5), np.float32),
                               (self.model.cfg.num_labels,))  # fmt: skip

    def embed(self, waves, sr: int) -> np.ndarray:
        """Embeddings of mono waveforms (a list of [S] arrays): float32 [B, D]."""
        return self._run(waves, sr)[0]

    def predict(self, waves, sr: int) -> np.ndarray:
        """Label probabilities of mono waveforms: float32 [B, L], columns in ``LABELS`` order."""
        return self._run(waves, sr)[1]

    def embed_and_predict(self, waves, sr: int) -> tuple[np.ndarray, np.ndarray]:
        """Both at once: (embeddings [B, D], probabilities [B, L])."""
        return self._run(waves, sr)


def save_classifier(model: AudioClassifier, card: dict, out_dir: str | Path) -> None:
    """Writes the weights (safetensors) and the card (JSON) into ``out_dir``, atomically."""
    from safetensors.numpy import save_file

    from v2a_jax.io.atomic import atomic_path

    flat = {
        ".".join(map(str, path)): np.asarray(v) for path, v in nnx.to_flat_state(nnx.state(model))
    }
    card = dict(card, config=dataclasses.asdict(model.cfg))
    out = Path(out_dir)
    with atomic_path(out / WEIGHTS) as tmp:
        save_file(flat, str(tmp))
    with atomic_path(out / CARD) as tmp:
        tmp.write_text(json.dumps(card, indent=2) + "\n")


def load_classifier(path: str | Path | None = None) -> Classifier:
    """Loads the SyncBench classifier (the shipped one when ``path`` is None).

    Args:
        path: a folder with ``classifier.safetensors`` and ``classifier_card.json``.

    Raises:
        FileNotFoundError: the weights or the card are missing (naming the path).
    """
    from safetensors.numpy import load_file

    folder = ASSET_DIR if path is None else Path(path)
    for name in (WEIGHTS, CARD):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"SyncBench classifier file missing: {folder / name} (train it with "
                "`python -m v2a_jax.eval.train_classifier`)"
            )
    card = json.loads((folder / CARD).read_text())
    c = card["config"]
    cfg = ClassifierConfig(tuple(c["channels"]), c["embed_dim"], c["num_labels"], c["n_mels"])
    model = AudioClassifier(cfg, nnx.Rngs(0))
    flat = load_file(str(folder / WEIGHTS))
    state = nnx.state(model)
    pairs = nnx.to_flat_state(state)
    updates = []
    for path, v in pairs:
        key = ".".join(map(str, path))
        if key not in flat or flat[key].shape != np.shape(v):
            raise ValueError(f"classifier weights {folder / WEIGHTS}: bad or missing {key}")
        updates.append((path, jnp.asarray(flat[key])))
    nnx.update(model, nnx.from_flat_state(updates))
    return Classifier(model, card)
