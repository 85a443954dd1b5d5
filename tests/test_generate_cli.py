"""`v2a generate` / `--batch` / `generate-split` end to end with a tiny random model and an
untrained codec; bad inputs give one clear error and leave no output behind."""

import csv
import json
import shutil

import av
import numpy as np
import pytest
from sampling_fixtures import tiny_checkpoint

from v2a_jax.cli import main
from v2a_jax.data.syncscenes import render_clip
from v2a_jax.io.audio import read_wav, write_wav
from v2a_jax.io.video import write_video

SR = 16000


@pytest.fixture(scope="module")
def clip_mp4(tmp_path_factory):
    """A 4 s SyncScenes test clip (25 fps, 64x64, with its own audio, which gets replaced)."""
    clip = render_clip(1_100_000)
    path = tmp_path_factory.mktemp("clips") / "scene.mp4"
    write_video(path, clip.frames, 25.0, clip.audio, SR)
    return path


@pytest.fixture(scope="module")
def short_mp4(clip_mp4):
    """The first 1.6 s of the clip (two windows of the tiny model)."""
    clip = render_clip(1_100_000)
    path = clip_mp4.parent / "short.mp4"
    write_video(path, clip.frames[:40], 25.0)
    return path


def _gen(*args):
    return main(["generate", *map(str, args), "--model", str(tiny_checkpoint())])


def test_four_samples_for_a_4s_clip_are_playable_mp4s_of_the_right_duration(clip_mp4, tmp_path):
    out = tmp_path / "out"
    code = _gen(clip_mp4, "--prompt", "a metal ball and a rubber ball bouncing",
                "--negative-prompt", "wind", "-n", 4, "--seed", 7, "--out", out)  # fmt: skip
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [f"scene_{i}.mp4" for i in range(4)] + [f"scene_{i}.wav" for i in range(4)]
        + ["manifest.json"]
    )  # fmt: skip
    for i in range(4):
        with av.open(str(out / f"scene_{i}.mp4")) as c:
            vs, aus = c.streams.video[0], c.streams.audio[0]
            assert float(aus.duration * aus.time_base) == pytest.approx(4.0, abs=1 / SR)
            frames = sum(1 for _ in c.decode(vs))
        with av.open(str(out / f"scene_{i}.mp4")) as c:
            decoded = sum(f.samples for f in c.decode(audio=0))
        assert frames == 100 and decoded >= 4.0 * SR  # both streams decode end to end
        wave, sr = read_wav(out / f"scene_{i}.wav")
        assert sr == SR and wave.shape == (4 * SR,)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == [7, 8, 9, 10] and manifest["negative_prompt"] == "wind"
    assert manifest["settings"]["model"] == str(tiny_checkpoint())
    assert {"sample", "decode", "total"} <= set(manifest["timings"])
    assert manifest["settings"]["refined"] is False


def test_batch_reports_a_bad_row_and_runs_the_rest(short_mp4, tmp_path, capsys):
    shutil.copy(short_mp4, tmp_path / "b.mp4")
    listing = tmp_path / "list.csv"
    with open(listing, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["video", "prompt", "negative_prompt", "seed"])
        w.writerow([str(short_mp4), "bouncing balls", "", ""])
        w.writerow(["missing.mp4", "anything", "", "3"])
        w.writerow(["b.mp4", "a hammer on metal", "wind", "5"])  # relative to the CSV
    out = tmp_path / "out"
    code = main(["generate", "--batch", str(listing), "-n", "4", "--out", str(out),
                 "--model", str(tiny_checkpoint())])  # fmt: skip
    assert code == 1
    assert "row 2 (" in capsys.readouterr().err
    report = json.loads((out / "batch.json").read_text())
    assert [r["status"] for r in report["rows"]] == ["ok", "error", "ok"]
    assert "missing.mp4" in report["rows"][1]["error"]
    assert sorted(p.name for p in out.iterdir()) == ["0001_short", "0003_b", "batch.json"]
    third = json.loads((out / "0003_b" / "manifest.json").read_text())
    assert third["seeds"] == [5, 6, 7, 8] and third["negative_prompt"] == "wind"


