"""Sampling speed: our AR sampler against Hugging Face MusicGen, the end-to-end real-time factor
of ``V2A.generate``, and how the cost grows with the duration.

    python experiments/bench_sampling.py --out out/bench_sampling.json \
        [--model default|EXPORT_DIR] [--refiner DIR] [--quick]

(a) **Token decoding against MusicGen** (``compare_decoding``): the ``--preset`` sizes (random
init) in our sampler (``sample_window``: one jitted ``lax.while_loop``, KV cache, top-k 250) and
in transformers' ``MusicgenForCausalLM.generate`` (``experiments/musicgen_peer.py`` says what is
matched), at each ``--batches`` size, the same ``T + K - 1`` steps for ``--seconds`` of audio.
Ours attends to a video + text memory (F video frames + L text tokens) and runs the video encoder
inside the timed call; MusicGen gets ``encoder_hidden_states`` of the same length M = F + L,
precomputed. Guidance variants: ``nocfg`` (one branch each), ``cfg`` (two branches each: our
``CommonCFG`` and MusicGen's ``guidance_scale``) and ``cfg_separate`` (our default separate-weight
CFG, three branches, against MusicGen's two). Each callable is warmed up (ours: compiled, timed
apart as ``first_call_s``), then the callables are timed in turns, ``--repeats`` rounds, so that
a change in the machine's load hits both sides alike; medians are reported. Each of ``--dtypes``
runs both sides in that dtype: float32 (the headline keys) and bfloat16 (keys ending ``_bf16``:
our parameters and activations in bf16 with float32 accumulation, ``v2a_jax/layers/dot.py``;
MusicGen's ``model.to(torch.bfloat16)``).

(b) **End-to-end RTF** (``end_to_end``): ``V2A.generate`` (video frames in; text encoding, video
encoding + AR sampling, refiner when loaded, codec decoding) on a SyncScenes clip, default
settings (separate CFG, one sample); the first call (compiles) apart from the median of later
calls. ``rtf_default_4s`` = seconds per second of audio at 4 s (``rtf_default_4s_bf16``: the
AR model loaded with ``dtype="bfloat16"``). Stages are the API's timings,
plus separately timed sub-stages (video encoding alone, refiner alone, codec alone).

(c) **Duration scaling**: (b) at each ``--durations``; longer clips are windowed (continuation),
so AR steps grow with the windows; reported as seconds per audio second and per step.

JSON is written atomically, with a markdown summary beside it (``.md``).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import os
import platform
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from v2a_jax.io.atomic import atomic_path
from v2a_jax.models import MODEL_PRESETS, build_model
from v2a_jax.sampling.continuation import plan_windows
from v2a_jax.sampling.guidance import CommonCFG, NoGuidance, SeparateCFG, make_guidance
from v2a_jax.sampling.methods import TopK
from v2a_jax.sampling.sampler import sample_window

TEXT_LEN = 32  # the small config's max_text_len: the prompt's share of the memory
PROMPT = "a metal ball bouncing on a wooden floor, rain"


def _peer():
    path = Path(__file__).with_name("musicgen_peer.py")
    spec = importlib.util.spec_from_file_location("musicgen_peer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def machine() -> dict:
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "affinity": cpus,
        "loadavg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "jax_backend": jax.default_backend(),
        "jax_device": str(jax.devices()[0]),
    }


def _timed(fn) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start


def our_sampler(
    model, split, batch: int, num_frames: int, guidance, text_len: int = TEXT_LEN, share_video=None
):
    """A no-argument callable sampling ``batch`` x ``num_frames`` tokens with our sampler
    (``share_video``: the memory layout, see ``sample_window``; None its default)."""
    cfg = model.cfg
    rng = np.random.default_rng(0)
    num_video = max(1, round(num_frames * cfg.video.fps / cfg.audio_frame_rate))
    frames = rng.integers(0, 256, (num_video, cfg.video.height, cfg.video.width, 3), np.uint8)
    r = len(guidance.branches)
    text = rng.normal(size=(r, batch, text_len, cfg.text_dim)).astype(np.float32)
    mask = np.ones((r, batch, text_len), bool)
    keys = jnp.stack([jax.random.key(i) for i in range(batch)])
    fps = cfg.video.fps

    def run():
        return sample_window(
            model,
            frames,
            fps,
            text,
            mask,
            guidance,
            TopK(250),
            keys,
            num_frames,
            split=split,
            share_video=share_video,
        )[0]

    return run, num_video + text_len


def _suffix(dtype: str) -> str:
    """The report keys' suffix of a dtype: none for float32 (the headline), ``_bf16``."""
    return "" if dtype == "float32" else "_bf16"


