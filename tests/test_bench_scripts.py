"""The benchmark scripts' core functions on the tiny preset: the reports carry the keys the README
quotes, with positive finite numbers (no timing is asserted)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from experiment_scripts import load_experiment

ROOT = Path(__file__).resolve().parent.parent


_load = load_experiment


def _positive(x) -> bool:
    return isinstance(x, int | float) and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def bench_sampling():
    return _load("bench_sampling")


def test_compare_decoding_reports_speedups(bench_sampling):
    from v2a_jax.models.presets import TINY

    out = bench_sampling.compare_decoding(
        TINY, batches=(1, 8), num_frames=6, repeats=1, dtypes=("float32", "bfloat16")
    )
    for b in (1, 8):
        for suffix in ("", "_cfg", "_cfg_separate"):
            for dtype_suffix in ("", "_bf16"):
                assert _positive(out[f"speedup_vs_musicgen_b{b}{suffix}{dtype_suffix}"])
    assert out["steps"] == 6 + TINY.num_codebooks - 1
    runs = {(r["impl"], r["variant"], r["batch"], r["dtype"]): r for r in out["runs"]}
    assert len(runs) == 20
    for dtype in ("float32", "bfloat16"):
        assert runs["ours", "cfg", 8, dtype]["branches"] == 2
        assert runs["musicgen", "cfg", 8, dtype]["branches"] == 2
        assert runs["ours", "cfg_separate", 1, dtype]["branches"] == 3
    for r in runs.values():
        for key in ("steps_per_s", "tokens_per_s", "median_s", "first_call_s"):
            assert _positive(r[key]), (key, r)


def test_end_to_end_reports_rtf_and_growth(bench_sampling, tmp_path):
    from flax import nnx

    from v2a_jax.api import V2A
    from v2a_jax.codec import Codec
    from v2a_jax.models import build_model
    from v2a_jax.models.presets import TINY

    cfg = dataclasses.replace(TINY, codebook_size=1024)  # the codec's codebooks
    pipe = V2A(build_model(cfg, nnx.Rngs(0)), None, Codec.from_config(seed=0), name="tiny")
    window_s = cfg.max_frames_for_steps() / cfg.audio_frame_rate
    out = bench_sampling.end_to_end(pipe, [0.5, 1.5 * window_s], repeats=1)
    assert _positive(out["rtf_default_0.5s"])
    first, second = out["runs"]
    assert first["windows"] == 1 and second["windows"] > 1
    for row in out["runs"]:
        assert _positive(row["rtf"]) and _positive(row["ar_ms_per_step"])
        assert all(_positive(v) for v in row["sub_stages_s"].values())
    (growth,) = out["growth"].values()
    assert all(_positive(v) for v in growth.values())
    report = {"machine": bench_sampling.machine(), "note": "test", "model": "tiny",
              "end_to_end": out}  # fmt: skip
    bench_sampling.write_report(report, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["end_to_end"]["runs"]
    assert "RTF" in (tmp_path / "r.md").read_text()


def test_bench_train_reports_mfu():
    bench_train = _load("bench_train")
    from v2a_jax.config import load_config

    peaks = {"float32": bench_train.matmul_peak("float32", size=128, repeats=1)}
    config = load_config(ROOT / "configs" / "tiny.py", ["--config.train.batch_size=2"])
    row = bench_train.bench_config(config, seconds=0.2, num_steps=1, peaks=peaks)
    for key in ("tokens_per_s", "achieved_flops_per_s", "mfu", "flops_per_step", "step_s"):
        assert _positive(row[key]), key
    assert row["flops_source"] in ("xla_cost_analysis", "analytic")
    assert _positive(row["flops_per_step_analytic"])


def test_bench_memory_layout_times_both_layouts(tmp_path):
    bench = _load("bench_memory_layout")
    out = tmp_path / "layout.json"
    args = ["--preset", "tiny", "--batches", "1", "2", "--rounds", "1", "--frames", "6"]
    assert bench.main([*args, "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["batch"], r["guidance"]) for r in rows] == [
        (b, g) for b in (1, 2) for g in ("nocfg", "cfg", "cfg_separate")
    ]
    assert all(r["per_row_ms_per_step"] > 0 and r["shared_ms_per_step"] > 0 for r in rows)
    default = {(r["batch"], r["guidance"]): r["default"] for r in rows}
    assert default[1, "nocfg"] == default[2, "cfg"] == "shared"  # one run; runs of 2 rows
    assert default[1, "cfg"] == "per_row"  # two runs of one row
    assert out.with_suffix(".md").read_text().count("\n") == 2 + len(rows)
