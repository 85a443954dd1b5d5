"""Opening a built data set (any builder of this project) for random access, without TensorFlow.

A data directory holds ``<builder>/<config>/<version>/`` folders; ``open_dataset`` finds the one
that is there (or the one named) and returns a builder whose ``as_data_source(split)`` reads records
by index. ``ClipSource`` wraps that with decoding to Python types.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import tensorflow_datasets as tfds

from v2a_jax.data.features import decode_record


def find_datasets(data_dir: str | Path) -> list[Path]:
    """Every prepared data-set folder (``<builder>/<config>/<version>``) below ``data_dir``."""
    root = Path(data_dir)
    return sorted(p.parent for p in root.glob("*/*/*/dataset_info.json"))


def open_dataset(data_dir: str | Path, name: str | None = None) -> tfds.core.DatasetBuilder:
    """Opens the data set in ``data_dir``; ``name`` (``builder`` or ``builder/config``) picks one.

    Raises:
        FileNotFoundError: nothing has been built there.
        ValueError: several data sets match and ``name`` does not pick one.
    """
    found = find_datasets(data_dir)
    if name:
        found = [p for p in found if "/".join(p.parts[-3:]).startswith(name)]
    if not found:
        raise FileNotFoundError(
            f"no built data set{f' named {name!r}' if name else ''} in {data_dir}: expected "
            "<builder>/<config>/<version>/dataset_info.json (run `v2a data build` first)"
        )
    if len(found) > 1:
        listed = ", ".join("/".join(p.parts[-3:-1]) for p in found)
        raise ValueError(f"{data_dir} holds several data sets ({listed}); pick one with --name")
    return tfds.builder_from_directory(str(found[0]))


@dataclasses.dataclass
class ClipSource:
    """Random access to one split's clips as decoded dicts (see ``v2a_jax.data.features``)."""

    builder: tfds.core.DatasetBuilder
    split: str

    def __post_init__(self):
        available = list(self.builder.info.splits.keys())
        if self.split not in available:
            raise ValueError(f"split {self.split!r} not in the data set; it has {available}")
        self._source = self.builder.as_data_source(self.split)

    def __len__(self) -> int:
        return len(self._source)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"clip index {index} out of range for {len(self)} {self.split} clips")
        return decode_record(self._source[index])

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


def open_split(data_dir: str | Path, split: str, name: str | None = None) -> ClipSource:
    """The clips of ``split`` in the data set in ``data_dir``."""
    return ClipSource(open_dataset(data_dir, name), split)
