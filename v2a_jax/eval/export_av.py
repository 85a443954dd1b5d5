"""Writing predictions and videos in the layout the av-benchmark toolkit reads.

av-benchmark (github.com/hkchengrex/av-benchmark: FD with PaSST / PANNs / VGGish, KL, IS,
ImageBind score, Synchformer DeSync) pairs generated and reference files by basename and
resamples what it reads to each network's rate; this writes, for every clip of a split:

    DIR/gt_audio/<clip_id>.wav     the reference audio
    DIR/pred_audio/<clip_id>.wav   the prediction (sample 0 when a clip has several)
    DIR/videos/<clip_id>.mp4       the clip's video with the prediction as its soundtrack
                                   (what the video metrics, DeSync and ImageBind, read)
    DIR/export.json                clip ids, sample rate, and the problems found

at ``AV_BENCHMARK_SR`` (16 kHz, the rate of the toolkit's 16k setting). Not run here: its
networks cannot be downloaded in this environment.
"""

from __future__ import annotations

import json
from pathlib import Path

from v2a_jax.data.loaders import open_split
from v2a_jax.eval.predictions import load_samples
from v2a_jax.io.atomic import atomic_path
from v2a_jax.io.audio import resample, write_wav

AV_BENCHMARK_SR = 16000


def export_av_benchmark(
    data_dir: str | Path,
    split: str,
    predictions: str | Path,
    out_dir: str | Path,
    name: str | None = None,
    sample_rate: int = AV_BENCHMARK_SR,
    videos: bool = True,
) -> dict:
    """Writes the av-benchmark layout (see the module docstring); returns export.json's dict."""
    from v2a_jax.io.video import write_video

    out = Path(out_dir)
    source = open_split(data_dir, split, name)
    ids, problems = [], []
    for clip in source:
        clip_id, sr = clip["clip_id"], int(clip["sample_rate"])
        waves, found = load_samples(predictions, clip_id, sr, len(clip["audio"]))
        problems += [p.to_json() for p in found]
        pred = resample(waves[0], sr, sample_rate)
        write_wav(out / "gt_audio" / f"{clip_id}.wav", resample(clip["audio"], sr, sample_rate),
                  sample_rate)  # fmt: skip
        write_wav(out / "pred_audio" / f"{clip_id}.wav", pred, sample_rate)
        if videos:
            write_video(out / "videos" / f"{clip_id}.mp4", clip["frames"], float(clip["fps"]),
                        pred, sample_rate)  # fmt: skip
        ids.append(clip_id)
    info = {"split": split, "sample_rate": sample_rate, "clip_ids": ids, "problems": problems,
            "usage": "python evaluate.py --gt_audio DIR/gt_audio --pred_audio DIR/pred_audio "
                     "(av-benchmark; videos in DIR/videos)"}  # fmt: skip
    with atomic_path(out / "export.json") as tmp:
        tmp.write_text(json.dumps(info, indent=2) + "\n")
    return info
