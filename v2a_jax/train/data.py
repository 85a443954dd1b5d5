"""Training batches from a tokenized data set, with a resumable position.

Legend: B batch, T token frames, K codebooks, F video frames, H W image size, L text tokens,
E text width.

A batch is a dict of numpy arrays with a leading batch axis: every ``DataConfig.keys`` field of the
records stacked (``tokens`` int32 [B, T, K], ``frames`` uint8 [B, F, H, W, 3], ...), plus
``text_emb`` float32 [B, L, E] zero-padded or cut to ``max_text_len`` and ``text_mask`` bool [B, L].

The order is a function of the position alone: epoch ``e`` visits the records in the permutation
drawn from ``np.random.default_rng([shuffle_seed, e])``, and ``Position(epoch, index)`` says how
many records of that permutation were consumed. Saving the position with a checkpoint and starting
a new iterator from it continues with exactly the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import jax
import numpy as np

from v2a_jax.config import DataConfig
from v2a_jax.train.onset_weight import with_onset_weight


@dataclasses.dataclass(frozen=True)
class Position:
    """Where the next batch starts: ``index`` records of epoch ``epoch``'s permutation are used."""

    epoch: int = 0
    index: int = 0


def open_records(cfg: DataConfig, split: str) -> Sequence[dict[str, Any]]:
    """Random access to the decoded records of ``split`` of the data set in ``cfg.data_dir``."""
    from v2a_jax.data.loaders import open_split

    return open_split(cfg.data_dir, split, cfg.name or None)


def make_batch(
    records: Sequence[dict[str, Any]], keys: Sequence[str], max_text_len: int
) -> dict[str, np.ndarray]:
    """Stacks ``keys`` of ``records`` and pads their ``text_emb`` to ``max_text_len`` with a mask.

    Raises:
        ValueError: a record lacks a key, or records of one batch differ in a field's shape (clips
            of one data set must share their duration; the error names the clips).
    """
    batch: dict[str, np.ndarray] = {}
    for key in keys:
        arrays = []
        for rec in records:
            if key not in rec:
                raise ValueError(
                    f"record {rec.get('clip_id', '?')!r} has no field {key!r} "
                    f"(fields: {sorted(rec)}); check data.keys"
                )
            arrays.append(np.asarray(rec[key]))
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            ids = [rec.get("clip_id", "?") for rec in records]
            raise ValueError(
                f"field {key!r} has different shapes {sorted(shapes)} in the batch of clips {ids}; "
                "training batches need clips of one duration"
            )
        batch[key] = np.stack(arrays)
    width = {np.asarray(rec["text_emb"]).shape[-1] for rec in records}
    if len(width) > 1:
        raise ValueError(f"text_emb widths differ within a batch: {sorted(width)}")
    text_ble = np.zeros((len(records), max_text_len, width.pop()), np.float32)
    mask_bl = np.zeros((len(records), max_text_len), bool)
    for i, rec in enumerate(records):
        emb = np.asarray(rec["text_emb"], np.float32)[:max_text_len]
        text_ble[i, : len(emb)] = emb
        mask_bl[i, : len(emb)] = True
    batch["text_emb"] = text_ble
    batch["text_mask"] = mask_bl
    return batch


