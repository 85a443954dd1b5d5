"""Sample dumps during training: a ``sample_fn`` for ``v2a_jax.train.loop.train``.

Every ``train.sample_every`` steps the loop calls ``sample_fn(model, config, step, workdir)``; the
one made here generates soundtracks for a few held-out clips with the model as it is and writes

    <workdir>/samples/<step>/<clip_id>_<i>.wav     and   <workdir>/samples/<step>/manifest.json

so a run can be listened to as it trains (the same sampler, guidance and codec as ``v2a generate``).

Example:
    train(config, workdir, sample_fn=make_sample_fn(num_clips=2))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from v2a_jax.io.atomic import atomic_path


def make_sample_fn(
    split: str = "validation",
    num_clips: int = 2,
    num_samples: int = 1,
    guidance_scale: float = 3.0,
    codec=None,
    clips: Sequence[dict] | None = None,
):
    """A ``sample_fn(model, config, step, workdir)`` writing wavs for ``num_clips`` clips.

    Args:
        split: split of ``config.data`` the clips come from (the first ``num_clips``).
        num_clips: clips per dump.
        num_samples: variations per clip (seeds 0 .. n - 1, the same at every step, so dumps
            of different steps compare like with like).
        guidance_scale: as in ``V2A.generate`` (no negative prompt).
        codec: a Codec or a name/folder; None: the codec the data set records (as
            ``V2A.from_pretrained`` resolves it).
        clips: records (``frames``, ``fps``, ``caption``, ``clip_id``; ``audio`` and
            ``sample_rate`` for the length) to use instead of reading ``config.data``.
    """
    cache: dict = {}

    def sample_fn(model, config, step: int, workdir) -> Path:
        from v2a_jax.api import V2A, _resolve_codec
        from v2a_jax.io.audio import write_wav

        if "codec" not in cache:
            cache["codec"] = _resolve_codec(codec, None, config)[0]
        if "clips" not in cache:
            cache["clips"] = (
                list(clips)[:num_clips] if clips is not None
                else _read_clips(config, split, num_clips)
            )  # fmt: skip
        pipe = V2A(model, config, cache["codec"], name=f"step {step}")
        out_dir = Path(workdir) / "samples" / str(step)
        entries = {}
        for clip in cache["clips"]:
            duration = len(clip["frames"]) / float(clip["fps"])
            if clip.get("audio") is not None:
                duration = min(duration, len(clip["audio"]) / float(clip["sample_rate"]))
            out = pipe.generate(
                frames=clip["frames"], fps=float(clip["fps"]), prompt=clip["caption"],
                num_samples=num_samples, seed=0, guidance_scale=guidance_scale, refine=False,
                duration=duration,
            )  # fmt: skip
            for i in range(out.num_samples):
                write_wav(out_dir / f"{clip['clip_id']}_{i}.wav", out.waveforms[i], out.sample_rate)
            entries[clip["clip_id"]] = {"prompt": out.prompt, "seeds": out.seeds,
                                        "seconds": round(out.timings["total"], 3)}  # fmt: skip
        manifest = out_dir / "manifest.json"
        with atomic_path(manifest) as tmp:
            tmp.write_text(json.dumps({"step": step, "clips": entries}, indent=2) + "\n")
        return manifest

    return sample_fn


def _read_clips(config, split: str, count: int) -> list[dict]:
    from v2a_jax.data.loaders import open_split

    data = config.data
    source = open_split(data.data_dir, split, getattr(data, "name", None))
    return [source[i] for i in range(min(count, len(source)))]
