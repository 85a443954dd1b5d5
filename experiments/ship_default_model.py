"""Ship a trained AR model and refiner as the package's ``default`` model, with a model card.

    python experiments/ship_default_model.py --ar-workdir workdirs/default_ar \\
        --refiner-workdir workdirs/default_refiner --quality out/quality_bar/results.json \\
        --hardware "1 core of a 2-core CPU machine" --out v2a_jax/assets/model/default

Exports both (``v2a export`` with bfloat16 storage: half the bytes; loading casts back to
float32) into ``--out`` and ``--out/refiner``, and writes ``card.json`` and ``CARD.md``: configs,
steps, data, wall time, hardware, the validation curves from each run's ``metrics.jsonl``, and
the SyncBench quality table (``experiments/quality_bar.py``'s results).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from v2a_jax.api import CODEC_NAME_FILE
from v2a_jax.data.tokenized import read_codec_info
from v2a_jax.io.atomic import atomic_path
from v2a_jax.train.checkpoint import export_params


def record_codec(out: Path, codec: str) -> None:
    """Names ``codec`` as the shipped models' codec: ``out/codec_name.txt`` for the AR model
    (``V2A.from_pretrained`` reads it before the training data's record) and the refiner's
    ``model.codec`` (what its tokens and latents came from, under the name the package loads)."""
    (out / CODEC_NAME_FILE).write_text(codec + "\n")
    refiner_config = out / "refiner" / "config.json"
    exported = json.loads(refiner_config.read_text())
    exported["config"]["model"]["codec"] = codec
    refiner_config.write_text(json.dumps(exported, indent=2) + "\n")


def run_summary(workdir: Path) -> dict:
    """Steps, wall time and the eval curve of a training run, from its ``metrics.jsonl``."""
    rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in rows if r.get("split") == "train"]
    evals = [r for r in rows if r.get("split") == "eval"]
    starts = [r for r in rows if r.get("split") == "start"]
    # Wall time: summed over sessions (a resumed run has several "start" rows).
    walls: list[float] = []
    for r in rows:
        if r.get("split") == "start":
            session_start = r["time"]
            walls.append(0.0)
        elif walls and "time" in r:
            walls[-1] = r["time"] - session_start
    return {
        "steps": max((r["step"] for r in train), default=0),
        "sessions": len(starts),
        "wall_time_s": round(sum(walls), 1),
        "eval_curve": [{"step": r["step"], "loss": round(r["loss"], 4)} for r in evals],
        "last_train": {k: round(v, 4) for k, v in train[-1].items() if isinstance(v, float)}
        if train
        else {},
    }


def _markdown(card: dict) -> str:
    lines = ["# v2a_jax default model", "", card["summary"], ""]
    if card.get("codec"):
        lines += [f"Decodes with the codec `{card['codec']}` (`{CODEC_NAME_FILE}`).", ""]
    for part in ("ar", "refiner"):
        run = card[part]
        lines += [
            f"## {'AR token model' if part == 'ar' else 'Diffusion refiner'}",
            "",
            f"- trained: {run['steps']} steps, {run['wall_time_s']} s wall on {card['hardware']}",
            f"- data: {run['data_dir']} (codec: {run['codec']})",
            f"- parameters: {run['num_params']:,}; stored as bfloat16 ({run['megabytes']} MB)",
            f"- config: `{json.dumps(run['config'])}`",
            "",
            "| step | " + " | ".join(str(e["step"]) for e in run["eval_curve"]) + " |",
            "|---" * (len(run["eval_curve"]) + 1) + "|",
            "| validation loss | " + " | ".join(str(e["loss"]) for e in run["eval_curve"]) + " |",
            "",
        ]
    lines += ["## SyncBench (experiments/quality_bar.py)", "", card.get("quality_table", ""), ""]
    lines += ["```json", json.dumps(card.get("quality", {}), indent=1), "```", ""]
    return "\n".join(lines)


def _size_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 2)


def _num_params(folder: Path) -> int:
    import jax
    from flax import nnx

    from v2a_jax.train.checkpoint import load_model

    model, _ = load_model(folder)
    return int(sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param))))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ar-workdir", required=True)
    p.add_argument("--refiner-workdir", required=True)
    p.add_argument("--quality", help="experiments/quality_bar.py results.json")
    p.add_argument("--hardware", required=True)
    p.add_argument("--summary", default="", help="one honest paragraph on what it reaches")
    p.add_argument(
        "--codec", default="default",
        help="the codec these models' tokens come from, as the package names it: recorded in "
        f"{CODEC_NAME_FILE} and the refiner's config, so that loading never looks for the "
        "training run's codec folder",
    )  # fmt: skip
    p.add_argument("--out", default="v2a_jax/assets/model/default")
    args = p.parse_args(argv)

    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    card = {"summary": args.summary, "hardware": args.hardware}
    for part, workdir, dest in (("ar", args.ar_workdir, out),
                                ("refiner", args.refiner_workdir, out / "refiner")):  # fmt: skip
        workdir = Path(workdir)
        export_params(workdir, dest, storage_dtype="bfloat16")
        config = json.loads((workdir / "config.json").read_text())
        run = run_summary(workdir)
        data_dir = config.get("data", {}).get("data_dir")
        run.update(
            config=config,
            data_dir=data_dir,
            codec=read_codec_info(data_dir)["codec"],
            num_params=_num_params(dest),
            megabytes=_size_mb(dest) if part == "refiner" else None,
        )
        card[part] = run
    card["ar"]["megabytes"] = round(_size_mb(out) - card["refiner"]["megabytes"], 2)
    record_codec(out, args.codec)
    card["codec"] = args.codec
    if args.quality:
        card["quality"] = json.loads(Path(args.quality).read_text())
        md = Path(args.quality).with_suffix(".md")
        card["quality_table"] = md.read_text() if md.is_file() else ""
    with atomic_path(out / "card.json") as tmp:
        tmp.write_text(json.dumps(card, indent=2) + "\n")
    with atomic_path(out / "CARD.md") as tmp:
        tmp.write_text(_markdown(card))
    print(f"shipped to {out}: {_size_mb(out)} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
