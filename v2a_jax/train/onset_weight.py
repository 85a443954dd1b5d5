"""Onset-weighted training loss: token frames where the audio's energy jumps weigh more.

Legend: S audio samples, T token frames (``frame_rate`` per second).

Most token frames of a clip are steady texture (ambience, a held tone); the few that start a
sound are the ones the video alone can place in time, and they are a small share of the loss,
so synchronization is learned late. ``onset_strength_t`` measures, from the clip's own audio
(any data set, no annotation needed), how much each frame's energy rises over the previous
frame's, and ``with_onset_weight`` turns it into per-frame loss weights ``1 + w * strength``.
The optimum of each frame's cross-entropy is unchanged (it is still the true conditional); the
weights only spend more of the gradient, and of a small model's capacity, on onsets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FULL_RISE_DB = 12.0  # an energy rise of this much (or more) over one frame counts as 1
FLOOR_DB = -70.0  # frames quieter than this are silence: no onset in rising out of nothing


def onset_strength_t(audio_s: np.ndarray, sample_rate: int, frame_rate: float, num_frames: int):
    """The rise of each token frame's energy over the previous frame's, float32 [T] in [0, 1].

    Args:
        audio_s: mono waveform [S].
        sample_rate: its rate; ``sample_rate / frame_rate`` samples make one token frame.
        frame_rate: token frames per second.
        num_frames: T; the audio is cut or zero-padded to T frames.

    Raises:
        ValueError: audio that is not 1-D or not finite, or a rate that does not give a whole hop.
    """
    audio_s = np.asarray(audio_s, np.float32)
    if audio_s.ndim != 1 or not np.all(np.isfinite(audio_s)):
        raise ValueError(f"onset strength needs finite mono audio [S], got shape {audio_s.shape}")
    hop = sample_rate / frame_rate
    if hop != int(hop) or hop < 1:
        raise ValueError(f"sample_rate {sample_rate} / frame_rate {frame_rate} is not a whole hop")
    hop = int(hop)
    padded = np.zeros(num_frames * hop, np.float32)
    n = min(len(audio_s), len(padded))
    padded[:n] = audio_s[:n]
    energy_db = 10.0 * np.log10(np.mean(padded.reshape(num_frames, hop) ** 2, axis=1) + 1e-12)
    energy_db = np.maximum(energy_db, FLOOR_DB)
    rise = np.diff(energy_db, prepend=energy_db[:1])
    return np.clip(rise / FULL_RISE_DB, 0.0, 1.0).astype(np.float32)


def with_onset_weight(rec: dict[str, Any], weight: float, frame_rate: float) -> dict[str, Any]:
    """``rec`` plus ``loss_weight_t`` float32 [T]: ``1 + weight * onset_strength_t``.

    Raises:
        ValueError: the record has no ``audio`` (the message names the clip).
    """
    if "audio" not in rec or "sample_rate" not in rec:
        raise ValueError(
            f"record {rec.get('clip_id', '?')!r} has no audio: data.onset_weight needs the "
            "clip's audio in the tokenized data set"
        )
    t = np.asarray(rec["tokens"]).shape[0]
    strength = onset_strength_t(rec["audio"], int(rec["sample_rate"]), frame_rate, t)
    return {**rec, "loss_weight_t": 1.0 + np.float32(weight) * strength}
