"""``v2a eval``: SyncBench scores of a predictions folder (and the av-benchmark export)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval",
        help="SyncBench: score generated audio against a SyncScenes split",
        description="Scores PRED_DIR (<clip_id>.wav or <clip_id>/<sample>.wav, optional "
        "manifest.json) against the split: onset F1/precision/recall/offset, adherence, FAD, "
        "negative-prompt suppression (with --baseline-predictions), diversity. Missing, "
        "unreadable, wrong-rate, wrong-length and silent files are reported per clip.",
    )
    p.add_argument("--data-dir", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--predictions", required=True, help="folder of generated wavs")
    p.add_argument("--out", required=True, help="report JSON to write")
    p.add_argument(
        "--baseline-predictions",
        help="the same clips generated without the negative prompt (for neg_suppression)",
    )
    p.add_argument("--tolerance-ms", type=float, default=50.0, help="onset matching tolerance")
    p.add_argument("--name", help="builder[/config] when the data dir holds several")
    p.add_argument("--limit", type=int, help="score only the first N clips")
    p.add_argument("--classifier", help="classifier folder (default: the shipped one)")
    p.add_argument(
        "--export-av-benchmark",
        metavar="DIR",
        help="also write gt_audio/, pred_audio/ and videos/ in the av-benchmark layout",
    )
    p.set_defaults(func=_eval)


def _eval(args: argparse.Namespace) -> int:
    from v2a_jax.eval.classifier import load_classifier
    from v2a_jax.eval.report import evaluate
    from v2a_jax.io.atomic import atomic_path

    if args.tolerance_ms <= 0:
        raise ValueError(f"--tolerance-ms must be > 0, got {args.tolerance_ms}")
    report = evaluate(
        args.data_dir,
        args.split,
        predictions=args.predictions,
        baseline_predictions=args.baseline_predictions,
        tolerance_ms=args.tolerance_ms,
        name=args.name,
        classifier=load_classifier(args.classifier),
        limit=args.limit,
    )
    with atomic_path(Path(args.out)) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    if args.export_av_benchmark:
        from v2a_jax.eval.export_av import export_av_benchmark

        export_av_benchmark(args.data_dir, args.split, args.predictions,
                            args.export_av_benchmark, name=args.name)  # fmt: skip
    shown = {k: v for k, v in report.items() if k != "problems"}
    print(json.dumps(shown, indent=2))
    for p in report["problems"]:
        where = f" ({p['sample']})" if p["sample"] else ""
        print(f"problem: {p['clip_id']}{where}: {p['kind']}: {p['detail']}")
    return 0