def crop_record(rec: dict[str, Any], keys: Sequence[str], length: int, rng: np.random.Generator):
    """``rec`` with each time-axis field of ``keys`` cut to one random window of ``length`` frames.

    The first key sets the time axis (``tokens``: T token frames); a field whose first axis is
    T / r long (``frames`` at 25 fps against 50 tokens/s: r = 2) gets the same window in its own
    rate, so the window starts on a multiple of r. Scalars (``fps``) are left alone.

    Raises:
        ValueError: a clip shorter than ``length``, or a field not at an integer rate ratio.
    """
    total = np.asarray(rec[keys[0]]).shape[0]
    if total < length:
        raise ValueError(
            f"clip {rec.get('clip_id', '?')!r} has {total} frames of {keys[0]!r}, fewer than "
            f"data.crop_frames={length}"
        )
    ratios = {}
    for key in keys:
        shape = np.shape(rec[key])
        if not shape:
            continue
        if total % shape[0] or length % (total // shape[0]):
            raise ValueError(
                f"field {key!r} has {shape[0]} frames against {total} of {keys[0]!r}: crops need "
                f"an integer rate ratio that divides crop_frames={length}"
            )
        ratios[key] = total // shape[0]
    step = max(ratios.values())
    start = int(rng.integers(0, (total - length) // step + 1)) * step
    out = dict(rec)
    for key, r in ratios.items():
        out[key] = np.asarray(rec[key])[start // r : (start + length) // r]
    return out


class BatchIterator:
    """Endless shuffled batches (dropping each epoch's remainder) from a resumable position.

    With several processes (multi-host), every process walks the same global order and builds only
    its own contiguous slice of each global batch.
    """

    def __init__(
        self,
        records: Sequence[dict[str, Any]],
        batch_size: int,
        cfg: DataConfig,
        position: Position = Position(),
        process_index: int = 0,
        process_count: int = 1,
    ):
        if len(records) < batch_size:
            raise ValueError(
                f"the training split has {len(records)} records, fewer than batch_size "
                f"{batch_size}: lower train.batch_size or build more clips"
            )
        if batch_size % process_count:
            raise ValueError(f"batch_size {batch_size} not divisible by {process_count} processes")
        self.records = records
        self.batch_size = batch_size
        self.cfg = cfg
        self.position = position
        self._local = batch_size // process_count
        self._offset = process_index * self._local
        self._perm_epoch = -1
        self._perm = np.zeros(0, np.int64)

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._perm_epoch:
            rng = np.random.default_rng([self.cfg.shuffle_seed, epoch])
            self._perm = rng.permutation(len(self.records))
            self._perm_epoch = epoch
        return self._perm

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        return self

    def __next__(self) -> dict[str, np.ndarray]:
        epoch, index = self.position.epoch, self.position.index
        if index + self.batch_size > len(self.records):
            epoch, index = epoch + 1, 0
        perm = self._permutation(epoch)
        start = index + self._offset
        chosen = perm[start : start + self._local]
        records = [self.records[int(i)] for i in chosen]
        keys = self.cfg.keys
        if self.cfg.onset_weight:
            records = [
                with_onset_weight(rec, self.cfg.onset_weight, self.cfg.frame_rate)
                for rec in records
            ]
            keys = (*keys, "loss_weight_t")
        if self.cfg.crop_frames:
            # Each slot's window is a function of (seed, epoch, slot): resumable like the order.
            records = [
                crop_record(
                    rec,
                    keys,
                    self.cfg.crop_frames,
                    np.random.default_rng([self.cfg.shuffle_seed, epoch, start + j, 1]),
                )
                for j, rec in enumerate(records)
            ]
        batch = make_batch(records, keys, self.cfg.max_text_len)
        self.position = Position(epoch, index + self.batch_size)
        return batch


def eval_batches(
    records: Sequence[dict[str, Any]],
    batch_size: int,
    cfg: DataConfig,
    max_batches: int = 0,
    process_index: int = 0,
    process_count: int = 1,
) -> Iterator[dict[str, np.ndarray]]:
    """The first ``max_batches`` (0: all) full batches of ``records`` in their stored order.

    With several processes each yields its own contiguous slice of every global batch.
    """
    local = batch_size // process_count
    count = len(records) // batch_size
    if count == 0:
        raise ValueError(
            f"the evaluation split has {len(records)} records, fewer than batch_size {batch_size}"
        )
    if max_batches:
        count = min(count, max_batches)
    for b in range(count):
        first = b * batch_size + process_index * local
        chunk = [records[i] for i in range(first, first + local)]
        yield make_batch(chunk, cfg.keys, cfg.max_text_len)


def to_device(batch: dict[str, np.ndarray], mesh: jax.sharding.Mesh | None) -> dict[str, jax.Array]:
    """Puts a (process-local) batch on the devices, split along B over ``mesh`` when given."""
    if mesh is None:
        return jax.device_put(batch)
    from v2a_jax.sharding import batch_sharding

    sharding = batch_sharding(mesh)
    if jax.process_count() == 1:
        return jax.device_put(batch, sharding)
    return {k: jax.make_array_from_process_local_data(sharding, v) for k, v in batch.items()}
