"""The TFDS feature spec shared by every audio-visual builder (SyncScenes, video_folder).

One record is one clip:

    clip_id      str                      unique within the data set
    frames       uint8 [F, H, W, 3]       RGB at ``fps`` (ZLIB-compressed in the record)
    fps          float32                  frame rate of ``frames``
    audio        float32 [S]              mono waveform at ``sample_rate``
    sample_rate  int32
    caption      str                      the prompt to train and evaluate with
    negative_prompt str                   may be empty
    annotation   str                      JSON: everything else known about the clip

Builders may add their own features (SyncScenes adds its stems). Records come back from
``builder.as_data_source(split)`` as numpy arrays and bytes; ``decode_record`` turns them into
plain Python types.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import tensorflow_datasets as tfds


def clip_features(height: int, width: int, **extra: Any) -> tfds.features.FeaturesDict:
    """The common clip features, plus builder-specific ``extra`` features."""
    return tfds.features.FeaturesDict(
        {
            "clip_id": tfds.features.Text(),
            "frames": tfds.features.Tensor(
                shape=(None, height, width, 3),
                dtype=np.uint8,
                encoding=tfds.features.Encoding.ZLIB,
            ),
            "fps": np.float32,
            "audio": tfds.features.Tensor(shape=(None,), dtype=np.float32),
            "sample_rate": np.int32,
            "caption": tfds.features.Text(),
            "negative_prompt": tfds.features.Text(),
            "annotation": tfds.features.Text(),
            **extra,
        }
    )


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def decode_record(record: dict[str, Any]) -> dict[str, Any]:
    """Turns a data-source record into Python types: text to str, annotation JSON to a dict."""
    out = dict(record)
    for key in ("clip_id", "caption", "negative_prompt"):
        if key in out:
            out[key] = _text(out[key])
    if "annotation" in out:
        out["annotation"] = json.loads(_text(out["annotation"]))
    if "fps" in out:
        out["fps"] = float(out["fps"])
    if "sample_rate" in out:
        out["sample_rate"] = int(out["sample_rate"])
    return out
