"""``v2a data``: build data sets, preview a clip, export ground-truth audio."""

from __future__ import annotations

import argparse
import json

from v2a_jax.data.splits import parse_seed_range


def register(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser("data", help="build, preview and export data sets")
    sub = data.add_subparsers(dest="data_command", required=True)

    build = sub.add_parser("build", help="build a data set (TFDS, ArrayRecord)")
    kinds = build.add_subparsers(dest="builder", required=True)

    ss = kinds.add_parser("syncscenes", help="render the SyncScenes benchmark from seeds")
    ss.add_argument("--data-dir", required=True)
    ss.add_argument("--num-train", type=int, default=1000)
    ss.add_argument("--num-validation", type=int, default=100)
    ss.add_argument("--num-test", type=int, default=100)
    ss.add_argument("--duration", type=float, default=4.0, help="clip length in seconds (1-10)")
    ss.add_argument("--height", type=int, default=64)
    ss.add_argument("--width", type=int, default=64)
    ss.add_argument("--fps", type=float, default=25.0)
    ss.add_argument(
        "--test-seeds",
        type=parse_seed_range,
        metavar="A:B",
        help="render seeds [A, B) as the test split",
    )
    ss.set_defaults(func=_build_syncscenes)

    vf = kinds.add_parser("video_folder", help="a folder of video clips plus captions.csv")
    vf.add_argument("--source", required=True, help="folder with the clips and captions.csv")
    vf.add_argument("--data-dir", required=True)
    vf.add_argument("--fps", type=float, default=25.0)
    vf.add_argument("--height", type=int, default=64)
    vf.add_argument("--width", type=int, default=64)
    vf.add_argument("--sample-rate", type=int, default=16000)
    vf.add_argument(
        "--allow-silent",
        action="store_true",
        help="keep clips without an audio stream (silence) instead of skipping them",
    )
    vf.set_defaults(func=_build_video_folder)

    pv = sub.add_parser("preview", help="write one clip with its ground-truth audio as mp4")
    pv.add_argument("--data-dir", required=True)
    pv.add_argument("--split", default="test")
    pv.add_argument("--index", type=int, default=0)
    pv.add_argument("--out", required=True)
    pv.add_argument("--scale", type=int, default=4, help="nearest-neighbour upscaling factor")
    pv.add_argument("--name", help="builder[/config] when the data dir holds several")
    pv.set_defaults(func=_preview)

    ex = sub.add_parser("export-audio", help="ground-truth <clip_id>.wav + .json per clip")
    ex.add_argument("--data-dir", required=True)
    ex.add_argument("--split", default="test")
    ex.add_argument("--out", required=True)
    ex.add_argument("--name", help="builder[/config] when the data dir holds several")
    ex.set_defaults(func=_export)

    tk = sub.add_parser("tokenize", help="codec tokens + latents + caption embeddings of a set")
    tk.add_argument("--data-dir", required=True, help="folder with a built clip data set")
    tk.add_argument("--codec", default="default", help="default, an official name or a folder")
    tk.add_argument("--out-dir", required=True, help="where the tokenized data set goes")
    tk.add_argument("--name", help="builder[/config] when the data dir holds several")
    tk.add_argument("--text-encoder", help="transformers folder (default all-MiniLM-L6-v2)")
    tk.add_argument("--max-text-len", type=int, default=32)
    tk.set_defaults(func=_tokenize)


def _build_syncscenes(args: argparse.Namespace) -> int:
    from v2a_jax.data.builders.syncscenes import build_syncscenes

    builder = build_syncscenes(
        args.data_dir,
        height=args.height,
        width=args.width,
        fps=args.fps,
        duration_s=args.duration,
        num_train=args.num_train,
        num_validation=args.num_validation,
        num_test=args.num_test,
        test_seeds=args.test_seeds,
    )
    counts = {s: builder.info.splits[s].num_examples for s in builder.info.splits}
    print(f"syncscenes built in {builder.data_dir}: {json.dumps(counts)}")
    return 0


def _build_video_folder(args: argparse.Namespace) -> int:
    from v2a_jax.data.builders.video_folder import build_video_folder

    builder, report = build_video_folder(
        args.source,
        args.data_dir,
        fps=args.fps,
        height=args.height,
        width=args.width,
        sample_rate=args.sample_rate,
        require_audio=not args.allow_silent,
    )
    counts = {s: builder.info.splits[s].num_examples for s in builder.info.splits}
    print(f"video_folder built in {builder.data_dir}: {json.dumps(counts)}; skipped: {report}")
    return 0


def _preview(args: argparse.Namespace) -> int:
    from v2a_jax.data.preview import write_preview

    info = write_preview(args.data_dir, args.split, args.index, args.out, args.scale, args.name)
    ann = info["annotation"]
    events = ann.get("events", [])
    print(f"wrote {args.out}: {info['clip_id']}, {ann.get('duration_s')} s, {len(events)} events")
    print(f"caption: {info['caption']}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from v2a_jax.data.export import export_audio

    ids = export_audio(args.data_dir, args.split, args.out, args.name)
    print(f"wrote {len(ids)} clips (<clip_id>.wav + .json) to {args.out}")
    return 0


def _tokenize(args: argparse.Namespace) -> int:
    import time

    from v2a_jax.data.tokenized import build_tokenized, read_codec_info

    start = time.perf_counter()
    builder, num, generated = build_tokenized(args.data_dir, args.codec, args.out_dir, args.name,
                                              args.text_encoder, args.max_text_len)  # fmt: skip
    seconds = time.perf_counter() - start
    counts = {s: builder.info.splits[s].num_examples for s in builder.info.splits}
    info = read_codec_info(builder.data_dir)
    if generated:
        rate = f"{num} clips in {seconds:.1f} s ({num / seconds:.2f} clips/s)"
    else:
        rate = "up to date, reused"
    codec = f"codec {info['codec']} K={info['num_codebooks']} at {info['frame_rate']} frames/s"
    print(f"tokenized set in {builder.data_dir}: {json.dumps(counts)}; {rate}; {codec}")
    return 0