def compare_decoding(
    cfg, batches, num_frames: int, repeats: int, scale: float = 3.0, dtypes=("float32",)
) -> dict:
    """Our sampler vs MusicGen's ``generate`` at each batch size and dtype (see the module
    docstring). Both sides run in the same dtype: bfloat16 parameters and activations with
    float32 accumulation on ours, ``model.to(torch.bfloat16)`` on MusicGen's."""
    peer = _peer()
    threads = peer.set_threads()
    ours_variants = {"nocfg": NoGuidance(), "cfg": CommonCFG(scale),
                     "cfg_separate": SeparateCFG.from_scale(scale, False)}  # fmt: skip
    peer_variants = {"nocfg": None, "cfg": scale}
    k, steps = cfg.num_codebooks, num_frames + cfg.num_codebooks - 1
    models = {}
    for dtype in dtypes:
        model = build_model(dataclasses.replace(cfg, dtype=dtype, param_dtype=dtype), nnx.Rngs(0))
        models[dtype] = (model, nnx.split(model), peer.build_musicgen(cfg, dtype=dtype))
    model, _, (_, mg_params) = models[dtypes[0]]
    ours_params = sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
    out = {"num_frames": num_frames, "steps": steps, "repeats": repeats, "torch_threads": threads,
           "ours_params": int(ours_params), "musicgen_params": mg_params, "dtypes": list(dtypes),
           "runs": []}  # fmt: skip
    for b in batches:
        fns = {}
        for dtype, (model, split, (musicgen, _)) in models.items():
            for name, guidance in ours_variants.items():
                fn, memory_len = our_sampler(model, split, b, num_frames, guidance)
                fn.branches = len(guidance.branches)
                fns[("ours", name, dtype)] = fn
            for name, gs in peer_variants.items():
                fn = peer.musicgen_sampler(musicgen, b, num_frames, memory_len, gs)
                fn.branches = 2 if gs else 1
                fns[("musicgen", name, dtype)] = fn
        first = {key: _timed(fn) for key, fn in fns.items()}  # ours: compile + first run
        for fn in fns.values():  # warm-up
            _timed(fn)
        times = {key: [] for key in fns}
        for _ in range(repeats):
            for key, fn in fns.items():
                times[key].append(_timed(fn))
        med = {key: statistics.median(ts) for key, ts in times.items()}
        for (impl, variant, dtype), fn in fns.items():
            key = (impl, variant, dtype)
            out["runs"].append({
                "impl": impl, "variant": variant, "dtype": dtype, "batch": b,
                "branches": fn.branches, "memory_len": memory_len, "first_call_s": first[key],
                "median_s": med[key], "times_s": times[key], "steps_per_s": steps / med[key],
                "tokens_per_s": b * num_frames * k / med[key],
            })  # fmt: skip
        for dtype in dtypes:
            name, sfx = f"speedup_vs_musicgen_b{b}", _suffix(dtype)
            peer_nocfg, peer_cfg = med["musicgen", "nocfg", dtype], med["musicgen", "cfg", dtype]
            out[name + sfx] = peer_nocfg / med["ours", "nocfg", dtype]
            out[f"{name}_cfg{sfx}"] = peer_cfg / med["ours", "cfg", dtype]
            out[f"{name}_cfg_separate{sfx}"] = peer_cfg / med["ours", "cfg_separate", dtype]
    return out


def clip_frames(duration_s: float, fps: float, seed: int = 1_100_000) -> np.ndarray:
    """A SyncScenes clip's frames, tiled to ``duration_s`` (timing only)."""
    from v2a_jax.data.syncscenes import render_clip

    frames = np.asarray(render_clip(seed).frames)
    need = max(1, math.ceil(duration_s * fps - 1e-6))
    return frames[np.arange(need) % len(frames)]


