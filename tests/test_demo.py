"""``v2a demo``: clips rendered, soundtracks written, pages that link existing files, numbers."""

from __future__ import annotations

import json
import math
import re

import pytest
from sampling_fixtures import tiny_checkpoint

from v2a_jax.cli import main
from v2a_jax.demo import DemoConfig, format_summary, pick_seeds, run_demo


def test_picked_seeds_are_unseen_test_seeds_and_the_first_has_the_layer():
    from v2a_jax.data.splits import split_of_seed
    from v2a_jax.data.syncscenes import SceneConfig, render_clip

    seeds, layer = pick_seeds(3, 4.0)
    assert len(seeds) == 3 and all(split_of_seed(s) == "test" for s in seeds)
    assert layer in render_clip(seeds[0], SceneConfig(duration_s=4.0)).annotation["labels"]


def test_bad_demo_config_is_named():
    with pytest.raises(ValueError, match="num_clips"):
        DemoConfig(num_clips=1)
    with pytest.raises(ValueError, match="num_samples"):
        DemoConfig(num_samples=0)


def test_demo_writes_media_pages_and_syncbench_numbers(tmp_path, jax_compilation_cache):
    out = tmp_path / "demo"
    cfg = DemoConfig(model=str(tiny_checkpoint()), num_clips=2, num_samples=2, duration_s=2.0)
    summary = run_demo(out, cfg, log=lambda *_: None)

    assert summary["num_clips"] == 2 and summary["num_samples_per_clip"] == 2
    assert summary["num_problems"] == 0
    for key in ("onset_f1", "adherence", "diversity", "fad"):
        assert math.isfinite(summary["metrics"][key]), key
    # (the fixture's untrained codec decodes every token alike, so diversity is 0 here)
    assert summary["metrics"]["diversity"] >= 0
    assert summary["neg_suppression"] is not None
    assert json.loads((out / "demo.json").read_text()) == summary

    clip_ids = sorted(p.name for p in (out / "clips").iterdir())
    assert len(clip_ids) == 2
    for cid in clip_ids:
        assert len(list((out / "clips" / cid).glob("sample_*.mp4"))) == 2
        assert len(list((out / "predictions" / cid).glob("*.wav"))) == 2
    neg = out / "clips" / summary["negative_clip"] / "negative"
    assert len(list(neg.glob("sample_*.mp4"))) == 2

    index = (out / "index.html").read_text()
    pages = re.findall(r'href="([^"]+\.html)"', index)
    assert sorted(pages) == [f"{cid}.html" for cid in clip_ids]
    neg_page = (out / f"{summary['negative_clip']}.html").read_text()
    assert neg_page.count("<video") == 1 + 2 + 2  # ground truth, 2 samples, 2 negative samples
    for page in pages:
        for src in re.findall(r'src="([^"]+)"', (out / page).read_text()):
            assert (out / src).is_file(), src
    assert "onset F1" in format_summary(summary)


def test_demo_cli_names_a_missing_model(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "d"), "--model", str(tmp_path / "nope")]) != 0
    assert "nope" in capsys.readouterr().err