def _bad_checkpoint(tmp_path):
    bad = tmp_path / "other_config"
    shutil.copytree(tiny_checkpoint(), bad)
    card = json.loads((bad / "config.json").read_text())
    card["config"]["model"]["num_layers"] = 3  # the params hold 2 blocks
    (bad / "config.json").write_text(json.dumps(card))
    return bad


def test_bad_inputs_give_one_clear_error_and_no_output(short_mp4, tmp_path, capsys):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x01not a video" * 100)
    audio_only = tmp_path / "audio_only.wav"
    write_wav(audio_only, np.zeros(SR, np.float32), SR)
    cases = [
        ([tmp_path / "missing.mp4", "--prompt", "x"], "missing.mp4"),
        ([garbage, "--prompt", "x"], "garbage.mp4"),
        ([audio_only, "--prompt", "x"], "audio_only.wav"),
        ([short_mp4, "--prompt", "x", "--duration", 9], "longer than the video"),
        ([short_mp4, "--prompt", "", "--guidance-scale", 3], "needs a non-empty prompt"),
        ([short_mp4, "--prompt", "x", "--refine"], "no refiner"),
        ([short_mp4, "--prompt", "x", "--max-duration", 1], "longer than this sampler supports"),
    ]
    for i, (args, expected) in enumerate(cases):
        out = tmp_path / f"out{i}"
        assert _gen(*args, "--out", out) == 2, args
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and expected in err[0] and err[0].startswith("v2a generate: error")
        assert not out.exists() or not any(out.iterdir())
    out = tmp_path / "out_ckpt"
    bad = _bad_checkpoint(tmp_path)
    code = main(["generate", str(short_mp4), "--prompt", "x", "--model", str(bad), "--out",
                 str(out)])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "other_config" in err and "different model config" in err
    assert not out.exists()


def test_generate_split_writes_the_layout_syncbench_reads(tmp_path):
    data = tmp_path / "ss"
    assert main(["data", "build", "syncscenes", "--data-dir", str(data), "--num-train", "0",
                 "--num-validation", "0", "--num-test", "2", "--duration", "1.5"]) == 0  # fmt: skip
    out = tmp_path / "pred"
    code = main(["generate-split", "--data-dir", str(data), "--split", "test", "-n", "4",
                 "--negative-layer", "rain", "--model", str(tiny_checkpoint()),
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["clips"]) == 2 and manifest["negative_layer"] == "rain"
    for clip_id, entry in manifest["clips"].items():
        assert entry["negative_prompt"] == "rain" and entry["prompt"]
        for i in range(4):
            wave, sr = read_wav(out / clip_id / f"{i}.wav")
            assert sr == SR and wave.shape == (round(1.5 * SR),)
    assert main(["generate-split", "--data-dir", str(data), "--negative-layer", "fog",
                 "--model", str(tiny_checkpoint()), "--out", str(tmp_path / "x")]) == 2  # fmt: skip


def test_shorter_duration_of_a_file_writes_that_part_only(clip_mp4, tmp_path):
    from v2a_jax.api import V2A

    pipe = V2A.from_pretrained(tiny_checkpoint())
    out = pipe.generate(video=clip_mp4, prompt="balls", negative_prompt="wind", num_samples=4,
                        duration=1.4)  # fmt: skip
    assert out.video_path is None and len(out.frames) == 35  # the first 1.4 s at 25 fps
    out.save(tmp_path, video=True)
    with av.open(str(tmp_path / "sample_0.mp4")) as c:
        aus = c.streams.audio[0]
        assert float(aus.duration * aus.time_base) == pytest.approx(1.4, abs=1 / SR)


def test_a_missing_default_model_says_where_it_looked(monkeypatch, tmp_path):
    import v2a_jax.api as api

    monkeypatch.setattr(api, "DEFAULT_MODEL_DIR", tmp_path / "nothing_here")
    with pytest.raises(FileNotFoundError, match="not been trained/shipped.*nothing_here"):
        api.V2A.from_pretrained("default")