def _sub_stages(pipe, out, num_samples: int, refine_steps: int) -> dict:
    """Video encoding, refiner and codec decoding timed alone (second calls, compiled)."""
    model, cfg = pipe.model, pipe.model.cfg
    window = min(out.tokens.shape[1], cfg.max_frames_for_steps())
    num_video = max(1, round(window * cfg.video.fps / cfg.audio_frame_rate))
    rows = len(make_guidance(3.0, has_negative=False).branches) * num_samples  # generate's default
    frames = jnp.zeros((rows, num_video, cfg.video.height, cfg.video.width, 3), jnp.uint8)
    text = jnp.zeros((rows, TEXT_LEN, cfg.text_dim), jnp.float32)
    mask = jnp.ones((rows, TEXT_LEN), bool)
    graphdef, state = nnx.split(model)

    @jax.jit
    def encode(state, frames, text, mask):
        m = nnx.merge(graphdef, state)
        return m.prepare_conditions(frames, cfg.video.fps, text, mask, num_steps=window + 3)

    stages = {}
    _timed(lambda: encode(state, frames, text, mask))
    stages["video_encode_per_window_s"] = _timed(lambda: encode(state, frames, text, mask))
    if out.settings["refined"]:
        pipe._refine(out.tokens, out.seeds, refine_steps)
        start = time.perf_counter()
        latent = pipe._refine(out.tokens, out.seeds, refine_steps)
        stages["refine_s"] = time.perf_counter() - start
        start = time.perf_counter()
        pipe.codec.decode_latent(latent)
        stages["codec_decode_s"] = time.perf_counter() - start
    else:
        start = time.perf_counter()
        pipe.codec.decode(out.tokens)
        stages["codec_decode_s"] = time.perf_counter() - start
    return stages


