"""The SyncScenes builder and the `v2a data` commands, end to end on tiny data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from v2a_jax.cli import main
from v2a_jax.data.loaders import find_datasets, open_dataset, open_split
from v2a_jax.data.syncscenes import LAYER_NAMES, SceneConfig, render_clip
from v2a_jax.io.audio import read_wav
from v2a_jax.io.video import probe_video


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ss")
    code = main(
        ["data", "build", "syncscenes", "--data-dir", str(data_dir), "--num-train", "3",
         "--num-validation", "2", "--num-test", "2", "--duration", "1.5"]
    )  # fmt: skip
    assert code == 0
    return data_dir


def test_build_writes_every_split_with_the_shared_features(built):
    builder = open_dataset(built)
    assert builder.name == "syncscenes"
    assert {s: builder.info.splits[s].num_examples for s in builder.info.splits} == {
        "train": 3,
        "validation": 2,
        "test": 2,
    }
    clips = list(open_split(built, "test"))
    assert [c["annotation"]["seed"] for c in clips] == [1_100_000, 1_100_001]  # in seed order
    for clip in clips:
        assert clip["frames"].shape == (round(1.5 * 25), 64, 64, 3)
        assert clip["frames"].dtype == np.uint8
        assert clip["audio"].shape == (24000,) and clip["audio"].dtype == np.float32
        assert clip["stems"].shape == (len(LAYER_NAMES), 24000)
        assert clip["sample_rate"] == 16000 and clip["fps"] == 25.0
        assert clip["caption"] == clip["annotation"]["captions"][0]


def test_records_equal_a_fresh_render_of_the_same_seed(built):
    clip = open_split(built, "train")[0]
    fresh = render_clip(clip["annotation"]["seed"], SceneConfig(duration_s=1.5))
    np.testing.assert_array_equal(clip["frames"], fresh.frames)
    np.testing.assert_array_equal(clip["audio"], fresh.audio)
    np.testing.assert_allclose(clip["stems"], fresh.stems, atol=2e-3)  # float16 storage
    assert clip["annotation"] == json.loads(json.dumps(fresh.annotation))


def test_test_seeds_build_a_separate_config_and_loading_then_needs_a_name(built):
    code = main(
        ["data", "build", "syncscenes", "--data-dir", str(built), "--num-train", "1",
         "--num-validation", "1", "--duration", "1", "--test-seeds", "1100010:1100012"]
    )  # fmt: skip
    assert code == 0
    assert len(find_datasets(built)) == 2
    with pytest.raises(ValueError, match="several data sets"):
        open_dataset(built)
    names = ["/".join(p.parts[-3:-1]) for p in find_datasets(built)]
    chosen = next(n for n in names if "t1100010" in n)
    seeds = [c["annotation"]["seed"] for c in open_split(built, "test", name=chosen)]
    assert sorted(seeds) == [1_100_010, 1_100_011]


def test_preview_writes_a_watchable_mp4_with_audio(built, tmp_path):
    name = next("/".join(p.parts[-3:-1]) for p in find_datasets(built) if "-t2" in str(p))
    out = tmp_path / "clip.mp4"
    code = main(["data", "preview", "--data-dir", str(built), "--split", "test", "--index", "1",
                 "--out", str(out), "--name", name])  # fmt: skip
    assert code == 0
    info = probe_video(out)
    assert info.has_audio and (info.width, info.height) == (256, 256)
    assert abs(info.duration_s - 1.5) <= 1 / 25 + 1e-6


def test_export_audio_writes_wav_and_annotation_per_clip(built, tmp_path):
    name = next("/".join(p.parts[-3:-1]) for p in find_datasets(built) if "-t2" in str(p))
    code = main(["data", "export-audio", "--data-dir", str(built), "--split", "test",
                 "--out", str(tmp_path), "--name", name])  # fmt: skip
    assert code == 0
    wavs = sorted(tmp_path.glob("*.wav"))
    assert [w.stem for w in wavs] == ["syncscenes-1100000", "syncscenes-1100001"]
    for wav in wavs:
        audio, sr = read_wav(wav)
        meta = json.loads(wav.with_suffix(".json").read_text())
        assert sr == 16000 and audio.shape == (24000,)
        assert meta["clip_id"] == wav.stem and meta["caption"] and "events" in meta


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--duration", "11"], "duration"),
        (["--duration", "0.5"], "duration"),
        (["--num-train", "-1"], "train"),
        (["--test-seeds", "5:9"], "test range"),
    ],
)
def test_bad_build_arguments_get_one_clear_error(tmp_path, capsys, argv, message):
    code = main(["data", "build", "syncscenes", "--data-dir", str(tmp_path)] + argv)
    assert code == 2
    err = capsys.readouterr().err
    assert "error" in err and message in err
    assert not find_datasets(tmp_path)


def test_preview_of_an_empty_data_dir_names_it(tmp_path, capsys):
    code = main(["data", "preview", "--data-dir", str(tmp_path), "--out", str(tmp_path / "x.mp4")])
    assert code == 2
    assert str(tmp_path) in capsys.readouterr().err


def test_tokenizers_folder_is_not_an_importable_package():
    from pathlib import Path

    import tokenizers  # Hugging Face's library, which transformers needs.

    repo_tokenizers = Path(__file__).resolve().parents[1] / "tokenizers"
    assert not (repo_tokenizers / "__init__.py").exists()
    assert Path(tokenizers.__file__).resolve().parent != repo_tokenizers