def _ar_steps(cfg, num_frames: int, overlap_s: float = 1.0) -> tuple[int, int]:
    """(windows, decoding steps) ``generate_tokens`` runs for ``num_frames`` (its plan)."""
    rate, window = cfg.audio_frame_rate, cfg.max_frames_for_steps()
    ratio = rate / cfg.video.fps
    align = round(ratio) if abs(ratio - round(ratio)) < 1e-6 and ratio >= 1 else 1
    overlap = min(max(1, round(overlap_s * rate)), window // 2)
    wins = plan_windows(num_frames, window, overlap, align)
    return len(wins), sum(w.length + cfg.num_codebooks - 1 for w in wins)


def end_to_end(pipe, durations, repeats: int, num_samples: int = 1, refine_steps: int = 8):
    """``V2A.generate`` wall time per duration: RTF, stages, AR steps (see the module doc)."""
    cfg = pipe.model.cfg
    pipe.text_encoder.encode(["warm up"])  # loading the text encoder is not part of a request
    rows = []
    for d in durations:
        frames = clip_frames(d, cfg.video.fps)
        kw = dict(frames=frames, fps=cfg.video.fps, prompt=PROMPT, num_samples=num_samples,
                  seed=0, duration=d, refine_steps=refine_steps)  # fmt: skip
        start = time.perf_counter()
        out = pipe.generate(**kw)
        first_s = time.perf_counter() - start
        runs = [pipe.generate(**kw).timings for _ in range(repeats)]
        stages = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        windows, steps = _ar_steps(cfg, out.tokens.shape[1])
        rows.append({
            "duration_s": d, "num_samples": num_samples, "guidance": out.settings["guidance"],
            "refined": out.settings["refined"], "first_call_s": first_s,
            "total_s": stages["total"], "rtf": stages["total"] / d, "stages_s": stages,
            "sub_stages_s": _sub_stages(pipe, out, num_samples, refine_steps),
            "windows": windows, "ar_steps": steps, "ar_s_per_audio_s": stages["sample"] / d,
            "ar_ms_per_step": 1e3 * stages["sample"] / steps,
        })  # fmt: skip
    result = {"runs": rows}
    for row in rows:
        result[f"rtf_default_{row['duration_s']:g}s"] = row["rtf"]
    base = rows[0]
    for row in rows[1:]:
        key = f"{row['duration_s']:g}s_vs_{base['duration_s']:g}s"
        result.setdefault("growth", {})[key] = {
            "duration_ratio": row["duration_s"] / base["duration_s"],
            "total_ratio": row["total_s"] / base["total_s"],
            "ar_ratio": row["stages_s"]["sample"] / base["stages_s"]["sample"],
            "ar_steps_ratio": row["ar_steps"] / base["ar_steps"],
        }
    return result


def summary_markdown(report: dict) -> str:
    """A short markdown table of the headline numbers."""
    lines = [f"# Sampling benchmark ({report['machine']['platform']})", "", report["note"], ""]
    dec = report.get("decoding")
    if dec:
        lines += ["| impl | variant | dtype | batch | branches | steps/s | tokens/s | first s |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for r in dec["runs"]:
            lines.append(f"| {r['impl']} | {r['variant']} | {r.get('dtype', 'float32')} | "
                         f"{r['batch']} | {r['branches']} | {r['steps_per_s']:.1f} | "
                         f"{r['tokens_per_s']:.0f} | {r['first_call_s']:.1f} |")  # fmt: skip
        lines += [""] + [f"- `{k}`: {v:.2f}x" for k, v in dec.items() if k.startswith("speedup")]
    tables = [(key, e2e) for key, e2e in report.items() if key.startswith("end_to_end")]
    if tables:
        lines += ["", f"Model: {report['model']}", "",
                  "| AR dtype | seconds | windows | AR steps | total s | RTF | AR s | decode s |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for key, e2e in tables:
        dtype = "bfloat16" if key.endswith("_bf16") else "saved"
        for r in e2e["runs"]:
            lines.append(f"| {dtype} | {r['duration_s']:g} | {r['windows']} | {r['ar_steps']} | "
                         f"{r['total_s']:.2f} | {r['rtf']:.3f} | {r['stages_s']['sample']:.2f} | "
                         f"{r['stages_s']['decode']:.2f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def write_report(report: dict, out: str | Path) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(report, indent=1) + "\n")
    with atomic_path(out.with_suffix(".md")) as tmp:
        tmp.write_text(summary_markdown(report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON report (a .md summary goes beside)")
    parser.add_argument("--model", default="default", help="'default' or an export folder")
    parser.add_argument("--refiner", default=None, help="refiner folder (default: the model's)")
    parser.add_argument("--preset", default="small", choices=sorted(MODEL_PRESETS))
    parser.add_argument("--seconds", type=float, default=4.0, help="audio per decoding run")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"],
                        choices=["float32", "bfloat16"], help="decoding comparison dtypes "
                        "(float32: the headline keys); end to end: 4 s in each other")  # fmt: skip
    parser.add_argument("--durations", type=float, nargs="+", default=[4.0, 8.0, 16.0, 32.0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smoke run: short and few repeats")
    parser.add_argument("--note", default="", help="free text stored in the report")
    args = parser.parse_args()
    from v2a_jax.api import V2A

    try:  # fail before the long part when the model is missing
        pipe = V2A.from_pretrained(args.model, refiner=args.refiner)
    except FileNotFoundError as err:
        raise SystemExit(f"--model {args.model!r}: {err}") from None
    cfg = MODEL_PRESETS[args.preset]
    num_frames = round(args.seconds * cfg.audio_frame_rate)
    repeats, durations = args.repeats, args.durations
    if args.quick:
        num_frames, repeats, durations = 24, 1, [4.0, 8.0]
    info = machine()
    note = (f"Ran on CPUs {info['affinity']} of {info['cpu_count']} (load average "
            f"{info['loadavg_1m']:.1f} at start). {args.note}").strip()  # fmt: skip
    report = {"machine": info, "note": note, "model": args.model, "preset": args.preset,
              "quick": args.quick}  # fmt: skip
    dtypes = list(dict.fromkeys(args.dtypes))
    report["decoding"] = compare_decoding(cfg, args.batches, num_frames, repeats, dtypes=dtypes)
    write_report(report, args.out)  # a partial report survives a failure below
    report["end_to_end"] = end_to_end(pipe, durations, repeats)
    report["rtf_default_4s"] = report["end_to_end"].get("rtf_default_4s")
    for dtype in dtypes:
        sfx = _suffix(dtype)
        for key in ("speedup_vs_musicgen_b1", "speedup_vs_musicgen_b8"):
            if key + sfx in report["decoding"]:
                report[key + sfx] = report["decoding"][key + sfx]
        if sfx:  # 4 s again with the AR model cast on loading (float32 is the saved run above)
            half = V2A.from_pretrained(args.model, refiner=args.refiner, dtype=dtype)
            report[f"end_to_end{sfx}"] = end_to_end(half, durations[:1], repeats)
            report[f"rtf_default_4s{sfx}"] = report[f"end_to_end{sfx}"].get("rtf_default_4s")
    report["machine"]["loadavg_1m_end"] = machine()["loadavg_1m"]
    write_report(report, args.out)
    print(summary_markdown(report))


if __name__ == "__main__":
    main()
